// Models by name, for the command line and experiment grids:
//
//   auto net = train::create_model({.name = "resnet20", .in_channels = 1,
//                                   .attention = "cbam:stages=2,3"});
//
// Names: resnet8/14/20/32/44/56/110 (ResNetCifar), cnn (SimpleCNN), vit
// (ViT, patch 4), bilstm (BiLSTMAttention, rows as time steps).
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace heed::train {

struct ModelSpec {
  std::string name = "resnet20";
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t image_size = 32;         // square images (vit, bilstm need it)
  std::string attention = "none";  // an attention::Placement spec
  int64_t width = 1;               // resnet width multiplier
};

nn::AnyModule create_model(const ModelSpec& spec);
// The names create_model accepts, with a one-line description each.
std::vector<std::pair<std::string, std::string>> model_names();

}  // namespace heed::train

// A small plain CNN: two conv3x3-BN-ReLU-(attention)-maxpool2 stages, an
// adaptive average pool to 4×4 and a linear classifier. The attention
// placement's stages are the two convs (1 and 2; block 0).
//
//   auto cnn = train::SimpleCNN({.in_channels = 1,
//       .attention = attention::Placement::parse("se")});
#pragma once

#include "attention/placement.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"
#include "nn/linear.h"

namespace heed::train {

struct SimpleCNNOptions {
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t channels = 32;  // the second conv has twice as many
  attention::Placement attention = {};
};

class SimpleCNNImpl : public nn::Module {
 public:
  using Options = SimpleCNNOptions;
  explicit SimpleCNNImpl(const SimpleCNNOptions& options = {});
  Tensor forward(const Tensor& x);  // (B, C, H, W) -> (B, num_classes)

  SimpleCNNOptions options;
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  attention::AttentionModule attention1{nullptr}, attention2{nullptr};
  nn::Linear fc{nullptr};
};
HEED_MODULE(SimpleCNN);

}  // namespace heed::train

#include "train/models/factory.h"

#include "attention/placement.h"
#include "train/models/bilstm_attention.h"
#include "train/models/resnet_cifar.h"
#include "train/models/simple_cnn.h"
#include "train/models/vit.h"

namespace heed::train {

std::vector<std::pair<std::string, std::string>> model_names() {
  return {{"resnet8", "ResNet-8 for 28/32 px images (1 block per stage)"},
          {"resnet14", "ResNet-14 (2 blocks per stage)"},
          {"resnet20", "ResNet-20, He et al. 2016 (0.27M params)"},
          {"resnet32", "ResNet-32"},
          {"resnet44", "ResNet-44"},
          {"resnet56", "ResNet-56"},
          {"resnet110", "ResNet-110"},
          {"cnn", "plain CNN: 2 conv + pool stages, optional attention after each conv"},
          {"vit", "small ViT: patch 4, dim 96, depth 4, 3 heads, mlp 2, cls token"},
          {"vit-tiny", "ViT as bench/models.py: patch 4, dim 192, depth 6, 3 heads, mlp 2"},
          {"bilstm", "BiLSTM (hidden 128) + attention pooling over image rows"}};
}

nn::AnyModule create_model(const ModelSpec& s) {
  const attention::Placement placement = attention::Placement::parse(s.attention);
  if (s.name.rfind("resnet", 0) == 0) {
    const std::string digits = s.name.substr(6);
    char* end = nullptr;
    long depth = std::strtol(digits.c_str(), &end, 10);
    if (!digits.empty() && *end == '\0')
      return ResNetCifar(ResNetCifarOptions{.depth = depth,
                                            .in_channels = s.in_channels,
                                            .num_classes = s.num_classes,
                                            .width = s.width,
                                            .attention = placement});
  }
  if (s.name == "cnn")
    return SimpleCNN(SimpleCNNOptions{
        .in_channels = s.in_channels, .num_classes = s.num_classes, .attention = placement});
  if (s.name == "vit" || s.name == "vit-tiny") {
    HEED_CHECK(!placement.enabled(), "model '", s.name,
               "' has self-attention built in; --attention must be none, got '", s.attention, "'");
    const bool tiny = s.name == "vit-tiny";
    return ViT(ViTOptions{.image_size = s.image_size,
                          .patch_size = 4,
                          .in_channels = s.in_channels,
                          .num_classes = s.num_classes,
                          .dim = tiny ? 192 : 96,
                          .depth = tiny ? 6 : 4,
                          .heads = 3,
                          .mlp_ratio = 2.0});
  }
  if (s.name == "bilstm") {
    HEED_CHECK(!placement.enabled(),
               "model 'bilstm' has attention pooling built in; --attention "
               "must be none, got '",
               s.attention, "'");
    return BiLSTMAttention(BiLSTMAttentionOptions{.input_size = s.in_channels * s.image_size,
                                                  .num_classes = s.num_classes});
  }
  std::string names;
  for (const auto& [n, d] : model_names()) names += (names.empty() ? "" : ", ") + n;
  HEED_FAIL("unknown model '", s.name, "'; valid models: ", names);
}

}  // namespace heed::train

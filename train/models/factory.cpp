#include "train/models/factory.h"

#include "train/models/placement.h"
#include "train/models/resnet_cifar.h"
#include "train/models/simple_cnn.h"

namespace heed::train {

std::vector<std::pair<std::string, std::string>> model_names() {
  return {{"resnet8", "ResNet-8 for 28/32 px images (1 block per stage)"},
          {"resnet14", "ResNet-14 (2 blocks per stage)"},
          {"resnet20", "ResNet-20, He et al. 2016 (0.27M params)"},
          {"resnet32", "ResNet-32"},
          {"resnet44", "ResNet-44"},
          {"resnet56", "ResNet-56"},
          {"resnet110", "ResNet-110"},
          {"cnn", "plain CNN: 2 conv + pool stages, optional attention after each conv"}};
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
  std::string names;
  for (const auto& [n, d] : model_names()) names += (names.empty() ? "" : ", ") + n;
  HEED_FAIL("unknown model '", s.name, "'; valid models: ", names);
}

}  // namespace heed::train

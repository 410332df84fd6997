// ResNet for CIFAR-sized images (He et al. 2016, sec. 4.2) with attention
// placed by an attention::Placement.
//
//   auto net = train::ResNetCifar({.depth = 20, .in_channels = 1,
//       .attention = attention::Placement::parse("se:stages=2,3:pos=standard")});
//   Tensor logits = net(x);                    // x (B, 1, 28, 28) -> (B, 10)
//
// conv3x3(in -> 16w) + BN + ReLU, then 3 stages ("layer1".."layer3") of n =
// (depth - 2) / 6 BasicBlocks with 16w, 32w, 64w channels (stride 2 at the
// first block of stages 2 and 3), global average pool, Linear ("fc").
// Shortcuts are option A (parameter-free: subsample x[:, :, ::2, ::2] and
// zero-pad the channels), so resnet20 has PyTorch's 269,722 parameters for
// 3 channels and 10 classes (272,474 counting BatchNorm's running stats), as
// /work/shared/bench/models.py. Conv and Linear weights: kaiming_normal_.
//
// Attention in a block (stage s counts from 1, block b from 0; placement
// decides which), after the SE paper's integration study:
//   standard  relu(attn(bn2(conv2(...))) + shortcut(x))   (attn on 'out' channels)
//   pre       relu(branch(attn(x)) + shortcut(x))          ('in' channels)
//   post      attn(relu(branch(x) + shortcut(x)))
//   identity  relu(branch(x) + attn(shortcut(x)))
// The module is registered as "attention" in its block ("layer2.0.attention").
#pragma once

#include "attention/attention_module.h"
#include "attention/placement.h"
#include "nn/batchnorm.h"
#include "nn/container.h"
#include "nn/conv.h"
#include "nn/linear.h"

namespace heed::train {

class BasicBlockImpl : public nn::Module {
 public:
  // `attention` may be empty (no attention in this block).
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride,
                 attention::AttentionModule attention = nullptr,
                 attention::Position position = attention::Position::Standard);
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;

  int64_t in_planes, planes, stride;
  attention::Position position;
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  attention::AttentionModule attention{nullptr};

 private:
  Tensor shortcut(const Tensor& x) const;
};
HEED_MODULE(BasicBlock);

struct ResNetCifarOptions {
  int64_t depth = 20;  // 6n + 2: 8, 14, 20, 32, 44, 56, 110
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t width = 1;  // channel multiplier: stages have 16w, 32w, 64w channels
  attention::Placement attention = {};
};

class ResNetCifarImpl : public nn::Module {
 public:
  using Options = ResNetCifarOptions;
  explicit ResNetCifarImpl(const ResNetCifarOptions& options = {});
  Tensor forward(const Tensor& x);  // (B, C, H, W) -> (B, num_classes)
  std::string extra_repr() const override;

  ResNetCifarOptions options;
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  nn::Linear fc{nullptr};
};
HEED_MODULE(ResNetCifar);

}  // namespace heed::train

// CBAM: Convolutional Block Attention Module (Woo et al., ECCV 2018),
// attention_spec.md §2. The default is the paper's form as the seed code
// writes it (seeds/002 cbam_block): a shared bias-free 1×1-conv MLP over the
// average- and max-pooled descriptors, then a bias-free k×k conv over
// [mean_c; max_c] (mean first), sigmoids, no residual.
//
//   attention::CBAM cbam(64);                                   // ratio 16, 7×7
//   attention::CBAM ea(64, {.ratio = 8, .max_first = true, .residual = true,
//                           .spatial_bias = true});             // EA's CBAMBlock
#pragma once

#include <utility>

#include "attention/attention_module.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"

namespace heed::attention {

// sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))), the MLP shared: (B, C, H, W) -> (B, C, 1, 1).
// State: fc1.weight (C/r, C, 1, 1), fc2.weight (C, C/r, 1, 1) (+ fc1.bias,
// fc2.bias with bias, the authors' nn.Linear MLP).
// The max pool sends its gradient to the first maximal element (PyTorch's
// AdaptiveMaxPool2d), not split among ties (timm's amax).
class ChannelAttentionImpl : public nn::Module {
 public:
  ChannelAttentionImpl(int64_t in_planes, int64_t ratio = 16, bool bias = false);
  Tensor forward(const Tensor& x);
  // The gate (B, C, 1, 1) from x's spatial mean and max, both (B, C).
  Tensor from_pools(const Tensor& mean, const Tensor& max);
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t in_planes, hidden;
  nn::Conv2d fc1{nullptr}, fc2{nullptr};
};
HEED_MODULE(ChannelAttention);

struct SpatialAttentionOptions {
  bool max_first = false;  // [max_c; mean_c] as EA and the authors' code, not [mean_c; max_c]
  bool bias = false;       // conv bias (EA)
  bool bn = false;         // BatchNorm2d(1) after the conv (the authors' BasicConv)
};

// sigmoid(conv_k×k([mean_c(x); max_c(x)])): (B, C, H, W) -> (B, 1, H, W).
// State: conv1.weight (1, 2, k, k) (+ conv1.bias) (+ bn.*). The channel max sends its
// gradient to the first maximal channel (torch.max(x, 1)).
class SpatialAttentionImpl : public nn::Module {
 public:
  using Options = SpatialAttentionOptions;
  explicit SpatialAttentionImpl(int64_t kernel_size = 7,
                                const SpatialAttentionOptions& options = {});
  Tensor forward(const Tensor& x);
  // The gate of x · channel_gate (B, C, 1, 1) without that product (CBAM);
  // an undefined channel_gate gives forward(x).
  Tensor forward(const Tensor& x, const Tensor& channel_gate);
  // The gate (B, 1, H, W) from the descriptor (B, 2, H, W) of channel means
  // and maxima (ordered by max_first).
  Tensor from_descriptor(const Tensor& descriptor);
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t kernel_size;
  SpatialAttentionOptions options;
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn{nullptr};
};
HEED_MODULE(SpatialAttention);

struct CBAMOptions {
  int64_t ratio = 16;
  int64_t kernel_size = 7;  // odd; padding kernel_size / 2 keeps H×W
  bool max_first = false;   // spatial descriptor order [max; mean] (EA, authors)
  bool residual = false;    // return out + x (EA's CBAMBlock)
  bool spatial_bias = false;
  // The authors' reference (github.com/Jongchan/attention-module): biases in
  // the channel MLP and a BatchNorm after the spatial conv.
  bool mlp_bias = false;
  bool spatial_bn = false;
};

// out = x·M_c(x); out = out·M_s(out) (+ x with residual).
// State: ca.fc1.weight, ca.fc2.weight, sa.conv1.weight (+ sa.conv1.bias)
// (+ ca.fc1.bias, ca.fc2.bias with mlp_bias) (+ sa.bn.* with spatial_bn).
// Maps "channel" (B, C, 1, 1) and "spatial" (B, 1, H, W).
class CBAMImpl : public AttentionModuleImpl {
 public:
  using Options = CBAMOptions;
  explicit CBAMImpl(int64_t in_planes, const CBAMOptions& options = {});
  // The seeds' CBAM(in_planes, ratio, kernel_size).
  CBAMImpl(int64_t in_planes, int64_t ratio, int64_t kernel_size = 7)
      : CBAMImpl(in_planes, CBAMOptions{.ratio = ratio, .kernel_size = kernel_size}) {}
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& residual) override;
  // ca's and sa's gate functions (none with the residual option, or while
  // ca, its convs or sa have hooks: ca's MLP runs as linear ops there).
  CbamGateFns cbam_gates() override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t in_planes;
  CBAMOptions options;
  ChannelAttention ca{nullptr};
  SpatialAttention sa{nullptr};

 private:
  // The channel gate and the spatial gate of x · channel gate (maps kept).
  std::pair<Tensor, Tensor> gates(const Tensor& x);
};
HEED_MODULE(CBAM);

}  // namespace heed::attention

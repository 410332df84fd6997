// Non-local block, embedded Gaussian (Wang et al., CVPR 2018),
// attention_spec.md §5, as NONLocalBlock2D(in_channels, inter_channels=None,
// sub_sample=True, bn_layer=True) of AlexHex7/Non-local_pytorch.
//
//   attention::NonLocalBlock nl(64);                          // inter 32, sub-sampled
//   attention::NonLocalBlock full(64, {.sub_sample = false});
#pragma once

#include "attention/attention_module.h"
#include "nn/batchnorm.h"
#include "nn/container.h"
#include "nn/conv.h"

namespace heed::attention {

struct NonLocalBlockOptions {
  int64_t inter_channels = 0;  // 0: in_channels / 2 (1 if that is 0)
  bool sub_sample = true;      // 2×2 max pool after phi and g (N' = ⌊H/2⌋·⌊W/2⌋ keys)
  bool bn_layer = true;        // W = conv + BatchNorm with weight and bias 0; else a zero conv
};

// θ = theta(x) (B, N, Ci), φ = phi(x) (B, Ci, N'), g = g(x) (B, N', Ci);
// f = softmax(θφ, -1) (B, N, N') (no 1/√d scale); y = f g -> (B, Ci, H, W);
// z = W(y) + x. Zero-initialised W makes the block the identity at first.
// State: g.0.* / g.* (sub_sample / not), theta.*, phi.0.* / phi.*, W.0.*,
// W.1.* (BN; with bn_layer) or W.* (without).
// Map "weights": f (B, N, N').
class NonLocalBlockImpl : public AttentionModuleImpl {
 public:
  using Options = NonLocalBlockOptions;
  explicit NonLocalBlockImpl(int64_t in_channels, const NonLocalBlockOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t in_channels, inter_channels;
  NonLocalBlockOptions options;
  nn::AnyModule g, phi, W;  // Conv2d, or Sequential(Conv2d, MaxPool2d / BatchNorm2d)
  nn::Conv2d theta{nullptr};
};
HEED_MODULE(NonLocalBlock);

}  // namespace heed::attention

// Coordinate Attention (Hou, Zhou and Feng, CVPR 2021), attention_spec.md §4,
// as the authors' CoordAtt(inp, oup, reduction=32) in coordatt.py.
//
//   attention::CoordAttention ca(64);                      // reduction 32: mip = 8
//   attention::CoordAttention ca2(64, 64, {.reduction = 16});
#pragma once

#include "attention/attention_module.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"

namespace heed::attention {

struct CoordAttentionOptions {
  int64_t reduction = 32;
};

// h_swish as the authors compose it: x · relu6(x + 3) / 6. Not bit-equal to
// hardswish, and its gradient at ±3 is 0 and 1 (the builtin gives -0.5, 1.5).
Tensor h_swish(const Tensor& x);

// Strip pools z_h = mean_W(x) (B, C, H, 1) and z_w = mean_H(x) (B, C, W, 1),
// concatenated along H: (B, C, H+W, 1) -> conv1 (C -> mip) -> bn1 (statistics
// over the whole H+W strip) -> h_swish -> split -> conv_h / conv_w (mip -> C)
// -> sigmoid; out = x · a_w · a_h. mip = max(8, inp / reduction).
// State: conv1.{weight,bias}, bn1.*, conv_h.{weight,bias}, conv_w.{weight,bias}.
// Maps "h" (B, C, H, 1) and "w" (B, C, 1, W).
class CoordAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = CoordAttentionOptions;
  // oup must equal inp (the output multiplies the input); kept for the signature.
  CoordAttentionImpl(int64_t inp, int64_t oup, const CoordAttentionOptions& options = {});
  explicit CoordAttentionImpl(int64_t inp, const CoordAttentionOptions& options = {})
      : CoordAttentionImpl(inp, inp, options) {}
  // CoordAtt(inp, oup, reduction).
  CoordAttentionImpl(int64_t inp, int64_t oup, int64_t reduction)
      : CoordAttentionImpl(inp, oup, CoordAttentionOptions{.reduction = reduction}) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t inp, oup, mip;
  CoordAttentionOptions options;
  nn::Conv2d conv1{nullptr}, conv_h{nullptr}, conv_w{nullptr};
  nn::BatchNorm2d bn1{nullptr};
};
HEED_MODULE(CoordAttention);

}  // namespace heed::attention

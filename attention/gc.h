// Global Context block (GCNet, Cao et al., 2019, arXiv 1904.11492;
// attention_spec.md §12.5). Names and options of timm `GlobalContext`:
//
//   attn    = softmax_HW(conv_attn(x))              (B, 1, H·W)  (mean pooling without use_attn)
//   context = Σ_HW x · attn                          (B, C, 1, 1)
//   y = x · σ(mlp_scale(context))   when fuse_scale
//   y = y + mlp_add(context)        when fuse_add
// with each mlp 1×1 conv C→Cr, LayerNorm (over channels, eps 1e-6), ReLU, 1×1 conv Cr→C.
//
// Defaults follow the paper: fusion by addition (fuse_add=true,
// fuse_scale=false); timm defaults to the sigmoid scale (fuse_add=false,
// fuse_scale=true). Init as timm: conv_attn kaiming_normal(fan_in, relu),
// mlp_add.fc2.weight zero (so the add-block starts as the identity); the rest
// PyTorch's default.
//
// State: conv_attn.{weight,bias}, mlp_add.{fc1,norm,fc2}.*, mlp_scale.{fc1,norm,fc2}.*.
//
// Params (C + 1 with use_attn) + per MLP (2C·Cr + 3Cr + C); MACs (2·B·N·C with
// use_attn: conv_attn and the context matmul) + per MLP 2·B·C·Cr.
#pragma once

#include "attention/attention_module.h"
#include "attention/conv_mlp.h"

namespace heed::attention {

struct GlobalContextOptions {
  bool use_attn = true;     // attention pooling (else global average)
  bool fuse_add = true;     // add the transformed context (the paper)
  bool fuse_scale = false;  // scale by σ(transformed context) (timm's default)
  double rd_ratio = 1.0 / 8;
  int64_t rd_channels = 0;  // 0: max(1, round(C·rd_ratio)) to a multiple of rd_divisor
  int64_t rd_divisor = 1;
};

// Maps kept: "spatial" softmax weights (B, 1, H, W) (with use_attn) and
// "channel" σ(mlp_scale) (B, C, 1, 1) (with fuse_scale).
class GlobalContextImpl : public AttentionModuleImpl {
 public:
  using Options = GlobalContextOptions;
  explicit GlobalContextImpl(int64_t channels, const GlobalContextOptions& options = {});
  Tensor forward(const Tensor& x) override;
  void reset_parameters();
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels, rd_channels;
  GlobalContextOptions options;
  nn::Conv2d conv_attn{nullptr};                 // C -> 1, empty without use_attn
  ConvMlp mlp_add{nullptr}, mlp_scale{nullptr};  // empty when that fusion is off
};
HEED_MODULE(GlobalContext);

}  // namespace heed::attention

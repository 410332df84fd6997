// DANet: Dual Attention Network (Fu et al., CVPR 2019; attention_spec.md
// §12.10), the authors' position and channel attention modules:
//
// DAPositionAttention (PAM_Module(in_dim)), with N = H·W:
//   Q = query_conv(x) (B, C/8, N), K = key_conv(x) (B, C/8, N), V = value_conv(x) (B, C, N)
//   A = softmax over keys of QᵀK (B, N, N);  y = γ·(V·Aᵀ) + x
// DAChannelAttention (CAM_Module(in_dim)), X = x as (B, C, N):
//   E = X·Xᵀ (B, C, C);  A = softmax(rowmax(E) − E);  y = β·(A·X) + x
// γ and β start at 0, so both start as the identity.
//
// DANet sums the two modules' outputs (as EA's DAModule and the authors'
// DANetHead do), or runs one of them (mode "position" / "channel"). EA's
// DAModule is not used: it ignores its constructor arguments (d_model 512,
// 7×7 hard-coded), replaces PAM by a 3×3 conv and a projected single-head
// attention without γ or residual, and CAM by an attention fixed to H·W.
//
// State: DAPositionAttention gamma (1), query_conv.*, key_conv.*,
// value_conv.*; DAChannelAttention gamma (1); DANet
// position_attention_module.*, channel_attention_module.* (EA's names).
//
// With C' = C / reduction: position Params 2(C·C' + C') + C² + C + 1, MACs
// 2·B·N·C·C' + B·N·C² + B·N²·(C' + C); channel Params 1, MACs 2·B·C²·N.
#pragma once

#include <string>

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

struct DAPositionAttentionOptions {
  int64_t reduction = 8;  // query/key width C / reduction
};

// Map kept: "weights" A (B, N, N).
class DAPositionAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = DAPositionAttentionOptions;
  explicit DAPositionAttentionImpl(int64_t in_dim, const DAPositionAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_dim, inner;
  DAPositionAttentionOptions options;
  Tensor gamma;  // (1)
  nn::Conv2d query_conv{nullptr}, key_conv{nullptr}, value_conv{nullptr};
};
HEED_MODULE(DAPositionAttention);

// Map kept: "weights" A (B, C, C).
class DAChannelAttentionImpl : public AttentionModuleImpl {
 public:
  explicit DAChannelAttentionImpl(int64_t in_dim);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_dim;
  Tensor gamma;  // (1)
};
HEED_MODULE(DAChannelAttention);

struct DANetOptions {
  std::string mode = "both";  // "both" (sum), "position" or "channel"
  int64_t reduction = 8;      // of the position module
};

// Maps kept: "position" (B, N, N) and "channel" (B, C, C), the modules' weights.
class DANetImpl : public AttentionModuleImpl {
 public:
  using Options = DANetOptions;
  explicit DANetImpl(int64_t channels, const DANetOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t channels;
  DANetOptions options;
  DAPositionAttention position_attention_module{nullptr};  // modes both, position
  DAChannelAttention channel_attention_module{nullptr};    // modes both, channel
};
HEED_MODULE(DANet);

}  // namespace heed::attention

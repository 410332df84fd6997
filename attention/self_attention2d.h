// SelfAttention2d: SAGAN's self-attention over the positions of a feature map
// (Zhang et al., ICML 2019), attention_spec.md §7, as heykeetae's
// Self_Attn(in_dim).
//
//   attention::SelfAttention2d sa(64);          // q, k: 64 -> 8; v: 64 -> 64
//   auto [y, attn] = sa->forward_with_attention(x);
#pragma once

#include <utility>

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

struct SelfAttention2dOptions {
  int64_t reduction = 8;  // query/key width C / reduction
};

// q = query_conv(x) (B, N, C'), k = key_conv(x) (B, C', N), v = value_conv(x)
// (B, C, N); attn = softmax(q k, -1) (B, N, N) over keys; out[:, :, i] =
// Σ_j v[:, :, j] attn[i, j]; y = gamma · out + x with gamma initialised to 0.
// State: query_conv.*, key_conv.*, value_conv.*, gamma (1).
// Map "weights": attn (B, N, N).
class SelfAttention2dImpl : public AttentionModuleImpl {
 public:
  using Options = SelfAttention2dOptions;
  explicit SelfAttention2dImpl(int64_t in_dim, const SelfAttention2dOptions& options = {});
  Tensor forward(const Tensor& x) override;
  // (y, attn (B, N, N)), as Self_Attn.forward returns.
  std::pair<Tensor, Tensor> forward_with_attention(const Tensor& x);
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t in_dim, qk_dim;
  SelfAttention2dOptions options;
  nn::Conv2d query_conv{nullptr}, key_conv{nullptr}, value_conv{nullptr};
  Tensor gamma;  // (1)
};
HEED_MODULE(SelfAttention2d);

}  // namespace heed::attention

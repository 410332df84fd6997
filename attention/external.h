// External Attention (Guo et al., 2021, arXiv 2105.02358; attention_spec.md
// §12.7, EA `ExternalAttention(d_model, S=64)`): two small learned memories
// shared by all samples, linear in the number of tokens.
//
//   attn = softmax over tokens (dim 1) of mk(x)    (B, N, S)
//   attn = attn / Σ_S attn                           (ℓ1 re-normalisation, dim 2)
//   out  = mv(attn)                                  (B, N, d_model)
// mk: Linear(d_model, S, bias=False), mv: Linear(S, d_model, bias=False), both
// initialised N(0, 0.001²) as EA's init_weights (which it calls).
//
// ExternalAttention works on tokens (B, N, d_model); ExternalAttention2d on a
// feature map, as tokens (B, H·W, C), with the same state (mk.weight,
// mv.weight) and an optional residual (out = x + EA(x); off by default as in
// EA, whose output starts near zero).
//
// Params 2·d_model·S; MACs 2·B·N·d_model·S.
#pragma once

#include "attention/attention_module.h"
#include "nn/linear.h"

namespace heed::attention {

struct ExternalAttentionOptions {
  int64_t S = 64;         // memory size
  bool residual = false;  // ExternalAttention2d only: add the input
};

// Map kept: "weights" attn (B, N, S).
class ExternalAttentionImpl : public nn::Module, public MapRecorder {
 public:
  using Options = ExternalAttentionOptions;
  explicit ExternalAttentionImpl(int64_t d_model, const ExternalAttentionOptions& options = {});
  Tensor forward(const Tensor& queries);  // (B, N, d_model) -> (B, N, d_model)
  void reset_parameters();
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t d_model;
  ExternalAttentionOptions options;
  nn::Linear mk{nullptr}, mv{nullptr};
};
HEED_MODULE(ExternalAttention);

// (B, C, H, W) -> (B, C, H, W). Map kept: "weights" (B, H·W, S).
class ExternalAttention2dImpl : public AttentionModuleImpl {
 public:
  using Options = ExternalAttentionOptions;
  explicit ExternalAttention2dImpl(int64_t channels, const ExternalAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  void reset_parameters();
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  ExternalAttentionOptions options;
  nn::Linear mk{nullptr}, mv{nullptr};
};
HEED_MODULE(ExternalAttention2d);

}  // namespace heed::attention

// AttentionPooling: softmax attention over the time steps of a (Bi)LSTM
// output (Raffel & Ellis 2015; Yang et al. 2016), attention_spec.md §8, as in
// seeds/004 (e_t = softmax(W_a h_t), c = Σ_t e_t h_t).
//
//   attention::AttentionPooling pool(128, {.attn_dim = 64});  // additive score
//   Tensor c = pool(h, lengths);      // h (B, T, 128), lengths int64 (B) -> (B, 128)
//   auto [c2, e] = pool->forward_with_weights(h, mask);  // mask bool (B, T), true = valid step
#pragma once

#include <utility>

#include "attention/attention_module.h"
#include "nn/linear.h"

namespace heed::attention {

struct AttentionPoolingOptions {
  int64_t attn_dim = 0;  // 0: linear score s_t = vᵀh_t + b; > 0: additive s_t = vᵀtanh(W h_t + b_W)
  bool bias = true;      // b_W (additive) or b (linear)
};

// s (B, T) -> e = softmax_t(s) with padded steps at -inf (weight exactly 0)
// -> c = Σ_t e_t h_t (B, D), computed as (h · e[..., None]).sum(1).
// The optional second argument is either int64 lengths (B), each in [1, T]
// (valid steps t < length), or a bool mask (B, T), true = valid step, with at
// least one valid step per row. State: linear: v.{weight (1, D), bias};
// additive: proj.{weight (A, D), bias}, v.weight (1, A).
// Map "weights": e (B, T).
class AttentionPoolingImpl : public nn::Module, public MapRecorder {
 public:
  using Options = AttentionPoolingOptions;
  explicit AttentionPoolingImpl(int64_t input_dim, const AttentionPoolingOptions& options = {});
  Tensor forward(const Tensor& h, const Tensor& lengths_or_mask = Tensor());
  // (context (B, D), weights (B, T)).
  std::pair<Tensor, Tensor> forward_with_weights(const Tensor& h,
                                                 const Tensor& lengths_or_mask = Tensor());
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t input_dim;
  AttentionPoolingOptions options;
  nn::Linear proj{nullptr}, v{nullptr};
};
HEED_MODULE(AttentionPooling);

// The valid-step mask (B, T) of int64 lengths (B): t < lengths[b].
Tensor lengths_to_mask(const Tensor& lengths, int64_t max_len);

}  // namespace heed::attention

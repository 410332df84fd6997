// ScaledDotProductAttention: multi-head attention with separate q/k/v/o
// projections, attention_spec.md §6, as EA's
// ScaledDotProductAttention(d_model, d_k, d_v, h, dropout=.1) (the seeds' API).
//
//   attention::ScaledDotProductAttention sa(512, 64, 64, 8);
//   Tensor out = sa(x, x, x);                         // (B, N, 512)
//   Tensor masked = sa(q, k, v, mask);                // mask: true = masked
//   auto [out2, att] = sa->forward_with_weights(q, k, v);  // att (B, h, nq, nk)
#pragma once

#include <utility>

#include "attention/attention_module.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace heed::attention {

// fc_q, fc_k: Linear(d_model, h·d_k); fc_v: Linear(d_model, h·d_v);
// fc_o: Linear(h·d_v, d_model); all with bias, initialised N(0, 0.001²) with
// zero biases (EA's init_weights, called in its constructor).
// forward(queries (B, nq, d_model), keys (B, nk, d_model), values (B, nk, d_model),
//         attention_mask, attention_weights) -> (B, nq, d_model):
//   att = (q k) / sqrt(d_k) (B, h, nq, nk); att *= attention_weights (if given);
//   att[mask] = -inf, mask bool with true = masked, broadcastable to (B, h, nq, nk);
//   softmax over keys, dropout, (att v) -> (B, nq, h·d_v) -> fc_o.
// A row whose keys are all masked gives NaN, as PyTorch.
// Map "weights": the probabilities (B, h, nq, nk), before dropout.
class ScaledDotProductAttentionImpl : public nn::Module, public MapRecorder {
 public:
  ScaledDotProductAttentionImpl(int64_t d_model, int64_t d_k, int64_t d_v, int64_t h,
                                double dropout = 0.1);
  Tensor forward(const Tensor& queries, const Tensor& keys, const Tensor& values,
                 const Tensor& attention_mask = Tensor(),
                 const Tensor& attention_weights = Tensor());
  // (output, probabilities (B, h, nq, nk) before dropout).
  std::pair<Tensor, Tensor> forward_with_weights(const Tensor& queries, const Tensor& keys,
                                                 const Tensor& values,
                                                 const Tensor& attention_mask = Tensor(),
                                                 const Tensor& attention_weights = Tensor());
  void init_weights();  // N(0, 0.001²) weights, zero biases
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t d_model, d_k, d_v, h;
  nn::Linear fc_q{nullptr}, fc_k{nullptr}, fc_v{nullptr}, fc_o{nullptr};
  nn::Dropout dropout{nullptr};

 private:
  // The map (second) carries a gradient only when weights_differentiable.
  std::pair<Tensor, Tensor> attend(const Tensor& queries, const Tensor& keys, const Tensor& values,
                                   const Tensor& attention_mask, const Tensor& attention_weights,
                                   bool weights_differentiable);
};
HEED_MODULE(ScaledDotProductAttention);

}  // namespace heed::attention

// MultiheadAttention with torch.nn.MultiheadAttention's parameters, arguments
// and semantics (torch 1.13), attention_spec.md §6.
//
//   attention::MultiheadAttention mha(64, 4, {.batch_first = true});
//   auto [out, w] = mha(x, x, x);                             // w (B, L, S) averaged over heads
//   auto [o2, _] = mha(q, k, v, key_padding_mask, false);     // mask: true = ignore the key
#pragma once

#include <utility>

#include "attention/attention_module.h"
#include "nn/linear.h"

namespace heed::attention {

struct MultiheadAttentionOptions {
  double dropout = 0.0;  // on the attention probabilities, in training
  bool bias = true;      // in_proj_bias and out_proj.bias
  bool batch_first = false;
};

// State: in_proj_weight (3E, E) packed [W_q; W_k; W_v], in_proj_bias (3E),
// out_proj.weight (E, E), out_proj.bias (E). Init as PyTorch: xavier_uniform_
// in_proj_weight, zero biases, out_proj.weight as a Linear.
//
// forward(query, key, value, key_padding_mask, need_weights, attn_mask,
//         average_attn_weights) -> (output, weights):
//   query (L, N, E), key/value (S, N, E); (N, L, E)/(N, S, E) with batch_first;
//   or unbatched (L, E)/(S, E).
//   key_padding_mask (N, S) (or (S) unbatched): bool, true = ignore that key;
//   or float, added to the logits.
//   attn_mask (L, S) or (N·num_heads, L, S): bool, true = not allowed; or float, added.
//   q is divided by √head_dim before q kᵀ; softmax over keys; dropout.
//   weights: (N, L, S) averaged over heads, or (N, num_heads, L, S); undefined
//   unless need_weights. As PyTorch, they are taken after dropout.
// Map "weights": the per-head probabilities (N, num_heads, L, S), before dropout.
class MultiheadAttentionImpl : public nn::Module, public MapRecorder {
 public:
  using Options = MultiheadAttentionOptions;
  MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads,
                         const MultiheadAttentionOptions& options = {});
  std::pair<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& key_padding_mask = Tensor(),
                                    bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                    bool average_attn_weights = true);
  void reset_parameters();
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t embed_dim, num_heads, head_dim;
  MultiheadAttentionOptions options;
  Tensor in_proj_weight;  // (3E, E)
  Tensor in_proj_bias;    // (3E), undefined without bias
  nn::Linear out_proj{nullptr};
};
HEED_MODULE(MultiheadAttention);

}  // namespace heed::attention

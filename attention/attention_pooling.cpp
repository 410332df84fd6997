#include "attention/attention_pooling.h"

#include "attention/detail.h"

namespace heed::attention {

Tensor lengths_to_mask(const Tensor& lengths, int64_t max_len) {
  HEED_CHECK(lengths.dim() == 1 && lengths.dtype() == kInt64,
             "lengths_to_mask: lengths must be int64 of shape (B), got ", lengths.dtype(), " ",
             shape_str(lengths.shape()));
  Tensor steps = arange(0, double(max_len), 1.0, {kInt64, lengths.device()});  // (T)
  return lt(steps.unsqueeze(0), lengths.unsqueeze(1));                         // (B, T)
}

AttentionPoolingImpl::AttentionPoolingImpl(int64_t input_dim,
                                           const AttentionPoolingOptions& options)
    : input_dim(input_dim), options(options) {
  HEED_CHECK(input_dim > 0 && options.attn_dim >= 0,
             "AttentionPooling: input_dim must be positive and attn_dim >= 0, got ", input_dim,
             " and ", options.attn_dim);
  if (options.attn_dim > 0) {
    proj = register_module("proj", nn::Linear(input_dim, options.attn_dim, {.bias = options.bias}));
    v = register_module("v", nn::Linear(options.attn_dim, 1, {.bias = false}));
  } else {
    v = register_module("v", nn::Linear(input_dim, 1, {.bias = options.bias}));
  }
}

std::pair<Tensor, Tensor> AttentionPoolingImpl::forward_with_weights(
    const Tensor& h, const Tensor& lengths_or_mask) {
  HEED_CHECK(h.dim() == 3 && h.size(2) == input_dim, "AttentionPooling: expected (B, T, ",
             input_dim, "), got ", shape_str(h.shape()));
  const int64_t B = h.size(0), T = h.size(1);
  Tensor s = (options.attn_dim > 0 ? v(tanh(proj(h))) : v(h)).squeeze(2);  // (B, T)
  if (lengths_or_mask.defined()) {
    const Tensor& m = lengths_or_mask;
    Tensor valid;  // (B, T) bool, true = a real step
    if (m.dtype() == kInt64) {
      HEED_CHECK(m.dim() == 1 && m.size(0) == B, "AttentionPooling: lengths must have shape (", B,
                 "), got ", shape_str(m.shape()));
      for (int64_t len : m.to_vector<int64_t>())
        HEED_CHECK(len >= 1 && len <= T, "AttentionPooling: every length must be in [1, ", T,
                   "] (an all-padding row has no weights), got ", len);
      valid = lengths_to_mask(m, T);
    } else {
      HEED_CHECK(m.dtype() == kBool,
                 "AttentionPooling: the second argument must be int64 "
                 "lengths (B) or a bool mask (B, T) with true = valid step, got ",
                 m.dtype());
      HEED_CHECK(m.dim() == 2 && m.size(0) == B && m.size(1) == T,
                 "AttentionPooling: the mask must have shape (", B, ", ", T, "), got ",
                 shape_str(m.shape()));
      Tensor counts = sum(m, {1});  // int64 (B)
      for (int64_t c : counts.to_vector<int64_t>())
        HEED_CHECK(c >= 1,
                   "AttentionPooling: a mask row has no valid step (its weights would be NaN)");
      valid = m;
    }
    s = where(valid, s, full({}, detail::neg_inf(), {s.dtype(), s.device()}));
  }
  Tensor e = softmax(s, 1);  // (B, T)
  keep_map("weights", e);
  Tensor c = sum(h * e.unsqueeze(2), {1});  // (B, D)
  return {c, e};
}

Tensor AttentionPoolingImpl::forward(const Tensor& h, const Tensor& lengths_or_mask) {
  return forward_with_weights(h, lengths_or_mask).first;
}

std::string AttentionPoolingImpl::extra_repr() const {
  return "input_dim=" + std::to_string(input_dim) +
         ", attn_dim=" + std::to_string(options.attn_dim);
}

nn::ModuleCost AttentionPoolingImpl::cost(const std::vector<Shape>& in,
                                          const std::vector<Shape>&) const {
  // The score layers report their MACs; softmax and the weighted sum here.
  if (in.empty()) return {};
  return {0, 2 * numel_of(in[0])};
}

}  // namespace heed::attention

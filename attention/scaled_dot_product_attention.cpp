#include "attention/scaled_dot_product_attention.h"

#include <cmath>

#include "attention/detail.h"
#include "nn/init.h"

namespace heed::attention {

ScaledDotProductAttentionImpl::ScaledDotProductAttentionImpl(int64_t d_model, int64_t d_k,
                                                             int64_t d_v, int64_t h,
                                                             double dropout_p)
    : d_model(d_model), d_k(d_k), d_v(d_v), h(h) {
  HEED_CHECK(d_model > 0 && d_k > 0 && d_v > 0 && h > 0,
             "ScaledDotProductAttention: d_model, d_k, d_v and h must be positive, got ", d_model,
             ", ", d_k, ", ", d_v, ", ", h);
  fc_q = register_module("fc_q", nn::Linear(d_model, h * d_k));
  fc_k = register_module("fc_k", nn::Linear(d_model, h * d_k));
  fc_v = register_module("fc_v", nn::Linear(d_model, h * d_v));
  fc_o = register_module("fc_o", nn::Linear(h * d_v, d_model));
  dropout = register_module("dropout", nn::Dropout(dropout_p));
  init_weights();
}

void ScaledDotProductAttentionImpl::init_weights() {
  for (nn::Linear* fc : {&fc_q, &fc_k, &fc_v, &fc_o}) {
    nn::init::normal_((*fc)->weight, 0.0, 0.001);
    nn::init::zeros_((*fc)->bias);
  }
}

std::pair<Tensor, Tensor> ScaledDotProductAttentionImpl::attend(
    const Tensor& queries, const Tensor& keys, const Tensor& values, const Tensor& attention_mask,
    const Tensor& attention_weights, bool weights_differentiable) {
  const char* name = "ScaledDotProductAttention";
  for (const Tensor* t : {&queries, &keys, &values})
    HEED_CHECK(t->dim() == 3 && t->size(2) == d_model, name,
               ": queries, keys and values must be (B, N, d_model = ", d_model, "), got ",
               shape_str(t->shape()));
  const int64_t B = queries.size(0), nq = queries.size(1), nk = keys.size(1);
  HEED_CHECK(keys.size(0) == B && values.size(0) == B && values.size(1) == nk, name, ": queries ",
             shape_str(queries.shape()), ", keys ", shape_str(keys.shape()), " and values ",
             shape_str(values.shape()), " disagree in batch or key count");
  Tensor q = fc_q(queries).view({B, nq, h, d_k}).permute({0, 2, 1, 3});  // (B, h, nq, d_k)
  Tensor k = fc_k(keys).view({B, nk, h, d_k}).permute({0, 2, 1, 3});     // (B, h, nk, d_k)
  Tensor v = fc_v(values).view({B, nk, h, d_v}).permute({0, 2, 1, 3});   // (B, h, nk, d_v)
  // The fused op, one node, when nothing changes the scores or the map and
  // the map's gradient is not wanted (it gives none).
  if (!weights_differentiable && !attention_weights.defined() && !attention_mask.defined() &&
      !(dropout->is_training() && dropout->p > 0)) {
    auto [out, att] = scaled_dot_product_attention(q, k, v, 1.0 / std::sqrt(double(d_k)));
    keep_map("weights", att);
    return {fc_o(out.transpose(1, 2).reshape({B, nq, h * d_v})), att};
  }
  Tensor att = detail::div_scalar(matmul(q, k.transpose(2, 3)),
                                  std::sqrt(double(d_k)));  // (B, h, nq, nk)
  if (attention_weights.defined()) att = att * attention_weights;
  if (attention_mask.defined()) {
    HEED_CHECK(attention_mask.dtype() == kBool, name,
               ": attention_mask must be bool (true = masked), got ", attention_mask.dtype());
    att = detail::masked_fill(att, attention_mask, detail::neg_inf());
  }
  att = softmax(att, -1);
  keep_map("weights", att);
  Tensor out = matmul(dropout(att), v)  // (B, h, nq, d_v)
                   .permute({0, 2, 1, 3})
                   .reshape({B, nq, h * d_v});  // (B, nq, h·d_v)
  return {fc_o(out), att};
}

std::pair<Tensor, Tensor> ScaledDotProductAttentionImpl::forward_with_weights(
    const Tensor& queries, const Tensor& keys, const Tensor& values, const Tensor& attention_mask,
    const Tensor& attention_weights) {
  return attend(queries, keys, values, attention_mask, attention_weights, true);
}

Tensor ScaledDotProductAttentionImpl::forward(const Tensor& queries, const Tensor& keys,
                                              const Tensor& values, const Tensor& attention_mask,
                                              const Tensor& attention_weights) {
  return attend(queries, keys, values, attention_mask, attention_weights, false).first;
}

std::string ScaledDotProductAttentionImpl::extra_repr() const {
  return "d_model=" + std::to_string(d_model) + ", d_k=" + std::to_string(d_k) +
         ", d_v=" + std::to_string(d_v) + ", h=" + std::to_string(h);
}

nn::ModuleCost ScaledDotProductAttentionImpl::cost(const std::vector<Shape>& in,
                                                   const std::vector<Shape>&) const {
  // q kᵀ and att v: B·h·nq·nk·(d_k + d_v); the projections report themselves.
  if (in.size() < 2 || in[0].size() != 3 || in[1].size() != 3) return {};
  const int64_t B = in[0][0], nq = in[0][1], nk = in[1][1];
  return {B * h * nq * nk * (d_k + d_v), B * h * nq * nk};
}

}  // namespace heed::attention

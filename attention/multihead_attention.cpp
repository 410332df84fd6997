#include "attention/multihead_attention.h"

#include <cmath>

#include "attention/detail.h"
#include "nn/init.h"

namespace heed::attention {

MultiheadAttentionImpl::MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads,
                                               const MultiheadAttentionOptions& options)
    : embed_dim(embed_dim), num_heads(num_heads), options(options) {
  HEED_CHECK(embed_dim > 0 && num_heads > 0,
             "MultiheadAttention: embed_dim and num_heads must be positive, got ", embed_dim,
             " and ", num_heads);
  HEED_CHECK(embed_dim % num_heads == 0, "MultiheadAttention: embed_dim (", embed_dim,
             ") must be divisible by num_heads (", num_heads, ")");
  HEED_CHECK(options.dropout >= 0 && options.dropout < 1,
             "MultiheadAttention: dropout must be in [0, 1), got ", options.dropout);
  head_dim = embed_dim / num_heads;
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed_dim, embed_dim}));
  if (options.bias) in_proj_bias = register_parameter("in_proj_bias", empty({3 * embed_dim}));
  out_proj = register_module("out_proj", nn::Linear(embed_dim, embed_dim, {.bias = options.bias}));
  reset_parameters();
}

void MultiheadAttentionImpl::reset_parameters() {
  nn::init::xavier_uniform_(in_proj_weight);
  if (options.bias) {
    nn::init::zeros_(in_proj_bias);
    nn::init::zeros_(out_proj->bias);
  }
}

namespace {

// A mask as an additive (or -inf filling) term on logits (N, h, L, S).
Tensor apply_mask(const Tensor& logits, const Tensor& mask) {
  if (mask.dtype() == kBool) return detail::masked_fill(logits, mask, detail::neg_inf());
  return logits + mask;
}

}  // namespace

std::pair<Tensor, Tensor> MultiheadAttentionImpl::forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask,
    bool need_weights, const Tensor& attn_mask, bool average_attn_weights) {
  const char* name = "MultiheadAttention";
  const int64_t E = embed_dim, h = num_heads, hd = head_dim;
  HEED_CHECK(query.dim() == 3 || query.dim() == 2, name,
             ": query must be (L, N, E), (N, L, E) with batch_first, or unbatched (L, E); got ",
             shape_str(query.shape()));
  const bool batched = query.dim() == 3;
  for (const Tensor* t : {&key, &value})
    HEED_CHECK(t->dim() == query.dim(), name, ": query ", shape_str(query.shape()),
               " and key/value ", shape_str(t->shape()), " must all be batched or all unbatched");
  for (const Tensor* t : {&query, &key, &value})
    HEED_CHECK(t->size(-1) == E, name, ": inputs must have embed_dim = ", E,
               " features, got shape ", shape_str(t->shape()));
  // To batch-first (N, L, E).
  auto to_nle = [&](const Tensor& t) {
    if (!batched) return t.unsqueeze(0);
    return options.batch_first ? t : t.transpose(0, 1);
  };
  Tensor q_in = to_nle(query), k_in = to_nle(key), v_in = to_nle(value);
  const int64_t N = q_in.size(0), L = q_in.size(1), S = k_in.size(1);
  HEED_CHECK(k_in.size(0) == N && v_in.size(0) == N && v_in.size(1) == S, name, ": query ",
             shape_str(query.shape()), ", key ", shape_str(key.shape()), " and value ",
             shape_str(value.shape()), " disagree in batch size or source length");

  // In-projection: one GEMM when query, key and value are the same tensor.
  Tensor q, k, v;  // (N, L|S, E)
  if (query.impl() == key.impl() && key.impl() == value.impl()) {
    std::vector<Tensor> qkv = chunk(linear(q_in, in_proj_weight, in_proj_bias), 3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    auto part = [&](const Tensor& x, int64_t i) {
      Tensor b = in_proj_bias.defined() ? in_proj_bias.narrow(0, i * E, E) : Tensor();
      return linear(x, in_proj_weight.narrow(0, i * E, E), b);
    };
    q = part(q_in, 0), k = part(k_in, 1), v = part(v_in, 2);
  }
  q = q.reshape({N, L, h, hd}).permute({0, 2, 1, 3});  // (N, h, L, hd)
  k = k.reshape({N, S, h, hd}).permute({0, 2, 3, 1});  // (N, h, hd, S)
  v = v.reshape({N, S, h, hd}).permute({0, 2, 1, 3});  // (N, h, S, hd)

  Tensor att = matmul(detail::div_scalar(q, std::sqrt(double(hd))), k);  // (N, h, L, S)
  if (attn_mask.defined()) {
    HEED_CHECK(attn_mask.dtype() == kBool || attn_mask.is_floating_point(), name,
               ": attn_mask must be bool or floating, got ", attn_mask.dtype());
    Tensor m;
    if (attn_mask.dim() == 2) {
      HEED_CHECK(attn_mask.size(0) == L && attn_mask.size(1) == S, name,
                 ": the 2-D attn_mask has shape ", shape_str(attn_mask.shape()), ", expected (", L,
                 ", ", S, ")");
      m = attn_mask;
    } else {
      HEED_CHECK(attn_mask.dim() == 3 && attn_mask.size(0) == N * h && attn_mask.size(1) == L &&
                     attn_mask.size(2) == S,
                 name, ": the attn_mask has shape ", shape_str(attn_mask.shape()),
                 ", expected (L, S) = (", L, ", ", S, ") or (N·num_heads, L, S) = (", N * h, ", ",
                 L, ", ", S, ")");
      m = attn_mask.reshape({N, h, L, S});
    }
    att = apply_mask(att, m);
  }
  if (key_padding_mask.defined()) {
    HEED_CHECK(key_padding_mask.dtype() == kBool || key_padding_mask.is_floating_point(), name,
               ": key_padding_mask must be bool or floating, got ", key_padding_mask.dtype());
    Tensor m = batched ? key_padding_mask : key_padding_mask.unsqueeze(0);
    HEED_CHECK(m.dim() == 2 && m.size(0) == N && m.size(1) == S, name,
               ": key_padding_mask has shape ", shape_str(key_padding_mask.shape()),
               ", expected (N, S) = (", N, ", ", S, ")", batched ? "" : " or (S) unbatched");
    att = apply_mask(att, m.reshape({N, 1, 1, S}));
  }
  att = softmax(att, -1);
  keep_map("weights", att);
  if (is_training() && options.dropout > 0) att = dropout(att, options.dropout, true);

  Tensor out = matmul(att, v).permute({0, 2, 1, 3}).reshape({N, L, E});  // (N, L, E)
  out = out_proj(out);
  if (!batched)
    out = out.squeeze(0);
  else if (!options.batch_first)
    out = out.transpose(0, 1);  // (L, N, E)

  Tensor weights;
  if (need_weights) {
    weights = average_attn_weights ? detail::div_scalar(sum(att, {1}), double(h)) : att;
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

std::string MultiheadAttentionImpl::extra_repr() const {
  // PyTorch prints only the submodules; these are the constructor arguments.
  return "embed_dim=" + std::to_string(embed_dim) + ", num_heads=" + std::to_string(num_heads) +
         ", dropout=" + nn::detail::py_float(options.dropout) +
         ", bias=" + nn::detail::py_bool(options.bias) +
         ", batch_first=" + nn::detail::py_bool(options.batch_first);
}

nn::ModuleCost MultiheadAttentionImpl::cost(const std::vector<Shape>& in,
                                            const std::vector<Shape>&) const {
  // In-projections (numel·E each for q, k, v) and q kᵀ, att v: 2·N·L·S·E.
  // out_proj reports itself.
  if (in.size() < 3) return {};
  const int64_t E = embed_dim;
  const int64_t nq = numel_of(in[0]) / E, nk = numel_of(in[1]) / E;  // N·L and N·S
  const int64_t S = in[1].size() == 3 ? in[1][options.batch_first ? 1 : 0] : in[1][0];
  return {(nq + 2 * nk) * E * E + 2 * nq * S * E, num_heads * nq * S};
}

}  // namespace heed::attention

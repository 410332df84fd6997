#include "attention/transformer.h"

#include <cmath>
#include <tuple>

namespace heed::attention {

MultiHeadSelfAttentionImpl::MultiHeadSelfAttentionImpl(int64_t dim, int64_t num_heads,
                                                       const MultiHeadSelfAttentionOptions& options)
    : dim(dim), num_heads(num_heads), options(options) {
  HEED_CHECK(dim > 0 && num_heads > 0, "Attention: dim and num_heads must be positive, got ", dim,
             " and ", num_heads);
  HEED_CHECK(dim % num_heads == 0, "Attention: dim (", dim, ") must be divisible by num_heads (",
             num_heads, ")");
  head_dim = dim / num_heads;
  scale = std::pow(double(head_dim), -0.5);
  qkv = register_module("qkv", nn::Linear(dim, 3 * dim, {.bias = options.qkv_bias}));
  attn_drop = register_module("attn_drop", nn::Dropout(options.attn_drop));
  proj = register_module("proj", nn::Linear(dim, dim));
  proj_drop = register_module("proj_drop", nn::Dropout(options.proj_drop));
}

Tensor MultiHeadSelfAttentionImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() == 3 && x.size(2) == dim, "Attention: expected (B, N, dim = ", dim, "), got ",
             shape_str(x.shape()));
  const int64_t B = x.size(0), N = x.size(1);
  // q, k and v come from row blocks of qkv's weight (three products), not from
  // slices of one (B, N, 3·dim) product: the backward of an activation slice
  // zero-fills a full (B, N, 3·dim) gradient per slice and then adds the
  // three, while a weight slice's is (dim, dim). Same parameters, same values.
  auto heads_of = [&](int64_t i) {  // (B, h, N, hd)
    Tensor w = qkv->weight.narrow(0, i * dim, dim);
    Tensor b = qkv->bias.defined() ? qkv->bias.narrow(0, i * dim, dim) : Tensor();
    return linear(x, w, b).view({B, N, num_heads, head_dim}).transpose(1, 2);
  };
  Tensor q = heads_of(0), k = heads_of(1), v = heads_of(2);
  Tensor out;  // (B, h, N, hd)
  if (attn_drop->is_training() && attn_drop->p > 0) {
    // timm scales q before the product (bit-equal to scaling after only for hd = 4^n).
    Tensor att = softmax(matmul(q * scale, k.transpose(-2, -1)), -1);  // (B, h, N, N)
    keep_map("weights", att);
    out = matmul(attn_drop(att), v);
  } else {  // no dropout on the map: the fused op, one node
    Tensor att;
    std::tie(out, att) = scaled_dot_product_attention(q, k, v, scale);
    keep_map("weights", att);
  }
  return proj_drop(proj(out.transpose(1, 2).reshape({B, N, dim})));  // (B, N, dim)
}

nn::ModuleCost MultiHeadSelfAttentionImpl::cost(const std::vector<Shape>& in,
                                                const std::vector<Shape>&) const {
  // The qkv projection (forward() uses qkv's weight directly, so qkv does not
  // report itself), q kᵀ and attn v: 2·B·N²·dim; proj reports itself.
  if (in.empty() || in[0].size() != 3) return {};
  const int64_t B = in[0][0], N = in[0][1];
  const nn::ModuleCost projection = qkv->cost(in, {{B, N, 3 * dim}});
  return {projection.macs + 2 * B * N * N * dim, projection.elementwise + B * num_heads * N * N};
}

MlpImpl::MlpImpl(int64_t in_features, int64_t hidden_features, double drop) {
  fc1 = register_module("fc1", nn::Linear(in_features, hidden_features));
  act = register_module("act", nn::GELU());
  drop1 = register_module("drop1", nn::Dropout(drop));
  fc2 = register_module("fc2", nn::Linear(hidden_features, in_features));
  drop2 = register_module("drop2", nn::Dropout(drop));
}

Tensor MlpImpl::forward(const Tensor& x) {
  return drop2(fc2(drop1(act(fc1(x)))));
}

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(
    int64_t dim, int64_t num_heads, const TransformerEncoderLayerOptions& options)
    : dim(dim), num_heads(num_heads), options(options) {
  HEED_CHECK(options.mlp_ratio > 0, "TransformerEncoderLayer: mlp_ratio must be positive, got ",
             options.mlp_ratio);
  hidden = int64_t(double(dim) * options.mlp_ratio);
  norm1 = register_module("norm1", nn::LayerNorm(dim, {.eps = options.norm_eps}));
  attn = register_module("attn", MultiHeadSelfAttention(dim, num_heads,
                                                        {.qkv_bias = options.qkv_bias,
                                                         .attn_drop = options.attn_drop,
                                                         .proj_drop = options.proj_drop}));
  norm2 = register_module("norm2", nn::LayerNorm(dim, {.eps = options.norm_eps}));
  mlp = register_module("mlp", Mlp(dim, hidden, options.proj_drop));
}

Tensor TransformerEncoderLayerImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() == 3 && x.size(2) == dim,
             "TransformerEncoderLayer: expected (B, N, dim = ", dim, "), got ",
             shape_str(x.shape()));
  attn->set_keep_maps(keeps_maps());
  Tensor y;
  if (options.pre_norm) {
    y = x + attn(norm1(x));
    y = y + mlp(norm2(y));
  } else {
    y = norm1(x + attn(x));
    y = norm2(y + mlp(y));
  }
  if (keeps_maps()) keep_map("weights", attn->maps().at("weights"));
  return y;
}

std::string TransformerEncoderLayerImpl::extra_repr() const {
  return "dim=" + std::to_string(dim) + ", num_heads=" + std::to_string(num_heads) +
         ", mlp_ratio=" + nn::detail::py_float(options.mlp_ratio) +
         ", pre_norm=" + nn::detail::py_bool(options.pre_norm);
}

}  // namespace heed::attention

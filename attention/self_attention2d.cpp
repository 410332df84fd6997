#include "attention/self_attention2d.h"

#include "attention/detail.h"

namespace heed::attention {

SelfAttention2dImpl::SelfAttention2dImpl(int64_t in_dim, const SelfAttention2dOptions& options)
    : in_dim(in_dim), options(options) {
  HEED_CHECK(in_dim > 0 && options.reduction > 0,
             "SelfAttention2d: in_dim and reduction must be positive, got ", in_dim, " and ",
             options.reduction);
  qk_dim = in_dim / options.reduction;
  HEED_CHECK(qk_dim > 0, "SelfAttention2d: query/key width in_dim // reduction = ", in_dim, " // ",
             options.reduction, " = 0; use a reduction <= ", in_dim);
  query_conv = register_module("query_conv", nn::Conv2d(in_dim, qk_dim, 1));
  key_conv = register_module("key_conv", nn::Conv2d(in_dim, qk_dim, 1));
  value_conv = register_module("value_conv", nn::Conv2d(in_dim, in_dim, 1));
  gamma = register_parameter("gamma", zeros({1}));
}

std::pair<Tensor, Tensor> SelfAttention2dImpl::forward_with_attention(const Tensor& x) {
  detail::check_feature_map("SelfAttention2d", x, in_dim);
  const int64_t B = x.size(0), C = in_dim, H = x.size(2), W = x.size(3), N = H * W;
  Tensor q = query_conv(x).view({B, qk_dim, N}).transpose(1, 2);    // (B, N, C')
  Tensor k = key_conv(x).view({B, qk_dim, N});                      // (B, C', N)
  Tensor attn = softmax(matmul(q, k), -1);                          // (B, N, N)
  Tensor v = value_conv(x).view({B, C, N});                         // (B, C, N)
  Tensor out = matmul(v, attn.transpose(1, 2)).view({B, C, H, W});  // (B, C, H, W)
  keep_map("weights", attn);
  return {gamma * out + x, attn};
}

Tensor SelfAttention2dImpl::forward(const Tensor& x) {
  return forward_with_attention(x).first;
}

std::string SelfAttention2dImpl::extra_repr() const {
  return "in_dim=" + std::to_string(in_dim) + ", reduction=" + std::to_string(options.reduction);
}

nn::ModuleCost SelfAttention2dImpl::cost(const std::vector<Shape>& in,
                                         const std::vector<Shape>&) const {
  // energy B·N²·C' and the weighted sum B·N²·C (the convs report themselves).
  if (in.empty() || in[0].size() != 4) return {};
  const int64_t B = in[0][0], N = in[0][2] * in[0][3];
  return {B * N * N * (qk_dim + in_dim), B * N * N + 2 * numel_of(in[0])};
}

}  // namespace heed::attention

#include "attention/criss_cross.h"

#include <limits>

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

CrissCrossAttentionImpl::CrissCrossAttentionImpl(int64_t in_dim,
                                                 const CrissCrossAttentionOptions& options)
    : in_dim(in_dim), options(options) {
  HEED_CHECK(in_dim > 0 && options.reduction > 0 && options.recurrence >= 1,
             "CrissCrossAttention: need in_dim > 0, reduction > 0 and recurrence >= 1, got ",
             in_dim, ", ", options.reduction, ", ", options.recurrence);
  inner = in_dim / options.reduction;
  HEED_CHECK(inner >= 1, "CrissCrossAttention: in_dim / reduction = ", in_dim, " / ",
             options.reduction, " is 0; use a smaller reduction");
  query_conv = register_module("query_conv", nn::Conv2d(in_dim, inner, 1));
  key_conv = register_module("key_conv", nn::Conv2d(in_dim, inner, 1));
  value_conv = register_module("value_conv", nn::Conv2d(in_dim, in_dim, 1));
  gamma = register_parameter("gamma", zeros({1}));
}

Tensor CrissCrossAttentionImpl::attend(const Tensor& x) {
  const int64_t H = x.size(2), W = x.size(3);
  Tensor q = query_conv(x), k = key_conv(x), v = value_conv(x);  // (B, C', H, W), (B, C, H, W)
  // Column energies, batched over (B, W): (B, W, H, C')·(B, W, C', H') -> (B, W, H, H').
  Tensor e_h = matmul(q.permute({0, 3, 2, 1}), k.permute({0, 3, 1, 2}));
  std::vector<double> diag(size_t(H * H), 0.0);
  for (int64_t i = 0; i < H; ++i)
    diag[size_t(i * H + i)] = -std::numeric_limits<double>::infinity();
  e_h = e_h + from_vector(diag, Shape{H, H}).to(x.dtype()).to(x.device());
  // Row energies, batched over (B, H): (B, H, W, C')·(B, H, C', W') -> (B, H, W, W').
  Tensor e_w = matmul(q.permute({0, 2, 3, 1}), k.permute({0, 2, 1, 3}));
  Tensor a = softmax(cat({e_h.permute({0, 2, 1, 3}), e_w}, 3), 3);  // (B, H, W, H + W)
  keep_map("weights", a);
  Tensor a_h = a.narrow(3, 0, H).permute({0, 2, 1, 3});  // (B, W, H, H')
  Tensor a_w = a.narrow(3, H, W);                        // (B, H, W, W')
  // out_H[c, h, w] = Σ_h' v[c, h', w]·a_H[h, w, h']: (B, W, C, H')·(B, W, H', H) -> (B, W, C, H).
  Tensor out_h = matmul(v.permute({0, 3, 1, 2}), a_h.transpose(2, 3)).permute({0, 2, 3, 1});
  // out_W[c, h, w] = Σ_w' v[c, h, w']·a_W[h, w, w']: (B, H, C, W')·(B, H, W', W) -> (B, H, C, W).
  Tensor out_w = matmul(v.permute({0, 2, 1, 3}), a_w.transpose(2, 3)).permute({0, 2, 1, 3});
  return gamma * (out_h + out_w) + x;
}

Tensor CrissCrossAttentionImpl::forward(const Tensor& x) {
  check_feature_map("CrissCrossAttention", x, in_dim);
  Tensor y = x;
  for (int64_t r = 0; r < options.recurrence; ++r) y = attend(y);
  return y;
}

std::string CrissCrossAttentionImpl::extra_repr() const {
  return "in_dim=" + std::to_string(in_dim) + ", reduction=" + std::to_string(options.reduction) +
         ", recurrence=" + std::to_string(options.recurrence);
}

nn::ModuleCost CrissCrossAttentionImpl::cost(const std::vector<Shape>& in,
                                             const std::vector<Shape>&) const {
  // Per application: energies B·N·(H+W)·C', outputs B·N·(H+W)·C; softmax
  // ~3 per energy; γ·(out_H + out_W) + x 3 per element. The convs report theirs.
  if (in.empty()) return {};
  const Shape& s = in[0];
  const int64_t B = s[0], N = s[2] * s[3], L = s[2] + s[3], R = options.recurrence;
  return {R * B * N * L * (inner + in_dim), R * (3 * B * N * L + 3 * numel_of(s))};
}

}  // namespace heed::attention

#include "attention/psa.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

PolarizedSelfAttentionImpl::PolarizedSelfAttentionImpl(int64_t channels,
                                                       const PolarizedSelfAttentionOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels >= 2 && channels % 2 == 0,
             "PolarizedSelfAttention: channels must be even and >= 2, got ", channels);
  HEED_CHECK(options.mode == "parallel" || options.mode == "sequential",
             "PolarizedSelfAttention: mode must be 'parallel' or 'sequential', got '", options.mode,
             "'");
  sequential = options.mode == "sequential";
  const int64_t half = channels / 2;
  ch_wv = register_module("ch_wv", nn::Conv2d(channels, half, 1));
  ch_wq = register_module("ch_wq", nn::Conv2d(channels, 1, 1));
  ch_wz = register_module("ch_wz", nn::Conv2d(half, channels, 1));
  ln = register_module("ln", nn::LayerNorm(channels));
  sp_wv = register_module("sp_wv", nn::Conv2d(channels, half, 1));
  sp_wq = register_module("sp_wq", nn::Conv2d(channels, half, 1));
}

Tensor PolarizedSelfAttentionImpl::channel_gate(const Tensor& x) {
  const int64_t B = x.size(0), C = channels, N = x.size(2) * x.size(3);
  Tensor v = ch_wv(x).reshape({B, C / 2, N});          // (B, C/2, N)
  Tensor q = softmax(ch_wq(x).reshape({B, N, 1}), 1);  // (B, N, 1)
  Tensor z = ch_wz(matmul(v, q).unsqueeze(-1));        // (B, C, 1, 1)
  Tensor gate = sigmoid(ln(z.reshape({B, 1, C})));     // LN over C
  return gate.reshape({B, C, 1, 1});
}

Tensor PolarizedSelfAttentionImpl::spatial_gate(const Tensor& x) {
  const int64_t B = x.size(0), C = channels, H = x.size(2), W = x.size(3);
  Tensor v = sp_wv(x).reshape({B, C / 2, H * W});                        // (B, C/2, N)
  Tensor q = softmax(sp_wq(x).mean({2, 3}).reshape({B, 1, C / 2}), -1);  // (B, 1, C/2)
  return sigmoid(matmul(q, v).reshape({B, 1, H, W}));
}

Tensor PolarizedSelfAttentionImpl::forward(const Tensor& x) {
  check_feature_map("PolarizedSelfAttention", x, channels);
  Tensor g_c = channel_gate(x);
  Tensor ch = g_c * x;
  Tensor g_s = spatial_gate(sequential ? ch : x);
  keep_map("channel", g_c);
  keep_map("spatial", g_s);
  return sequential ? g_s * ch : g_s * x + ch;
}

std::string PolarizedSelfAttentionImpl::extra_repr() const {
  return "channel=" + std::to_string(channels) + ", mode='" + options.mode + "'";
}

nn::ModuleCost PolarizedSelfAttentionImpl::cost(const std::vector<Shape>& in,
                                                const std::vector<Shape>&) const {
  // Own MACs: v·q (B, C/2, N)·(N, 1) and q·v (1, C/2)·(C/2, N). Element-wise:
  // the two softmaxes, the pooling of sp_wq, the rescales (and the sum).
  if (in.empty()) return {};
  const int64_t numel = numel_of(in[0]), b_n = numel / channels;
  return {numel, 3 * b_n + numel / 2 + 3 * numel};
}

}  // namespace heed::attention

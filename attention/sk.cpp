#include "attention/sk.h"

#include "attention/zoo_common.h"
#include "nn/activation.h"
#include "nn/conv.h"

namespace heed::attention {

using namespace zoo_detail;

SKAttentionImpl::SKAttentionImpl(int64_t channels, const SKAttentionOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0, "SKAttention: channels must be > 0, got ", channels);
  HEED_CHECK(!options.kernels.empty(), "SKAttention: kernels is empty");
  HEED_CHECK(options.reduction > 0 && options.L > 0 && options.group > 0,
             "SKAttention: reduction, L and group must be > 0, got ", options.reduction, ", ",
             options.L, ", ", options.group);
  HEED_CHECK(channels % options.group == 0, "SKAttention: channels (", channels,
             ") must be divisible by group (", options.group, ")");
  d = std::max(options.L, channels / options.reduction);
  convs = register_module("convs", nn::ModuleList());
  for (int64_t k : options.kernels) {
    HEED_CHECK(k >= 1 && k % 2 == 1, "SKAttention: kernel sizes must be odd and >= 1 (padding ",
               "k/2 keeps H×W), got ", k);
    convs->push_back(nn::Sequential(
        {{"conv", nn::Conv2d(channels, channels, k, {.padding = k / 2, .groups = options.group})},
         {"bn", nn::BatchNorm2d(channels)},
         {"relu", nn::ReLU()}}));
  }
  fc = register_module("fc", nn::Linear(channels, d));
  if (options.fuse_norm) bn = register_module("bn", nn::BatchNorm1d(d));
  fcs = register_module("fcs", nn::ModuleList());
  for (size_t i = 0; i < options.kernels.size(); ++i) fcs->push_back(nn::Linear(d, channels));
}

Tensor SKAttentionImpl::forward(const Tensor& x) {
  check_feature_map("SKAttention", x, channels);
  const int64_t B = x.size(0), C = channels;
  const size_t K = options.kernels.size();
  std::vector<Tensor> u(K);  // K × (B, C, H, W)
  Tensor sum_u;
  for (size_t k = 0; k < K; ++k) {
    u[k] = convs[k](x);
    sum_u = k == 0 ? u[k] : sum_u + u[k];
  }
  Tensor s = sum_u.mean({3}).mean({2});  // (B, C), EA's order of means
  Tensor z = fc(s);                      // (B, d)
  if (bn) z = relu(bn(z));
  std::vector<Tensor> logits(K);
  for (size_t k = 0; k < K; ++k) logits[k] = fcs[k](z).reshape({B, C, 1, 1});
  Tensor a = softmax(stack(logits, 0), 0);  // (K, B, C, 1, 1), over the branches
  keep_map("weights", a.reshape({int64_t(K), B, C}).permute({1, 0, 2}));
  Tensor v;
  for (size_t k = 0; k < K; ++k) {
    Tensor t = select(a, 0, int64_t(k)) * u[k];
    v = k == 0 ? t : v + t;
  }
  return v;
}

std::string SKAttentionImpl::extra_repr() const {
  std::string ks;
  for (int64_t k : options.kernels) ks += (ks.empty() ? "" : ", ") + std::to_string(k);
  return "channel=" + std::to_string(channels) + ", kernels=[" + ks + "], d=" + std::to_string(d) +
         ", group=" + std::to_string(options.group) +
         ", fuse_norm=" + nn::detail::py_bool(options.fuse_norm);
}

nn::ModuleCost SKAttentionImpl::cost(const std::vector<Shape>& in,
                                     const std::vector<Shape>&) const {
  // Branch sum, GAP, the weighted sum (multiply + add per branch), softmax over K.
  if (in.empty()) return {};
  const int64_t numel = numel_of(in[0]), K = int64_t(options.kernels.size());
  return {0, (K - 1) * numel + numel + 2 * K * numel};
}

}  // namespace heed::attention

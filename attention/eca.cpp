#include "attention/eca.h"

#include <cmath>

#include "attention/detail.h"

namespace heed::attention {

int64_t eca_kernel_size(int64_t channels, double gamma, double b) {
  HEED_CHECK(channels > 0, "eca_kernel_size: channels must be positive, got ", channels);
  HEED_CHECK(gamma > 0, "eca_kernel_size: gamma must be positive, got ", gamma);
  int64_t t = int64_t(std::abs((std::log2(double(channels)) + b) / gamma));
  return t % 2 ? t : t + 1;
}

ECAAttentionImpl::ECAAttentionImpl(int64_t channel, const ECAAttentionOptions& options)
    : channel(channel), options(options) {
  HEED_CHECK(channel > 0, "ECAAttention: channel must be positive, got ", channel);
  k_size = options.k_size > 0 ? options.k_size : eca_kernel_size(channel, options.gamma, options.b);
  HEED_CHECK(options.k_size >= 0 && k_size % 2 == 1,
             "ECAAttention: k_size must be odd and positive (or 0 for the adaptive size), got ",
             options.k_size);
  conv = register_module(
      "conv", nn::Conv1d(1, 1, k_size, {.padding = (k_size - 1) / 2, .bias = options.bias}));
}

Tensor ECAAttentionImpl::forward(const Tensor& x) {
  return x * gate(x);
}

Tensor ECAAttentionImpl::forward(const Tensor& x, const Tensor& residual) {
  return gate_add_relu(x, gate(x), residual);
}

Tensor ECAAttentionImpl::gate(const Tensor& x) {
  detail::check_feature_map("ECAAttention", x, channel);
  return gate_from_mean(mean(x, {2, 3}));
}

Tensor ECAAttentionImpl::gate_from_mean(const Tensor& z) {
  detail::check_spatial_mean("ECAAttention", z, channel);
  const int64_t B = z.size(0);
  Tensor y = z.reshape({B, 1, channel});          // (B, 1, C)
  y = sigmoid(conv(y)).view({B, channel, 1, 1});  // (B, C, 1, 1)
  keep_map("channel", y);
  return y;
}

std::string ECAAttentionImpl::extra_repr() const {
  return "channel=" + std::to_string(channel) + ", k_size=" + std::to_string(k_size);
}

nn::ModuleCost ECAAttentionImpl::cost(const std::vector<Shape>& in,
                                      const std::vector<Shape>&) const {
  return {0, in.empty() ? 0 : 2 * numel_of(in[0])};  // pool and rescale
}

}  // namespace heed::attention

#include "attention/se.h"

#include <algorithm>

#include "attention/detail.h"
#include "nn/activation.h"
#include "nn/linear.h"

namespace heed::attention {

int64_t se_hidden_channels(int64_t channels, int64_t reduction, int64_t divisor) {
  HEED_CHECK(reduction > 0, "SEAttention: reduction must be positive, got ", reduction);
  HEED_CHECK(divisor > 0, "SEAttention: divisor must be positive, got ", divisor);
  if (divisor == 1) return channels / reduction;
  // timm make_divisible(v, d, round_limit=0): max(d, int(v + d/2) // d * d).
  double v = double(channels) / double(reduction);
  int64_t r = int64_t(v + double(divisor) / 2) / divisor * divisor;
  return std::max(divisor, r);
}

SEAttentionImpl::SEAttentionImpl(int64_t channel, const SEAttentionOptions& options)
    : channel(channel), options(options) {
  HEED_CHECK(channel > 0, "SEAttention: channel must be positive, got ", channel);
  hidden = se_hidden_channels(channel, options.reduction, options.divisor);
  HEED_CHECK(hidden > 0, "SEAttention: hidden width channel // reduction = ", channel, " // ",
             options.reduction, " = 0; use a reduction <= ", channel);
  if (options.conv) {
    fc1 = register_module("fc1", nn::Conv2d(channel, hidden, 1));
    fc2 = register_module("fc2", nn::Conv2d(hidden, channel, 1));
  } else {
    fc = register_module(
        "fc", nn::Sequential(nn::Linear(channel, hidden, {.bias = options.bias}), nn::ReLU(),
                             nn::Linear(hidden, channel, {.bias = options.bias}), nn::Sigmoid()));
  }
}

Tensor SEAttentionImpl::forward(const Tensor& x) {
  return x * gate(x);
}

Tensor SEAttentionImpl::forward(const Tensor& x, const Tensor& residual) {
  return gate_add_relu(x, gate(x), residual);
}

Tensor SEAttentionImpl::gate(const Tensor& x) {
  detail::check_feature_map("SEAttention", x, channel);
  return gate_from_mean(mean(x, {2, 3}));
}

Tensor SEAttentionImpl::gate_from_mean(const Tensor& z) {
  detail::check_spatial_mean("SEAttention", z, channel);
  const int64_t B = z.size(0);
  Tensor s;  // (B, C, 1, 1)
  if (options.conv)
    s = sigmoid(fc2(relu(fc1(z.reshape({B, channel, 1, 1})))));
  else
    s = fc(z).view({B, channel, 1, 1});
  keep_map("channel", s);
  return s;
}

std::string SEAttentionImpl::extra_repr() const {
  return "channel=" + std::to_string(channel) + ", reduction=" + std::to_string(options.reduction) +
         (options.conv ? ", conv=True" : "") + (options.bias && !options.conv ? ", bias=True" : "");
}

nn::ModuleCost SEAttentionImpl::cost(const std::vector<Shape>& in,
                                     const std::vector<Shape>&) const {
  // MACs are the two FCs' (they report themselves); here the pool and the rescale.
  if (in.empty()) return {};
  return {0, 2 * numel_of(in[0])};
}

}  // namespace heed::attention

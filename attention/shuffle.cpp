#include "attention/shuffle.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

ShuffleAttentionImpl::ShuffleAttentionImpl(int64_t channels, const ShuffleAttentionOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0 && options.G > 0, "ShuffleAttention: channels and G must be > 0, got ",
             channels, " and ", options.G);
  HEED_CHECK(channels % (2 * options.G) == 0, "ShuffleAttention: channels (", channels,
             ") must be divisible by 2·G = ", 2 * options.G);
  const int64_t c = channels / (2 * options.G);
  gn = register_module("gn", nn::GroupNorm(c, c));
  cweight = register_parameter("cweight", zeros({1, c, 1, 1}));
  cbias = register_parameter("cbias", ones({1, c, 1, 1}));
  sweight = register_parameter("sweight", zeros({1, c, 1, 1}));
  sbias = register_parameter("sbias", ones({1, c, 1, 1}));
}

Tensor ShuffleAttentionImpl::forward(const Tensor& x) {
  check_feature_map("ShuffleAttention", x, channels);
  const int64_t B = x.size(0), C = channels, H = x.size(2), W = x.size(3), G = options.G;
  const int64_t c = C / (2 * G);
  Tensor xg = x.reshape({B * G, 2 * c, H, W});
  Tensor x0 = xg.narrow(1, 0, c), x1 = xg.narrow(1, c, c);           // (B·G, c, H, W) each
  Tensor gate_c = sigmoid(cweight * x0.mean({2, 3}, true) + cbias);  // (B·G, c, 1, 1)
  Tensor gate_s = sigmoid(sweight * gn(x1) + sbias);                 // (B·G, c, H, W)
  keep_map("channel", gate_c.reshape({B, G * c, 1, 1}));
  keep_map("spatial", gate_s.reshape({B, G * c, H, W}));
  Tensor out = cat({x0 * gate_c, x1 * gate_s}, 1).reshape({B, C, H, W});
  // Channel shuffle with 2 groups: channel i·(C/2) + j goes to 2j + i.
  return out.reshape({B, 2, C / 2, H, W}).permute({0, 2, 1, 3, 4}).reshape({B, C, H, W});
}

std::string ShuffleAttentionImpl::extra_repr() const {
  return "channel=" + std::to_string(channels) + ", G=" + std::to_string(options.G);
}

nn::ModuleCost ShuffleAttentionImpl::cost(const std::vector<Shape>& in,
                                          const std::vector<Shape>&) const {
  // Half the elements: pooling + rescale; the other half: affine, sigmoid
  // (~4) and rescale (GN reports its own); then the shuffle copy.
  if (in.empty()) return {};
  const int64_t half = numel_of(in[0]) / 2;
  return {0, 2 * half + 7 * half};
}

}  // namespace heed::attention

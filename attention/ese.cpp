#include "attention/ese.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

EffectiveSEImpl::EffectiveSEImpl(int64_t channels, const EffectiveSEOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0, "EffectiveSE: channels must be > 0, got ", channels);
  fc = register_module("fc", nn::Conv2d(channels, channels, 1));
}

Tensor EffectiveSEImpl::forward(const Tensor& x) {
  check_feature_map("EffectiveSE", x, channels);
  Tensor s = x.mean({2, 3}, true);  // (B, C, 1, 1)
  if (options.add_maxpool) s = s * 0.5 + amax(x, {2, 3}, true) * 0.5;
  Tensor gate = hardsigmoid(fc(s));  // relu6(z + 3) / 6
  keep_map("channel", gate);
  return x * gate;
}

std::string EffectiveSEImpl::extra_repr() const {
  return "channels=" + std::to_string(channels) +
         ", add_maxpool=" + nn::detail::py_bool(options.add_maxpool);
}

nn::ModuleCost EffectiveSEImpl::cost(const std::vector<Shape>& in,
                                     const std::vector<Shape>&) const {
  // Pooling (twice with add_maxpool) and the rescale.
  if (in.empty()) return {};
  return {0, (options.add_maxpool ? 3 : 2) * numel_of(in[0])};
}

}  // namespace heed::attention

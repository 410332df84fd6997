#include "attention/conv_mlp.h"

namespace heed::attention {

ConvMlpImpl::ConvMlpImpl(int64_t channels, int64_t hidden, bool layer_norm) {
  HEED_CHECK(channels > 0 && hidden > 0, "ConvMlp: channels and hidden width must be > 0, got ",
             channels, " and ", hidden);
  fc1 = register_module("fc1", nn::Conv2d(channels, hidden, 1));
  if (layer_norm) norm = register_module("norm", nn::LayerNorm(hidden, {.eps = 1e-6}));
  fc2 = register_module("fc2", nn::Conv2d(hidden, channels, 1));
}

Tensor ConvMlpImpl::forward(const Tensor& x) {
  Tensor h = fc1(x);  // (B, hidden, h, w)
  // LayerNorm2d: normalise each pixel over the channels.
  if (norm) h = norm(h.permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
  return fc2(relu(h));
}

nn::ModuleCost ConvMlpImpl::cost(const std::vector<Shape>&, const std::vector<Shape>&) const {
  return {};  // fc1, norm and fc2 report their own; the ReLU is negligible
}

}  // namespace heed::attention

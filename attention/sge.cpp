#include "attention/sge.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

SpatialGroupEnhanceImpl::SpatialGroupEnhanceImpl(int64_t channels,
                                                 const SpatialGroupEnhanceOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0 && options.groups > 0,
             "SpatialGroupEnhance: channels and groups must be > 0, got ", channels, " and ",
             options.groups);
  HEED_CHECK(channels % options.groups == 0, "SpatialGroupEnhance: channels (", channels,
             ") must be divisible by groups (", options.groups, ")");
  weight = register_parameter("weight", zeros({1, options.groups, 1, 1}));
  bias = register_parameter("bias", ones({1, options.groups, 1, 1}));
}

Tensor SpatialGroupEnhanceImpl::forward(const Tensor& x) {
  check_feature_map("SpatialGroupEnhance", x, channels);
  const int64_t B = x.size(0), G = options.groups, H = x.size(2), W = x.size(3);
  HEED_CHECK(H * W > 1, "SpatialGroupEnhance: needs more than one pixel (the unbiased std ",
             "divides by H·W − 1), got input ", shape_str(x.shape()));
  Tensor xg = x.reshape({B * G, channels / G, H, W});
  Tensor t = (xg * xg.mean({2, 3}, true)).sum({1}).reshape({B * G, H * W});  // (B·G, N)
  t = t - t.mean({1}, true);
  t = t / (sqrt(var(t, {1}, /*unbiased=*/true, true)) + 1e-5);
  Tensor gate = sigmoid(t.reshape({B, G, H, W}) * weight + bias);  // (B, G, H, W)
  keep_map("spatial", gate);
  return (xg * gate.reshape({B * G, 1, H, W})).reshape({B, channels, H, W});
}

std::string SpatialGroupEnhanceImpl::extra_repr() const {
  return "groups=" + std::to_string(options.groups);
}

nn::ModuleCost SpatialGroupEnhanceImpl::cost(const std::vector<Shape>& in,
                                             const std::vector<Shape>&) const {
  // Pooling, x·g and its channel sum (3 per element), the rescale (1), and
  // ~10 per gate pixel for the normalisation, affine and sigmoid.
  if (in.empty()) return {};
  const int64_t numel = numel_of(in[0]);
  return {0, 4 * numel + 10 * (numel / channels) * options.groups};
}

}  // namespace heed::attention

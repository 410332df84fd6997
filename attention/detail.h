// Helpers shared by the attention modules (not public API).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "core/heed_core.h"

namespace heed::attention::detail {

// Checks that x is a (B, C, H, W) feature map with `channels` channels.
inline void check_feature_map(const char* module, const Tensor& x, int64_t channels) {
  HEED_CHECK(x.dim() == 4, module, ": expected a (B, C, H, W) input, got shape ",
             shape_str(x.shape()));
  HEED_CHECK(x.size(1) == channels, module, ": input has ", x.size(1), " channels (shape ",
             shape_str(x.shape()), ") but the module was built for ", channels);
}

// A spatial mean handed to a gating module's gate_from_mean: (B, C) with
// the module's `channels`.
inline void check_spatial_mean(const char* module, const Tensor& spatial_mean, int64_t channels) {
  HEED_CHECK(spatial_mean.dim() == 2 && spatial_mean.size(1) == channels, module,
             ": gate_from_mean expects a (B, C) spatial mean with C = ", channels, ", got shape ",
             shape_str(spatial_mean.shape()));
}

// x with `value` where mask is true (mask broadcasts to x), like masked_fill.
inline Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, full({}, value, {x.dtype(), x.device()}), x);
}

// x / s as a true division by the scalar in x's dtype (x * (1/s) can differ in
// the last bit, and PyTorch divides).
inline Tensor div_scalar(const Tensor& x, double s) {
  return div(x, full({}, s, {x.dtype(), x.device()}));
}

inline double neg_inf() {
  return -std::numeric_limits<double>::infinity();
}

}  // namespace heed::attention::detail

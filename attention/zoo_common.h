// Small helpers shared by the zoo modules' .cpp files (not public API).
#pragma once

#include <cmath>
#include <string>

#include "core/heed_core.h"

namespace heed::attention::zoo_detail {

// x must be (B, C, H, W) with C == channels (when channels > 0).
inline void check_feature_map(const char* module, const Tensor& x, int64_t channels) {
  HEED_CHECK(x.defined(), module, ": input is undefined");
  HEED_CHECK(x.dim() == 4, module, ": expected input (B, C, H, W), got ", shape_str(x.shape()));
  HEED_CHECK(channels <= 0 || x.size(1) == channels, module, ": input has ", x.size(1),
             " channels but the module was built for ", channels, " (input ", shape_str(x.shape()),
             ")");
}

// timm's helpers.make_divisible: the nearest multiple of `divisor` (rounding
// half up), at least min_value (divisor when 0), bumped by one divisor when
// that lost more than 1 − round_limit of v.
inline int64_t make_divisible(double v, int64_t divisor, int64_t min_value = 0,
                              double round_limit = 0.9) {
  if (min_value <= 0) min_value = divisor;
  int64_t new_v = std::max(min_value, int64_t(v + double(divisor) / 2) / divisor * divisor);
  if (double(new_v) < round_limit * v) new_v += divisor;
  return new_v;
}

}  // namespace heed::attention::zoo_detail

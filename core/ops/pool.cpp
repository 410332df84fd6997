#include "core/ops/internal.h"

namespace heed {

Tensor max_pool2d(const Tensor& /*x*/, const Pool2dOptions& /*options*/) {
  HEED_FAIL("max_pool2d is not implemented yet");
}

Tensor avg_pool2d(const Tensor& /*x*/, const Pool2dOptions& /*options*/) {
  HEED_FAIL("avg_pool2d is not implemented yet");
}

Tensor adaptive_avg_pool2d(const Tensor& /*x*/, std::pair<int64_t, int64_t> /*output_size*/) {
  HEED_FAIL("adaptive_avg_pool2d is not implemented yet");
}

Tensor adaptive_max_pool2d(const Tensor& /*x*/, std::pair<int64_t, int64_t> /*output_size*/) {
  HEED_FAIL("adaptive_max_pool2d is not implemented yet");
}

}  // namespace heed

#include "core/ops/internal.h"

namespace heed {

Tensor conv2d(const Tensor&, const Tensor&, const Tensor&, std::pair<int64_t, int64_t>,
              std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>, int64_t) {
  HEED_FAIL("conv2d is not implemented yet");
}

Tensor conv1d(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t, int64_t) {
  HEED_FAIL("conv1d is not implemented yet");
}

}  // namespace heed

#include "core/ops/internal.h"

namespace heed {

Tensor index_select(const Tensor& /*x*/, int64_t /*dim*/, const Tensor& /*index*/) {
  HEED_FAIL("index_select is not implemented yet");
}

Tensor gather(const Tensor& /*x*/, int64_t /*dim*/, const Tensor& /*index*/) {
  HEED_FAIL("gather is not implemented yet");
}

Tensor embedding(const Tensor& /*indices*/, const Tensor& /*weight*/,
                 std::optional<int64_t> /*padding_idx*/) {
  HEED_FAIL("embedding is not implemented yet");
}

}  // namespace heed

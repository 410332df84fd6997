#include "core/cpu/cpu_backend.h"

namespace heed::cpu {

void CpuBackend::index_select(const Tensor& /*out*/, const Tensor& /*in*/, int64_t /*dim*/,
                    const Tensor& /*index*/) {
  HEED_FAIL("index_select is not implemented for cpu yet");
}

void CpuBackend::index_add(const Tensor& /*out*/, int64_t /*dim*/, const Tensor& /*index*/, const Tensor& /*src*/) {
  HEED_FAIL("index_add is not implemented for cpu yet");
}

void CpuBackend::gather(const Tensor& /*out*/, const Tensor& /*in*/, int64_t /*dim*/, const Tensor& /*index*/) {
  HEED_FAIL("gather is not implemented for cpu yet");
}

void CpuBackend::scatter_add(const Tensor& /*out*/, int64_t /*dim*/, const Tensor& /*index*/,
                   const Tensor& /*src*/) {
  HEED_FAIL("scatter_add is not implemented for cpu yet");
}

}  // namespace heed::cpu

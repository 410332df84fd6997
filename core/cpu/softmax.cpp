#include "core/cpu/cpu_backend.h"

namespace heed::cpu {

void CpuBackend::softmax(const Tensor& /*out*/, const Tensor& /*in*/, int64_t /*dim*/, bool /*log*/) {
  HEED_FAIL("softmax is not implemented for cpu yet");
}

void CpuBackend::softmax_backward(const Tensor& /*grad_in*/, const Tensor& /*grad_out*/, const Tensor& /*out*/,
                        int64_t /*dim*/, bool /*log*/) {
  HEED_FAIL("softmax_backward is not implemented for cpu yet");
}

}  // namespace heed::cpu

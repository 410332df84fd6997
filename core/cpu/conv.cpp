#include "core/cpu/cpu_backend.h"

namespace heed::cpu {

void CpuBackend::conv2d(const Tensor& /*out*/, const Tensor& /*input*/, const Tensor& /*weight*/, const Tensor& /*bias*/,
              const Conv2dParams& /*p*/) {
  HEED_FAIL("conv2d is not implemented for cpu yet");
}

void CpuBackend::conv2d_backward_input(const Tensor& /*grad_input*/, const Tensor& /*grad_out*/,
                             const Tensor& /*weight*/, const Conv2dParams& /*p*/) {
  HEED_FAIL("conv2d_backward_input is not implemented for cpu yet");
}

void CpuBackend::conv2d_backward_weight(const Tensor& /*grad_weight*/, const Tensor& /*grad_bias*/,
                              const Tensor& /*grad_out*/, const Tensor& /*input*/,
                              const Conv2dParams& /*p*/) {
  HEED_FAIL("conv2d_backward_weight is not implemented for cpu yet");
}

}  // namespace heed::cpu

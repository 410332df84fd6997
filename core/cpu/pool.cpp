#include "core/cpu/cpu_backend.h"

namespace heed::cpu {

void CpuBackend::max_pool2d(const Tensor& /*out*/, const Tensor& /*indices*/, const Tensor& /*input*/,
                  const Pool2dParams& /*p*/) {
  HEED_FAIL("max_pool2d is not implemented for cpu yet");
}

void CpuBackend::avg_pool2d(const Tensor& /*out*/, const Tensor& /*input*/, const Pool2dParams& /*p*/) {
  HEED_FAIL("avg_pool2d is not implemented for cpu yet");
}

void CpuBackend::avg_pool2d_backward(const Tensor& /*grad_input*/, const Tensor& /*grad_out*/,
                           const Pool2dParams& /*p*/) {
  HEED_FAIL("avg_pool2d_backward is not implemented for cpu yet");
}

void CpuBackend::adaptive_avg_pool2d(const Tensor& /*out*/, const Tensor& /*input*/) {
  HEED_FAIL("adaptive_avg_pool2d is not implemented for cpu yet");
}

void CpuBackend::adaptive_avg_pool2d_backward(const Tensor& /*grad_input*/, const Tensor& /*grad_out*/) {
  HEED_FAIL("adaptive_avg_pool2d_backward is not implemented for cpu yet");
}

void CpuBackend::adaptive_max_pool2d(const Tensor& /*out*/, const Tensor& /*indices*/,
                           const Tensor& /*input*/) {
  HEED_FAIL("adaptive_max_pool2d is not implemented for cpu yet");
}

void CpuBackend::max_pool2d_backward(const Tensor& /*grad_input*/, const Tensor& /*grad_out*/,
                           const Tensor& /*indices*/) {
  HEED_FAIL("max_pool2d_backward is not implemented for cpu yet");
}

}  // namespace heed::cpu

#include "core/cpu/cpu_backend.h"

namespace heed::cpu {

void CpuBackend::batch_norm(const Tensor& /*out*/, const Tensor& /*save_mean*/, const Tensor& /*save_invstd*/,
                  const Tensor& /*input*/, const Tensor& /*weight*/, const Tensor& /*bias*/,
                  const Tensor& /*running_mean*/, const Tensor& /*running_var*/, bool /*training*/,
                  double /*momentum*/, double /*eps*/) {
  HEED_FAIL("batch_norm is not implemented for cpu yet");
}

void CpuBackend::batch_norm_backward(const Tensor& /*grad_input*/, const Tensor& /*grad_weight*/,
                           const Tensor& /*grad_bias*/, const Tensor& /*grad_out*/, const Tensor& /*input*/,
                           const Tensor& /*weight*/, const Tensor& /*save_mean*/,
                           const Tensor& /*save_invstd*/, bool /*training*/) {
  HEED_FAIL("batch_norm_backward is not implemented for cpu yet");
}

void CpuBackend::layer_norm(const Tensor& /*out*/, const Tensor& /*save_mean*/, const Tensor& /*save_rstd*/,
                  const Tensor& /*input*/, const Tensor& /*weight*/, const Tensor& /*bias*/,
                  int64_t /*normalized*/, double /*eps*/) {
  HEED_FAIL("layer_norm is not implemented for cpu yet");
}

void CpuBackend::layer_norm_backward(const Tensor& /*grad_input*/, const Tensor& /*grad_weight*/,
                           const Tensor& /*grad_bias*/, const Tensor& /*grad_out*/, const Tensor& /*input*/,
                           const Tensor& /*weight*/, const Tensor& /*save_mean*/,
                           const Tensor& /*save_rstd*/, int64_t /*normalized*/) {
  HEED_FAIL("layer_norm_backward is not implemented for cpu yet");
}

}  // namespace heed::cpu

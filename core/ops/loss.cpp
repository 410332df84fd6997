#include "core/ops/internal.h"

namespace heed {

Tensor cross_entropy(const Tensor& /*logits*/, const Tensor& /*target*/,
                     Reduction /*reduction*/, int64_t /*ignore_index*/,
                     double /*label_smoothing*/) {
  HEED_FAIL("cross_entropy is not implemented yet");
}

Tensor nll_loss(const Tensor& /*log_probs*/, const Tensor& /*target*/,
                Reduction /*reduction*/, int64_t /*ignore_index*/) {
  HEED_FAIL("nll_loss is not implemented yet");
}

Tensor mse_loss(const Tensor& /*input*/, const Tensor& /*target*/, Reduction /*reduction*/) {
  HEED_FAIL("mse_loss is not implemented yet");
}

Tensor binary_cross_entropy_with_logits(const Tensor& /*logits*/, const Tensor& /*target*/,
                                        Reduction /*reduction*/,
                                        const Tensor& /*pos_weight*/) {
  HEED_FAIL("binary_cross_entropy_with_logits is not implemented yet");
}

}  // namespace heed

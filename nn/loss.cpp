#include "nn/loss.h"

namespace heed::nn {

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& o) : options(o) {
  HEED_CHECK(o.label_smoothing >= 0 && o.label_smoothing <= 1,
             "CrossEntropyLoss: label_smoothing must be in [0, 1], got ", o.label_smoothing);
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return cross_entropy(input, target, options.reduction, options.ignore_index,
                       options.label_smoothing);
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return nll_loss(input, target, options.reduction, options.ignore_index);
}

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return mse_loss(input, target, options.reduction);
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& o)
    : reduction(o.reduction) {
  if (o.pos_weight.defined()) pos_weight = register_buffer("pos_weight", o.pos_weight);
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return binary_cross_entropy_with_logits(input, target, reduction, pos_weight);
}

}  // namespace heed::nn

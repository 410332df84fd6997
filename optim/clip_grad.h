// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
// Parameters without a gradient are ignored.
#pragma once

#include <vector>

#include "optim/optimizer.h"

namespace heed::optim {

// Scales all gradients in place by min(1, max_norm / (total_norm + 1e-6)),
// where total_norm is the norm_type-norm of all gradients together (norm_type
// > 0, or infinity for the max-abs norm). Returns total_norm (0 without
// gradients). A non-finite total_norm throws when error_if_nonfinite, else
// scales by it as PyTorch does (the gradients become NaN).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
double clip_grad_norm_(const NamedParameters& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value], in place.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);
void clip_grad_value_(const NamedParameters& params, double clip_value);

}  // namespace heed::optim

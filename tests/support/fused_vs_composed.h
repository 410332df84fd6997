// Helpers for tests that check a fused op against the same computation
// composed from simpler ops: twin leaves (one per path), the gradients they
// end up with, and the trailing dims a spatial mean averages over.
#pragma once

#include <utility>
#include <vector>

#include "core/heed_core.h"

namespace heed::testing {

// Two independent leaves holding t in dtype dt, both requiring grad.
inline std::pair<Tensor, Tensor> twin_leaves(const Tensor& t, DType dt) {
  return {t.to(dt).requires_grad_(), t.to(dt).requires_grad_()};
}

// Whether a's gradient matches e's to tol, relative to e's gradient's size.
inline bool grads_close(const Tensor& a, const Tensor& e, double tol) {
  return max(abs(a.grad() - e.grad())).item() <= tol * (1 + max(abs(e.grad())).item());
}

// The dims of x after (B, C): what a spatial mean averages over.
inline std::vector<int64_t> spatial_dims(const Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

}  // namespace heed::testing

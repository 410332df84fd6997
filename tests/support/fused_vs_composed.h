// Helpers for tests that check a fused op against the same computation
// composed from simpler ops: twin leaves (one per path), the gradients they
// end up with, and the trailing dims a spatial mean averages over.
#pragma once

#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/heed_core.h"

namespace heed::testing {

// Two independent leaves holding t in dtype dt, both requiring grad; t itself
// is left as it was. (to() returns t itself when it already has dtype dt, so
// each twin is a detached copy.)
inline std::pair<Tensor, Tensor> twin_leaves(const Tensor& t, DType dt) {
  return {t.detach().to(dt).clone().requires_grad_(), t.detach().to(dt).clone().requires_grad_()};
}

// Whether a's gradient matches e's to tol, relative to e's gradient's size.
inline bool grads_close(const Tensor& a, const Tensor& e, double tol) {
  return max(abs(a.grad() - e.grad())).item() <= tol * (1 + max(abs(e.grad())).item());
}

// A fused op's output `out` against the composed `ref` (float32 to 2e-5,
// float64 to 1e-12); then, after a backward of both with one random output
// gradient, each (fused, composed) twin leaf's gradient (float32 to 2e-4,
// float64 to 1e-10, relative to the gradient's size). Undefined twins skip.
inline void check_fused_matches_composed(const Tensor& out, const Tensor& ref, DType dt,
                                         const std::vector<std::pair<Tensor, Tensor>>& twins) {
  CHECK(max(abs(out - ref)).item() <= (dt == kFloat32 ? 2e-5 : 1e-12));
  Tensor gout = randn(out.shape()).to(dt);
  sum(out * gout).backward();
  sum(ref * gout).backward();
  const double tol = dt == kFloat32 ? 2e-4 : 1e-10;
  for (size_t i = 0; i < twins.size(); ++i) {
    INFO("twin leaf " << i);
    if (twins[i].first.defined()) CHECK(grads_close(twins[i].first, twins[i].second, tol));
  }
}

// The dims of x after (B, C): what a spatial mean averages over.
inline std::vector<int64_t> spatial_dims(const Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

}  // namespace heed::testing

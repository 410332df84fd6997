// Finite-difference gradient checking, the same function heed's tests use and
// users call on their own modules:
//
//   auto report = heed::gradcheck([&](const std::vector<Tensor>& in) {
//     return module->forward(in[0]); }, {x});
//   REQUIRE(report.ok);  // report.message names the worst element otherwise
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace heed {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 0;  // for the random upstream gradient
};

struct GradcheckReport {
  bool ok = true;
  // The worst element over all inputs, by error / (atol + rtol * |numeric|).
  int64_t input = -1;
  int64_t index = -1;  // flat index into that input
  double analytic = 0;
  double numeric = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;  // |a - n| / max(|n|, tiny) at the worst element
  std::string message;       // human-readable summary
};

// Checks d(sum(f(inputs) * g))/d(inputs) for a random g, for every float64
// input that requires grad, by central differences. f may return one tensor.
GradcheckReport gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace heed

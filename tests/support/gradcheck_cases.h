// The gradcheck sweep's case registry. Each op family's test file registers
// cases for its ops with HEED_GRADCHECK_CASE; tests/core/test_gradcheck_sweep.cpp
// runs them all and fails if a differentiable op in core/ops/op_list.def has
// no case.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/heed_core.h"

namespace heed::testing {

struct GradcheckCase {
  std::string op;     // the op_list.def name this case covers
  std::string label;  // what is special about it (broadcast, strided, ...)
  // Builds fresh float64 inputs (those to check have requires_grad set).
  std::function<std::vector<Tensor>()> make_inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  GradcheckOptions options = {};
};

std::vector<GradcheckCase>& gradcheck_cases();

struct GradcheckCaseRegistrar {
  explicit GradcheckCaseRegistrar(GradcheckCase c) { gradcheck_cases().push_back(std::move(c)); }
};

// Random float64 inputs of `shape` in [lo, hi), requiring grad; seeded so
// every run checks the same points.
Tensor gc_input(const Shape& shape, double lo = -1.0, double hi = 1.0, uint64_t seed = 1);
// Values kept at least `margin` away from every point in `kinks` (for relu,
// abs, clamp, max...), where finite differences are not valid.
Tensor gc_input_away_from(const Shape& shape, std::vector<double> kinks, double margin = 0.05,
                          double lo = -2.0, double hi = 2.0, uint64_t seed = 1);
// A non-contiguous float64 leaf with the given logical shape (a transposed copy).
Tensor gc_strided_input(const Shape& shape, double lo = -1.0, double hi = 1.0,
                        uint64_t seed = 1);

}  // namespace heed::testing

#define HEED_GC_CONCAT2(a, b) a##b
#define HEED_GC_CONCAT(a, b) HEED_GC_CONCAT2(a, b)
// HEED_GRADCHECK_CASE({"relu", "away from 0", inputs_fn, fn});
#define HEED_GRADCHECK_CASE(...)                                                      \
  static ::heed::testing::GradcheckCaseRegistrar HEED_GC_CONCAT(heed_gc_case_, __LINE__)( \
      ::heed::testing::GradcheckCase __VA_ARGS__)

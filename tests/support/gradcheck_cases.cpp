#include "support/gradcheck_cases.h"

#include <cmath>

namespace heed::testing {

std::vector<GradcheckCase>& gradcheck_cases() {
  static std::vector<GradcheckCase> cases;
  return cases;
}

Tensor gc_input(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  Tensor t = rand(shape, kFloat64, &gen);
  {
    NoGradGuard g;
    t = t * (hi - lo) + lo;
  }
  return t.requires_grad_();
}

Tensor gc_input_away_from(const Shape& shape, std::vector<double> kinks, double margin,
                          double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> v(size_t(numel_of(shape)));
  for (double& x : v) {
    for (;;) {
      x = lo + (hi - lo) * gen.next_double();
      bool ok = true;
      for (double k : kinks)
        if (std::abs(x - k) < margin) ok = false;
      if (ok) break;
    }
  }
  return from_vector(v, shape).requires_grad_();
}

Tensor gc_strided_input(const Shape& shape, double lo, double hi, uint64_t seed) {
  HEED_CHECK(shape.size() >= 2, "gc_strided_input: needs at least 2 dims");
  Shape swapped = shape;
  std::swap(swapped[0], swapped[1]);
  Tensor base = gc_input(swapped, lo, hi, seed).detach();
  Tensor t = base.transpose(0, 1);  // a non-contiguous leaf view
  return t.requires_grad_();
}

}  // namespace heed::testing

#include "nn/activation.h"

#include <cmath>

namespace heed::nn {

namespace {
// PyTorch prints Softplus's defaults as the ints they are in Python.
std::string py_number(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return std::to_string(int64_t(v));
  return detail::py_float(v);
}
}  // namespace

ModuleCost ActivationImplBase::cost(const std::vector<Shape>&,
                                    const std::vector<Shape>& out) const {
  return {0, out.empty() ? 0 : numel_of(out[0])};
}

GELUImpl::GELUImpl(std::string approximate_) : approximate(std::move(approximate_)) {
  HEED_CHECK(approximate == "none" || approximate == "tanh",
             "GELU: approximate must be \"none\" or \"tanh\", got \"", approximate, "\"");
}

std::string LeakyReLUImpl::extra_repr() const {
  return "negative_slope=" + detail::py_float(negative_slope);
}

std::string SoftplusImpl::extra_repr() const {
  return "beta=" + py_number(beta) + ", threshold=" + py_number(threshold);
}

}  // namespace heed::nn

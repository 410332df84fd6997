#include "nn/dropout.h"

namespace heed::nn {

DropoutImpl::DropoutImpl(double p_) : p(p_) {
  HEED_CHECK(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got ", p);
}

std::string DropoutImpl::extra_repr() const {
  return "p=" + detail::py_float(p) + ", inplace=False";
}

std::string FlattenImpl::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

}  // namespace heed::nn

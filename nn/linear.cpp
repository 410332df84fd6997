#include "nn/linear.h"

#include <cmath>

#include "nn/init.h"

namespace heed::nn {

LinearImpl::LinearImpl(int64_t in, int64_t out, const LinearOptions& options)
    : in_features(in), out_features(out) {
  HEED_CHECK(in >= 0 && out >= 0, "Linear: in_features and out_features must be >= 0, got ", in,
             " and ", out);
  weight = register_parameter("weight", empty({out, in}));
  if (options.bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void LinearImpl::reset_parameters(Generator* gen) {
  if (in_features > 0)
    init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (bias.defined()) {
    double bound = in_features > 0 ? 1.0 / std::sqrt(double(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor LinearImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "Linear: input of shape ",
             shape_str(x.shape()), " has last dim ", x.dim() ? x.size(-1) : 0, ", expected ",
             in_features, " (in_features)");
  return linear(x, weight, bias);
}

std::string LinearImpl::extra_repr() const {
  return "in_features=" + std::to_string(in_features) +
         ", out_features=" + std::to_string(out_features) +
         ", bias=" + detail::py_bool(bias.defined());
}

ModuleCost LinearImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  // One MAC per output element per input feature.
  return {out.empty() ? 0 : numel_of(out[0]) * in_features, 0};
}

}  // namespace heed::nn

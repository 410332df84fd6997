#include "attention/simam.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

SimAMImpl::SimAMImpl(int64_t channels, const SimAMOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels >= 0, "SimAM: channels must be >= 0, got ", channels);
  HEED_CHECK(options.e_lambda > 0, "SimAM: e_lambda must be > 0, got ", options.e_lambda);
}

Tensor SimAMImpl::forward(const Tensor& x) {
  check_feature_map("SimAM", x, channels);
  const int64_t n = x.size(2) * x.size(3) - 1;
  HEED_CHECK(n > 0, "SimAM: needs more than one pixel per channel (the variance divides by ",
             "H·W − 1), got input ", shape_str(x.shape()));
  Tensor d = (x - x.mean({2, 3}, true)).pow(2.0);                   // (B, C, H, W)
  Tensor var = d.sum({2, 3}, true) / double(n) + options.e_lambda;  // (B, C, 1, 1)
  Tensor w = sigmoid(d / (var * 4.0) + 0.5);                        // (B, C, H, W)
  keep_map("weights", w);
  return x * w;
}

std::string SimAMImpl::extra_repr() const {
  return "lambda=" + nn::detail::py_float(options.e_lambda);
}

nn::ModuleCost SimAMImpl::cost(const std::vector<Shape>& in, const std::vector<Shape>&) const {
  // No MACs. About 10 element-wise FLOPs per element: mean, subtract,
  // square, sum, divide, add, sigmoid (~4), multiply.
  return {0, in.empty() ? 0 : 10 * numel_of(in[0])};
}

}  // namespace heed::attention

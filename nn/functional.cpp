#include "nn/functional.h"

namespace heed::nn::functional {

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  HEED_CHECK(x.dim() >= 2, "group_norm: expected an input of shape (B, C, *), got ",
             shape_str(x.shape()));
  HEED_CHECK(num_groups > 0, "group_norm: num_groups must be positive, got ", num_groups);
  const int64_t b = x.size(0), c = x.size(1);
  HEED_CHECK(c % num_groups == 0, "group_norm: ", c, " channels (input ", shape_str(x.shape()),
             ") are not divisible by num_groups=", num_groups);
  if (weight.defined())
    HEED_CHECK(weight.shape() == Shape{c}, "group_norm: weight has shape ",
               shape_str(weight.shape()), ", expected [", c, "]");
  if (bias.defined())
    HEED_CHECK(bias.shape() == Shape{c}, "group_norm: bias has shape ", shape_str(bias.shape()),
               ", expected [", c, "]");
  Tensor g = x.reshape({b, num_groups, -1});  // (B, G, C/G · spatial)
  Tensor mu = mean(g, {2}, true);
  Tensor v = var(g, {2}, /*unbiased=*/false, true);
  Tensor y = ((g - mu) * rsqrt(v + eps)).reshape(x.shape());
  // weight and bias broadcast as (C, 1, ..., 1) over (B, C, *).
  Shape wshape(size_t(x.dim() - 1), 1);
  wshape[0] = c;
  if (weight.defined()) y = y * weight.reshape(wshape);
  if (bias.defined()) y = y + bias.reshape(wshape);
  return y;
}

}  // namespace heed::nn::functional

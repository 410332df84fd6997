#include "nn/normalization.h"

#include "nn/functional.h"

namespace heed::nn {

// ---------------------------------------------------------------- LayerNorm

LayerNormImpl::LayerNormImpl(Shape shape, const LayerNormOptions& o)
    : normalized_shape(std::move(shape)), options(o) {
  HEED_CHECK(!normalized_shape.empty(), "LayerNorm: normalized_shape is empty");
  for (int64_t d : normalized_shape)
    HEED_CHECK(d > 0, "LayerNorm: normalized_shape ", shape_str(normalized_shape),
               " must have positive sizes");
  if (o.elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine) return;
  NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.zero_();
}

Tensor LayerNormImpl::forward(const Tensor& x) {
  return layer_norm(x, normalized_shape, weight, bias, options.eps);
}

std::string LayerNormImpl::extra_repr() const {
  return detail::py_tuple(normalized_shape) + ", eps=" + detail::py_float(options.eps) +
         ", elementwise_affine=" + detail::py_bool(options.elementwise_affine);
}

ModuleCost LayerNormImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  // Statistics (2 passes), normalise, scale and shift: about 5 per element.
  return {0, out.empty() ? 0 : 5 * numel_of(out[0])};
}

// ---------------------------------------------------------------- GroupNorm

GroupNormImpl::GroupNormImpl(int64_t groups, int64_t channels, const GroupNormOptions& o)
    : num_groups(groups), num_channels(channels), options(o) {
  HEED_CHECK(groups > 0 && channels > 0,
             "GroupNorm: num_groups and num_channels must be "
             "positive, got ",
             groups, " and ", channels);
  HEED_CHECK(channels % groups == 0, "GroupNorm: num_channels (", channels,
             ") must be divisible by num_groups (", groups, ")");
  if (o.affine) {
    weight = register_parameter("weight", ones({channels}));
    bias = register_parameter("bias", zeros({channels}));
  }
}

void GroupNormImpl::reset_parameters() {
  if (!options.affine) return;
  NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.zero_();
}

Tensor GroupNormImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() >= 2 && x.size(1) == num_channels, "GroupNorm: input of shape ",
             shape_str(x.shape()), " does not have ", num_channels, " channels in dim 1");
  return functional::group_norm(x, num_groups, weight, bias, options.eps);
}

std::string GroupNormImpl::extra_repr() const {
  return std::to_string(num_groups) + ", " + std::to_string(num_channels) +
         ", eps=" + detail::py_float(options.eps) + ", affine=" + detail::py_bool(options.affine);
}

ModuleCost GroupNormImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  return {0, out.empty() ? 0 : 5 * numel_of(out[0])};
}

}  // namespace heed::nn

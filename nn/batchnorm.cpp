#include "nn/batchnorm.h"

namespace heed::nn {

BatchNormImplBase::BatchNormImplBase(int64_t c, const BatchNormOptions& o)
    : num_features(c), options(o) {
  HEED_CHECK(c > 0, "BatchNorm: num_features must be positive, got ", c);
  HEED_CHECK(o.eps >= 0, "BatchNorm: eps must be >= 0, got ", o.eps);
  if (o.affine) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  if (o.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (!options.affine) return;
  NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.zero_();
}

Tensor BatchNormImplBase::forward(const Tensor& x) {
  return forward(x, Tensor());
}

void BatchNormImplBase::check_input(const Tensor& x) const {
  check_input_dim(x);
  HEED_CHECK(x.size(1) == num_features, type_name(), ": input of shape ", shape_str(x.shape()),
             " has ", x.size(1), " channels, expected ", num_features, " (num_features)");
}

double BatchNormImplBase::track_batch() {
  if (!is_training() || !options.track_running_stats) return 0.0;
  NoGradGuard no_grad;
  num_batches_tracked.add_(ones({}, kInt64));
  return options.momentum ? *options.momentum : 1.0 / num_batches_tracked.item();
}

Tensor BatchNormImplBase::forward(const Tensor& x, const Tensor& residual) {
  check_input(x);
  const double factor = track_batch();
  // Batch statistics in training, and in eval when no running stats are kept.
  const bool use_batch_stats = uses_batch_stats();
  if (residual.defined() && options.fuse_relu)
    return batch_norm_add_relu(x, residual, running_mean, running_var, weight, bias,
                               use_batch_stats, factor, options.eps);
  auto op = options.fuse_relu ? batch_norm_relu : batch_norm;
  Tensor y = op(x, running_mean, running_var, weight, bias, use_batch_stats, factor, options.eps);
  return residual.defined() ? y + residual : y;
}

double BatchNormImplBase::begin_gated_join(const Tensor& x, const char* method) {
  HEED_CHECK(!options.fuse_relu, type_name(), ": ", method,
             " needs fuse_relu=false (the gates act on batch norm's output before the ReLU)");
  check_input(x);
  return track_batch();
}

Tensor BatchNormImplBase::forward_gate_add_relu(const Tensor& x, const ChannelGateFn& gate,
                                                const Tensor& residual) {
  const double factor = begin_gated_join(x, "forward_gate_add_relu");
  return batch_norm_gate_add_relu(x, gate, residual, running_mean, running_var, weight, bias,
                                  uses_batch_stats(), factor, options.eps);
}

Tensor BatchNormImplBase::forward_cbam_add_relu(const Tensor& x, const CbamGateFns& gates,
                                                const Tensor& residual) {
  const double factor = begin_gated_join(x, "forward_cbam_add_relu");
  return batch_norm_cbam_add_relu(x, gates, residual, running_mean, running_var, weight, bias,
                                  uses_batch_stats(), factor, options.eps);
}

std::string BatchNormImplBase::extra_repr() const {
  return std::to_string(num_features) + ", eps=" + detail::py_float(options.eps) +
         ", momentum=" + (options.momentum ? detail::py_float(*options.momentum) : "None") +
         ", affine=" + detail::py_bool(options.affine) +
         ", track_running_stats=" + detail::py_bool(options.track_running_stats) +
         (options.fuse_relu ? ", fuse_relu=True" : "");
}

ModuleCost BatchNormImplBase::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  // Normalise and scale: one multiply-add per element.
  return {0, out.empty() ? 0 : 2 * numel_of(out[0])};
}

void BatchNorm1dImpl::check_input_dim(const Tensor& x) const {
  HEED_CHECK(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected 2D or 3D input (got ", x.dim(),
             "D input of shape ", shape_str(x.shape()), ")");
}

void BatchNorm2dImpl::check_input_dim(const Tensor& x) const {
  HEED_CHECK(x.dim() == 4, "BatchNorm2d: expected 4D input (got ", x.dim(), "D input of shape ",
             shape_str(x.shape()), ")");
}

}  // namespace heed::nn

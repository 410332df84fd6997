#include "nn/conv_bn_fold.h"

namespace heed::nn {

bool conv_bn_foldable(const Conv2dImpl& conv, const BatchNormImplBase& bn) {
  return !bn.is_training() && bn.options.track_running_stats && bn.running_mean.defined() &&
         bn.running_var.defined() && bn.num_features == conv.out_channels &&
         !conv.has_forward_hooks() && !bn.has_forward_hooks() &&
         detail::forward_observer() == nullptr;
}

Tensor conv_bn_folded(const Conv2dImpl& conv, const BatchNormImplBase& bn, const Tensor& x,
                      const Tensor& residual) {
  HEED_CHECK(conv_bn_foldable(conv, bn),
             "conv_bn_folded: this conv and batch norm cannot be folded now (see "
             "conv_bn_foldable)");
  const int64_t O = conv.out_channels;
  // s = gamma / √(var + eps), per output channel.
  Tensor s = rsqrt(bn.running_var + bn.options.eps);
  if (bn.weight.defined()) s = s * bn.weight;
  Tensor w = conv.weight * s.reshape({O, 1, 1, 1});
  Tensor shift = conv.bias.defined() ? conv.bias - bn.running_mean : -bn.running_mean;
  Tensor b = shift * s;
  if (bn.bias.defined()) b = b + bn.bias;
  const auto& o = conv.options;
  const auto stride = o.stride.pair(), padding = o.padding.pair(), dilation = o.dilation.pair();
  if (bn.options.fuse_relu)
    return residual.defined()
               ? conv2d_add_relu(x, w, b, residual, stride, padding, dilation, o.groups)
               : conv2d_relu(x, w, b, stride, padding, dilation, o.groups);
  Tensor y = conv2d(x, w, b, stride, padding, dilation, o.groups);
  return residual.defined() ? y + residual : y;
}

Tensor conv_bn(Conv2d& conv, BatchNorm2d& bn, const Tensor& x, const Tensor& residual) {
  if (conv_bn_foldable(*conv, *bn)) return conv_bn_folded(*conv, *bn, x, residual);
  return residual.defined() ? bn(conv(x), residual) : bn(conv(x));
}

namespace {

// Whether bn can run as the first part of a fused gate op: not folded into
// conv, no ReLU of its own, no hooks, not under summary()'s observer.
bool plain_bn(Conv2d& conv, BatchNorm2d& bn) {
  return !conv_bn_foldable(*conv, *bn) && !bn->options.fuse_relu && !bn->has_forward_hooks() &&
         detail::forward_observer() == nullptr;
}

}  // namespace

Tensor conv_bn_cbam_add_relu(Conv2d& conv, BatchNorm2d& bn, const Tensor& x,
                             const CbamGateFns& gates, const Tensor& residual) {
  if (plain_bn(conv, bn)) return bn->forward_cbam_add_relu(conv(x), gates, residual);
  return cbam_gates_add_relu(conv_bn(conv, bn, x), gates, residual);
}

Tensor conv_bn_gate_add_relu(Conv2d& conv, BatchNorm2d& bn, const Tensor& x,
                             const ChannelGateFn& gate, const Tensor& residual) {
  if (plain_bn(conv, bn)) return bn->forward_gate_add_relu(conv(x), gate, residual);
  Tensor y = conv_bn(conv, bn, x);
  return gate_add_relu(y, gate(mean(y, {2, 3})).reshape({y.size(0), y.size(1), 1, 1}), residual);
}

}  // namespace heed::nn

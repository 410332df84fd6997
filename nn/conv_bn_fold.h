// Eval-mode folding of a Conv2d and the BatchNorm2d after it into one
// convolution: with running statistics the batch norm is a per-channel
// affine map, so
//   bn(conv(x)) = conv(x, w · s, (b - running_mean) · s + beta),
//   s = gamma / √(running_var + eps),
// and a fused ReLU (BatchNormOptions::fuse_relu), with the residual of a
// ResNet block's join, runs on each chunk of the convolution's output while
// it is in cache (conv2d_relu / conv2d_add_relu). The folded weights are
// built from the current parameters at each call with differentiable ops,
// so gradients in eval mode still reach conv and bn.
//
//   Tensor y = nn::conv_bn(conv, bn, x, shortcut);  // folded when it can be
#pragma once

#include "nn/batchnorm.h"
#include "nn/conv.h"

namespace heed::nn {

// Whether conv then bn can run folded now: bn in eval mode with running
// statistics and as many channels as conv has outputs, and no forward hooks
// on either and no observer (summary(), attention-map recording), which
// must see the two modules run.
bool conv_bn_foldable(const Conv2dImpl& conv, const BatchNormImplBase& bn);

// bn(conv(x), residual) as one convolution: relu(bn(conv(x)) + residual)
// with bn's fuse_relu, else bn(conv(x)) + residual; residual may be
// undefined. Call only when conv_bn_foldable(conv, bn).
Tensor conv_bn_folded(const Conv2dImpl& conv, const BatchNormImplBase& bn, const Tensor& x,
                      const Tensor& residual = Tensor());

// bn(conv(x), residual) (bn(conv(x)) when residual is undefined): folded
// when conv_bn_foldable, else through the two modules (with their hooks).
Tensor conv_bn(Conv2d& conv, BatchNorm2d& bn, const Tensor& x, const Tensor& residual = Tensor());

// relu(y · gate(mean(y, {2, 3})) + residual) for y = bn(conv(x)): the end of
// a ResNet block whose branch ends in a channel gate (SE, ECA); gate returns
// (B, C, 1, 1). Unfolded, without hooks and outside summary() batch norm,
// gate and join run as one op (batch_norm_gate_add_relu); otherwise y is
// formed, pooled and gated (gate_add_relu).
Tensor conv_bn_gate_add_relu(Conv2d& conv, BatchNorm2d& bn, const Tensor& x,
                             const ChannelGateFn& gate, const Tensor& residual);

// The same with CBAM's two gates: relu(y · gc · gs + residual) through
// batch_norm_cbam_add_relu, or composed when folded, hooked or observed.
Tensor conv_bn_cbam_add_relu(Conv2d& conv, BatchNorm2d& bn, const Tensor& x,
                             const CbamGateFns& gates, const Tensor& residual);

}  // namespace heed::nn

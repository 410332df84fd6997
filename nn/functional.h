// heed::nn::functional: the ops under PyTorch's torch.nn.functional names.
// Thin forwards to core/ops (same arguments), plus group_norm, composed here.
//
//   namespace F = heed::nn::functional;
//   Tensor y = F::relu(F::conv2d(x, w, b, {1, 1}, {1, 1}));
//   Tensor loss = F::cross_entropy(logits, labels, Reduction::Mean, -100, 0.1);
#pragma once

#include "core/heed_core.h"

namespace heed::nn::functional {

// activations
using ::heed::add_relu;
using ::heed::gate_add_relu;
using ::heed::gelu;
using ::heed::hardsigmoid;
using ::heed::hardswish;
using ::heed::leaky_relu;
using ::heed::log_softmax;
using ::heed::relu;
using ::heed::relu6;
using ::heed::sigmoid;
using ::heed::silu;
using ::heed::softmax;
using ::heed::softplus;
using ::heed::tanh;

// layers
using ::heed::conv1d;
using ::heed::conv2d;
using ::heed::conv2d_add_relu;
using ::heed::conv2d_relu;
using ::heed::embedding;
using ::heed::linear;
using ::heed::pad;

// pooling
using ::heed::adaptive_avg_pool2d;
using ::heed::adaptive_max_pool2d;
using ::heed::avg_pool2d;
using ::heed::max_pool2d;
using ::heed::Pool2dOptions;

// normalisation and dropout
using ::heed::batch_norm;
using ::heed::batch_norm_add_relu;
using ::heed::batch_norm_cbam_add_relu;
using ::heed::batch_norm_gate_add_relu;
using ::heed::batch_norm_relu;
using ::heed::batch_norm_with_spatial_mean;
using ::heed::cbam_gates_add_relu;
using ::heed::dropout;
using ::heed::layer_norm;

// x (B, C, *): normalises over each of num_groups groups of C/num_groups
// channels (and all spatial positions) with the biased variance, then scales
// per channel by weight (C) and shifts by bias (C) when they are defined.
// Composed from reshape, mean and var, so its gradient comes from theirs.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// losses
using ::heed::binary_cross_entropy_with_logits;
using ::heed::cross_entropy;
using ::heed::mse_loss;
using ::heed::nll_loss;
using ::heed::Reduction;

}  // namespace heed::nn::functional

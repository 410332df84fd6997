// BatchNorm1d and BatchNorm2d (PyTorch's torch/nn/modules/batchnorm.py).
#pragma once

#include <optional>

#include "nn/module.h"

namespace heed::nn {

// Arguments after num_features, in PyTorch's order. momentum = nullopt uses
// the cumulative average (factor 1 / num_batches_tracked), like momentum=None.
struct BatchNormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
  // heed's own: forward returns relu(batch_norm(x)) from one fused op (as
  // Apex's BatchNorm2d_NHWC(fuse_relu=True)); state_dict keys are unchanged.
  bool fuse_relu = false;
};

// Training: normalises with the batch statistics (biased variance) and
// updates running_mean/running_var (unbiased variance) with momentum, and
// num_batches_tracked by one. Eval: uses the running statistics, unless
// track_running_stats is false. State: weight, bias (affine), running_mean,
// running_var, num_batches_tracked (int64 scalar), as PyTorch.
class BatchNormImplBase : public Module {
 public:
  using Options = BatchNormOptions;
  BatchNormImplBase(int64_t num_features, const BatchNormOptions& options);
  Tensor forward(const Tensor& x);
  // bn(x) + residual, or with fuse_relu relu(bn(x) + residual) from one
  // fused op: the end of a ResNet basic block (cuDNN's BN-add-activation).
  Tensor forward(const Tensor& x, const Tensor& residual);
  // relu(bn(x) · gate(m) + residual), m the mean of bn(x) over the trailing
  // dims (B, C), from one op (batch_norm_gate_add_relu): the end of a ResNet
  // block with a channel gate (SE, ECA) on its branch. Not with fuse_relu
  // (the gate comes before the ReLU). Runs no hooks (nn::conv_bn_gate_add_relu
  // calls it only when there are none).
  Tensor forward_gate_add_relu(const Tensor& x, const ChannelGateFn& gate, const Tensor& residual);
  // relu(bn(x) · gc · gs + residual) with CBAM's gates, from one op
  // (batch_norm_cbam_add_relu); the same conditions.
  Tensor forward_cbam_add_relu(const Tensor& x, const CbamGateFns& gates, const Tensor& residual);
  void reset_running_stats();
  void reset_parameters();
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t num_features;
  BatchNormOptions options;
  Tensor weight, bias;               // (C), when affine
  Tensor running_mean, running_var;  // (C), when tracking
  Tensor num_batches_tracked;        // int64 scalar, when tracking

 protected:
  virtual void check_input_dim(const Tensor& x) const = 0;

 private:
  // Counts the batch when training with running stats; returns the running
  // stats' momentum factor (0 when unused).
  double track_batch();
  // Whether this call normalises with the batch's statistics.
  bool uses_batch_stats() const { return is_training() || !options.track_running_stats; }
  void check_input(const Tensor& x) const;
  // The checks and running-stat count of the fused gated joins; returns
  // track_batch()'s momentum factor.
  double begin_gated_join(const Tensor& x, const char* method);
};

// Input (B, C) or (B, C, L).
class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm1dImpl(int64_t num_features, const BatchNormOptions& options = {})
      : BatchNormImplBase(num_features, options) {}

 protected:
  void check_input_dim(const Tensor& x) const override;
};
HEED_MODULE(BatchNorm1d);

// Input (B, C, H, W).
class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm2dImpl(int64_t num_features, const BatchNormOptions& options = {})
      : BatchNormImplBase(num_features, options) {}

 protected:
  void check_input_dim(const Tensor& x) const override;
};
HEED_MODULE(BatchNorm2d);

}  // namespace heed::nn

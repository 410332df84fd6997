// LayerNorm and GroupNorm (PyTorch's torch/nn/modules/normalization.py).
#pragma once

#include "nn/module.h"

namespace heed::nn {

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;
};

// Normalises over the trailing dims equal to normalized_shape (biased
// variance); weight ones and bias zeros of normalized_shape.
class LayerNormImpl : public Module {
 public:
  using Options = LayerNormOptions;
  LayerNormImpl(Shape normalized_shape, const LayerNormOptions& options = {});
  LayerNormImpl(int64_t normalized_size, const LayerNormOptions& options = {})
      : LayerNormImpl(Shape{normalized_size}, options) {}
  Tensor forward(const Tensor& x);
  void reset_parameters();
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  Shape normalized_shape;
  LayerNormOptions options;
  Tensor weight, bias;  // normalized_shape, when elementwise_affine
};
HEED_MODULE(LayerNorm);

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;
};

// Input (B, C, *): normalises each group of C/num_groups channels.
// weight ones and bias zeros of (C).
class GroupNormImpl : public Module {
 public:
  using Options = GroupNormOptions;
  GroupNormImpl(int64_t num_groups, int64_t num_channels, const GroupNormOptions& options = {});
  Tensor forward(const Tensor& x);
  void reset_parameters();
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t num_groups, num_channels;
  GroupNormOptions options;
  Tensor weight, bias;  // (C), when affine
};
HEED_MODULE(GroupNorm);

}  // namespace heed::nn

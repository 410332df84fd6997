// Conv1d and Conv2d (PyTorch's torch/nn/modules/conv.py), zero padding.
#pragma once

#include "nn/module.h"

namespace heed::nn {

// Arguments after kernel_size, in PyTorch's order.
struct Conv1dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

// input (B, C_in, L) -> (B, C_out, L_out). weight (C_out, C_in/groups, k).
// Init as PyTorch: kaiming_uniform_(a=√5), bias U(±1/√fan_in).
class Conv1dImpl : public Module {
 public:
  using Options = Conv1dOptions;
  Conv1dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
             const Conv1dOptions& options = {});
  Tensor forward(const Tensor& x);
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_channels, out_channels, kernel_size;
  Conv1dOptions options;
  Tensor weight;  // (C_out, C_in/groups, k)
  Tensor bias;    // (C_out) or undefined
};
HEED_MODULE(Conv1d);

// input (B, C_in, H, W) -> (B, C_out, H_out, W_out). weight (C_out, C_in/groups, kh, kw).
class Conv2dImpl : public Module {
 public:
  using Options = Conv2dOptions;
  Conv2dImpl(int64_t in_channels, int64_t out_channels, Size2 kernel_size,
             const Conv2dOptions& options = {});
  Tensor forward(const Tensor& x);
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_channels, out_channels;
  Size2 kernel_size;
  Conv2dOptions options;
  Tensor weight;  // (C_out, C_in/groups, kh, kw)
  Tensor bias;    // (C_out) or undefined
};
HEED_MODULE(Conv2d);

}  // namespace heed::nn

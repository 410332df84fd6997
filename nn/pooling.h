// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d (PyTorch's pooling.py).
#pragma once

#include <optional>

#include "nn/module.h"

namespace heed::nn {

// Arguments after kernel_size, in PyTorch's order; stride defaults to kernel_size.
struct MaxPool2dOptions {
  std::optional<Size2> stride = std::nullopt;
  Size2 padding = 0;
  Size2 dilation = 1;
  bool ceil_mode = false;
};

class MaxPool2dImpl : public Module {
 public:
  using Options = MaxPool2dOptions;
  explicit MaxPool2dImpl(Size2 kernel_size, const MaxPool2dOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  Size2 kernel_size, stride;
  MaxPool2dOptions options;
};
HEED_MODULE(MaxPool2d);

struct AvgPool2dOptions {
  std::optional<Size2> stride = std::nullopt;
  Size2 padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

class AvgPool2dImpl : public Module {
 public:
  using Options = AvgPool2dOptions;
  explicit AvgPool2dImpl(Size2 kernel_size, const AvgPool2dOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  Size2 kernel_size, stride;
  AvgPool2dOptions options;
};
HEED_MODULE(AvgPool2d);

// (B, C, H, W) -> (B, C, out_h, out_w) for any output size.
class AdaptiveAvgPool2dImpl : public Module {
 public:
  explicit AdaptiveAvgPool2dImpl(Size2 output_size);
  Tensor forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size.pair()); }
  std::string extra_repr() const override { return "output_size=" + output_size.str(); }
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  Size2 output_size;
};
HEED_MODULE(AdaptiveAvgPool2d);

class AdaptiveMaxPool2dImpl : public Module {
 public:
  explicit AdaptiveMaxPool2dImpl(Size2 output_size);
  Tensor forward(const Tensor& x) { return adaptive_max_pool2d(x, output_size.pair()); }
  std::string extra_repr() const override { return "output_size=" + output_size.str(); }
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  Size2 output_size;
};
HEED_MODULE(AdaptiveMaxPool2d);

}  // namespace heed::nn

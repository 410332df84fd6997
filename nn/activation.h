// Activation modules (PyTorch's torch/nn/modules/activation.py): each calls
// its core op. Cost: one element-wise FLOP per output element.
#pragma once

#include <string>

#include "nn/module.h"

namespace heed::nn {

// The shared part: cost and the element-wise forward of `Op`.
class ActivationImplBase : public Module {
 public:
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
};

#define HEED_SIMPLE_ACTIVATION(Name, op)              \
  class Name##Impl : public ActivationImplBase {      \
   public:                                            \
    Name##Impl() = default;                           \
    Tensor forward(const Tensor& x) { return op(x); } \
  };                                                  \
  HEED_MODULE(Name)

HEED_SIMPLE_ACTIVATION(ReLU, ::heed::relu);
HEED_SIMPLE_ACTIVATION(ReLU6, ::heed::relu6);
HEED_SIMPLE_ACTIVATION(SiLU, ::heed::silu);
HEED_SIMPLE_ACTIVATION(Sigmoid, ::heed::sigmoid);
HEED_SIMPLE_ACTIVATION(Tanh, ::heed::tanh);
HEED_SIMPLE_ACTIVATION(Hardswish, ::heed::hardswish);
HEED_SIMPLE_ACTIVATION(Hardsigmoid, ::heed::hardsigmoid);
#undef HEED_SIMPLE_ACTIVATION

// approximate: "none" (exact, with erf) or "tanh".
class GELUImpl : public ActivationImplBase {
 public:
  explicit GELUImpl(std::string approximate = "none");
  Tensor forward(const Tensor& x) { return gelu(x, approximate); }
  std::string extra_repr() const override { return "approximate='" + approximate + "'"; }
  std::string approximate;
};
HEED_MODULE(GELU);

class LeakyReLUImpl : public ActivationImplBase {
 public:
  explicit LeakyReLUImpl(double negative_slope = 0.01) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
  std::string extra_repr() const override;
  double negative_slope;
};
HEED_MODULE(LeakyReLU);

// log(1 + exp(beta·x)) / beta, linear above threshold.
class SoftplusImpl : public ActivationImplBase {
 public:
  explicit SoftplusImpl(double beta = 1.0, double threshold = 20.0)
      : beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& x) { return softplus(x, beta, threshold); }
  std::string extra_repr() const override;
  double beta, threshold;
};
HEED_MODULE(Softplus);

}  // namespace heed::nn

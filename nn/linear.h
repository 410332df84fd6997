// Linear and Identity (PyTorch's torch/nn/modules/linear.py).
#pragma once

#include "nn/module.h"

namespace heed::nn {

struct LinearOptions {
  bool bias = true;
};

// y = x·Wᵀ + b over the last dim. weight (out, in), bias (out).
// Init as PyTorch: kaiming_uniform_(a=√5) = U(±1/√in), bias U(±1/√in).
class LinearImpl : public Module {
 public:
  using Options = LinearOptions;
  LinearImpl(int64_t in_features, int64_t out_features, const LinearOptions& options = {});
  Tensor forward(const Tensor& x);
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_features, out_features;
  Tensor weight;  // (out, in)
  Tensor bias;    // (out), undefined without bias
};
HEED_MODULE(Linear);

// Returns its input.
class IdentityImpl : public Module {
 public:
  IdentityImpl() = default;
  Tensor forward(const Tensor& x) { return x; }
};
HEED_MODULE(Identity);

}  // namespace heed::nn

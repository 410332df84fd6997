// SimAM: a parameter-free attention from an energy function (Yang et al.,
// ICML 2021; attention_spec.md §12.1, EA `SimAM(channels=None, e_lambda=1e-4)`).
//
// Per channel, with μ the mean over H×W and n = H·W − 1:
//   d = (x − μ)²,  E⁻¹ = d / (4(Σd / n + λ)) + 0.5,  y = x · σ(E⁻¹)
//
// Params 0; MACs 0 (about 10 element-wise FLOPs per element).
#pragma once

#include "attention/attention_module.h"

namespace heed::attention {

struct SimAMOptions {
  double e_lambda = 1e-4;  // λ, keeps the energy finite on constant channels
};

// No parameters. Map kept: "weights" σ(E⁻¹) (B, C, H, W).
class SimAMImpl : public AttentionModuleImpl {
 public:
  using Options = SimAMOptions;
  // `channels` is accepted for a uniform signature (the module does not use it).
  explicit SimAMImpl(int64_t channels = 0, const SimAMOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  SimAMOptions options;
};
HEED_MODULE(SimAM);

}  // namespace heed::attention

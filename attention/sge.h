// SGE: Spatial Group-wise Enhance (Li et al., 2019, arXiv 1905.09646;
// attention_spec.md §12.11, EA `SpatialGroupEnhance(groups)`).
//
// x is viewed as B·G groups of C/G channels. Per group, with g = GAP(x):
//   t = Σ_c x·g                       (B·G, 1, H, W), the similarity to the group's mean
//   t = (t − mean_HW t) / (std_HW t + 1e-5)    std unbiased (torch.std)
//   y = x · σ(weight_g·t + bias_g)
// Init: weight 0; bias 1 as the authors' code (implus/PytorchInsight), so the
// gate starts at σ(1) for every pixel; EA initialises the bias to 0.
//
// State: weight, bias (1, G, 1, 1).
// Params 2G; MACs 0.
#pragma once

#include "attention/attention_module.h"

namespace heed::attention {

struct SpatialGroupEnhanceOptions {
  int64_t groups = 8;  // C must be divisible by groups
};

// Map kept: "spatial" gate (B, G, H, W).
class SpatialGroupEnhanceImpl : public AttentionModuleImpl {
 public:
  using Options = SpatialGroupEnhanceOptions;
  // `channels` only checks the input (EA's signature has groups only).
  explicit SpatialGroupEnhanceImpl(int64_t channels,
                                   const SpatialGroupEnhanceOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  SpatialGroupEnhanceOptions options;
  Tensor weight, bias;  // (1, G, 1, 1)
};
HEED_MODULE(SpatialGroupEnhance);

}  // namespace heed::attention

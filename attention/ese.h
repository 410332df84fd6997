// Effective SE (ESE, Lee & Park, CenterMask, CVPR 2020; attention_spec.md
// §12.16, timm `EffectiveSEModule(channels, add_maxpool=False)`): SE with a
// single 1×1 conv C→C (with bias) and a hard sigmoid gate.
//
//   y = x · hard_sigmoid(fc(GAP(x)))     (½ GAP + ½ GMP with add_maxpool)
//
// State: fc.weight (C, C, 1, 1), fc.bias (C).
// Params C² + C; MACs B·C².
#pragma once

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

struct EffectiveSEOptions {
  bool add_maxpool = false;  // average the global average and max pools
};

// Map kept: "channel" gate (B, C, 1, 1).
class EffectiveSEImpl : public AttentionModuleImpl {
 public:
  using Options = EffectiveSEOptions;
  explicit EffectiveSEImpl(int64_t channels, const EffectiveSEOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  EffectiveSEOptions options;
  nn::Conv2d fc{nullptr};
};
HEED_MODULE(EffectiveSE);

}  // namespace heed::attention

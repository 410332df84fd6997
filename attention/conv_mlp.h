// timm's ConvMlp, shared by GlobalContext and GatherExcite: fc1 (1×1 conv
// with bias) → norm → ReLU → fc2 (1×1 conv with bias), input and output width
// equal. The norm is timm's LayerNorm2d (over channels, eps 1e-6) or none.
// State: fc1.{weight,bias}, norm.{weight,bias} (with the norm), fc2.{weight,bias}.
#pragma once

#include "nn/conv.h"
#include "nn/normalization.h"

namespace heed::attention {

class ConvMlpImpl : public nn::Module {
 public:
  ConvMlpImpl(int64_t channels, int64_t hidden, bool layer_norm);
  Tensor forward(const Tensor& x);  // (B, C, h, w) -> (B, C, h, w)
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  nn::Conv2d fc1{nullptr}, fc2{nullptr};
  nn::LayerNorm norm{nullptr};  // empty without layer_norm
};
HEED_MODULE(ConvMlp);

}  // namespace heed::attention

// Criss-Cross attention (CCNet, Huang et al., ICCV 2019, arXiv 1811.11721;
// attention_spec.md §12.14, EA `CrissCrossAttention(in_dim)`).
//
// Q, K = 1×1 convs to C/8; V = 1×1 conv to C. Each pixel (h, w) attends to its
// column and its row: the energies
//   e_H[h, w, h'] = Q[:, h, w]·K[:, h', w]   (−inf at h' = h: the pixel is counted once)
//   e_W[h, w, w'] = Q[:, h, w]·K[:, h, w']
// share one softmax over the H + W entries, and
//   y = γ·(Σ_h' V[:, h', w]·a_H + Σ_w' V[:, h, w']·a_W) + x,   γ initialised to 0.
// The paper applies the module R = 2 times (same weights) so every pixel sees
// every other; `recurrence` does that (EA's module is R = 1).
//
// State: gamma (1), query_conv.*, key_conv.*, value_conv.*.
//
// Params 2(C·C' + C') + C² + C + 1; MACs per application
// 2·B·N·C·C' + B·N·C² + B·N·(H+W)·(C' + C).
#pragma once

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

struct CrissCrossAttentionOptions {
  int64_t reduction = 8;   // query/key width C / reduction
  int64_t recurrence = 1;  // applications with shared weights (the paper's RCCA: 2)
};

// Map kept: "weights" (B, H, W, H + W), the joint softmax of the last application.
class CrissCrossAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = CrissCrossAttentionOptions;
  explicit CrissCrossAttentionImpl(int64_t in_dim, const CrissCrossAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  Tensor attend(const Tensor& x);  // one application
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t in_dim, inner;
  CrissCrossAttentionOptions options;
  Tensor gamma;  // (1)
  nn::Conv2d query_conv{nullptr}, key_conv{nullptr}, value_conv{nullptr};
};
HEED_MODULE(CrissCrossAttention);

}  // namespace heed::attention

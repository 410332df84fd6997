// Polarized Self-Attention (Liu et al., 2021, arXiv 2107.00782;
// attention_spec.md §12.8, EA `ParallelPolarizedSelfAttention(channel=512)`
// and `SequentialPolarizedSelfAttention(channel=512)`).
//
// Channel-only branch (gate (B, C, 1, 1)):
//   v = ch_wv(x) (B, C/2, N), q = softmax_N(ch_wq(x)) (B, N, 1)
//   gate = σ(LN_C(ch_wz(v·q)))
// Spatial-only branch (gate (B, 1, H, W)):
//   v = sp_wv(x) (B, C/2, N), q = softmax_{C/2}(GAP(sp_wq(x))) (B, 1, C/2)
//   gate = σ(q·v)
// parallel:   y = x·gate_c + x·gate_s(x)
// sequential: z = x·gate_c;  y = z·gate_s(z)
//
// State: ch_wv (C/2←C), ch_wq (1←C), ch_wz (C←C/2), ln (C), sp_wv (C/2←C),
// sp_wq (C/2←C); all 1×1 convs with bias.
//
// Params 3(C·C/2 + C/2) + (C + 1) + (C/2·C + C) + 2C;
// MACs B·N·(3C·C/2 + C) + B·C/2·C (convs) + B·N·C (the two matmuls).
#pragma once

#include <string>

#include "attention/attention_module.h"
#include "nn/conv.h"
#include "nn/normalization.h"

namespace heed::attention {

struct PolarizedSelfAttentionOptions {
  std::string mode = "parallel";  // "parallel" or "sequential"
};

// Maps kept: "channel" (B, C, 1, 1) and "spatial" (B, 1, H, W) gates.
class PolarizedSelfAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = PolarizedSelfAttentionOptions;
  explicit PolarizedSelfAttentionImpl(int64_t channels,
                                      const PolarizedSelfAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  Tensor channel_gate(const Tensor& x);  // (B, C, 1, 1)
  Tensor spatial_gate(const Tensor& x);  // (B, 1, H, W)
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  PolarizedSelfAttentionOptions options;
  bool sequential = false;
  nn::Conv2d ch_wv{nullptr}, ch_wq{nullptr}, ch_wz{nullptr}, sp_wv{nullptr}, sp_wq{nullptr};
  nn::LayerNorm ln{nullptr};
};
HEED_MODULE(PolarizedSelfAttention);

}  // namespace heed::attention

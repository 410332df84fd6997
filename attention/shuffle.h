// Shuffle Attention (SA-Net, Zhang & Yang, ICASSP 2021; attention_spec.md
// §12.9, EA `ShuffleAttention(channel=512, reduction=16, G=8)`).
//
// x is viewed as B·G groups of C/G channels, each split in two halves of
// c = C/(2G) channels:
//   channel half: x₀ · σ(cweight · GAP(x₀) + cbias)
//   spatial half: x₁ · σ(sweight · GN(x₁) + sbias)     GN with one group per channel
// The halves are concatenated back, then the channels are shuffled with 2
// groups. `reduction` is unused (EA keeps it in the signature).
// Init as EA: cweight = sweight = 0, cbias = sbias = 1, GN (1, 0).
//
// State: cweight, cbias, sweight, sbias (1, c, 1, 1), gn.weight, gn.bias (c).
// Params 6c = 6·C/(2G); MACs 0.
#pragma once

#include "attention/attention_module.h"
#include "nn/normalization.h"

namespace heed::attention {

struct ShuffleAttentionOptions {
  int64_t reduction = 16;  // unused, as in EA
  int64_t G = 8;           // groups; C must be divisible by 2·G
};

// Maps kept: "channel" (B, G·c, 1, 1) and "spatial" (B, G·c, H, W), the gates
// of the two halves, group by group (before the shuffle).
class ShuffleAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = ShuffleAttentionOptions;
  explicit ShuffleAttentionImpl(int64_t channels, const ShuffleAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  ShuffleAttentionOptions options;
  nn::GroupNorm gn{nullptr};
  Tensor cweight, cbias, sweight, sbias;  // (1, c, 1, 1)
};
HEED_MODULE(ShuffleAttention);

}  // namespace heed::attention

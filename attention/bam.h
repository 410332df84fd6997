// BAM: Bottleneck Attention Module (Park et al., BMVC 2018; attention_spec.md
// §12.3). Names and defaults of EA `BAMBlock(channel=512, reduction=16,
// dia_val=2)`:
//
//   M_c = MLP(GAP(x))                 (B, C, 1, 1): Linear+BN1d+ReLU × L, Linear
//   M_s = 1×1 reduce, [dilated 3×3 + BN + ReLU] × S, 1×1 to one channel  (B, 1, H, W)
//   y   = x · (1 + σ(M_c + M_s))
//
// Two departures from public code, both following the paper:
// - EA pads its dilated 3×3 convs by 1 with dilation 2, which shrinks the map
//   by 2 per conv (broadcasting then only works at 1×1); here padding equals
//   the dilation, so the map keeps its size.
// - The authors' bam.py multiplies M_c·M_s inside the sigmoid; the paper (and
//   EA) add, as here.
// EA's defaults give L = S = 3 (`num_layers=3` in both branches); the paper's
// setting is dia_val = 4, channel_layers = 1, spatial_layers = 2.
//
// State: ca.ca.fc{i}.{weight,bias}, ca.ca.bn{i}.*, ca.ca.last_fc.*,
// sa.sa.conv_reduce1.*, sa.sa.bn_reduce1.*, sa.sa.conv_{i}.*, sa.sa.bn_{i}.*,
// sa.sa.last_conv.*.
//
// With Cr = C / reduction, L channel and S spatial layers, N = H·W:
// Params (C·Cr + Cr) + 2Cr + (L−1)(Cr² + 3Cr) + (Cr·C + C)
//        + (C·Cr + Cr) + 2Cr + S(9Cr² + 3Cr) + (Cr + 1);
// MACs B·(C·Cr + (L−1)·Cr² + Cr·C) + B·N·(C·Cr + 9S·Cr² + Cr).
#pragma once

#include "attention/attention_module.h"
#include "nn/container.h"

namespace heed::attention {

struct BAMOptions {
  int64_t reduction = 16;      // hidden width C / reduction (floored, >= 1)
  int64_t dia_val = 2;         // dilation of the spatial 3×3 convs
  int64_t channel_layers = 3;  // hidden Linear+BN+ReLU layers of the channel MLP
  int64_t spatial_layers = 3;  // dilated 3×3 conv layers of the spatial branch
};

// GAP, then `ca` (flatten, fc0, bn0, relu0, ..., last_fc): (B, C, H, W) -> (B, C, 1, 1).
class BAMChannelGateImpl : public nn::Module {
 public:
  BAMChannelGateImpl(int64_t channels, int64_t reduction, int64_t num_layers);
  Tensor forward(const Tensor& x);
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  nn::Sequential ca{nullptr};
};
HEED_MODULE(BAMChannelGate);

// `sa`: (B, C, H, W) -> (B, 1, H, W).
class BAMSpatialGateImpl : public nn::Module {
 public:
  BAMSpatialGateImpl(int64_t channels, int64_t reduction, int64_t num_layers, int64_t dia_val);
  Tensor forward(const Tensor& x) { return sa(x); }
  nn::Sequential sa{nullptr};
};
HEED_MODULE(BAMSpatialGate);

// Maps kept: "channel" M_c (B, C, 1, 1) and "spatial" M_s (B, 1, H, W), before the sigmoid.
class BAMImpl : public AttentionModuleImpl {
 public:
  using Options = BAMOptions;
  explicit BAMImpl(int64_t channels, const BAMOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels;
  BAMOptions options;
  BAMChannelGate ca{nullptr};
  BAMSpatialGate sa{nullptr};
};
HEED_MODULE(BAM);

}  // namespace heed::attention

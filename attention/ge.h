// Gather-Excite (Hu et al., NeurIPS 2018; attention_spec.md §12.6). Names and
// options of timm `GatherExcite` (without feat_size):
//
//   gather: extent 0   — global average (optionally ½ avg + ½ max): (B, C, 1, 1)
//           extent e>0 — avg pool, kernel 2e−1, stride e, padding e−1, padding
//                        not counted (optionally ½ avg + ½ max pool), or with
//                        extra_params log2(e) depthwise 3×3 stride-2 convs
//                        (no bias) each + BN, ReLU between them
//   excite: mlp (1×1 conv C→Cr, ReLU, 1×1 conv Cr→C, both with bias), nearest
//           upsampling back to H×W when the gathered map is not 1×1, sigmoid,
//           multiply.
// extent = 0 without extra_params is SE with biases.
//
// State: gather.conv{i}.weight, gather.norm{i}.* (extra_params), mlp.fc1.*, mlp.fc2.*.
//
// Params 2C·Cr + Cr + C (MLP) + 11C per gather conv (depthwise 9C, BN 2C);
// MACs 2·B·h·w·C·Cr on the gathered (h, w) + 9·B·C·h_i·w_i per gather conv.
#pragma once

#include "attention/attention_module.h"
#include "attention/conv_mlp.h"
#include "nn/container.h"

namespace heed::attention {

struct GatherExciteOptions {
  int64_t extent = 0;         // 0: global; else even (a power of two with extra_params)
  bool extra_params = false;  // gather with depthwise convs + BN (needs extent > 0 here)
  bool use_mlp = true;        // the excite MLP (identity when off)
  double rd_ratio = 1.0 / 16;
  int64_t rd_channels = 0;  // 0: max(1, round(C·rd_ratio)) to a multiple of rd_divisor
  int64_t rd_divisor = 1;
  bool add_maxpool = false;  // ½ avg + ½ max when gathering without parameters
};

// Maps kept: "weights", the sigmoid gate, (B, C, 1, 1) for a global gather
// and (B, C, H, W) after upsampling otherwise.
class GatherExciteImpl : public AttentionModuleImpl {
 public:
  using Options = GatherExciteOptions;
  explicit GatherExciteImpl(int64_t channels, const GatherExciteOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels, rd_channels;
  GatherExciteOptions options;
  nn::Sequential gather{nullptr};  // extra_params only
  ConvMlp mlp{nullptr};            // use_mlp only
};
HEED_MODULE(GatherExcite);

// F.interpolate(x, size={h, w}) in its default 'nearest' mode, PyTorch's index
// rule included (source = floor(dst · (float)in/out)). x (B, C, h0, w0).
Tensor interpolate_nearest(const Tensor& x, int64_t h, int64_t w);

}  // namespace heed::attention

// Triplet Attention (Misra et al., WACV 2021; attention_spec.md §12.2, EA
// `TripletAttention(no_spatial=False)`).
//
// Three gates, each on a rotated view of x so that a different pair of axes
// forms the "spatial" plane: (C, W) for `cw` (H leading), (H, C) for `hc`
// (W leading) and (H, W) for `hw`. A gate Z-pools over its leading axis
// (max first, then mean), runs a 7×7 conv 2→1 without bias, BN (eps 1e-5,
// momentum 0.01) and a sigmoid, and rescales its view. The three results are
// rotated back and averaged: ⅓(hw + cw + hc), or ½(cw + hc) with no_spatial.
//
// State (as EA): {cw,hc,hw}.conv.conv.weight (1, 2, 7, 7) and
// {cw,hc,hw}.conv.bn.{weight,bias,running_mean,running_var,num_batches_tracked}.
//
// Params 3·(2k² + 2) (2·(2k² + 2) with no_spatial); MACs
// 2k²·B·(HW + CW + HC) (the conv of each gate over its plane).
#pragma once

#include "attention/attention_module.h"
#include "nn/container.h"

namespace heed::attention {

struct TripletAttentionOptions {
  bool no_spatial = false;  // drop the (H, W) gate
  int64_t kernel_size = 7;  // EA hard-codes 7; odd
};

// One gate: Z-pool over dim 1, conv + BN, sigmoid. forward returns the gate
// (B, 1, A, B'); the caller rescales.
class TripletGateImpl : public nn::Module {
 public:
  explicit TripletGateImpl(int64_t kernel_size = 7);
  Tensor forward(const Tensor& x);  // (B, L, P, Q) -> gate (B, 1, P, Q)
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  nn::Sequential conv{nullptr};  // "conv" (Conv2d 2→1), "bn" (BatchNorm2d(1))
};
HEED_MODULE(TripletGate);

// Maps kept: "cw" (B, C, 1, W), "hc" (B, C, H, 1) and "spatial" (B, 1, H, W),
// each gate rotated back so it broadcasts onto x.
class TripletAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = TripletAttentionOptions;
  explicit TripletAttentionImpl(const TripletAttentionOptions& options = {});
  // `channels` is accepted for a uniform signature (the module does not use it).
  explicit TripletAttentionImpl(int64_t channels, const TripletAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  TripletAttentionOptions options;
  TripletGate cw{nullptr}, hc{nullptr}, hw{nullptr};  // hw empty with no_spatial
};
HEED_MODULE(TripletAttention);

}  // namespace heed::attention

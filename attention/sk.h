// SK: Selective Kernel attention (Li et al., CVPR 2019; attention_spec.md
// §12.4). Names and defaults of EA `SKAttention(channel=512, kernels=[1,3,5,7],
// reduction=16, group=1, L=32)`:
//
//   split:  U_k = ReLU(BN(conv_k(x))), a k×k conv (padding k/2, groups) per kernel
//   fuse:   s = GAP(Σ_k U_k) (B, C);  z = fc(s) (B, d), d = max(L, C / reduction)
//   select: a = softmax over k of fcs_k(z) (per channel);  V = Σ_k a_k · U_k
//
// The paper applies BN + ReLU to z in the fuse step; EA omits them. fuse_norm
// (on by default, as the paper) adds a BatchNorm1d(d) named `bn` and a ReLU;
// off gives EA's module exactly.
//
// State: convs.{i}.conv.{weight,bias}, convs.{i}.bn.*, fc.{weight,bias},
// bn.* (fuse_norm), fcs.{i}.{weight,bias}.
//
// Params Σ_k (C·(C/g)·k² + 3C) + C·d + d + 2d (fuse_norm) + K·(d·C + C);
// MACs Σ_k B·N·C·(C/g)·k² + B·C·d + K·B·d·C.
#pragma once

#include <vector>

#include "attention/attention_module.h"
#include "nn/batchnorm.h"
#include "nn/container.h"
#include "nn/linear.h"

namespace heed::attention {

struct SKAttentionOptions {
  std::vector<int64_t> kernels = {1, 3, 5, 7};  // odd sizes, one branch each
  int64_t reduction = 16;
  int64_t group = 1;      // groups of the branch convs
  int64_t L = 32;         // lower bound of the fuse width d
  bool fuse_norm = true;  // BN + ReLU after fc (the paper; EA omits them)
};

// Map kept: "weights", the branch selection a (B, K, C).
class SKAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = SKAttentionOptions;
  explicit SKAttentionImpl(int64_t channels, const SKAttentionOptions& options = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channels, d;
  SKAttentionOptions options;
  nn::ModuleList convs{nullptr};  // Sequential "conv", "bn", "relu" per kernel
  nn::Linear fc{nullptr};         // C -> d
  nn::BatchNorm1d bn{nullptr};    // fuse_norm only
  nn::ModuleList fcs{nullptr};    // Linear d -> C per kernel
};
HEED_MODULE(SKAttention);

}  // namespace heed::attention

// ECA: Efficient Channel Attention (Wang et al., CVPR 2020), attention_spec.md §3.
//
//   attention::ECAAttention eca(256);                  // k from C: 5
//   attention::ECAAttention fixed(256, {.k_size = 3}); // ECANet's eca_layer(channel, 3)
#pragma once

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

// The paper's k = |log2(C)/γ + b/γ|_odd: t = int(|(log2 C + b) / γ|), then
// t if odd else t + 1 (no floor of 3, so C <= 4 gives 1).
int64_t eca_kernel_size(int64_t channels, double gamma = 2.0, double b = 1.0);

struct ECAAttentionOptions {
  int64_t k_size = 0;  // 0: from the channel count with gamma and b; else fixed (odd)
  double gamma = 2.0;
  double b = 1.0;
  bool bias = false;  // EA's ECAAttention has a conv bias
};

// y = mean_HW(x) (B, 1, C) -> conv1d over channels (zero padding (k-1)/2) ->
// sigmoid -> x · y. State: conv.weight (1, 1, k) (+ conv.bias).
// Map "channel": (B, C, 1, 1).
class ECAAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = ECAAttentionOptions;
  explicit ECAAttentionImpl(int64_t channel, const ECAAttentionOptions& options = {});
  // ECANet's eca_layer(channel, k_size): a fixed kernel size.
  ECAAttentionImpl(int64_t channel, int64_t k_size)
      : ECAAttentionImpl(channel, ECAAttentionOptions{.k_size = k_size}) {}
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& residual) override;
  bool gates_from_spatial_mean() const override { return true; }
  // The gate from x's spatial mean z (B, C), kept as map "channel".
  Tensor gate_from_mean(const Tensor& z) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t channel, k_size;
  ECAAttentionOptions options;
  nn::Conv1d conv{nullptr};

 private:
  Tensor gate(const Tensor& x);  // (B, C, 1, 1), kept as map "channel"
};
HEED_MODULE(ECAAttention);

}  // namespace heed::attention

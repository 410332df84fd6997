// SE: Squeeze-and-Excitation (Hu et al., CVPR 2018), attention_spec.md §1.
//
//   attention::SEAttention se(64);                       // reduction 16
//   attention::SEAttention timm_se(64, {.conv = true, .divisor = 8});
//   Tensor y = se(x);                                    // (B, 64, H, W)
#pragma once

#include "attention/attention_module.h"
#include "nn/container.h"
#include "nn/conv.h"

namespace heed::attention {

struct SEAttentionOptions {
  int64_t reduction = 16;
  // timm's SEModule form: 1×1 convs with bias, fc1/fc2 (Cr, C, 1, 1) + bias,
  // instead of the bias-free Linear MLP fc.0/fc.2.
  bool conv = false;
  // Hidden width rounding: 1 floors C / reduction (the paper, EA, senet.pytorch);
  // d > 1 rounds to a multiple of d, at least d (timm's make_divisible, d = 8).
  int64_t divisor = 1;
  // Biases in the two Linear layers of the default form (torchvision-style
  // nn.Linear, as bench/torch/models.py); the conv form always has them.
  bool bias = false;
};

// The hidden width Cr of the excitation MLP for these options.
int64_t se_hidden_channels(int64_t channels, int64_t reduction, int64_t divisor);

// z = mean_HW(x) (B, C); s = sigmoid(W₂ relu(W₁ z)) (B, C); y = x · s.
// State (default): fc.0.weight (Cr, C), fc.2.weight (C, Cr), as EA's
// SEAttention(channel, reduction); with bias also fc.0.bias, fc.2.bias. With conv:
// fc1.{weight,bias}, fc2.{weight,bias}. Map "channel": s as (B, C, 1, 1).
class SEAttentionImpl : public AttentionModuleImpl {
 public:
  using Options = SEAttentionOptions;
  explicit SEAttentionImpl(int64_t channel, const SEAttentionOptions& options = {});
  // The seeds' SEAttention(in_dim, reduction).
  SEAttentionImpl(int64_t channel, int64_t reduction)
      : SEAttentionImpl(channel, SEAttentionOptions{.reduction = reduction}) {}
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& residual) override;
  bool gates_from_spatial_mean() const override { return true; }
  // The gate from x's spatial mean z (B, C), kept as map "channel".
  Tensor gate_from_mean(const Tensor& z) override;
  std::string extra_repr() const override;
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t channel, hidden;
  SEAttentionOptions options;
  nn::Sequential fc{nullptr};             // Linear, ReLU, Linear, Sigmoid (default form)
  nn::Conv2d fc1{nullptr}, fc2{nullptr};  // conv form

 private:
  Tensor gate(const Tensor& x);  // s (B, C, 1, 1), kept as map "channel"
};
HEED_MODULE(SEAttention);

}  // namespace heed::attention

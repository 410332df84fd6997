// LSTM (PyTorch's torch/nn/modules/rnn.py), composed from linear, sigmoid,
// tanh and slice ops, so autograd differentiates it (a fused kernel can come
// later). Glossary: T steps, B batch, I input size, H hidden size,
// L layers, D directions (2 when bidirectional).
#pragma once

#include <vector>

#include "nn/module.h"

namespace heed::nn {

// Arguments after hidden_size, in PyTorch's order.
struct LSTMOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;  // input and output (B, T, *) instead of (T, B, *)
  double dropout = 0.0;      // on the outputs of every layer but the last, in training
  bool bidirectional = false;
};

// Initial or final state: h and c, each (L·D, B, H).
struct LSTMState {
  Tensor h, c;
  std::vector<Tensor> tensors() const { return {h, c}; }
};

struct LSTMOutput {
  Tensor output;  // (T, B, D·H), or (B, T, D·H) when batch_first
  Tensor h_n;     // (L·D, B, H): layer 0 forward, layer 0 reverse, layer 1 forward, ...
  Tensor c_n;     // (L·D, B, H)
  std::vector<Tensor> tensors() const { return {output, h_n, c_n}; }
};

// Gates stacked (i, f, g, o) in weight rows, as PyTorch:
//   i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·),  g = tanh(...)
//   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
// Parameters per layer k and direction: weight_ih_l{k} (4H, I_k),
// weight_hh_l{k} (4H, H), bias_ih_l{k} (4H), bias_hh_l{k} (4H), with the
// suffix "_reverse" for the reverse direction; all U(±1/√H) at init.
//
// Variable lengths: `lengths` (B) int64 on the CPU, each in [1, T], gives the
// result of PyTorch's pack_padded_sequence(enforce_sorted=False) followed by
// pad_packed_sequence(total_length=T): outputs past a sequence's length are
// zero, h_n/c_n are taken at its last valid step, and the reverse direction
// starts at that step.
class LSTMImpl : public Module {
 public:
  using Options = LSTMOptions;
  LSTMImpl(int64_t input_size, int64_t hidden_size, const LSTMOptions& options = {});
  LSTMOutput forward(const Tensor& input, const Tensor& lengths = Tensor(),
                     const LSTMState& state = {});
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;

  int64_t input_size, hidden_size;
  LSTMOptions options;
  // Per layer and direction (index l·D + d), the four tensors above
  // (biases undefined without bias).
  struct Weights {
    Tensor w_ih, w_hh, b_ih, b_hh;
  };
  std::vector<Weights> weights;

 private:
  LSTMOutput run(const Tensor& x, const Tensor& lengths, const LSTMState& state);
};
HEED_MODULE(LSTM);

}  // namespace heed::nn

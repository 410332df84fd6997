// Sinusoidal positional encoding (Vaswani et al. 2017), attention_spec.md §9,
// as the PyTorch tutorial's recipe (interleaved sin/cos, float32 table).
//
//   attention::PositionalEncoding pe(64, {.dropout = 0.1});
//   Tensor y = pe(x);   // x (B, T, 64): dropout(x + pe[:, :T])
#pragma once

#include "attention/attention_module.h"

namespace heed::attention {

struct PositionalEncodingOptions {
  double dropout = 0.1;
  int64_t max_len = 5000;
  bool batch_first =
      true;  // pe (1, max_len, d) and x (B, T, d); else (max_len, 1, d) and (T, B, d)
};

// div = exp(arange(0, d, 2) · (-ln(10000) / d)); pe[:, 0::2] = sin(pos · div),
// pe[:, 1::2] = cos(pos · div[: d/2]) (odd d: one more sin column than cos).
// Built in float32 like the recipe; the persistent buffer `pe` is in state_dict.
class PositionalEncodingImpl : public nn::Module {
 public:
  using Options = PositionalEncodingOptions;
  explicit PositionalEncodingImpl(int64_t d_model, const PositionalEncodingOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;
  int64_t d_model;
  PositionalEncodingOptions options;
  Tensor pe;  // (1, max_len, d) or (max_len, 1, d)
};
HEED_MODULE(PositionalEncoding);

}  // namespace heed::attention

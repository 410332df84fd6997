// A bidirectional LSTM with attention pooling over its time steps, for
// images read as sequences (sequential Fashion-MNIST: the 28 rows are 28
// time steps of 28 features; C channels give C·W features per row):
//
//   x (B, C, H, W) -> rows (B, H, C·W) -> lstm (B, H, 2·hidden)
//     -> attention: e = softmax_t(score(h_t)), c = Σ_t e_t h_t (B, 2·hidden)
//     -> dropout -> fc (B, num_classes)
//
// Names: lstm.weight_ih_l0(_reverse) ..., attention.{proj,v}, fc.
// attention->maps().at("weights") holds e (B, H) when keep_maps is on.
#pragma once

#include "attention/attention_pooling.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/rnn.h"

namespace heed::train {

struct BiLSTMAttentionOptions {
  int64_t input_size = 28;  // features per step (C·W)
  int64_t hidden_size = 128;
  int64_t num_layers = 1;
  int64_t num_classes = 10;
  int64_t attn_dim = 64;  // additive score vᵀtanh(W h + b); 0: linear score
  double dropout = 0.0;
};

class BiLSTMAttentionImpl : public nn::Module {
 public:
  using Options = BiLSTMAttentionOptions;
  explicit BiLSTMAttentionImpl(const BiLSTMAttentionOptions& options = {});
  Tensor forward(const Tensor& x);  // (B, C, H, W) or (B, T, F) -> (B, num_classes)

  BiLSTMAttentionOptions options;
  nn::LSTM lstm{nullptr};
  attention::AttentionPooling attention{nullptr};
  nn::Dropout dropout{nullptr};
  nn::Linear fc{nullptr};
};
HEED_MODULE(BiLSTMAttention);

}  // namespace heed::train

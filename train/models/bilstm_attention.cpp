#include "train/models/bilstm_attention.h"

namespace heed::train {

BiLSTMAttentionImpl::BiLSTMAttentionImpl(const BiLSTMAttentionOptions& o) : options(o) {
  HEED_CHECK(o.input_size > 0 && o.hidden_size > 0 && o.num_layers > 0 && o.num_classes > 0,
             "BiLSTMAttention: sizes must be positive, got input_size ", o.input_size,
             ", hidden_size ", o.hidden_size, ", num_layers ", o.num_layers, ", num_classes ",
             o.num_classes);
  lstm = register_module("lstm", nn::LSTM(o.input_size, o.hidden_size,
                                          {.num_layers = o.num_layers,
                                           .batch_first = true,
                                           .dropout = o.num_layers > 1 ? o.dropout : 0.0,
                                           .bidirectional = true}));
  attention = register_module(
      "attention", attention::AttentionPooling(2 * o.hidden_size, {.attn_dim = o.attn_dim}));
  dropout = register_module("dropout", nn::Dropout(o.dropout));
  fc = register_module("fc", nn::Linear(2 * o.hidden_size, o.num_classes));
}

Tensor BiLSTMAttentionImpl::forward(const Tensor& x) {
  Tensor seq = x;
  if (x.dim() == 4)  // (B, C, H, W) -> (B, H, C·W): each row is one step
    seq = reshape(permute(x, {0, 2, 1, 3}), {x.size(0), x.size(2), x.size(1) * x.size(3)});
  HEED_CHECK(seq.dim() == 3 && seq.size(2) == options.input_size,
             "BiLSTMAttention: expected (B, C, H, W) with C·W = ", options.input_size,
             " or (B, T, ", options.input_size, "), got ", shape_str(x.shape()));
  Tensor h = lstm(seq).output;  // (B, T, 2·hidden)
  Tensor c = attention(h);      // (B, 2·hidden)
  return fc(dropout(c));
}

}  // namespace heed::train

// Embedding (PyTorch's torch/nn/modules/sparse.py).
#pragma once

#include <optional>

#include "nn/module.h"

namespace heed::nn {

struct EmbeddingOptions {
  // Row that is zero at init and never receives a gradient; negative counts from the end.
  std::optional<int64_t> padding_idx = std::nullopt;
};

// int64 indices of any shape (*) -> (*, embedding_dim). weight N(0, 1).
class EmbeddingImpl : public Module {
 public:
  using Options = EmbeddingOptions;
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim,
                const EmbeddingOptions& options = {});
  Tensor forward(const Tensor& indices);
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalised to [0, num_embeddings)
  Tensor weight;                       // (num_embeddings, embedding_dim)
};
HEED_MODULE(Embedding);

}  // namespace heed::nn

#include "nn/embedding.h"

#include "nn/init.h"

namespace heed::nn {

EmbeddingImpl::EmbeddingImpl(int64_t num, int64_t dim, const EmbeddingOptions& o)
    : num_embeddings(num), embedding_dim(dim) {
  HEED_CHECK(num > 0 && dim > 0,
             "Embedding: num_embeddings and embedding_dim must be positive, "
             "got ",
             num, " and ", dim);
  if (o.padding_idx) {
    int64_t p = *o.padding_idx;
    HEED_CHECK(p >= -num && p < num, "Embedding: padding_idx ", p,
               " must be within num_embeddings (", num, ")");
    padding_idx = p < 0 ? p + num : p;
  }
  weight = register_parameter("weight", empty({num, dim}));
  reset_parameters();
}

void EmbeddingImpl::reset_parameters(Generator* gen) {
  init::normal_(weight, 0.0, 1.0, gen);
  if (padding_idx) {
    NoGradGuard no_grad;  // the row view is not part of any graph
    init::zeros_(weight.select(0, *padding_idx));
  }
}

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  return embedding(indices, weight, padding_idx);
}

std::string EmbeddingImpl::extra_repr() const {
  std::string s = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
  if (padding_idx) s += ", padding_idx=" + std::to_string(*padding_idx);
  return s;
}

}  // namespace heed::nn

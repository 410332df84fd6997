// Dropout and Flatten (PyTorch's dropout.py and flatten.py).
#pragma once

#include "nn/module.h"

namespace heed::nn {

// Training: zeroes each element with probability p and scales the rest by
// 1/(1-p). Eval: identity. Draws from the default generator, or `generator`.
class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(double p = 0.5);
  Tensor forward(const Tensor& x) { return dropout(x, p, is_training(), generator); }
  std::string extra_repr() const override;
  double p;
  Generator* generator = nullptr;
};
HEED_MODULE(Dropout);

// Flattens dims start_dim..end_dim into one.
class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};
HEED_MODULE(Flatten);

}  // namespace heed::nn

// Loss modules (PyTorch's torch/nn/modules/loss.py): forward(input, target)
// calls the core loss op with the module's options.
#pragma once

#include "nn/module.h"

namespace heed::nn {

// Options in PyTorch's argument order (weight, size_average and reduce are not supported).
struct CrossEntropyLossOptions {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};

// logits (B, C) or (B, C, d1, ...); target int64 (B) or (B, d1, ...).
class CrossEntropyLossImpl : public Module {
 public:
  using Options = CrossEntropyLossOptions;
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  CrossEntropyLossOptions options;
};
HEED_MODULE(CrossEntropyLoss);

struct NLLLossOptions {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};

// log-probabilities (B, C, ...) and int64 targets.
class NLLLossImpl : public Module {
 public:
  using Options = NLLLossOptions;
  explicit NLLLossImpl(const NLLLossOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  NLLLossOptions options;
};
HEED_MODULE(NLLLoss);

struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};

class MSELossImpl : public Module {
 public:
  using Options = MSELossOptions;
  explicit MSELossImpl(const MSELossOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  MSELossOptions options;
};
HEED_MODULE(MSELoss);

struct BCEWithLogitsLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor pos_weight = Tensor();  // (C) weight of positives, broadcast over the last dim; optional
};

// Registers pos_weight as a buffer when given, as PyTorch.
class BCEWithLogitsLossImpl : public Module {
 public:
  using Options = BCEWithLogitsLossOptions;
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  Reduction reduction;
  Tensor pos_weight;
};
HEED_MODULE(BCEWithLogitsLoss);

}  // namespace heed::nn

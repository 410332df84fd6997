// Classification metrics: top-1 accuracy, per-class accuracy and the
// confusion matrix, accumulated batch by batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace heed::train {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes = 0);
  // logits (B, K) or predictions (B) int64; targets (B) int64.
  void add(const Tensor& logits_or_predictions, const Tensor& targets);
  void add(int64_t target, int64_t prediction);

  int64_t num_classes() const { return k_; }
  int64_t total() const { return total_; }
  int64_t correct() const;
  double accuracy() const;  // NaN when empty
  // Recall per class: correct / seen; NaN for a class with no samples.
  std::vector<double> per_class_accuracy() const;
  // counts[target][prediction]
  int64_t at(int64_t target, int64_t prediction) const {
    return counts_[size_t(target * k_ + prediction)];
  }
  // A text table: per-class accuracy, then the matrix (rows = true class).
  std::string table(const std::vector<std::string>& class_names = {}) const;

 private:
  int64_t k_ = 0, total_ = 0;
  std::vector<int64_t> counts_;  // (K, K)
};

struct EvalResult {
  double loss = 0;      // mean cross-entropy (no label smoothing)
  double accuracy = 0;  // top-1, in [0, 1]
  int64_t samples = 0;
  double seconds = 0;
  ConfusionMatrix confusion;
};

}  // namespace heed::train

#include "train/metrics.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "core/ops/ops.h"

namespace heed::train {

ConfusionMatrix::ConfusionMatrix(int64_t num_classes)
    : k_(num_classes), counts_(size_t(num_classes * num_classes), 0) {
  HEED_CHECK(num_classes >= 0, "ConfusionMatrix: num_classes must be >= 0, got ", num_classes);
}

void ConfusionMatrix::add(int64_t target, int64_t prediction) {
  HEED_CHECK(target >= 0 && target < k_ && prediction >= 0 && prediction < k_,
             "ConfusionMatrix: class out of range [0, ", k_, "): target ", target, ", prediction ",
             prediction);
  ++counts_[size_t(target * k_ + prediction)];
  ++total_;
}

void ConfusionMatrix::add(const Tensor& out, const Tensor& targets) {
  Tensor pred = out.dim() == 2 ? argmax(out, 1) : out;
  HEED_CHECK(pred.dim() == 1 && targets.dim() == 1 && pred.size(0) == targets.size(0),
             "ConfusionMatrix: predictions ", shape_str(out.shape()), " and targets ",
             shape_str(targets.shape()), " do not match");
  std::vector<int64_t> p = pred.to_vector<int64_t>(), t = targets.to_vector<int64_t>();
  for (size_t i = 0; i < p.size(); ++i) add(t[i], p[i]);
}

int64_t ConfusionMatrix::correct() const {
  int64_t c = 0;
  for (int64_t i = 0; i < k_; ++i) c += at(i, i);
  return c;
}

double ConfusionMatrix::accuracy() const {
  return total_ ? double(correct()) / double(total_) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
  std::vector<double> out(size_t(k_), std::numeric_limits<double>::quiet_NaN());
  for (int64_t i = 0; i < k_; ++i) {
    int64_t n = 0;
    for (int64_t j = 0; j < k_; ++j) n += at(i, j);
    if (n) out[size_t(i)] = double(at(i, i)) / double(n);
  }
  return out;
}

std::string ConfusionMatrix::table(const std::vector<std::string>& names) const {
  auto name = [&](int64_t i) {
    return size_t(i) < names.size() ? names[size_t(i)] : std::to_string(i);
  };
  size_t w = 5;
  for (int64_t i = 0; i < k_; ++i) w = std::max(w, name(i).size());
  std::ostringstream o;
  char buf[64];
  std::vector<double> acc = per_class_accuracy();
  o << "per-class accuracy:\n";
  for (int64_t i = 0; i < k_; ++i) {
    std::snprintf(buf, sizeof buf, "%6.2f%%", 100 * acc[size_t(i)]);
    o << "  " << name(i) << std::string(w - name(i).size(), ' ') << "  " << buf << "\n";
  }
  o << "confusion matrix (rows: true class, columns: predicted):\n  " << std::string(w, ' ');
  for (int64_t j = 0; j < k_; ++j) {
    std::snprintf(buf, sizeof buf, " %5lld", static_cast<long long>(j));
    o << buf;
  }
  o << "\n";
  for (int64_t i = 0; i < k_; ++i) {
    o << "  " << name(i) << std::string(w - name(i).size(), ' ');
    for (int64_t j = 0; j < k_; ++j) {
      std::snprintf(buf, sizeof buf, " %5lld", static_cast<long long>(at(i, j)));
      o << buf;
    }
    o << "   (" << i << ")\n";
  }
  return o.str();
}

}  // namespace heed::train

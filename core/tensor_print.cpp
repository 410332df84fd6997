// Tensor printing, following PyTorch's repr (torch/_tensor_str.py, torch 1.13)
// rule for rule: precision 4, summarise above 1000 elements with 3 edge items,
// line width 80, one width for every element, integer-valued floats as "1.",
// scientific notation when the magnitudes span too much. Two deliberate
// differences: dtypes print as `dtype=float64` (no `torch.` module prefix) and
// grad_fn prints heed's node name (`grad_fn=<relu>`).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/tensor.h"

namespace heed {
namespace {

// PyTorch's print options: precision 4 (in the formats), threshold, edge
// items, line width.
constexpr const char* kFixed = "%.4f";
constexpr const char* kSci = "%.4e";
constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr int64_t kLineWidth = 80;

// Python's str.format for floats: like printf, but NaN never carries a sign.
std::string py_format(const char* spec, double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[512];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

// Reads elements of a CPU tensor in place by element offset from its first
// element (no copy: printing a huge tensor touches only what it shows).
struct Elements {
  Tensor t;  // keeps the storage alive
  DType dtype;
  Shape shape;
  Shape strides;
  const char* data;

  explicit Elements(const Tensor& x)
      : t(x.device().is_cpu() ? x : x.to(kCPU)),
        dtype(t.dtype()),
        shape(t.shape()),
        strides(t.strides()),
        data(static_cast<const char*>(t.raw_data())) {}

  template <typename T>
  T at(int64_t off) const {
    return reinterpret_cast<const T*>(data)[off];
  }
  double real(int64_t off) const {
    return dtype == kFloat32 ? double(at<float>(off)) : at<double>(off);
  }
};

// Calls fn(offset) for every element the printout shows, in order (the
// elements of PyTorch's get_summarized_data).
template <typename F>
void visit_shown(const Elements& e, bool summarize, size_t dim, int64_t base, F&& fn) {
  if (dim == e.shape.size()) {
    fn(base);
    return;
  }
  int64_t n = e.shape[dim], stride = e.strides[dim];
  bool cut = summarize && n > 2 * kEdgeItems;
  for (int64_t k = 0; k < n; ++k) {
    if (cut && k == kEdgeItems) k = n - kEdgeItems;
    visit_shown(e, summarize, dim + 1, base + k * stride, fn);
  }
}

// PyTorch's _Formatter: one width and one style (integer, fixed or
// scientific) for every shown element.
class Formatter {
 public:
  Formatter(const Elements& e, bool summarize) : e_(e), floating_(is_floating(e.dtype)) {
    if (!floating_) {
      visit_shown(e, summarize, 0, 0,
                  [&](int64_t k) { max_width_ = std::max(max_width_, raw(k).size()); });
      return;
    }
    std::vector<double> vals;  // nonzero finite values
    visit_shown(e, summarize, 0, 0, [&](int64_t k) {
      double v = e.real(k);
      if (std::isfinite(v) && v != 0) vals.push_back(v);
    });
    if (vals.empty()) return;
    double lo = INFINITY, hi = 0;
    for (double v : vals) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    sci_mode_ = hi / lo > 1000.0 || hi > 1e8 || (!int_mode_ && lo < 1e-4);
    for (double v : vals) {
      size_t w = sci_mode_   ? py_format(kSci, v).size()
                 : int_mode_ ? py_format("%.0f", v).size() + 1  // room for the "."
                             : py_format(kFixed, v).size();
      max_width_ = std::max(max_width_, w);
    }
  }

  size_t width() const { return max_width_; }

  // Element `k` right-aligned to the common width.
  std::string format(int64_t k) const {
    std::string s = raw(k);
    return std::string(max_width_ > s.size() ? max_width_ - s.size() : 0, ' ') + s;
  }

 private:
  std::string raw(int64_t k) const {
    if (e_.dtype == kInt64) return std::to_string(e_.at<int64_t>(k));
    if (e_.dtype == kBool) return e_.at<uint8_t>(k) != 0 ? "True" : "False";
    double v = e_.real(k);
    if (sci_mode_) return py_format(kSci, v);
    if (int_mode_) return py_format("%.0f", v) + (std::isfinite(v) ? "." : "");
    return py_format(kFixed, v);
  }

  const Elements& e_;
  bool floating_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t max_width_ = 1;
};

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += sep;
    out += parts[k];
  }
  return out;
}

// _tensor_str_with_formatter / _vector_str for the sub-tensor at `dim`, `base`.
std::string render(const Elements& e, const Formatter& fmt, bool summarize, size_t dim,
                   int64_t base, int64_t indent) {
  if (e.shape.empty()) return fmt.format(base);
  int64_t n = e.shape[dim], stride = e.strides[dim];
  bool cut = summarize && n > 2 * kEdgeItems;
  if (dim + 1 == e.shape.size()) {
    // A row, wrapped to the line width with a whole number of elements per line.
    int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / int64_t(fmt.width() + 2));
    std::vector<std::string> items;
    for (int64_t k = 0; k < n; ++k) {
      if (cut && k == kEdgeItems) {
        items.push_back(" ...");
        k = n - kEdgeItems;
      }
      items.push_back(fmt.format(base + k * stride));
    }
    std::vector<std::string> lines;
    for (size_t k = 0; k < items.size(); k += size_t(per_line))
      lines.push_back(join({items.begin() + long(k),
                            items.begin() + long(std::min(items.size(), k + size_t(per_line)))},
                           ", "));
    return "[" + join(lines, ",\n" + std::string(size_t(indent + 1), ' ')) + "]";
  }
  std::vector<std::string> slices;
  for (int64_t k = 0; k < n; ++k) {
    if (cut && k == kEdgeItems) {
      slices.push_back("...");
      k = n - kEdgeItems;
    }
    slices.push_back(render(e, fmt, summarize, dim + 1, base + k * stride, indent + 1));
  }
  size_t rank_left = e.shape.size() - dim;
  std::string sep = "," + std::string(rank_left - 1, '\n') + std::string(size_t(indent + 1), ' ');
  return "[" + join(slices, sep) + "]";
}

std::string tuple_str(const Shape& s) {
  std::string out = "(";
  for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// _add_suffixes: ", suffix" on the last line, or on a new line when it would
// pass the line width.
std::string add_suffixes(const std::string& body, const std::vector<std::string>& suffixes,
                         int64_t indent) {
  std::string out = body;
  size_t nl = body.rfind('\n');
  // PyTorch's arithmetic, including its off-by-two when there is no newline.
  int64_t last_line_len = int64_t(body.size()) - (nl == std::string::npos ? -1 : int64_t(nl)) + 1;
  for (const std::string& s : suffixes) {
    int64_t len = int64_t(s.size());
    if (last_line_len + len + 2 > kLineWidth) {
      out += ",\n" + std::string(size_t(indent), ' ') + s;
      last_line_len = indent + len;
    } else {
      out += ", " + s;
      last_line_len += len + 2;
    }
  }
  return out + ")";
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const auto indent = int64_t(prefix.size());
  std::vector<std::string> suffixes;
  if (!device().is_cpu()) suffixes.push_back("device='" + device().str() + "'");

  std::string body;
  if (numel() == 0) {
    // NumPy style: the shape unless it is (0,), and the dtype, which no
    // element can show, unless it is the default.
    if (dim() != 1) suffixes.push_back("size=" + tuple_str(shape()));
    if (dtype() != kFloat32) suffixes.push_back("dtype=" + std::string(dtype_name(dtype())));
    body = "[]";
  } else {
    if (dtype() == kFloat64) suffixes.push_back("dtype=float64");
    Elements e(*this);
    bool summarize = numel() > kThreshold;
    Formatter fmt(e, summarize);
    body = render(e, fmt, summarize, 0, 0, indent);
  }
  if (grad_fn())
    suffixes.push_back("grad_fn=<" + grad_fn()->name() + ">");
  else if (requires_grad())
    suffixes.push_back("requires_grad=True");
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << t.str();
}

}  // namespace heed

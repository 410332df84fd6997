#include "nn/summary.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace heed::nn {

namespace {

int64_t count_params(const Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

std::vector<Shape> shapes_of(const std::vector<Tensor>& ts) {
  std::vector<Shape> out;
  for (const Tensor& t : ts) out.push_back(t.shape());
  return out;
}

class Recorder : public detail::ForwardObserver {
 public:
  Recorder(Summary& s, std::unordered_map<const Module*, std::string> names)
      : s_(s), names_(std::move(names)) {}

  void before(Module& m, const std::vector<Tensor>&) override {
    SummaryRow row;
    auto it = names_.find(&m);
    row.name = it == names_.end() ? "?" : it->second;
    row.type = m.type_name();
    row.depth = int(stack_.size());
    row.params = count_params(m);
    stack_.push_back(s_.rows.size());
    s_.rows.push_back(std::move(row));
  }

  void after(Module& m, const std::vector<Tensor>& inputs,
             const std::vector<Tensor>& outputs) override {
    size_t idx = stack_.back();
    stack_.pop_back();
    std::vector<Shape> out_shapes = shapes_of(outputs);
    ModuleCost c = m.cost(shapes_of(inputs), out_shapes);
    int64_t flops = 2 * c.macs + c.elementwise;
    s_.rows[idx].output_shapes = std::move(out_shapes);
    s_.rows[idx].macs += c.macs;
    s_.rows[idx].flops += flops;
    for (size_t parent : stack_) {
      s_.rows[parent].macs += c.macs;
      s_.rows[parent].flops += flops;
    }
    s_.total_macs += c.macs;
    s_.total_flops += flops;
  }

 private:
  Summary& s_;
  std::unordered_map<const Module*, std::string> names_;
  std::vector<size_t> stack_;
};

// Installs an observer for a scope.
class ObserverScope {
 public:
  explicit ObserverScope(detail::ForwardObserver* o) : prev_(detail::forward_observer()) {
    detail::forward_observer() = o;
  }
  ~ObserverScope() { detail::forward_observer() = prev_; }
  ObserverScope(const ObserverScope&) = delete;
  ObserverScope& operator=(const ObserverScope&) = delete;

 private:
  detail::ForwardObserver* prev_;
};

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string human(int64_t v) {
  const char* units[] = {"", "K", "M", "G", "T"};
  double x = double(v);
  int u = 0;
  while (x >= 1000 && u < 4) {
    x /= 1000;
    ++u;
  }
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(u == 0 ? 0 : 2);
  os << x << (u ? " " : "") << units[u];
  return os.str();
}

std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shape_str(shapes[i]);
  return s;
}

}  // namespace

Summary summarize(Module& model, const std::function<void()>& forward) {
  // Qualified names of every registered module (the model itself is "").
  std::unordered_map<const Module*, std::string> names{{&model, ""}};
  for (auto& [name, m] : model.named_modules(/*include_self=*/false)) names.emplace(m.get(), name);

  // Eval mode without grad: no running-stat updates, no dropout; restore modes after.
  std::vector<std::pair<Module*, bool>> modes;
  model.apply([&](Module& m) { modes.emplace_back(&m, m.is_training()); });
  model.eval();
  Summary s;
  Recorder recorder(s, std::move(names));
  try {
    NoGradGuard no_grad;
    ObserverScope scope(&recorder);
    forward();
  } catch (...) {
    for (auto it = modes.rbegin(); it != modes.rend(); ++it) it->first->train(it->second);
    throw;
  }
  // apply() went children first, so restoring in reverse sets parents before children.
  for (auto it = modes.rbegin(); it != modes.rend(); ++it) it->first->train(it->second);

  for (const Tensor& p : model.parameters()) {
    s.total_params += p.numel();
    if (p.requires_grad()) s.trainable_params += p.numel();
  }
  return s;
}

std::string Summary::table() const {
  std::vector<std::array<std::string, 4>> cells;
  cells.push_back({"Layer (type)", "Output shape", "Param #", "MACs"});
  for (const SummaryRow& r : rows) {
    std::string label = std::string(size_t(2 * r.depth), ' ') +
                        (r.name.empty() ? r.type : r.name + " (" + r.type + ")");
    cells.push_back(
        {label, shapes_str(r.output_shapes), with_commas(r.params), with_commas(r.macs)});
  }
  std::array<size_t, 4> width{};
  for (const auto& row : cells)
    for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], row[i].size());
  size_t total = width[0] + width[1] + width[2] + width[3] + 6;
  std::ostringstream os;
  auto line = [&](const std::array<std::string, 4>& row) {
    os << row[0] << std::string(width[0] - row[0].size() + 2, ' ') << row[1]
       << std::string(width[1] - row[1].size() + 2, ' ')
       << std::string(width[2] - row[2].size(), ' ') << row[2] << "  "
       << std::string(width[3] - row[3].size(), ' ') << row[3] << "\n";
  };
  line(cells[0]);
  os << std::string(total, '=') << "\n";
  for (size_t i = 1; i < cells.size(); ++i) line(cells[i]);
  os << std::string(total, '=') << "\n";
  if (!input_shape.empty()) os << "Input shape: " << shape_str(input_shape) << "\n";
  os << "Total params: " << with_commas(total_params) << "\n"
     << "Trainable params: " << with_commas(trainable_params) << "\n"
     << "Non-trainable params: " << with_commas(total_params - trainable_params) << "\n"
     << "Total MACs: " << with_commas(total_macs) << " (" << human(total_macs) << ")\n"
     << "Total FLOPs: " << with_commas(total_flops) << " (" << human(total_flops)
     << ", 2·MACs + element-wise)\n";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Summary& s) {
  return os << s.table();
}

}  // namespace heed::nn

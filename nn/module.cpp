#include "nn/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <typeinfo>
#include <unordered_set>

namespace heed::nn {

// ------------------------------------------------------------------ StateDict

StateDict::StateDict(std::initializer_list<value_type> items) {
  for (const auto& [k, v] : items) insert(k, v);
}

void StateDict::insert(std::string name, Tensor tensor) {
  HEED_CHECK(!contains(name), "StateDict: duplicate key \"", name, "\"");
  index_.emplace(name, items_.size());
  items_.emplace_back(std::move(name), std::move(tensor));
}

void StateDict::insert_or_assign(const std::string& name, Tensor tensor) {
  auto it = index_.find(name);
  if (it == index_.end())
    insert(name, std::move(tensor));
  else
    items_[it->second].second = std::move(tensor);
}

const Tensor* StateDict::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& StateDict::at(const std::string& name) const {
  const Tensor* t = find(name);
  HEED_CHECK(t != nullptr, "StateDict: no key \"", name, "\" (", size(), " keys)");
  return *t;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

// ---------------------------------------------------------------------- Size2

std::string Size2::str() const {
  return scalar ? std::to_string(h) : tuple_str();
}
std::string Size2::tuple_str() const {
  return detail::py_tuple({h, w});
}

// ------------------------------------------------------------------ helpers

namespace detail {

std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest scientific form that round-trips, then Python's layout rules.
  char buf[64];
  for (int prec = 0; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  size_t e = s.find('e');
  std::string mant = s.substr(0, e);
  int exp = std::atoi(s.c_str() + e + 1);
  bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(size_t(-exp - 1), '0') + digits;
  } else {
    size_t point = size_t(exp) + 1;
    if (digits.size() <= point)
      out = digits + std::string(point - digits.size(), '0') + ".0";
    else
      out = digits.substr(0, point) + "." + digits.substr(point);
  }
  return neg ? "-" + out : out;
}

std::string py_tuple(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  s += v.size() == 1 ? ",)" : ")";
  return s;
}

std::string add_indent(const std::string& s, int indent) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += std::string(size_t(indent), ' ');
  }
  return out;
}

void set_data(const Tensor& dst, const Tensor& src) {
  TensorImpl* d = dst.impl();
  const TensorImpl* s = src.impl();
  d->storage = s->storage;
  d->shape = s->shape;
  d->strides = s->strides;
  d->offset = s->offset;
  d->dtype = s->dtype;
}

}  // namespace detail

namespace {

std::string shape_list(const Shape& s) {
  return shape_str(s);
}

std::string key_list(const std::vector<std::string>& names, const StateDict* dict,
                     const std::vector<std::pair<std::string, Tensor>>* own) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor* t = nullptr;
    if (dict) t = dict->find(names[i]);
    if (own)
      for (const auto& [k, v] : *own)
        if (k == names[i]) t = &v;
    if (i) s += ", ";
    s += '"';
    s += names[i];
    s += '"';
    if (t) {
      s += ' ';
      s += shape_list(t->shape());
    }
  }
  return s;
}

}  // namespace

// --------------------------------------------------------------- registration

void Module::check_new_name(const std::string& name, const char* what) const {
  HEED_CHECK(!name.empty(), what, ": the name is empty");
  HEED_CHECK(name.find('.') == std::string::npos, what, ": name \"", name,
             "\" contains '.', which separates levels in state_dict keys");
  for (const auto& [n, t] : parameters_)
    HEED_CHECK(n != name, what, ": \"", name, "\" is already a parameter of ", type_name());
  for (const Buffer& b : buffers_)
    HEED_CHECK(b.name != name, what, ": \"", name, "\" is already a buffer of ", type_name());
  for (const auto& [n, m] : children_)
    HEED_CHECK(n != name, what, ": \"", name, "\" is already a submodule of ", type_name());
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter");
  HEED_CHECK(tensor.defined(), "register_parameter: \"", name, "\" is an undefined tensor");
  HEED_CHECK(tensor.is_leaf(), "register_parameter: \"", name,
             "\" is not a leaf (it was computed by an op); pass a fresh tensor or .detach()");
  HEED_CHECK(!requires_grad || tensor.is_floating_point(), "register_parameter: \"", name, "\" is ",
             tensor.dtype(), "; only floating-point parameters can require grad");
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor, bool persistent) {
  check_new_name(name, "register_buffer");
  HEED_CHECK(tensor.defined(), "register_buffer: \"", name, "\" is an undefined tensor");
  buffers_.push_back({name, tensor, persistent});
  return tensor;
}

void Module::register_module_ptr(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  HEED_CHECK(module != nullptr, "register_module: \"", name, "\" is an empty module holder");
  HEED_CHECK(module.get() != this, "register_module: a module cannot contain itself");
  children_.emplace_back(name, std::move(module));
}

void Module::replace_module_ptr(const std::string& name, std::shared_ptr<Module> module) {
  HEED_CHECK(module != nullptr, "replace_module: \"", name, "\" is an empty module holder");
  for (auto& [n, m] : children_)
    if (n == name) {
      m = std::move(module);
      return;
    }
  HEED_FAIL("replace_module: ", type_name(), " has no submodule \"", name, "\"");
}

// ------------------------------------------------------------------ traversal

void Module::walk(const std::function<void(const std::string& prefix, const Module& m)>& fn,
                  bool dedupe) const {
  std::unordered_set<const Module*> seen;
  // Explicit stack: deep Sequentials must not recurse; children pushed in reverse.
  struct Item {
    std::string prefix;
    const Module* m;
    size_t depth;
  };
  std::vector<Item> stack{{"", this, 0}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    if (dedupe && !seen.insert(it.m).second) continue;
    // Without dedupe a module that contains itself would loop forever.
    HEED_CHECK(it.depth < 10000, "nn: modules nested over 10000 deep (", it.prefix.substr(0, 200),
               "...); does a module contain itself?");
    fn(it.prefix, *it.m);
    for (auto c = it.m->children_.rbegin(); c != it.m->children_.rend(); ++c)
      stack.push_back({it.prefix.empty() ? c->first : it.prefix + "." + c->first, c->second.get(),
                       it.depth + 1});
  }
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  auto visit = [&](const std::string& prefix, const Module& m) {
    for (const auto& [n, t] : m.parameters_)
      if (seen.insert(t.impl()).second) out.emplace_back(prefix.empty() ? n : prefix + "." + n, t);
  };
  if (recurse)
    walk(visit);
  else
    visit("", *this);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  auto visit = [&](const std::string& prefix, const Module& m) {
    for (const Buffer& b : m.buffers_)
      if (seen.insert(b.tensor.impl()).second)
        out.emplace_back(prefix.empty() ? b.name : prefix + "." + b.name, b.tensor);
  };
  if (recurse)
    walk(visit);
  else
    visit("", *this);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [n, m] : children_) out.push_back(m);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(
    bool include_self) {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  if (include_self) {
    std::shared_ptr<Module> self = weak_from_this().lock();
    HEED_CHECK(self != nullptr, "modules: ", type_name(),
               " is not owned by a shared_ptr (construct it through its holder, e.g. "
               "nn::Linear, or call modules(/*include_self=*/false))");
    out.emplace_back("", self);
  }
  std::unordered_set<const Module*> seen{this};
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> stack;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) stack.push_back(*it);
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    if (!seen.insert(m.get()).second) continue;
    out.emplace_back(prefix, m);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.emplace_back(prefix + "." + it->first, it->second);
  }
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
  std::vector<std::shared_ptr<Module>> out;
  for (auto& [n, m] : named_modules(include_self)) out.push_back(m);
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  // Post-order (children first), each module once, without recursion.
  std::unordered_set<const Module*> seen;
  std::vector<std::pair<Module*, bool>> stack{{this, false}};
  while (!stack.empty()) {
    auto [m, expanded] = stack.back();
    stack.pop_back();
    if (expanded) {
      fn(*m);
      continue;
    }
    if (!seen.insert(m).second) continue;
    stack.emplace_back(m, true);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.emplace_back(it->second.get(), false);
  }
}

// ------------------------------------------------------------------ mode, dtype

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, m] : children_) m->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::convert_tensors(const std::function<Tensor(const Tensor&)>& convert,
                             bool buffers_too) {
  // Convert everything first, then swap, so a failure leaves the module as it
  // was. `convert` returns an undefined tensor for "no change".
  struct Swap {
    Tensor target, data, grad;
  };
  std::vector<Swap> swaps;
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    Tensor g = p.grad();
    swaps.push_back({p, convert(p.detach()), g.defined() ? convert(g.detach()) : Tensor()});
  }
  if (buffers_too)
    for (Tensor& b : buffers()) swaps.push_back({b, convert(b.detach()), Tensor()});
  for (Swap& s : swaps) {
    if (s.data.defined()) detail::set_data(s.target, s.data);
    if (s.grad.defined()) s.target.set_grad(s.grad);
  }
}

void Module::to(DType dtype) {
  HEED_CHECK(is_floating(dtype),
             "Module::to: modules convert only to a floating dtype "
             "(float32 or float64), got ",
             dtype);
  convert_tensors(
      [dtype](const Tensor& t) {
        if (!t.is_floating_point() || t.dtype() == dtype) return Tensor();
        return t.to(dtype).contiguous();
      },
      true);
}

void Module::to(Device device) {
  convert_tensors(
      [device, this](const Tensor& t) {
        if (t.device() == device) return Tensor();
        try {
          return t.to(device);
        } catch (const Error& e) {
          HEED_FAIL("Module::to: cannot move ", type_name(), " to ", device, ": ", e.what());
        }
      },
      true);
}

// ------------------------------------------------------------------ state dict

NamedTensors Module::persistent_state() const {
  NamedTensors out;
  // Not deduplicated: a module registered twice appears under both names, as in PyTorch.
  walk(
      [&](const std::string& prefix, const Module& m) {
        auto key = [&](const std::string& n) { return prefix.empty() ? n : prefix + "." + n; };
        for (const auto& [n, t] : m.parameters_) out.emplace_back(key(n), t);
        for (const Buffer& b : m.buffers_)
          if (b.persistent) out.emplace_back(key(b.name), b.tensor);
      },
      /*dedupe=*/false);
  return out;
}

StateDict Module::state_dict() const {
  StateDict out;
  for (auto& [k, t] : persistent_state()) out.insert(k, t.detach());
  return out;
}

LoadStateDictResult Module::load_state_dict(const StateDict& dict, bool strict) {
  const NamedTensors own = persistent_state();
  LoadStateDictResult result;
  std::vector<std::string> mismatches;
  std::set<std::string> expected;
  for (const auto& [k, t] : own) {
    expected.insert(k);
    const Tensor* src = dict.find(k);
    if (src == nullptr) {
      result.missing_keys.push_back(k);
      continue;
    }
    HEED_CHECK(src->defined(), "load_state_dict: \"", k, "\" is an undefined tensor");
    if (src->shape() != t.shape())
      mismatches.push_back("size mismatch for " + k + ": copying a tensor of shape " +
                           shape_list(src->shape()) + " from the state dict, the shape in " +
                           "the current model is " + shape_list(t.shape()));
    else if (src->device() != t.device())
      mismatches.push_back("device mismatch for " + k + ": the state dict holds it on " +
                           src->device().str() + ", the model on " + t.device().str());
  }
  for (const auto& [k, t] : dict)
    if (!expected.count(k)) result.unexpected_keys.push_back(k);

  bool fail = !mismatches.empty() ||
              (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty()));
  if (fail) {
    std::ostringstream msg;
    msg << "load_state_dict: error(s) in loading the state dict for " << type_name() << ":";
    if (strict && !result.missing_keys.empty())
      msg << "\n  missing keys: " << key_list(result.missing_keys, nullptr, &own);
    if (strict && !result.unexpected_keys.empty())
      msg << "\n  unexpected keys: " << key_list(result.unexpected_keys, &dict, nullptr);
    for (const std::string& m : mismatches) msg << "\n  " << m;
    HEED_FAIL(msg.str());
  }

  NoGradGuard no_grad;
  for (const auto& [k, t] : own)
    if (const Tensor* src = dict.find(k); src && src->impl() != t.impl()) Tensor(t).copy_(*src);
  return result;
}

// -------------------------------------------------------------- description

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  if (size_t p = name.rfind("::"); p != std::string::npos) name = name.substr(p + 2);
  if (name.size() > 4 && name.ends_with("Impl")) name.resize(name.size() - 4);
  return name;
}

std::string Module::repr() const {
  std::vector<std::string> lines;
  std::string extra = extra_repr();
  size_t extra_lines = 0;
  if (!extra.empty()) {
    std::istringstream is(extra);
    for (std::string line; std::getline(is, line);) {
      lines.push_back(line);
      ++extra_lines;
    }
  }
  for (const auto& [n, m] : children_)
    lines.push_back("(" + n + "): " + detail::add_indent(m->repr(), 2));
  std::string s = type_name() + "(";
  if (!lines.empty()) {
    if (extra_lines == 1 && children_.empty()) {
      s += lines[0];
    } else {
      for (const std::string& l : lines) s += "\n  " + l;
      s += "\n";
    }
  }
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  return os << m.repr();
}

ModuleCost Module::cost(const std::vector<Shape>&, const std::vector<Shape>&) const {
  return {};
}

// --------------------------------------------------------------------- hooks

int64_t Module::register_forward_hook(ForwardHook hook) {
  HEED_CHECK(hook != nullptr, "register_forward_hook: empty function");
  forward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Module::remove_forward_hook(int64_t id) {
  std::erase_if(forward_hooks_, [id](const auto& h) { return h.first == id; });
}

void Module::run_forward_hooks(const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& outputs) {
  // A copy: a hook may remove itself.
  auto hooks = forward_hooks_;
  for (auto& [id, h] : hooks) h(*this, inputs, outputs);
}

// ------------------------------------------------------------------ AnyModule

Module* AnyModule::get() const {
  HEED_CHECK(module_ != nullptr, "AnyModule: use of an empty module");
  return module_.get();
}

Tensor AnyModule::operator()(const Tensor& x) const {
  Module* m = get();
  HEED_CHECK(call_ != nullptr, m->type_name(),
             " has no forward(const Tensor&) returning a Tensor, so it cannot be called "
             "from a container; call it through its own holder");
  return call_(*m, x);
}

}  // namespace heed::nn

// nn::Module and the holder pattern.
//
// A layer is two classes, as in LibTorch: `LinearImpl`, the module itself (a
// subclass of nn::Module that registers named parameters, buffers and
// submodules), and `Linear`, its holder: a shared_ptr to a LinearImpl with
// `->`, declared by HEED_MODULE(Linear). Holders are cheap to copy and copies
// share the module, so pass them by value, keep them as members, register them
// as submodules. Every layer in nn/, attention/ and train/ follows this.
//
//   nn::Linear fc(4, 2);                         // makes a LinearImpl(4, 2)
//   Tensor y = fc(x);                            // fc->forward(x), with hooks
//   nn::Conv2d conv(3, 16, 3, {.stride = 2, .padding = 1, .bias = false});
//   std::cout << *fc;                            // Linear(in_features=4, out_features=2,
//   bias=True)
//
// A module of your own:
//
//   struct BlockImpl : nn::Module {
//     explicit BlockImpl(int64_t c) {
//       conv = register_module("conv", nn::Conv2d(c, c, 3, {.padding = 1, .bias = false}));
//       bn = register_module("bn", nn::BatchNorm2d(c));
//     }
//     Tensor forward(const Tensor& x) { return relu(bn(conv(x))); }
//     nn::Conv2d conv{nullptr};                  // empty until registered
//     nn::BatchNorm2d bn{nullptr};
//   };
//   HEED_MODULE(Block);
//
// Rules that keep names and tools right:
// - Names registered are PyTorch's attribute names, so state_dict() keys equal
//   PyTorch's for the same architecture (`layer1.0.conv1.weight`).
// - Call submodules through the holder, `conv(x)`, not `conv->forward(x)`: the
//   holder's call runs forward hooks (summary() records shapes and MACs with
//   them), like `self.conv(x)` against `self.conv.forward(x)` in PyTorch.
// - A module that multiplies matrices itself (attention) overrides cost() so
//   summary() counts its MACs.
// - Member tensors returned by register_parameter/register_buffer share their
//   TensorImpl with the registry; to(dtype) and load_state_dict() update that
//   TensorImpl in place, so members (and optimizers holding them) stay valid.
//   Assigning a new tensor to the member breaks the link: use load_state_dict
//   or copy_ under NoGradGuard instead.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/heed_core.h"
#include "nn/state_dict.h"

namespace heed::nn {

// A (height, width) pair that also converts from one number, so options read
// `.stride = 2` or `.stride = {2, 1}`. Remembers which, for printing as PyTorch.
struct Size2 {
  int64_t h = 0, w = 0;
  bool scalar = true;               // built from one number
  Size2(int64_t v) : h(v), w(v) {}  // NOLINT: implicit on purpose
  Size2(int64_t a, int64_t b) : h(a), w(b), scalar(false) {}
  std::pair<int64_t, int64_t> pair() const { return {h, w}; }
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
  std::string str() const;        // "2" or "(2, 1)", as PyTorch prints the argument
  std::string tuple_str() const;  // always "(2, 1)"
};

// What a module's forward costs, for summary(): multiply-accumulates of
// Linear/Conv/matmul/LSTM, and other element-wise FLOPs worth counting
// (FLOPs ≈ 2·macs + elementwise, the convention of attention_spec.md).
struct ModuleCost {
  int64_t macs = 0;
  int64_t elementwise = 0;
};

struct LoadStateDictResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module;

namespace detail {
// Sees every holder call while installed (summary() uses it). Thread-local.
struct ForwardObserver {
  virtual ~ForwardObserver() = default;
  virtual void before(Module& m, const std::vector<Tensor>& inputs) = 0;
  virtual void after(Module& m, const std::vector<Tensor>& inputs,
                     const std::vector<Tensor>& outputs) = 0;
};
inline ForwardObserver*& forward_observer() {
  thread_local ForwardObserver* observer = nullptr;
  return observer;
}
}  // namespace detail

class Module : public std::enable_shared_from_this<Module> {
 public:
  using ForwardHook = std::function<void(Module& module, const std::vector<Tensor>& inputs,
                                         const std::vector<Tensor>& outputs)>;

  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // --- registration. Names are non-empty, contain no '.', and are unique among
  // this module's parameters, buffers and submodules. The returned tensor
  // shares its TensorImpl with the registry (keep it as a member).
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Non-persistent buffers are left out of state_dict().
  Tensor register_buffer(const std::string& name, Tensor tensor, bool persistent = true);
  // Takes a holder (nn::Linear) or a shared_ptr to a module; returns it.
  template <typename M>
  M register_module(const std::string& name, M module);
  // Swaps a registered submodule for another (same name); returns the new one.
  template <typename M>
  M replace_module(const std::string& name, M module);

  // --- traversal, in registration order. Recursive listings go module by
  // module in pre-order (self, then each child's subtree), like PyTorch, and
  // list a tensor or module reached twice (shared) once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // include_self needs this module to be owned by a shared_ptr (a holder).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(
      bool include_self = true);
  // Calls fn on every submodule (children first, recursively), then on this.
  void apply(const std::function<void(Module&)>& fn);
  // The registered submodule `name` as M, or nullptr if absent or another type.
  template <typename M>
  std::shared_ptr<M> child_as(const std::string& name) const;

  // --- mode
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Sets every parameter's grad to undefined.
  void zero_grad();
  // Converts parameters and floating buffers (integer buffers such as
  // num_batches_tracked stay int64); parameters stay leaves requiring grad,
  // existing grads are converted. Only floating dtypes.
  void to(DType dtype);
  // Moves parameters and buffers (CPU only until the CUDA backend lands).
  void to(Device device);

  // --- checkpoints: parameters and persistent buffers under dotted names.
  // Tensors share storage with the module (detached).
  StateDict state_dict() const;
  // Copies (converting dtype) into the module's tensors in place. Checks every
  // key first and changes nothing on error: shape mismatches always throw,
  // missing and unexpected keys throw when strict (the error lists each name
  // with its shape), else are returned.
  LoadStateDictResult load_state_dict(const StateDict& dict, bool strict = true);

  // --- description, printed like PyTorch's repr
  // "Linear": the class name without namespace and "Impl" unless overridden.
  virtual std::string type_name() const;
  // The text inside the parentheses ("in_features=4, out_features=2, bias=True").
  virtual std::string extra_repr() const { return ""; }
  std::string repr() const;

  // The cost of one forward call from the shapes it saw: this module's own
  // work only (submodules called through holders report their own).
  virtual ModuleCost cost(const std::vector<Shape>& input_shapes,
                          const std::vector<Shape>& output_shapes) const;

  // --- hooks, run after forward when called through a holder
  int64_t register_forward_hook(ForwardHook hook);
  void remove_forward_hook(int64_t id);
  bool has_forward_hooks() const { return !forward_hooks_.empty(); }
  void run_forward_hooks(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs);

 private:
  struct Buffer {
    std::string name;
    Tensor tensor;
    bool persistent;
  };
  void check_new_name(const std::string& name, const char* what) const;
  void register_module_ptr(const std::string& name, std::shared_ptr<Module> module);
  void replace_module_ptr(const std::string& name, std::shared_ptr<Module> module);
  // Pre-order walk over (prefix, module); each module once when dedupe.
  void walk(const std::function<void(const std::string& prefix, const Module& m)>& fn,
            bool dedupe = true) const;
  // Parameters and persistent buffers under their dotted names.
  NamedTensors persistent_state() const;
  void convert_tensors(const std::function<Tensor(const Tensor&)>& convert, bool buffers_too);

  NamedTensors parameters_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<int64_t, ForwardHook>> forward_hooks_;
  int64_t next_hook_id_ = 0;
  bool training_ = true;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

// ------------------------------------------------------------- calling forward

namespace detail {

template <typename T>
void collect_tensors(std::vector<Tensor>& out, const T& value) {
  if constexpr (std::is_same_v<T, Tensor>) {
    if (value.defined()) out.push_back(value);
  } else if constexpr (requires { value.tensors(); }) {  // e.g. LSTMOutput
    for (const Tensor& t : value.tensors())
      if (t.defined()) out.push_back(t);
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    std::apply([&](const auto&... xs) { (collect_tensors(out, xs), ...); }, value);
  } else if constexpr (std::is_same_v<T, std::vector<Tensor>>) {
    for (const Tensor& t : value)
      if (t.defined()) out.push_back(t);
  }
}

// Calls m.forward(args...), running the observer and the module's hooks when
// any are set (one branch otherwise).
template <typename M, typename... Args>
decltype(auto) call_forward(M& m, Args&&... args) {
  ForwardObserver* observer = forward_observer();
  if (observer == nullptr && !m.has_forward_hooks()) [[likely]]
    return m.forward(std::forward<Args>(args)...);
  std::vector<Tensor> inputs;
  (collect_tensors(inputs, args), ...);
  if (observer) observer->before(m, inputs);
  auto result = m.forward(std::forward<Args>(args)...);
  std::vector<Tensor> outputs;
  collect_tensors(outputs, result);
  m.run_forward_hooks(inputs, outputs);
  if (observer) observer->after(m, inputs, outputs);
  return result;
}

// The options type of a module (its `Options` member), for braced arguments.
struct NoOptions {
  NoOptions() = delete;
};
template <typename Impl>
struct options_of {
  using type = NoOptions;
};
template <typename Impl>
requires requires {
  typename Impl::Options;
}
struct options_of<Impl> {
  using type = typename Impl::Options;
};

}  // namespace detail

// ----------------------------------------------------------------- the holder

template <typename Impl>
class ModuleHolder {
  using Options = typename detail::options_of<Impl>::type;

  template <typename... Args>
  static constexpr bool is_copy_like =
      sizeof...(Args) == 1 && (std::derived_from<std::remove_cvref_t<Args>, ModuleHolder> && ...);

 public:
  using ImplType = Impl;

  // Constructs the module from the arguments of one of Impl's constructors
  // (the default constructor too, when Impl has one).
  template <typename... Args>
  requires(std::constructible_from<Impl, Args...> &&
           !is_copy_like<Args...>) explicit(sizeof...(Args) == 1) ModuleHolder(Args&&... args)
      : impl_(std::make_shared<Impl>(std::forward<Args>(args)...)) {}
  // The same with a braced options list last: Conv2d(3, 16, 3, {.stride = 2}).
  explicit ModuleHolder(
      const Options& options) requires std::constructible_from<Impl, const Options&>
      : impl_(std::make_shared<Impl>(options)) {}
  template <typename A>
  requires std::constructible_from<Impl, A, const Options&> ModuleHolder(A&& a,
                                                                         const Options& options)
      : impl_(std::make_shared<Impl>(std::forward<A>(a), options)) {}
  template <typename A, typename B>
  requires std::constructible_from<Impl, A, B, const Options&> ModuleHolder(A&& a, B&& b,
                                                                            const Options& options)
      : impl_(std::make_shared<Impl>(std::forward<A>(a), std::forward<B>(b), options)) {}
  template <typename A, typename B, typename C>
  requires std::constructible_from<Impl, A, B, C, const Options&> ModuleHolder(
      A&& a, B&& b, C&& c, const Options& options)
      : impl_(std::make_shared<Impl>(std::forward<A>(a), std::forward<B>(b), std::forward<C>(c),
                                     options)) {}
  // An empty holder, for members assigned in the owner's constructor.
  ModuleHolder(std::nullptr_t) {}  // NOLINT
  // Wraps an existing module (shares it).
  explicit ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    HEED_CHECK(impl_ != nullptr,
               "nn: use of an empty module holder; assign it first, e.g. "
               "member = register_module(\"name\", ...)");
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }

  // Indexes containers: seq[0], dict["name"].
  template <typename Arg>
  requires requires(Impl& m, Arg&& a) { m[std::forward<Arg>(a)]; }
  decltype(auto) operator[](Arg&& arg) const { return (*get())[std::forward<Arg>(arg)]; }

  // Calls the module's forward through hooks (see the top of this file).
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) const {
    return detail::call_forward(*get(), std::forward<Args>(args)...);
  }

 private:
  std::shared_ptr<Impl> impl_;
};

// Declares the holder `Name` for the module class `NameImpl`.
#define HEED_MODULE(Name)                                     \
  class Name : public ::heed::nn::ModuleHolder<Name##Impl> {  \
   public:                                                    \
    using ::heed::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    using Impl = Name##Impl;                                  \
  }

namespace detail {
template <typename H>
concept HolderLike = requires(const H& h) {
  typename H::ImplType;
  { h.ptr() } -> std::convertible_to<std::shared_ptr<typename H::ImplType>>;
};
template <typename M>
concept TensorForward = requires(M& m, const Tensor& x) {
  { m.forward(x) } -> std::convertible_to<Tensor>;
};
}  // namespace detail

// ---------------------------------------------------------------- AnyModule

// Any module behind one type: what Sequential, ModuleList and ModuleDict hold,
// and what registries return. Calling it needs a `forward(const Tensor&)`
// returning a Tensor; other modules (LSTM) can be held but not called.
class AnyModule {
 public:
  AnyModule() = default;
  template <typename H>
  requires detail::HolderLike<H> AnyModule(
      const H& holder)  // NOLINT: implicit so containers take holders
      : AnyModule(holder.ptr()) {}
  template <typename M>
  requires std::derived_from<M, Module> AnyModule(std::shared_ptr<M> module)  // NOLINT
      : module_(module) {
    HEED_CHECK(module_ != nullptr, "AnyModule: the module is empty (nullptr)");
    if constexpr (detail::TensorForward<M>)
      call_ = [](Module& m, const Tensor& x) -> Tensor {
        return detail::call_forward(static_cast<M&>(m), x);
      };
  }

  // forward through hooks.
  Tensor operator()(const Tensor& x) const;
  Tensor forward(const Tensor& x) const { return (*this)(x); }
  bool callable() const { return call_ != nullptr; }

  const std::shared_ptr<Module>& ptr() const { return module_; }
  Module* operator->() const { return get(); }
  Module& operator*() const { return *get(); }
  Module* get() const;
  bool is_empty() const { return module_ == nullptr; }
  // The module as M (e.g. LinearImpl), or nullptr when it is another type.
  template <typename M>
  std::shared_ptr<M> as() const {
    return std::dynamic_pointer_cast<M>(module_);
  }

 private:
  std::shared_ptr<Module> module_;
  Tensor (*call_)(Module&, const Tensor&) = nullptr;
};

// ------------------------------------------------------- template definitions

template <typename M>
M Module::register_module(const std::string& name, M module) {
  if constexpr (detail::HolderLike<M>) {
    register_module_ptr(name, module.ptr());
  } else {
    static_assert(std::is_convertible_v<M, std::shared_ptr<Module>>,
                  "register_module takes a module holder or a shared_ptr to a module");
    register_module_ptr(name, module);
  }
  return module;
}

template <typename M>
M Module::replace_module(const std::string& name, M module) {
  if constexpr (detail::HolderLike<M>) {
    replace_module_ptr(name, module.ptr());
  } else {
    replace_module_ptr(name, module);
  }
  return module;
}

template <typename M>
std::shared_ptr<M> Module::child_as(const std::string& name) const {
  for (const auto& [n, m] : children_)
    if (n == name) return std::dynamic_pointer_cast<M>(m);
  return nullptr;
}

namespace detail {
// Python's repr of a float: shortest round-trip digits, "1e-05", "0.1", "1.0".
std::string py_float(double v);
// "(1, 2)", "(3,)".
std::string py_tuple(const std::vector<int64_t>& v);
inline const char* py_bool(bool b) {
  return b ? "True" : "False";
}
// Adds `indent` spaces after every newline (PyTorch's _addindent).
std::string add_indent(const std::string& s, int indent);
// Replaces a tensor's data (storage, shape, strides, dtype) with another's,
// keeping the TensorImpl, its requires_grad and every handle to it.
void set_data(const Tensor& dst, const Tensor& src);
}  // namespace detail

}  // namespace heed::nn

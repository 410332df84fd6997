// Sequential, ModuleList and ModuleDict (PyTorch's container.py). They hold
// AnyModule, so any holder goes in; submodules are named "0", "1", ... (or by
// the given names), as PyTorch's state_dict keys.
//
//   nn::Sequential mlp(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
//   nn::Sequential named({{"conv", nn::Conv2d(3, 8, 3)}, {"bn", nn::BatchNorm2d(8)}});
//   nn::ModuleList blocks({nn::Linear(2, 2), nn::Linear(2, 2)});
//   nn::ModuleDict heads({{"cls", nn::Linear(8, 10)}, {"box", nn::Linear(8, 4)}});
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace heed::nn {

using NamedModules = std::vector<std::pair<std::string, AnyModule>>;

// Calls its modules in order, each on the previous output.
class SequentialImpl : public Module {
 public:
  using Options = NamedModules;  // the braced argument: {{"name", module}, ...}
  SequentialImpl() = default;
  template <typename... Ms>
  requires(sizeof...(Ms) > 0 &&
           (std::convertible_to<Ms, AnyModule> && ...)) explicit SequentialImpl(Ms&&... modules) {
    (push_back(AnyModule(std::forward<Ms>(modules))), ...);
  }
  explicit SequentialImpl(const NamedModules& modules);

  void push_back(AnyModule module);  // named by its position
  void push_back(const std::string& name, AnyModule module);
  Tensor forward(const Tensor& x);

  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  const AnyModule& operator[](size_t i) const { return at(i); }
  const AnyModule& at(size_t i) const;
  std::vector<AnyModule>::const_iterator begin() const { return modules_.begin(); }
  std::vector<AnyModule>::const_iterator end() const { return modules_.end(); }

 private:
  std::vector<AnyModule> modules_;
};
HEED_MODULE(Sequential);

// A list of submodules, named "0", "1", ...; no forward of its own.
class ModuleListImpl : public Module {
 public:
  using Options = std::vector<AnyModule>;  // the braced argument: {module, ...}
  ModuleListImpl() = default;
  explicit ModuleListImpl(const std::vector<AnyModule>& modules);

  void push_back(AnyModule module);
  void extend(const std::vector<AnyModule>& modules);
  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  const AnyModule& operator[](size_t i) const { return at(i); }
  const AnyModule& at(size_t i) const;
  // The i-th module as M (e.g. LinearImpl); throws if it is another type.
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    auto p = at(i).as<M>();
    HEED_CHECK(p != nullptr, "ModuleList: module ", i, " is a ", at(i)->type_name(),
               ", not the type asked for");
    return p;
  }
  std::vector<AnyModule>::const_iterator begin() const { return modules_.begin(); }
  std::vector<AnyModule>::const_iterator end() const { return modules_.end(); }

 private:
  std::vector<AnyModule> modules_;
};
HEED_MODULE(ModuleList);

// Submodules by name, in insertion order; no forward of its own.
class ModuleDictImpl : public Module {
 public:
  using Options = NamedModules;  // the braced argument: {{"name", module}, ...}
  ModuleDictImpl() = default;
  explicit ModuleDictImpl(const NamedModules& modules);

  void insert(const std::string& name, AnyModule module);
  bool contains(const std::string& name) const;
  const AnyModule& operator[](const std::string& name) const { return at(name); }
  const AnyModule& at(const std::string& name) const;
  std::vector<std::string> keys() const;
  size_t size() const { return modules_.size(); }
  const NamedModules& items() const { return modules_; }
  NamedModules::const_iterator begin() const { return modules_.begin(); }
  NamedModules::const_iterator end() const { return modules_.end(); }

 private:
  NamedModules modules_;
};
HEED_MODULE(ModuleDict);

}  // namespace heed::nn

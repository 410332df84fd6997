#include "nn/container.h"

namespace heed::nn {

// --------------------------------------------------------------- Sequential

SequentialImpl::SequentialImpl(const NamedModules& modules) {
  for (const auto& [name, m] : modules) push_back(name, m);
}

void SequentialImpl::push_back(AnyModule module) {
  push_back(std::to_string(modules_.size()), std::move(module));
}

void SequentialImpl::push_back(const std::string& name, AnyModule module) {
  HEED_CHECK(!module.is_empty(), "Sequential: module \"", name, "\" is empty");
  register_module(name, module.ptr());
  modules_.push_back(std::move(module));
}

const AnyModule& SequentialImpl::at(size_t i) const {
  HEED_CHECK(i < modules_.size(), "Sequential: index ", i, " is out of range (size ",
             modules_.size(), ")");
  return modules_[i];
}

Tensor SequentialImpl::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < modules_.size(); ++i) {
    HEED_CHECK(modules_[i].callable(), "Sequential: module ", i, " (", modules_[i]->type_name(),
               ") has no forward(const Tensor&) returning a Tensor");
    y = modules_[i](y);
  }
  return y;
}

// --------------------------------------------------------------- ModuleList

ModuleListImpl::ModuleListImpl(const std::vector<AnyModule>& modules) {
  extend(modules);
}

void ModuleListImpl::push_back(AnyModule module) {
  HEED_CHECK(!module.is_empty(), "ModuleList: module ", modules_.size(), " is empty");
  register_module(std::to_string(modules_.size()), module.ptr());
  modules_.push_back(std::move(module));
}

void ModuleListImpl::extend(const std::vector<AnyModule>& modules) {
  for (const AnyModule& m : modules) push_back(m);
}

const AnyModule& ModuleListImpl::at(size_t i) const {
  HEED_CHECK(i < modules_.size(), "ModuleList: index ", i, " is out of range (size ",
             modules_.size(), ")");
  return modules_[i];
}

// --------------------------------------------------------------- ModuleDict

ModuleDictImpl::ModuleDictImpl(const NamedModules& modules) {
  for (const auto& [name, m] : modules) insert(name, m);
}

void ModuleDictImpl::insert(const std::string& name, AnyModule module) {
  HEED_CHECK(!module.is_empty(), "ModuleDict: module \"", name, "\" is empty");
  register_module(name, module.ptr());
  modules_.emplace_back(name, std::move(module));
}

bool ModuleDictImpl::contains(const std::string& name) const {
  for (const auto& [n, m] : modules_)
    if (n == name) return true;
  return false;
}

const AnyModule& ModuleDictImpl::at(const std::string& name) const {
  for (const auto& [n, m] : modules_)
    if (n == name) return m;
  HEED_FAIL("ModuleDict: no module named \"", name, "\"");
}

std::vector<std::string> ModuleDictImpl::keys() const {
  std::vector<std::string> out;
  for (const auto& [n, m] : modules_) out.push_back(n);
  return out;
}

}  // namespace heed::nn

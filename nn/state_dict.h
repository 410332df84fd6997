// StateDict: an insertion-ordered map from dotted names to tensors, what
// Module::state_dict() returns and safetensors files hold.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace heed::nn {

// (name, tensor) pairs in order, as named_parameters() and named_buffers() return.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class StateDict {
 public:
  using value_type = std::pair<std::string, Tensor>;
  using const_iterator = std::vector<value_type>::const_iterator;

  StateDict() = default;
  StateDict(std::initializer_list<value_type> items);

  // Appends; a name that is already present is an error.
  void insert(std::string name, Tensor tensor);
  // Replaces the tensor of an existing name in place, or appends.
  void insert_or_assign(const std::string& name, Tensor tensor);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // nullptr when absent.
  const Tensor* find(const std::string& name) const;
  // Throws heed::Error naming the key when absent.
  const Tensor& at(const std::string& name) const;
  const Tensor& operator[](const std::string& name) const { return at(name); }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  const std::vector<value_type>& items() const { return items_; }
  std::vector<std::string> keys() const;

 private:
  std::vector<value_type> items_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace heed::nn

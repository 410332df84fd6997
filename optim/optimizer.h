// The Optimizer base: parameter groups, step / zero_grad, and state saved and
// loaded by parameter NAME (never position) so a training checkpoint can hold
// it. SGD, Adam and AdamW (sgd.h, adam.h) fill in the per-parameter update.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace heed::optim {

// (name, parameter) pairs, as nn::Module::named_parameters() returns them.
using NamedParameters = std::vector<std::pair<std::string, Tensor>>;

// Every hyper-parameter of the built-in optimizers, resolved for one group.
// Each optimizer reads, checks and saves only the fields it uses.
struct HyperParams {
  double lr = 1e-3;
  double momentum = 0.0;   // SGD
  double dampening = 0.0;  // SGD
  bool nesterov = false;   // SGD
  double weight_decay = 0.0;
  std::pair<double, double> betas{0.9, 0.999};  // Adam, AdamW
  double eps = 1e-8;                            // Adam, AdamW
  bool amsgrad = false;                         // Adam, AdamW
  bool maximize = false;
};

// Overrides of the optimizer's defaults for one group; unset fields take the
// defaults. Setting a field the optimizer does not use is an error.
struct GroupOptions {
  std::optional<double> lr = std::nullopt;
  std::optional<double> momentum = std::nullopt;
  std::optional<double> dampening = std::nullopt;
  std::optional<bool> nesterov = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<std::pair<double, double>> betas = std::nullopt;
  std::optional<double> eps = std::nullopt;
  std::optional<bool> amsgrad = std::nullopt;
  std::optional<bool> maximize = std::nullopt;
};

// A parameter group as the user gives it: named parameters and overrides.
struct ParamGroup {
  NamedParameters params;
  GroupOptions options;
};

// Optimizer state for a checkpoint (tensors to a safetensors file, meta to
// its JSON metadata string):
//   tensors  "<buffer>/<parameter name>" -> tensor, e.g.
//            "momentum_buffer/layer1.0.conv1.weight", "exp_avg/fc.weight",
//            "step/fc.weight" (int64 scalar, Adam's per-parameter step count);
//   meta     {"optimizer": "Adam",
//             "param_groups": [{"params": ["fc.weight", ...], "lr": 0.001, ...}]}.
struct OptimizerState {
  std::map<std::string, Tensor> tensors;
  nlohmann::json meta;
};

class Optimizer {
 public:
  // A group as the optimizer holds it. Change `options` between steps as you
  // like (schedulers do; each step checks them); leave `params` alone.
  struct Group {
    NamedParameters params;
    HyperParams options;
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string_view name() const = 0;  // "SGD", "Adam", "AdamW"
  // True when the first-moment coefficient is betas.first (Adam) rather than
  // momentum (SGD); OneCycleLR cycles whichever it is.
  virtual bool uses_betas() const = 0;

  // Updates, in place and without recording, every parameter that has a
  // gradient; parameters whose grad is undefined are skipped.
  void step();
  // Sets every parameter's gradient to undefined (PyTorch's set_to_none).
  void zero_grad();
  // Adds a group; its parameters must be new to this optimizer.
  void add_param_group(const ParamGroup& group);

  std::vector<Group>& param_groups() { return groups_; }
  const std::vector<Group>& param_groups() const { return groups_; }
  const HyperParams& defaults() const { return defaults_; }

  // A snapshot: the tensors are copies, later steps do not change them.
  OptimizerState state_dict() const;
  // Restores hyper-parameters and per-parameter state, matched by name.
  // Names, shapes and values are all checked first: on error the optimizer
  // is left unchanged. State tensors are converted to the parameters' dtype
  // and device. Parameters without state in `state` start afresh.
  void load_state_dict(const OptimizerState& state);

 protected:
  // Per-parameter state: named buffers ("exp_avg", ...) and a step count.
  struct ParamState {
    int64_t step = 0;
    std::map<std::string, Tensor> buffers;
  };

  explicit Optimizer(const HyperParams& defaults) : defaults_(defaults) {}
  // Derived constructors call this after checking their defaults (virtual
  // calls work there); an empty parameter list is an error.
  void init_groups(const std::vector<ParamGroup>& groups);

  // Names of the HyperParams fields this optimizer uses ("lr", "betas", ...).
  virtual const std::vector<std::string>& option_names() const = 0;
  // Names of its per-parameter buffers ("momentum_buffer", ...).
  virtual const std::vector<std::string>& buffer_names() const = 0;
  // Throws a heed::Error naming the optimizer, `where` and the bad value.
  virtual void check_options(const HyperParams& h, const std::string& where) const = 0;
  // One parameter's update (grad mode is off; grad matches param).
  virtual void update(const Tensor& param, const Tensor& grad, const HyperParams& h,
                      ParamState& state) = 0;
  // Checks that a loaded state is complete (e.g. Adam: exp_avg with exp_avg_sq).
  virtual void check_state(const std::string& /*param*/, const ParamState& /*state*/) const {}

 private:
  HyperParams defaults_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, ParamState> state_;  // by parameter name
};

// The usual recipe: no weight decay on biases and normalisation parameters
// (1-D or 0-D parameters, and names ending in ".bias"), `weight_decay` on the
// rest. Returns {no-decay group, decay group} (either may be empty), order
// kept within each.
std::vector<ParamGroup> param_groups_no_decay(const NamedParameters& params, double weight_decay);

}  // namespace heed::optim

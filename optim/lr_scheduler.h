// Learning-rate schedules as in torch.optim.lr_scheduler: each sets the lr of
// every param group at construction (step 0) and at each step(). Call step()
// once per epoch or once per batch, as the schedule is meant (OneCycleLR:
// per batch), after optimizer.step(). Every schedule is written in closed
// form, lr_at(step), so schedules compose: LinearWarmup wraps another one.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "optim/optimizer.h"

namespace heed::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  virtual std::string_view name() const = 0;

  // Advances one step and sets the groups' lr (and momentum, OneCycleLR).
  void step();
  // The lrs set by the last step (or by the constructor), one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  // Number of step() calls so far (PyTorch's last_epoch).
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() const { return *opt_; }
  // The lrs captured from the optimizer's groups at construction.
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  // The lr of each group after `step` calls of step() (0: at construction).
  virtual std::vector<double> lr_at(int64_t step) const = 0;
  // The momentum (SGD) or beta1 (Adam) of each group at `step`, for schedules
  // that cycle it; empty when the schedule leaves it alone.
  virtual std::vector<double> momentum_at(int64_t /*step*/) const { return {}; }

  // JSON for a checkpoint: {"scheduler", "last_epoch", "base_lrs", "last_lr", options...}.
  nlohmann::json state_dict() const;
  // Restores counters and options (as PyTorch does, the optimizer's lrs come
  // from the optimizer's own state). Checks the kind and the group count.
  void load_state_dict(const nlohmann::json& state);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // Derived constructors call this last: sets the lrs of step 0.
  void initial_step() { apply(0); }
  virtual void options_to_json(nlohmann::json& j) const = 0;
  // Reads and checks the options written by options_to_json.
  virtual void options_from_json(const nlohmann::json& j) = 0;

 private:
  void apply(int64_t step);

  Optimizer* opt_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

// lr = base_lr * gamma^(step / step_size)
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  std::string_view name() const override { return "StepLR"; }
  std::vector<double> lr_at(int64_t step) const override;

 protected:
  void options_to_json(nlohmann::json& j) const override;
  void options_from_json(const nlohmann::json& j) override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = base_lr * gamma^(number of milestones <= step); a repeated milestone counts twice.
class MultiStepLR final : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);
  std::string_view name() const override { return "MultiStepLR"; }
  std::vector<double> lr_at(int64_t step) const override;

 protected:
  void options_to_json(nlohmann::json& j) const override;
  void options_from_json(const nlohmann::json& j) override;

 private:
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2
// (periodic past T_max, like PyTorch's).
class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0);
  std::string_view name() const override { return "CosineAnnealingLR"; }
  std::vector<double> lr_at(int64_t step) const override;

 protected:
  void options_to_json(nlohmann::json& j) const override;
  void options_from_json(const nlohmann::json& j) override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// Linear warm-up over `warmup_steps` steps from start_factor * target to the
// target, then hands over to `after`, which starts at its own step 0:
//   step < N: lr = after.lr_at(0) * (start_factor + (1 - start_factor) * step / N)
//   step >= N: lr = after.lr_at(step - N)
// (PyTorch: SequentialLR([LinearLR(start_factor, total_iters=N), after], [N])).
// Without `after` the lr stays at the groups' lr after the warm-up (LinearLR).
// The warm-up owns `after`; step the warm-up only.
class LinearWarmup final : public LRScheduler {
 public:
  LinearWarmup(std::unique_ptr<LRScheduler> after, int64_t warmup_steps,
               double start_factor = 1.0 / 3);
  LinearWarmup(Optimizer& optimizer, int64_t warmup_steps, double start_factor = 1.0 / 3);
  std::string_view name() const override { return "LinearWarmup"; }
  std::vector<double> lr_at(int64_t step) const override;
  std::vector<double> momentum_at(int64_t step) const override;
  const LRScheduler* after() const { return after_.get(); }

 protected:
  void options_to_json(nlohmann::json& j) const override;
  void options_from_json(const nlohmann::json& j) override;

 private:
  std::unique_ptr<LRScheduler> after_;
  int64_t warmup_steps_;
  double start_factor_;
};

enum class Anneal { Cos, Linear };

// PyTorch's OneCycleLR arguments and defaults. Give total_steps, or epochs and
// steps_per_epoch.
struct OneCycleOptions {
  int64_t total_steps = 0;
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  Anneal anneal_strategy = Anneal::Cos;
  bool cycle_momentum = true;  // momentum (SGD) or beta1 (Adam) from max to base and back
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;       // initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;  // min_lr = initial_lr / final_div_factor
  bool three_phase = false;
};

// The 1cycle policy (step it once per batch): lr from initial_lr up to max_lr
// over pct_start of the steps, then down to min_lr (three_phase: back to
// initial_lr, then down to min_lr). Stepping past total_steps is an error.
// As in PyTorch, cycle_momentum (the default) overrides the optimizer's
// momentum / beta1 from construction on, even for an SGD built without momentum.
class OneCycleLR final : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, const OneCycleOptions& options);
  // One max_lr per param group.
  OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, const OneCycleOptions& options);
  std::string_view name() const override { return "OneCycleLR"; }
  std::vector<double> lr_at(int64_t step) const override;
  std::vector<double> momentum_at(int64_t step) const override;
  int64_t total_steps() const { return total_steps_; }

 protected:
  void options_to_json(nlohmann::json& j) const override;
  void options_from_json(const nlohmann::json& j) override;

 private:
  enum Level { kInitial, kMax, kMin, kBaseMomentum, kMaxMomentum };
  struct Phase {
    double end_step;  // a float, as in PyTorch: pct_start * total_steps - 1
    Level start_lr, end_lr, start_momentum, end_momentum;
  };
  // Checks the options; returns total_steps and the phases.
  static std::pair<int64_t, std::vector<Phase>> plan(const OneCycleOptions& o);
  void check_max_lrs(const std::vector<double>& max_lrs) const;
  // The phase of `step` and the fraction done, walked as PyTorch does.
  std::pair<const Phase*, double> locate(int64_t step) const;
  double level(Level l, size_t group) const;
  double anneal(double start, double end, double pct) const;

  std::vector<double> max_lrs_;
  OneCycleOptions options_;
  int64_t total_steps_ = 0;
  std::vector<Phase> phases_;
};

}  // namespace heed::optim

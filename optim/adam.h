// Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight
// decay), with amsgrad and PyTorch's bias correction.
#pragma once

#include "optim/optimizer.h"

namespace heed::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2: added to the gradient
  bool amsgrad = false;
  bool maximize = false;
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay first
  bool amsgrad = false;
  bool maximize = false;
};

// Per parameter, at its step t = 1, 2, ... (g its gradient):
//   g = maximize ? -g : g;  Adam: g += weight_decay * p | AdamW: p *= 1 - lr * weight_decay
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g²;  amsgrad: v = v_max = max(v_max, v)
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State: "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (amsgrad) and "step".
class Adam : public Optimizer {
 public:
  explicit Adam(const NamedParameters& params, const AdamOptions& options = {});
  Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults = {});

  std::string_view name() const override { return decoupled_ ? "AdamW" : "Adam"; }
  bool uses_betas() const override { return true; }

 protected:
  Adam(const std::vector<ParamGroup>& groups, const HyperParams& defaults, bool decoupled);
  const std::vector<std::string>& option_names() const override;
  const std::vector<std::string>& buffer_names() const override;
  void check_options(const HyperParams& h, const std::string& where) const override;
  void update(const Tensor& param, const Tensor& grad, const HyperParams& h,
              ParamState& state) override;
  void check_state(const std::string& param, const ParamState& state) const override;

 private:
  bool decoupled_;
};

class AdamW final : public Adam {
 public:
  explicit AdamW(const NamedParameters& params, const AdamWOptions& options = {});
  AdamW(const std::vector<ParamGroup>& groups, const AdamWOptions& defaults = {});
};

}  // namespace heed::optim

// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight
// decay, applied exactly as torch.optim.SGD does.
#pragma once

#include "optim/optimizer.h"

namespace heed::optim {

// Field order lets `{.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4}` compile.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;      // needs momentum > 0 and dampening == 0
  double weight_decay = 0.0;  // L2: added to the gradient before momentum
  bool maximize = false;
};

// Per parameter, with g its gradient (PyTorch's order):
//   g = maximize ? -g : g;  g += weight_decay * p
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   g = nesterov ? g + momentum * buf : buf          (when momentum != 0)
//   p -= lr * g
class SGD final : public Optimizer {
 public:
  explicit SGD(const NamedParameters& params, const SGDOptions& options = {});
  SGD(const std::vector<ParamGroup>& groups, const SGDOptions& defaults = {});

  std::string_view name() const override { return "SGD"; }
  bool uses_betas() const override { return false; }

 protected:
  const std::vector<std::string>& option_names() const override;
  const std::vector<std::string>& buffer_names() const override;
  void check_options(const HyperParams& h, const std::string& where) const override;
  void update(const Tensor& param, const Tensor& grad, const HyperParams& h,
              ParamState& state) override;
};

}  // namespace heed::optim

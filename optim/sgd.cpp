// SGD: option checks and the per-parameter update (one fused backend kernel).
#include "optim/sgd.h"

#include <cmath>

#include "core/backend.h"

namespace heed::optim {
namespace {

HyperParams to_hyper(const SGDOptions& o) {
  HyperParams h;
  h.lr = o.lr;
  h.momentum = o.momentum;
  h.dampening = o.dampening;
  h.nesterov = o.nesterov;
  h.weight_decay = o.weight_decay;
  h.maximize = o.maximize;
  return h;
}

}  // namespace

SGD::SGD(const NamedParameters& params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{ParamGroup{params, {}}}, options) {}

SGD::SGD(const std::vector<ParamGroup>& groups, const SGDOptions& defaults)
    : Optimizer(to_hyper(defaults)) {
  check_options(this->defaults(), "the defaults");
  init_groups(groups);
}

const std::vector<std::string>& SGD::option_names() const {
  static const std::vector<std::string> names{"lr",       "momentum",     "dampening",
                                              "nesterov", "weight_decay", "maximize"};
  return names;
}

const std::vector<std::string>& SGD::buffer_names() const {
  static const std::vector<std::string> names{"momentum_buffer"};
  return names;
}

void SGD::check_options(const HyperParams& h, const std::string& where) const {
  HEED_CHECK(std::isfinite(h.lr) && h.lr >= 0, "SGD: invalid learning rate ", h.lr, " in ", where,
             "; it must be >= 0");
  HEED_CHECK(std::isfinite(h.momentum) && h.momentum >= 0, "SGD: invalid momentum ", h.momentum,
             " in ", where, "; it must be >= 0");
  HEED_CHECK(std::isfinite(h.dampening), "SGD: invalid dampening ", h.dampening, " in ", where);
  HEED_CHECK(std::isfinite(h.weight_decay) && h.weight_decay >= 0, "SGD: invalid weight_decay ",
             h.weight_decay, " in ", where, "; it must be >= 0");
  HEED_CHECK(!h.nesterov || (h.momentum > 0 && h.dampening == 0), "SGD: nesterov momentum needs ",
             "momentum > 0 and dampening == 0, got momentum ", h.momentum, " and dampening ",
             h.dampening, " in ", where);
}

void SGD::update(const Tensor& param, const Tensor& grad, const HyperParams& h, ParamState& state) {
  SgdUpdate args;
  args.lr = h.lr;
  args.momentum = h.momentum;
  args.dampening = h.dampening;
  args.weight_decay = h.weight_decay;
  args.nesterov = h.nesterov;
  args.maximize = h.maximize;
  Tensor buf;
  if (h.momentum != 0) {
    Tensor& b = state.buffers["momentum_buffer"];
    if (!b.defined()) {
      b = empty(param.shape(), TensorOptions(param.dtype(), param.device()));
      args.init_buffer = true;
    }
    buf = b;
  }
  backend_of(param).sgd_update(param, grad, buf, args);
}

}  // namespace heed::optim

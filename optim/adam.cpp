// Adam and AdamW: option checks and the per-parameter update (one fused
// backend kernel; the two differ only in how weight decay is applied).
#include "optim/adam.h"

#include <cmath>

#include "core/backend.h"

namespace heed::optim {
namespace {

template <typename Options>
HyperParams to_hyper(const Options& o) {
  HyperParams h;
  h.lr = o.lr;
  h.betas = o.betas;
  h.eps = o.eps;
  h.weight_decay = o.weight_decay;
  h.amsgrad = o.amsgrad;
  h.maximize = o.maximize;
  return h;
}

}  // namespace

Adam::Adam(const NamedParameters& params, const AdamOptions& options)
    : Adam(std::vector<ParamGroup>{ParamGroup{params, {}}}, to_hyper(options), false) {}

Adam::Adam(const std::vector<ParamGroup>& groups, const AdamOptions& defaults)
    : Adam(groups, to_hyper(defaults), false) {}

Adam::Adam(const std::vector<ParamGroup>& groups, const HyperParams& defaults, bool decoupled)
    : Optimizer(defaults), decoupled_(decoupled) {
  check_options(this->defaults(), "the defaults");
  init_groups(groups);
}

AdamW::AdamW(const NamedParameters& params, const AdamWOptions& options)
    : Adam(std::vector<ParamGroup>{ParamGroup{params, {}}}, to_hyper(options), true) {}

AdamW::AdamW(const std::vector<ParamGroup>& groups, const AdamWOptions& defaults)
    : Adam(groups, to_hyper(defaults), true) {}

const std::vector<std::string>& Adam::option_names() const {
  static const std::vector<std::string> names{"lr",           "betas",   "eps",
                                              "weight_decay", "amsgrad", "maximize"};
  return names;
}

const std::vector<std::string>& Adam::buffer_names() const {
  static const std::vector<std::string> names{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return names;
}

void Adam::check_options(const HyperParams& h, const std::string& where) const {
  const std::string_view n = name();
  HEED_CHECK(std::isfinite(h.lr) && h.lr >= 0, n, ": invalid learning rate ", h.lr, " in ", where,
             "; it must be >= 0");
  HEED_CHECK(std::isfinite(h.eps) && h.eps >= 0, n, ": invalid eps ", h.eps, " in ", where,
             "; it must be >= 0");
  HEED_CHECK(h.betas.first >= 0 && h.betas.first < 1, n, ": invalid betas[0] ", h.betas.first,
             " in ", where, "; it must be in [0, 1)");
  HEED_CHECK(h.betas.second >= 0 && h.betas.second < 1, n, ": invalid betas[1] ", h.betas.second,
             " in ", where, "; it must be in [0, 1)");
  HEED_CHECK(std::isfinite(h.weight_decay) && h.weight_decay >= 0, n, ": invalid weight_decay ",
             h.weight_decay, " in ", where, "; it must be >= 0");
}

void Adam::update(const Tensor& param, const Tensor& grad, const HyperParams& h,
                  ParamState& state) {
  auto zeros_like_param = [&] {
    return zeros(param.shape(), TensorOptions(param.dtype(), param.device()));
  };
  Tensor& exp_avg = state.buffers["exp_avg"];
  Tensor& exp_avg_sq = state.buffers["exp_avg_sq"];
  if (!exp_avg.defined()) {
    exp_avg = zeros_like_param();
    exp_avg_sq = zeros_like_param();
  }
  Tensor max_exp_avg_sq;
  if (h.amsgrad) {
    // Created late too when amsgrad is switched on mid-run: max(0, v) = v.
    Tensor& m = state.buffers["max_exp_avg_sq"];
    if (!m.defined()) m = zeros_like_param();
    max_exp_avg_sq = m;
  }
  state.step += 1;
  AdamUpdate args;
  args.lr = h.lr;
  args.beta1 = h.betas.first;
  args.beta2 = h.betas.second;
  args.eps = h.eps;
  args.weight_decay = h.weight_decay;
  args.decoupled_weight_decay = decoupled_;
  args.amsgrad = h.amsgrad;
  args.maximize = h.maximize;
  args.step = state.step;
  backend_of(param).adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, args);
}

void Adam::check_state(const std::string& param, const ParamState& state) const {
  auto has = [&](const char* b) {
    auto it = state.buffers.find(b);
    return it != state.buffers.end() && it->second.defined();
  };
  if (state.step == 0 && !has("exp_avg") && !has("exp_avg_sq") && !has("max_exp_avg_sq")) return;
  const std::string op = std::string(name()) + ".load_state_dict";
  HEED_CHECK(state.step > 0, op, ": parameter '", param, "' has moment buffers but no step/", param,
             " (or a step of 0)");
  HEED_CHECK(has("exp_avg") && has("exp_avg_sq"), op, ": parameter '", param,
             "' needs both exp_avg/", param, " and exp_avg_sq/", param, " (step ", state.step, ")");
}

}  // namespace heed::optim

// Optimizer base: groups, the step loop, and the name-keyed state dict.
#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "core/autograd/grad_mode.h"

namespace heed::optim {
namespace {

using nlohmann::json;

bool contains(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string group_where(size_t i) {
  return "param group " + std::to_string(i);
}

// The fields a GroupOptions sets, by HyperParams name.
std::vector<std::string> set_fields(const GroupOptions& o) {
  std::vector<std::string> f;
  if (o.lr) f.push_back("lr");
  if (o.momentum) f.push_back("momentum");
  if (o.dampening) f.push_back("dampening");
  if (o.nesterov) f.push_back("nesterov");
  if (o.weight_decay) f.push_back("weight_decay");
  if (o.betas) f.push_back("betas");
  if (o.eps) f.push_back("eps");
  if (o.amsgrad) f.push_back("amsgrad");
  if (o.maximize) f.push_back("maximize");
  return f;
}

void apply_overrides(HyperParams& h, const GroupOptions& o) {
  h.lr = o.lr.value_or(h.lr);
  h.momentum = o.momentum.value_or(h.momentum);
  h.dampening = o.dampening.value_or(h.dampening);
  h.nesterov = o.nesterov.value_or(h.nesterov);
  h.weight_decay = o.weight_decay.value_or(h.weight_decay);
  h.betas = o.betas.value_or(h.betas);
  h.eps = o.eps.value_or(h.eps);
  h.amsgrad = o.amsgrad.value_or(h.amsgrad);
  h.maximize = o.maximize.value_or(h.maximize);
}

json field_to_json(const HyperParams& h, const std::string& k) {
  if (k == "lr") return h.lr;
  if (k == "momentum") return h.momentum;
  if (k == "dampening") return h.dampening;
  if (k == "nesterov") return h.nesterov;
  if (k == "weight_decay") return h.weight_decay;
  if (k == "betas") return json::array({h.betas.first, h.betas.second});
  if (k == "eps") return h.eps;
  if (k == "amsgrad") return h.amsgrad;
  if (k == "maximize") return h.maximize;
  HEED_FAIL("optimizer: unknown hyper-parameter '", k, "'");
}

// Throws nlohmann::json::exception on a wrong JSON type.
void field_from_json(HyperParams& h, const std::string& k, const json& v) {
  if (k == "lr")
    h.lr = v.get<double>();
  else if (k == "momentum")
    h.momentum = v.get<double>();
  else if (k == "dampening")
    h.dampening = v.get<double>();
  else if (k == "nesterov")
    h.nesterov = v.get<bool>();
  else if (k == "weight_decay")
    h.weight_decay = v.get<double>();
  else if (k == "eps")
    h.eps = v.get<double>();
  else if (k == "amsgrad")
    h.amsgrad = v.get<bool>();
  else if (k == "maximize")
    h.maximize = v.get<bool>();
  else if (k == "betas") {
    auto b = v.get<std::vector<double>>();
    HEED_CHECK(b.size() == 2, "optimizer: betas must hold 2 numbers, got ", b.size());
    h.betas = {b[0], b[1]};
  } else {
    HEED_FAIL("optimizer: unknown hyper-parameter '", k, "'");
  }
}

}  // namespace

void Optimizer::init_groups(const std::vector<ParamGroup>& groups) {
  for (const ParamGroup& g : groups) add_param_group(g);
  size_t total = 0;
  for (const Group& g : groups_) total += g.params.size();
  HEED_CHECK(total > 0, name(), ": got an empty parameter list");
}

void Optimizer::add_param_group(const ParamGroup& group) {
  const std::string where = group_where(groups_.size());
  for (const std::string& f : set_fields(group.options))
    HEED_CHECK(contains(option_names(), f), name(), ": ", where, " sets '", f, "', which ", name(),
               " does not use (it uses: ", join(option_names()), ")");
  HyperParams h = defaults_;
  apply_overrides(h, group.options);
  check_options(h, where);

  // Every name and every tensor at most once in the whole optimizer.
  std::unordered_map<std::string, std::string> names;  // name -> where
  std::unordered_map<const TensorImpl*, std::string> tensors;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    for (const auto& [n, p] : groups_[gi].params) {
      names.emplace(n, group_where(gi));
      tensors.emplace(p.impl(), n);
    }
  }
  for (const auto& [n, p] : group.params) {
    HEED_CHECK(!n.empty() && n.find('/') == std::string::npos, name(), ": parameter name '", n,
               "' (", where, ") must be non-empty and contain no '/'");
    HEED_CHECK(p.defined(), name(), ": parameter '", n, "' (", where, ") is an undefined tensor");
    HEED_CHECK(p.is_floating_point(), name(), ": parameter '", n, "' is ", p.dtype(),
               "; only float32 and float64 tensors can be optimized");
    HEED_CHECK(p.is_leaf(), name(), ": parameter '", n,
               "' is not a leaf tensor (it has a grad_fn); optimize the leaf it comes from");
    auto [it, fresh] = names.emplace(n, where);
    HEED_CHECK(fresh, name(), ": parameter name '", n, "' appears twice (", it->second, " and ",
               where, ")");
    auto [jt, fresh_t] = tensors.emplace(p.impl(), n);
    HEED_CHECK(fresh_t, name(), ": parameters '", jt->second, "' and '", n,
               "' are the same tensor; a tensor may appear in one group only, once");
  }
  groups_.push_back({group.params, h});
}

void Optimizer::step() {
  NoGradGuard no_grad;
  // Check every group before touching any parameter.
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    check_options(groups_[gi].options, group_where(gi));
  for (Group& g : groups_) {
    for (const auto& [n, p] : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      HEED_CHECK(
          grad.dtype() == p.dtype() && grad.device() == p.device() && grad.shape() == p.shape(),
          name(), ": the gradient of '", n, "' is ", grad.dtype(), " ", shape_str(grad.shape()),
          " on ", grad.device(), " but the parameter is ", p.dtype(), " ", shape_str(p.shape()),
          " on ", p.device());
      update(p, grad, g.options, state_[n]);
    }
  }
}

void Optimizer::zero_grad() {
  for (Group& g : groups_)
    for (auto& [n, p] : g.params)
      if (p.grad().defined()) p.set_grad(Tensor());
}

OptimizerState Optimizer::state_dict() const {
  NoGradGuard no_grad;
  OptimizerState out;
  json groups = json::array();
  for (const Group& g : groups_) {
    json gj = json::object();
    for (const std::string& k : option_names()) gj[k] = field_to_json(g.options, k);
    json names = json::array();
    for (const auto& [n, p] : g.params) names.push_back(n);
    gj["params"] = std::move(names);
    groups.push_back(std::move(gj));
  }
  out.meta = {{"optimizer", std::string(name())}, {"param_groups", std::move(groups)}};
  for (const auto& [n, st] : state_) {
    if (st.step > 0) out.tensors["step/" + n] = scalar_tensor(double(st.step), kInt64);
    for (const auto& [b, t] : st.buffers)
      if (t.defined()) out.tensors[b + "/" + n] = t.clone();
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  NoGradGuard no_grad;
  const std::string op = std::string(name()) + ".load_state_dict";

  // 1. Hyper-parameters, group by group, with the same parameter names.
  std::vector<HyperParams> options;
  try {
    const json& m = state.meta;
    HEED_CHECK(m.is_object() && m.contains("optimizer") && m.contains("param_groups"), op,
               ": meta must be an object with \"optimizer\" and \"param_groups\", got ", m.dump());
    const std::string saved = m.at("optimizer").get<std::string>();
    HEED_CHECK(saved == name(), op, ": the state was saved by ", saved, ", not ", name());
    const json& gs = m.at("param_groups");
    HEED_CHECK(gs.is_array() && gs.size() == groups_.size(), op, ": the state has ",
               gs.is_array() ? gs.size() : 0, " param groups, this optimizer has ", groups_.size());
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const json& gj = gs[gi];
      const std::string where = group_where(gi);
      HEED_CHECK(gj.is_object() && gj.contains("params"), op, ": ", where,
                 " must be an object with \"params\"");
      auto saved_names = gj.at("params").get<std::vector<std::string>>();
      std::unordered_set<std::string> saved_set(saved_names.begin(), saved_names.end());
      std::unordered_set<std::string> mine;
      for (const auto& [n, p] : groups_[gi].params) {
        mine.insert(n);
        HEED_CHECK(saved_set.count(n), op, ": ", where, " of this optimizer has parameter '", n,
                   "', which the state's ", where, " lacks");
      }
      for (const std::string& n : saved_names)
        HEED_CHECK(mine.count(n), op, ": the state's ", where, " has parameter '", n,
                   "', which this optimizer's ", where, " lacks");
      HEED_CHECK(saved_set.size() == saved_names.size(), op, ": the state's ", where,
                 " lists a parameter twice");
      HyperParams h = groups_[gi].options;
      for (const auto& [k, v] : gj.items()) {
        if (k == "params") continue;
        HEED_CHECK(contains(option_names(), k), op, ": the state's ", where,
                   " has hyper-parameter '", k, "', which ", name(), " does not use");
        field_from_json(h, k, v);
      }
      check_options(h, where + " of the loaded state");
      options.push_back(h);
    }
  } catch (const nlohmann::json::exception& e) {
    HEED_FAIL(op, ": malformed meta: ", e.what());
  }

  // 2. Per-parameter tensors "<buffer>/<parameter>", checked and copied.
  std::unordered_map<std::string, const Tensor*> params;
  for (const Group& g : groups_)
    for (const auto& [n, p] : g.params) params.emplace(n, &p);
  std::unordered_map<std::string, ParamState> fresh;
  for (const auto& [key, t] : state.tensors) {
    const size_t slash = key.find('/');
    HEED_CHECK(slash != std::string::npos && slash > 0, op, ": state key '", key,
               "' is not of the form <buffer>/<parameter name>");
    const std::string buf = key.substr(0, slash), pname = key.substr(slash + 1);
    auto it = params.find(pname);
    HEED_CHECK(it != params.end(), op, ": state '", key, "' is for parameter '", pname,
               "', which this optimizer does not hold");
    HEED_CHECK(t.defined(), op, ": state '", key, "' is an undefined tensor");
    const Tensor& p = *it->second;
    if (buf == "step") {
      HEED_CHECK(t.numel() == 1, op, ": state '", key, "' must hold one number, got shape ",
                 shape_str(t.shape()));
      const double v = t.item();
      HEED_CHECK(v >= 0 && v == std::floor(v) && v < 9.0e15, op, ": state '", key,
                 "' must be a step count >= 0, got ", v);
      fresh[pname].step = int64_t(v);
      continue;
    }
    HEED_CHECK(contains(buffer_names(), buf), op, ": state '", key, "' is a '", buf,
               "' buffer, which ", name(), " does not keep (it keeps: ", join(buffer_names()),
               ", step)");
    HEED_CHECK(t.shape() == p.shape(), op, ": state '", key, "' has shape ", shape_str(t.shape()),
               " but parameter '", pname, "' has shape ", shape_str(p.shape()));
    HEED_CHECK(t.is_floating_point(), op, ": state '", key, "' is ", t.dtype(),
               "; expected a floating dtype");
    Tensor copy = empty(p.shape(), TensorOptions(p.dtype(), p.device()));
    copy.copy_(t.device() == p.device() ? t : t.to(p.device()));
    fresh[pname].buffers[buf] = copy;
  }
  for (const auto& [n, st] : fresh) check_state(n, st);

  // 3. Commit.
  for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = options[gi];
  state_ = std::move(fresh);
}

std::vector<ParamGroup> param_groups_no_decay(const NamedParameters& params, double weight_decay) {
  HEED_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
             "param_groups_no_decay: weight_decay must be >= 0, got ", weight_decay);
  ParamGroup no_decay, decay;
  no_decay.options.weight_decay = 0.0;
  decay.options.weight_decay = weight_decay;
  for (const auto& [n, p] : params) {
    HEED_CHECK(p.defined(), "param_groups_no_decay: parameter '", n, "' is an undefined tensor");
    const bool bias = n == "bias" || (n.size() > 5 && n.ends_with(".bias"));
    (p.dim() <= 1 || bias ? no_decay : decay).params.emplace_back(n, p);
  }
  return {no_decay, decay};
}

}  // namespace heed::optim

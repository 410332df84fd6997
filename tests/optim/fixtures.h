// Shared helpers for the optim tests: loading the PyTorch fixtures written by
// tools/gen_optim_fixtures.py and building optimizers / schedules from them.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optim/optim.h"

namespace heed::optim_test {

using nlohmann::json;
using namespace heed::optim;

inline json load_fixture(const std::string& file) {
  const std::string path = std::string(HEED_FIXTURES_DIR) + "/optim/" + file;
  std::ifstream f(path);
  INFO("fixture " << path << " (regenerate with /usr/bin/python3 tools/gen_optim_fixtures.py)");
  REQUIRE(f.good());
  return json::parse(f);
}

inline DType case_dtype(const json& c) {
  return c.at("dtype") == "float64" ? kFloat64 : kFloat32;
}

inline Tensor make_tensor(const json& values, const Shape& shape, DType dtype) {
  return from_vector(values.get<std::vector<double>>(), shape).to(dtype);
}

// The case's parameters (by name, in fixture order), as leaves requiring grad.
inline NamedParameters make_params(const json& c) {
  NamedParameters out;
  for (const json& p : c.at("params")) {
    Tensor t = make_tensor(p.at("values"), p.at("shape").get<Shape>(), case_dtype(c));
    t.requires_grad_();
    out.emplace_back(p.at("name").get<std::string>(), t);
  }
  return out;
}

inline const Tensor& param(const NamedParameters& ps, const std::string& name) {
  for (const auto& [n, p] : ps)
    if (n == name) return p;
  FAIL("no parameter " << name);
  return ps.front().second;
}

// Sets each parameter's grad to the fixture's gradients of step k (undefined for null).
inline void set_grads(const json& c, size_t k, const NamedParameters& ps) {
  const json& step = c.at("grads").at(k);
  for (const auto& [n, p] : ps) {
    const json& g = step.at(n);
    p.set_grad(g.is_null() ? Tensor() : make_tensor(g, p.shape(), p.dtype()));
  }
}

inline GroupOptions group_options(const json& g) {
  GroupOptions o;
  for (const auto& [k, v] : g.items()) {
    if (k == "params") continue;
    if (k == "lr")
      o.lr = v.get<double>();
    else if (k == "momentum")
      o.momentum = v.get<double>();
    else if (k == "dampening")
      o.dampening = v.get<double>();
    else if (k == "nesterov")
      o.nesterov = v.get<bool>();
    else if (k == "weight_decay")
      o.weight_decay = v.get<double>();
    else if (k == "eps")
      o.eps = v.get<double>();
    else if (k == "amsgrad")
      o.amsgrad = v.get<bool>();
    else if (k == "maximize")
      o.maximize = v.get<bool>();
    else if (k == "betas")
      o.betas = std::pair{v[0].get<double>(), v[1].get<double>()};
    else
      FAIL("unknown option " << k);
  }
  return o;
}

inline std::unique_ptr<Optimizer> make_optimizer(const json& spec, const NamedParameters& ps) {
  std::vector<ParamGroup> groups;
  for (const json& g : spec.at("groups")) {
    ParamGroup pg;
    for (const json& n : g.at("params")) pg.params.emplace_back(n, param(ps, n));
    pg.options = group_options(g);
    groups.push_back(pg);
  }
  // Defaults: the fixture's, on top of each optimizer's own.
  const GroupOptions d = group_options(spec.at("defaults"));
  const std::string type = spec.at("type");
  if (type == "SGD") {
    SGDOptions o;
    o.lr = d.lr.value_or(o.lr);
    o.momentum = d.momentum.value_or(o.momentum);
    o.dampening = d.dampening.value_or(o.dampening);
    o.nesterov = d.nesterov.value_or(o.nesterov);
    o.weight_decay = d.weight_decay.value_or(o.weight_decay);
    o.maximize = d.maximize.value_or(o.maximize);
    return std::make_unique<SGD>(groups, o);
  }
  auto adam_like = [&](auto o) {
    o.lr = d.lr.value_or(o.lr);
    o.betas = d.betas.value_or(o.betas);
    o.eps = d.eps.value_or(o.eps);
    o.weight_decay = d.weight_decay.value_or(o.weight_decay);
    o.amsgrad = d.amsgrad.value_or(o.amsgrad);
    o.maximize = d.maximize.value_or(o.maximize);
    return o;
  };
  if (type == "Adam") return std::make_unique<Adam>(groups, adam_like(AdamOptions{}));
  if (type == "AdamW") return std::make_unique<AdamW>(groups, adam_like(AdamWOptions{}));
  FAIL("unknown optimizer " << type);
  return nullptr;
}

inline std::unique_ptr<LRScheduler> make_scheduler(const json& s, Optimizer& opt) {
  const std::string type = s.at("type");
  if (type == "StepLR") return std::make_unique<StepLR>(opt, s.at("step_size"), s.at("gamma"));
  if (type == "MultiStepLR")
    return std::make_unique<MultiStepLR>(opt, s.at("milestones").get<std::vector<int64_t>>(),
                                         s.at("gamma"));
  if (type == "CosineAnnealingLR")
    return std::make_unique<CosineAnnealingLR>(opt, s.at("T_max"), s.at("eta_min"));
  if (type == "LinearWarmup") {
    if (s.contains("inner"))
      return std::make_unique<LinearWarmup>(make_scheduler(s.at("inner"), opt),
                                            s.at("warmup_steps"), s.at("start_factor"));
    return std::make_unique<LinearWarmup>(opt, s.at("warmup_steps"), s.at("start_factor"));
  }
  if (type == "OneCycleLR") {
    OneCycleOptions o;
    o.total_steps = s.at("total_steps");
    o.pct_start = s.value("pct_start", o.pct_start);
    o.three_phase = s.value("three_phase", o.three_phase);
    o.cycle_momentum = s.value("cycle_momentum", o.cycle_momentum);
    if (s.value("anneal_strategy", "cos") == "linear") o.anneal_strategy = Anneal::Linear;
    const json& m = s.at("max_lr");
    if (m.is_array()) return std::make_unique<OneCycleLR>(opt, m.get<std::vector<double>>(), o);
    return std::make_unique<OneCycleLR>(opt, m.get<double>(), o);
  }
  FAIL("unknown scheduler " << type);
  return nullptr;
}

// Relative 1e-6, with an absolute floor of a few float32 ulps of O(1) values
// for elements near zero.
inline void check_close(const std::vector<double>& got, const std::vector<double>& want,
                        DType dtype, const std::string& what) {
  REQUIRE(got.size() == want.size());
  const double margin = dtype == kFloat32 ? 2e-7 : 1e-13;
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(what << "[" << i << "]");
    CHECK(got[i] == Approx(want[i]).epsilon(1e-6).margin(margin));
  }
}

inline std::vector<double> values_of(const Tensor& t) {
  return t.to_vector<double>();
}

inline std::vector<double> group_lrs(const Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.options.lr);
  return out;
}

inline std::vector<double> group_momenta(const Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups())
    out.push_back(opt.uses_betas() ? g.options.betas.first : g.options.momentum);
  return out;
}

}  // namespace heed::optim_test

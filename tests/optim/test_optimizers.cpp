// SGD / Adam / AdamW against torch.optim (fixtures from tools/gen_optim_fixtures.py),
// the fused kernels against a readable composed reference, parameter groups,
// zero_grad, state_dict round trips and the errors users meet.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops/ops.h"
#include "optim/optim.h"
#include "tests/optim/fixtures.h"

using namespace heed;
using namespace heed::optim;
using namespace heed::optim_test;

TEST_CASE("optimizers match torch.optim step by step", "[optim]") {
  const json fx = load_fixture("optimizers.json");
  REQUIRE(fx.at("cases").size() >= 28);
  for (const json& c : fx.at("cases")) {
    const std::string name =
        c.at("name").get<std::string>() + " (" + c.at("dtype").get<std::string>() + ")";
    SECTION(name) {
      NamedParameters ps = make_params(c);
      auto opt = make_optimizer(c.at("optimizer"), ps);
      const size_t steps = c.at("expected").size();
      REQUIRE(steps == 5);
      for (size_t k = 0; k < steps; ++k) {
        set_grads(c, k, ps);
        opt->step();
        for (const auto& [n, p] : ps)
          check_close(values_of(p),
                      c.at("expected")[k].at("params").at(n).get<std::vector<double>>(), p.dtype(),
                      name + " step " + std::to_string(k + 1) + " " + n);
      }
    }
  }
}

TEST_CASE("state_dict mid-run: a fresh optimizer continues identically", "[optim]") {
  const json fx = load_fixture("optimizers.json");
  for (const json& c : fx.at("cases")) {
    if (c.at("dtype") != "float32") continue;
    SECTION(c.at("name").get<std::string>()) {
      NamedParameters a = make_params(c);
      auto opt_a = make_optimizer(c.at("optimizer"), a);
      for (size_t k = 0; k < 3; ++k) {  // step 3 has no gradient for b
        set_grads(c, k, a);
        opt_a->step();
      }
      OptimizerState saved = opt_a->state_dict();
      // Through text, as a checkpoint's metadata string would go.
      saved.meta = json::parse(saved.meta.dump());

      NamedParameters b = make_params(c);
      for (size_t i = 0; i < a.size(); ++i) {
        NoGradGuard no_grad;
        b[i].second.copy_(a[i].second);
      }
      // Different hyper-parameters at construction: the loaded ones must win.
      json spec = c.at("optimizer");
      spec["defaults"]["lr"] = 123.0;
      auto opt_b = make_optimizer(spec, b);
      opt_b->load_state_dict(saved);
      CHECK(group_lrs(*opt_b) == group_lrs(*opt_a));

      for (size_t k = 3; k < 5; ++k) {
        set_grads(c, k, a);
        set_grads(c, k, b);
        opt_a->step();
        opt_b->step();
      }
      for (size_t i = 0; i < a.size(); ++i) {
        CHECK(values_of(b[i].second) == values_of(a[i].second));
        check_close(values_of(b[i].second),
                    c.at("expected")[4].at("params").at(a[i].first).get<std::vector<double>>(),
                    kFloat32, "resumed " + a[i].first);
      }
    }
  }
}

TEST_CASE("state_dict names tensors by buffer and parameter name", "[optim]") {
  Tensor w = ones({2, 2}).requires_grad_(), b = zeros({2}).requires_grad_();
  NamedParameters ps{{"layer1.0.conv1.weight", w}, {"fc.bias", b}};
  SECTION("SGD with momentum: momentum_buffer/<name>, no step") {
    SGD opt(ps, {.lr = 0.1, .momentum = 0.9});
    CHECK(opt.state_dict().tensors.empty());  // no state before the first step
    w.set_grad(full({2, 2}, 0.5));
    opt.step();
    OptimizerState s = opt.state_dict();
    REQUIRE(s.tensors.size() == 1);  // b had no grad: no buffer
    CHECK(s.tensors.count("momentum_buffer/layer1.0.conv1.weight") == 1);
    CHECK(s.meta["optimizer"] == "SGD");
    CHECK(s.meta["param_groups"][0]["params"] == json({"layer1.0.conv1.weight", "fc.bias"}));
    CHECK(s.meta["param_groups"][0]["momentum"] == 0.9);
    CHECK_FALSE(s.meta["param_groups"][0].contains("betas"));
    // A snapshot: later steps leave it alone.
    const auto before = values_of(s.tensors["momentum_buffer/layer1.0.conv1.weight"]);
    opt.step();
    CHECK(values_of(s.tensors["momentum_buffer/layer1.0.conv1.weight"]) == before);
  }
  SECTION("Adam amsgrad: exp_avg, exp_avg_sq, max_exp_avg_sq and an int64 step") {
    Adam opt(ps, {.lr = 0.1, .amsgrad = true});
    w.set_grad(full({2, 2}, 0.5));
    b.set_grad(full({2}, -1.0));
    opt.step();
    opt.step();
    OptimizerState s = opt.state_dict();
    CHECK(s.tensors.size() == 8);
    for (const char* buf : {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
      CHECK(s.tensors.count(std::string(buf) + "/fc.bias") == 1);
    const Tensor& step = s.tensors.at("step/layer1.0.conv1.weight");
    CHECK(step.dtype() == kInt64);
    CHECK(step.item() == 2);
    CHECK(s.meta["optimizer"] == "Adam");
    CHECK(s.meta["param_groups"][0]["betas"] == json({0.9, 0.999}));
    CHECK(s.meta["param_groups"][0]["amsgrad"] == true);
  }
}

TEST_CASE("load_state_dict checks names, shapes and kinds, and changes nothing on error",
          "[optim]") {
  Tensor w = ones({2, 3}).requires_grad_(), b = ones({3}).requires_grad_();
  NamedParameters ps{{"w", w}, {"b", b}};
  Adam opt(ps, {.lr = 0.01});
  w.set_grad(full({2, 3}, 0.1));
  b.set_grad(full({3}, 0.2));
  opt.step();
  const OptimizerState good = opt.state_dict();

  auto unchanged = [&] {
    OptimizerState now = opt.state_dict();
    CHECK(now.meta == good.meta);
    REQUIRE(now.tensors.size() == good.tensors.size());
    for (const auto& [k, t] : good.tensors) CHECK(values_of(now.tensors.at(k)) == values_of(t));
  };

  SECTION("a state from another optimizer") {
    SGD sgd(ps, {.lr = 0.1, .momentum = 0.9});
    sgd.step();
    CHECK_THROWS_WITH(
        opt.load_state_dict(sgd.state_dict()),
        Catch::Contains("Adam.load_state_dict: the state was saved by SGD, not Adam"));
  }
  SECTION("an unknown parameter name") {
    OptimizerState s = good;
    s.tensors["exp_avg/fc.weight"] = zeros({2, 3});
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("state 'exp_avg/fc.weight' is for parameter 'fc.weight', "
                                      "which this optimizer does not hold"));
  }
  SECTION("a wrong shape") {
    OptimizerState s = good;
    s.tensors["exp_avg/w"] = zeros({3, 2});
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("state 'exp_avg/w' has shape [3, 2] but parameter 'w' has "
                                      "shape [2, 3]"));
  }
  SECTION("a buffer this optimizer does not keep") {
    OptimizerState s = good;
    s.tensors["momentum_buffer/w"] = zeros({2, 3});
    CHECK_THROWS_WITH(opt.load_state_dict(s), Catch::Contains("is a 'momentum_buffer' buffer, "
                                                              "which Adam does not keep"));
  }
  SECTION("an incomplete Adam state") {
    OptimizerState s = good;
    s.tensors.erase("exp_avg_sq/b");
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("parameter 'b' needs both exp_avg/b and exp_avg_sq/b"));
  }
  SECTION("different parameter names in a group") {
    OptimizerState s = good;
    s.meta["param_groups"][0]["params"] = json({"w", "bias"});
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("param group 0 of this optimizer has parameter 'b', which "
                                      "the state's param group 0 lacks"));
  }
  SECTION("a different number of groups") {
    OptimizerState s = good;
    s.meta["param_groups"].push_back(s.meta["param_groups"][0]);
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("the state has 2 param groups, this optimizer has 1"));
  }
  SECTION("bad hyper-parameters") {
    OptimizerState s = good;
    s.meta["param_groups"][0]["betas"] = json({1.5, 0.9});
    CHECK_THROWS_WITH(opt.load_state_dict(s), Catch::Contains("Adam: invalid betas[0] 1.5"));
    s = good;
    s.meta["param_groups"][0]["lr"] = "fast";
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("Adam.load_state_dict: malformed meta"));
    s = good;
    s.meta["param_groups"][0]["momentum"] = 0.9;
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("has hyper-parameter 'momentum', which Adam does not use"));
  }
  SECTION("a bad step count") {
    OptimizerState s = good;
    s.tensors["step/w"] = scalar_tensor(-1, kInt64);
    CHECK_THROWS_WITH(opt.load_state_dict(s),
                      Catch::Contains("state 'step/w' must be a step count >= 0, got -1"));
  }
  unchanged();
}

TEST_CASE("load_state_dict converts state to the parameters' dtype", "[optim]") {
  Tensor w32 = ones({3}).requires_grad_();
  SGD a({{"w", w32}}, {.lr = 0.1, .momentum = 0.5});
  w32.set_grad(tensor({1, 2, 3}));
  a.step();
  Tensor w64 = ones({3}, kFloat64).requires_grad_();
  SGD b({{"w", w64}}, {.lr = 0.1, .momentum = 0.5});
  b.load_state_dict(a.state_dict());
  const Tensor buf = b.state_dict().tensors.at("momentum_buffer/w");
  CHECK(buf.dtype() == kFloat64);
  CHECK(values_of(buf) == std::vector<double>{1, 2, 3});
}

TEST_CASE("zero_grad sets grads to undefined; params without grad are skipped", "[optim]") {
  Tensor w = tensor({1, 2}).requires_grad_(), b = tensor({3}).requires_grad_();
  SGD opt({{"w", w}, {"b", b}}, {.lr = 0.5});
  w.set_grad(tensor({1, 1}));
  opt.step();  // b has no grad
  CHECK(values_of(w) == std::vector<double>{0.5, 1.5});
  CHECK(values_of(b) == std::vector<double>{3});
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
  CHECK_FALSE(b.grad().defined());
  opt.step();  // nothing to do
  CHECK(values_of(w) == std::vector<double>{0.5, 1.5});
}

TEST_CASE("the optimizer trains through autograd", "[optim]") {
  // Minimise sum((w - t)^2) with plain gradients from backward().
  Tensor t = tensor({1, -2, 3});
  Tensor w = zeros({3}).requires_grad_();
  SGD opt({{"w", w}}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  double first = 0, last = 0;
  for (int i = 0; i < 60; ++i) {
    Tensor loss = sum((w - t) * (w - t));
    if (i == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  CHECK(first == Approx(14));
  CHECK(last < 1e-3);
  CHECK_FALSE(w.grad_fn());  // still a leaf: updates are not recorded
}

namespace {

// Readable references composed of Tensor ops (float64), in PyTorch's order.
void sgd_reference(Tensor& p, const Tensor& g0, Tensor& buf, bool first, const SGDOptions& o) {
  Tensor d = o.maximize ? -g0 : g0;
  if (o.weight_decay != 0) d = d + o.weight_decay * p;
  if (o.momentum != 0) {
    buf = first ? d : buf * o.momentum + (1 - o.dampening) * d;
    d = o.nesterov ? d + o.momentum * buf : buf;
  }
  p = p - o.lr * d;
}

void adam_reference(Tensor& p, const Tensor& g0, Tensor& m, Tensor& v, Tensor& vmax, int step,
                    const AdamOptions& o, bool decoupled) {
  Tensor g = o.maximize ? -g0 : g0;
  if (decoupled)
    p = p * (1 - o.lr * o.weight_decay);
  else if (o.weight_decay != 0)
    g = g + o.weight_decay * p;
  const auto [b1, b2] = o.betas;
  m = m * b1 + (1 - b1) * g;
  v = v * b2 + (1 - b2) * g * g;
  Tensor vhat = v;
  if (o.amsgrad) vhat = vmax = maximum(vmax, v);
  const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
  p = p - (o.lr / bc1) * m / (sqrt(vhat) / std::sqrt(bc2) + o.eps);
}

void check_same(const Tensor& got, const Tensor& want) {
  const auto a = values_of(got), b = values_of(want);
  REQUIRE(a.size() == b.size());
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > 1e-12 * (1 + std::abs(b[i]))) ++bad;
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("fused kernels equal the composed reference on large and strided tensors", "[optim]") {
  // 300 x 400 = 120k elements: several parallel chunks. The parameter is a
  // transposed (non-contiguous) leaf in half the runs.
  Generator gen(42);
  Tensor init = randn({300, 400}, kFloat64, &gen);
  std::vector<Tensor> grads;
  for (int k = 0; k < 3; ++k) grads.push_back(randn({300, 400}, kFloat64, &gen));
  const bool strided = GENERATE(false, true);
  auto make_param = [&] {
    Tensor p = strided ? init.t().contiguous().t() : init.clone();
    p.requires_grad_();
    return p;
  };

  SECTION("SGD nesterov + weight decay, and dampening + maximize") {
    for (SGDOptions o :
         {SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01},
          SGDOptions{.lr = 0.05, .momentum = 0.7, .dampening = 0.2, .maximize = true}}) {
      Tensor p = make_param();
      SGD opt({{"p", p}}, o);
      Tensor ref = init.clone(), buf;
      for (int k = 0; k < 3; ++k) {
        p.set_grad(grads[size_t(k)]);
        opt.step();
        sgd_reference(ref, grads[size_t(k)], buf, k == 0, o);
      }
      CHECK(p.is_contiguous() == !strided);
      check_same(p, ref);
    }
  }
  SECTION("Adam amsgrad + L2, AdamW") {
    for (bool decoupled : {false, true}) {
      AdamOptions o{
          .lr = 0.01, .betas = {0.8, 0.95}, .eps = 1e-6, .weight_decay = 0.1, .amsgrad = true};
      Tensor p = make_param();
      std::unique_ptr<Optimizer> opt;
      if (decoupled) {
        opt = std::make_unique<AdamW>(NamedParameters{{"p", p}},
                                      AdamWOptions{.lr = o.lr,
                                                   .betas = o.betas,
                                                   .eps = o.eps,
                                                   .weight_decay = o.weight_decay,
                                                   .amsgrad = true});
      } else {
        opt = std::make_unique<Adam>(NamedParameters{{"p", p}}, o);
      }
      Tensor ref = init.clone(), m = zeros_like(init), v = zeros_like(init),
             vmax = zeros_like(init);
      for (int k = 0; k < 3; ++k) {
        p.set_grad(grads[size_t(k)]);
        opt->step();
        adam_reference(ref, grads[size_t(k)], m, v, vmax, k + 1, o, decoupled);
      }
      check_same(p, ref);
    }
  }
}

TEST_CASE("parameter groups: own options, overrides and the no-decay recipe", "[optim]") {
  Tensor conv_w = ones({4, 3, 3, 3}), conv_b = ones({4}), bn_w = ones({4}), fc_w = ones({10, 4}),
         weird_bias = ones({2, 2}), scale = ones({});
  NamedParameters ps{{"conv.weight", conv_w}, {"conv.bias", conv_b},    {"bn.weight", bn_w},
                     {"fc.weight", fc_w},     {"odd.bias", weird_bias}, {"scale", scale}};
  std::vector<ParamGroup> groups = param_groups_no_decay(ps, 5e-4);
  REQUIRE(groups.size() == 2);
  auto names = [](const ParamGroup& g) {
    std::vector<std::string> out;
    for (const auto& [n, p] : g.params) out.push_back(n);
    return out;
  };
  CHECK(names(groups[0]) ==
        std::vector<std::string>{"conv.bias", "bn.weight", "odd.bias", "scale"});
  CHECK(names(groups[1]) == std::vector<std::string>{"conv.weight", "fc.weight"});
  CHECK(groups[0].options.weight_decay == 0.0);
  CHECK(groups[1].options.weight_decay == 5e-4);

  AdamW opt(groups, {.lr = 0.01});
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[0].options.weight_decay == 0.0);
  CHECK(opt.param_groups()[1].options.weight_decay == 5e-4);
  CHECK(opt.param_groups()[1].options.lr == 0.01);  // defaults fill the rest

  // The API-at-a-glance form compiles and resolves.
  SGD sgd(ps, {.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});
  CHECK(sgd.param_groups()[0].options.nesterov);

  // A group added later, with its own lr.
  Tensor extra = ones({3});
  sgd.add_param_group({{{"head.weight", extra}}, {.lr = 0.5}});
  CHECK(sgd.param_groups()[1].options.lr == 0.5);
  CHECK(sgd.param_groups()[1].options.momentum == 0.9);
}

TEST_CASE("bad hyper-parameters and parameters give clear errors", "[optim]") {
  Tensor w = ones({2}).requires_grad_();
  NamedParameters ps{{"w", w}};
  CHECK_THROWS_WITH(SGD(ps, {.lr = -0.1}),
                    Catch::Contains("SGD: invalid learning rate -0.1 in the defaults"));
  CHECK_THROWS_WITH(SGD(ps, {.lr = 0.1, .momentum = -1}),
                    Catch::Contains("SGD: invalid momentum -1"));
  CHECK_THROWS_WITH(
      SGD(ps, {.lr = 0.1, .nesterov = true}),
      Catch::Contains("SGD: nesterov momentum needs momentum > 0 and dampening == 0"));
  CHECK_THROWS_WITH(SGD(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                    Catch::Contains("dampening 0.1"));
  CHECK_THROWS_WITH(SGD(ps, {.lr = 0.1, .weight_decay = -1e-4}),
                    Catch::Contains("SGD: invalid weight_decay -0.0001"));
  CHECK_THROWS_WITH(
      Adam(ps, {.betas = {1.0, 0.999}}),
      Catch::Contains("Adam: invalid betas[0] 1 in the defaults; it must be in [0, 1)"));
  CHECK_THROWS_WITH(AdamW(ps, {.betas = {0.9, -0.1}}),
                    Catch::Contains("AdamW: invalid betas[1] -0.1"));
  CHECK_THROWS_WITH(Adam(ps, {.eps = -1e-8}), Catch::Contains("Adam: invalid eps -1e-08"));
  CHECK_THROWS_WITH(Adam(ps, {.lr = std::nan("")}),
                    Catch::Contains("Adam: invalid learning rate nan"));
  CHECK_THROWS_WITH(AdamW(ps, {.weight_decay = -0.01}),
                    Catch::Contains("AdamW: invalid weight_decay"));

  // Group overrides are checked, and must be options the optimizer uses.
  CHECK_THROWS_WITH(SGD(std::vector<ParamGroup>{{ps, {.lr = -1.0}}}, {.lr = 0.1}),
                    Catch::Contains("SGD: invalid learning rate -1 in param group 0"));
  CHECK_THROWS_WITH(SGD(std::vector<ParamGroup>{{ps, {.betas = std::pair{0.5, 0.5}}}}),
                    Catch::Contains("SGD: param group 0 sets 'betas', which SGD does not use"));
  CHECK_THROWS_WITH(
      Adam(std::vector<ParamGroup>{{ps, {.momentum = 0.9}}}),
      Catch::Contains("Adam: param group 0 sets 'momentum', which Adam does not use"));

  // Parameters.
  CHECK_THROWS_WITH(SGD(NamedParameters{}), Catch::Contains("SGD: got an empty parameter list"));
  CHECK_THROWS_WITH(SGD(NamedParameters{{"w", w}, {"w", ones({2})}}),
                    Catch::Contains("parameter name 'w' appears twice"));
  CHECK_THROWS_WITH(SGD(NamedParameters{{"a", w}, {"b", w}}),
                    Catch::Contains("parameters 'a' and 'b' are the same tensor"));
  CHECK_THROWS_WITH(SGD(NamedParameters{{"a/b", ones({1})}}),
                    Catch::Contains("parameter name 'a/b' (param group 0) must be non-empty and "
                                    "contain no '/'"));
  CHECK_THROWS_WITH(SGD(NamedParameters{{"i", ones({2}, kInt64)}}),
                    Catch::Contains("parameter 'i' is int64; only float32 and float64"));
  CHECK_THROWS_WITH(SGD(NamedParameters{{"y", w * 2.0}}),
                    Catch::Contains("parameter 'y' is not a leaf tensor"));
  SGD opt(ps, {.lr = 0.1});
  CHECK_THROWS_WITH(opt.add_param_group({{{"w", ones({1})}}, {}}),
                    Catch::Contains("parameter name 'w' appears twice (param group 0 and param "
                                    "group 1)"));

  // Options changed between steps are checked before any parameter moves.
  w.set_grad(ones({2}));
  opt.param_groups()[0].options.lr = -0.5;
  CHECK_THROWS_WITH(opt.step(),
                    Catch::Contains("SGD: invalid learning rate -0.5 in param group 0"));
  CHECK(values_of(w) == std::vector<double>{1, 1});
  // A gradient of the wrong dtype.
  opt.param_groups()[0].options.lr = 0.5;
  w.set_grad(ones({2}, kFloat64));
  CHECK_THROWS_WITH(opt.step(), Catch::Contains("SGD: the gradient of 'w' is float64 [2]"));
}

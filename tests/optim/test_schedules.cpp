// LR schedules against torch.optim.lr_scheduler (fixtures from
// tools/gen_optim_fixtures.py), hand-computed values, checkpoints and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "optim/optim.h"
#include "tests/optim/fixtures.h"

using namespace heed;
using namespace heed::optim;
using namespace heed::optim_test;

TEST_CASE("schedules match torch.optim.lr_scheduler: lrs, momenta and parameters",
          "[optim][schedule]") {
  const json fx = load_fixture("schedules.json");
  REQUIRE(fx.at("cases").size() == 8);
  for (const json& c : fx.at("cases")) {
    const std::string name = c.at("name");
    SECTION(name) {
      NamedParameters ps = make_params(c);
      auto opt = make_optimizer(c.at("optimizer"), ps);
      auto sched = make_scheduler(c.at("scheduler"), *opt);
      check_close(group_lrs(*opt), c.at("initial_lr").get<std::vector<double>>(), kFloat64,
                  name + " initial lr");
      check_close(group_momenta(*opt), c.at("initial_momentum").get<std::vector<double>>(),
                  kFloat64, name + " initial momentum");
      CHECK(sched->get_last_lr() == group_lrs(*opt));
      for (size_t k = 0; k < c.at("expected").size(); ++k) {
        const json& row = c.at("expected")[k];
        const std::string at = name + " step " + std::to_string(k + 1);
        set_grads(c, k, ps);
        opt->step();
        sched->step();
        CHECK(sched->last_epoch() == int64_t(k + 1));
        check_close(group_lrs(*opt), row.at("lr").get<std::vector<double>>(), kFloat64, at + " lr");
        CHECK(sched->get_last_lr() == group_lrs(*opt));
        check_close(group_momenta(*opt), row.at("momentum").get<std::vector<double>>(), kFloat64,
                    at + " momentum");
        for (const auto& [n, p] : ps)
          check_close(values_of(p), row.at("params").at(n).get<std::vector<double>>(), p.dtype(),
                      at + " " + n);
      }
    }
  }
}

TEST_CASE("schedules in closed form, by hand", "[optim][schedule]") {
  Tensor w = ones({1}).requires_grad_();
  SGD opt({{"w", w}}, {.lr = 1.0});
  SECTION("StepLR: 1, 1, 0.1, 0.1, 0.01") {
    StepLR s(opt, 2, 0.1);
    std::vector<double> lrs{s.get_last_lr()[0]};
    for (int i = 0; i < 4; ++i) {
      s.step();
      lrs.push_back(s.get_last_lr()[0]);
    }
    CHECK(lrs[1] == 1.0);
    CHECK(lrs[2] == Approx(0.1));
    CHECK(lrs[4] == Approx(0.01));
  }
  SECTION("MultiStepLR sorts its milestones; a repeated one counts twice") {
    MultiStepLR s(opt, {4, 1, 1}, 0.5);
    CHECK(s.lr_at(0)[0] == 1.0);
    CHECK(s.lr_at(1)[0] == 0.25);  // two milestones at 1
    CHECK(s.lr_at(3)[0] == 0.25);
    CHECK(s.lr_at(4)[0] == 0.125);
  }
  SECTION("CosineAnnealingLR: base at 0, eta_min at T_max, the midpoint halfway") {
    CosineAnnealingLR s(opt, 10, 0.1);
    CHECK(s.lr_at(0)[0] == Approx(1.0));
    CHECK(s.lr_at(5)[0] == Approx(0.55));  // 0.1 + 0.9 * (1 + cos(pi/2)) / 2
    CHECK(s.lr_at(10)[0] == Approx(0.1));
  }
  SECTION("LinearWarmup from 0 to the cosine's start, then the cosine from its step 0") {
    LinearWarmup s(std::make_unique<CosineAnnealingLR>(opt, 4), 4, 0.0);
    CHECK(opt.param_groups()[0].options.lr == 0.0);  // step 0: start_factor * 1
    CHECK(s.lr_at(2)[0] == Approx(0.5));
    CHECK(s.lr_at(4)[0] == Approx(1.0));
    CHECK(s.lr_at(6)[0] == Approx(0.5));  // cosine step 2 of 4
    CHECK(s.lr_at(8)[0] == Approx(0.0).margin(1e-15));
    REQUIRE(s.after() != nullptr);
    CHECK(s.after()->name() == "CosineAnnealingLR");
  }
  SECTION("OneCycleLR from epochs * steps_per_epoch, warming up without momentum cycling") {
    OneCycleLR s(opt, 0.4, {.epochs = 2, .steps_per_epoch = 5, .cycle_momentum = false});
    CHECK(s.total_steps() == 10);
    CHECK(s.lr_at(0)[0] == Approx(0.4 / 25));
    CHECK(s.lr_at(2)[0] == Approx(0.4));             // end of the 30% warm-up: step 3 - 1
    CHECK(s.lr_at(9)[0] == Approx(0.4 / 25 / 1e4));  // the last step reaches min_lr
    CHECK(s.momentum_at(3).empty());
    CHECK(opt.param_groups()[0].options.momentum == 0.0);
  }
}

TEST_CASE("scheduler state_dict mid-run: a fresh pair continues identically", "[optim][schedule]") {
  const json fx = load_fixture("schedules.json");
  for (const json& c : fx.at("cases")) {
    SECTION(c.at("name").get<std::string>()) {
      NamedParameters a = make_params(c), b = make_params(c);
      auto opt_a = make_optimizer(c.at("optimizer"), a);
      auto sched_a = make_scheduler(c.at("scheduler"), *opt_a);
      for (size_t k = 0; k < 3; ++k) {
        set_grads(c, k, a);
        opt_a->step();
        sched_a->step();
      }
      const OptimizerState opt_state = opt_a->state_dict();
      const json sched_state = json::parse(sched_a->state_dict().dump());
      CHECK(sched_state["scheduler"] == c.at("scheduler").at("type"));
      CHECK(sched_state["last_epoch"] == 3);

      for (size_t i = 0; i < a.size(); ++i) b[i].second.detach().copy_(a[i].second.detach());
      auto opt_b = make_optimizer(c.at("optimizer"), b);
      auto sched_b = make_scheduler(c.at("scheduler"), *opt_b);
      opt_b->load_state_dict(opt_state);
      sched_b->load_state_dict(sched_state);
      CHECK(sched_b->last_epoch() == 3);
      CHECK(sched_b->get_last_lr() == sched_a->get_last_lr());
      CHECK(group_lrs(*opt_b) == group_lrs(*opt_a));
      CHECK(group_momenta(*opt_b) == group_momenta(*opt_a));
      for (size_t k = 3; k < c.at("expected").size(); ++k) {
        set_grads(c, k, a);
        set_grads(c, k, b);
        opt_a->step();
        opt_b->step();
        sched_a->step();
        sched_b->step();
        CHECK(sched_b->get_last_lr() == sched_a->get_last_lr());
      }
      for (size_t i = 0; i < a.size(); ++i) CHECK(values_of(b[i].second) == values_of(a[i].second));
    }
  }
}

TEST_CASE("schedule errors name the schedule and the value", "[optim][schedule]") {
  Tensor w = ones({1}).requires_grad_();
  SGD opt({{"w", w}}, {.lr = 1.0});
  CHECK_THROWS_WITH(StepLR(opt, 0), Catch::Contains("StepLR: step_size must be > 0, got 0"));
  CHECK_THROWS_WITH(CosineAnnealingLR(opt, 0),
                    Catch::Contains("CosineAnnealingLR: T_max must be > 0"));
  CHECK_THROWS_WITH(LinearWarmup(opt, 3, 1.5),
                    Catch::Contains("LinearWarmup: start_factor must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(LinearWarmup(std::unique_ptr<LRScheduler>(), 3),
                    Catch::Contains("LinearWarmup: the schedule to hand over to is null"));
  CHECK_THROWS_WITH(OneCycleLR(opt, 0.1, {}),
                    Catch::Contains("OneCycleLR: give total_steps, or epochs and steps_per_epoch"));
  CHECK_THROWS_WITH(OneCycleLR(opt, 0.1, {.total_steps = 10, .pct_start = 1.5}),
                    Catch::Contains("OneCycleLR: pct_start must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(OneCycleLR(opt, std::vector<double>{0.1, 0.2}, {.total_steps = 10}),
                    Catch::Contains("OneCycleLR: expected 1 values for max_lr (one per param "
                                    "group), got 2"));

  OneCycleLR one(opt, 0.1, {.total_steps = 2});
  one.step();
  one.step();  // step 2 == total_steps is still allowed, as in PyTorch
  CHECK_THROWS_WITH(one.step(), Catch::Contains("OneCycleLR: step 3 is past total_steps 2"));
  CHECK(one.last_epoch() == 2);  // a failed step does not count

  StepLR step(opt, 2);
  CHECK_THROWS_WITH(step.load_state_dict(one.state_dict()),
                    Catch::Contains("StepLR.load_state_dict: the state was saved by OneCycleLR, "
                                    "not StepLR"));
  json bad = step.state_dict();
  bad["step_size"] = -2;
  CHECK_THROWS_WITH(step.load_state_dict(bad), Catch::Contains("StepLR: step_size must be > 0"));
  bad = step.state_dict();
  bad["base_lrs"] = json({1.0, 2.0});
  CHECK_THROWS_WITH(step.load_state_dict(bad),
                    Catch::Contains("the state is for 2 param groups, the optimizer has 1"));
  bad = step.state_dict();
  bad.erase("gamma");
  CHECK_THROWS_WITH(step.load_state_dict(bad),
                    Catch::Contains("StepLR.load_state_dict: malformed state"));
  CHECK(step.state_dict()["step_size"] == 2);  // unchanged by the failed loads

  // A schedule made before a group was added no longer fits the optimizer.
  opt.add_param_group({{{"v", ones({1})}}, {}});
  CHECK_THROWS_WITH(step.step(), Catch::Contains("StepLR: the optimizer has 2 param groups but "
                                                 "the schedule was made for 1"));
}

// clip_grad_norm_ against torch.nn.utils.clip_grad_norm_ (fixtures from
// tools/gen_optim_fixtures.py), clip_grad_value_ by hand, and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "optim/optim.h"
#include "tests/optim/fixtures.h"

using namespace heed;
using namespace heed::optim;
using namespace heed::optim_test;

TEST_CASE("clip_grad_norm_ matches PyTorch: total norm and clipped grads", "[optim][clip]") {
  const json fx = load_fixture("clip_grad_norm.json");
  REQUIRE(fx.at("cases").size() == 10);
  for (const json& c : fx.at("cases")) {
    const DType dt = case_dtype(c);
    const double norm_type = c.at("norm_type").is_string() ? std::numeric_limits<double>::infinity()
                                                           : c.at("norm_type").get<double>();
    const double max_norm = c.at("max_norm");
    INFO("norm_type " << norm_type << ", max_norm " << max_norm << ", " << dt);
    Tensor w = zeros({2, 3}, dt).requires_grad_(), b = zeros({3}, dt).requires_grad_();
    w.set_grad(make_tensor(c.at("grads").at("w"), {2, 3}, dt));
    b.set_grad(make_tensor(c.at("grads").at("b"), {3}, dt));
    const double total = clip_grad_norm_(NamedParameters{{"w", w}, {"b", b}}, max_norm, norm_type);
    check_close({total}, {c.at("total_norm").get<double>()}, dt, "total_norm");
    check_close(values_of(w.grad()), c.at("clipped").at("w").get<std::vector<double>>(), dt, "w");
    check_close(values_of(b.grad()), c.at("clipped").at("b").get<std::vector<double>>(), dt, "b");
  }
}

TEST_CASE("clip_grad_norm_ by hand, without grads, and with non-finite norms", "[optim][clip]") {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({1}).requires_grad_(), c = zeros({3});
  a.set_grad(tensor({3, 0}));
  b.set_grad(tensor({-4}));
  // ||(3, 0, -4)||_2 = 5 -> scaled by 1 / (5 + 1e-6); c has no grad and is ignored.
  CHECK(clip_grad_norm_(std::vector<Tensor>{a, b, c}, 1.0) == Approx(5.0));
  CHECK(values_of(a.grad())[0] == Approx(0.6));
  CHECK(values_of(b.grad())[0] == Approx(-0.8));
  // Under max_norm: unchanged.
  CHECK(clip_grad_norm_(std::vector<Tensor>{a, b}, 10.0) == Approx(1.0));
  CHECK(values_of(b.grad())[0] == Approx(-0.8));
  // Inf norm = max |g|.
  CHECK(clip_grad_norm_(std::vector<Tensor>{a, b}, 10.0, INFINITY) == Approx(0.8));
  CHECK(clip_grad_norm_(std::vector<Tensor>{c}, 1.0) == 0.0);

  b.set_grad(tensor({NAN}));
  CHECK_THROWS_WITH(clip_grad_norm_(std::vector<Tensor>{a, b}, 1.0, 2.0, true),
                    Catch::Contains("clip_grad_norm_: the total norm of order 2 of the gradients "
                                    "is non-finite (nan)"));
  CHECK_FALSE(std::isnan(values_of(a.grad())[0]));  // the check comes before any scaling
  b.set_grad(tensor({INFINITY}));
  CHECK_THROWS_WITH(clip_grad_norm_(std::vector<Tensor>{a, b}, 1.0, INFINITY, true),
                    Catch::Contains("non-finite (inf)"));
  // Without the error, PyTorch's behaviour: scale by max_norm / inf = 0.
  CHECK(std::isinf(clip_grad_norm_(std::vector<Tensor>{a, b}, 1.0)));
  CHECK(values_of(a.grad())[0] == 0.0);

  CHECK_THROWS_WITH(clip_grad_norm_(std::vector<Tensor>{a}, 1.0, 0.0),
                    Catch::Contains("clip_grad_norm_: norm_type must be > 0"));
  CHECK_THROWS_WITH(clip_grad_norm_(std::vector<Tensor>{a}, -1.0),
                    Catch::Contains("clip_grad_norm_: max_norm must be >= 0, got -1"));
}

TEST_CASE("clip_grad_value_ clamps every element", "[optim][clip]") {
  Tensor w = zeros({2, 2}).requires_grad_();
  w.set_grad(tensor({-3, -0.5, 0.25, 2}).reshape({2, 2}));
  clip_grad_value_(NamedParameters{{"w", w}}, 1.0);
  CHECK(values_of(w.grad()) == std::vector<double>{-1, -0.5, 0.25, 1});
  CHECK_THROWS_WITH(clip_grad_value_(NamedParameters{{"w", w}}, -1.0),
                    Catch::Contains("clip_grad_value_: clip_value must be >= 0, got -1"));
}

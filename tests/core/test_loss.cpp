// Losses: values and gradients against PyTorch (tests/fixtures/loss/*.json,
// written by tools/gen_loss_fixtures.py) for every reduction, ignore_index,
// label smoothing, spatial cross-entropy and pos_weight; closed-form checks;
// errors; and gradcheck cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;
using nlohmann::json;

namespace {
using In = std::vector<Tensor>;

Tensor i64(std::initializer_list<double> v) {
  return tensor(v, kInt64);
}

json load_fixture(const std::string& name) {
  return load_json_fixture("loss/" + name);
}

Tensor from_json(const json& j) {
  return tensor_from_json(j);
}

void check_close(const Tensor& got, const json& want, double tol) {
  REQUIRE(got.shape() == want.at("shape").get<Shape>());
  std::vector<double> g = got.to_vector<double>();
  std::vector<double> w = want.at("data").get<std::vector<double>>();
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i);
    CHECK(g[i] == Approx(w[i]).epsilon(tol).margin(tol));
  }
}

Reduction reduction_of(const json& params) {
  std::string r = params.at("reduction");
  if (r == "none") return Reduction::None;
  if (r == "sum") return Reduction::Sum;
  REQUIRE(r == "mean");
  return Reduction::Mean;
}

// Runs every case of a fixture file: builds float inputs requiring grad,
// computes the loss with `fn`, and checks the output and each input's grad.
using LossFn = std::function<Tensor(const std::map<std::string, Tensor>&, const json& params)>;

void run_fixture(const std::string& file, size_t expected_cases, const LossFn& fn) {
  json cases = load_fixture(file).at("cases");
  REQUIRE(cases.size() == expected_cases);
  for (const json& c : cases) {
    DYNAMIC_SECTION(c.at("name").get<std::string>()) {
      std::map<std::string, Tensor> in;
      for (auto& [k, v] : c.at("inputs").items()) {
        Tensor t = from_json(v);
        if (c.at("grads").contains(k)) t.requires_grad_();
        in[k] = t;
      }
      Tensor out = fn(in, c.at("params"));
      check_close(out, c.at("output"), 1e-12);
      sum(out * from_json(c.at("grad_out"))).backward();
      for (auto& [k, g] : c.at("grads").items()) {
        INFO("gradient of " << k);
        check_close(in.at(k).grad(), g, 1e-12);
      }
    }
  }
}

}  // namespace

TEST_CASE("cross_entropy matches PyTorch", "[loss]") {
  // 8 settings (plain, ignore_index inside and outside [0, C), smoothing with
  // and without ignores, spatial (B, C, H, W), huge logits) x 3 reductions.
  run_fixture("cross_entropy.json", 24, [](const auto& in, const json& p) {
    return cross_entropy(in.at("logits"), in.at("target"), reduction_of(p),
                         p.at("ignore_index").get<int64_t>(),
                         p.at("label_smoothing").get<double>());
  });
}

TEST_CASE("nll_loss matches PyTorch", "[loss]") {
  run_fixture("nll_loss.json", 6, [](const auto& in, const json& p) {
    return nll_loss(in.at("input"), in.at("target"), reduction_of(p),
                    p.at("ignore_index").get<int64_t>());
  });
}

TEST_CASE("mse_loss matches PyTorch", "[loss]") {
  run_fixture("mse_loss.json", 3, [](const auto& in, const json& p) {
    return mse_loss(in.at("input"), in.at("target"), reduction_of(p));
  });
}

TEST_CASE("binary_cross_entropy_with_logits matches PyTorch", "[loss]") {
  // Logits include +-100 and exactly 0; targets include soft labels.
  run_fixture("bce_with_logits.json", 6, [](const auto& in, const json& p) {
    Tensor pw = in.count("pos_weight") ? in.at("pos_weight") : Tensor();
    return binary_cross_entropy_with_logits(in.at("logits"), in.at("target"), reduction_of(p), pw);
  });
}

TEST_CASE("cross_entropy by hand, and its gradient is (softmax - onehot) / B", "[loss]") {
  // logits [[0, 0], [ln 3, 0]], targets [0, 1]:
  //   row 0: -log(1/2) = ln 2;  row 1: p = [3/4, 1/4], -log(1/4) = ln 4.
  //   mean = (ln 2 + ln 4) / 2 = 1.5 ln 2.
  Tensor x = tensor({0, 0, std::log(3.0), 0}, kFloat64).reshape({2, 2}).requires_grad_();
  Tensor loss = cross_entropy(x, i64({0, 1}));
  CHECK(loss.item() == Approx(1.5 * std::log(2.0)));
  loss.backward();
  // (softmax - onehot) / 2 = [[1/2 - 1, 1/2], [3/4, 1/4 - 1]] / 2
  std::vector<double> g = x.grad().to_vector<double>();
  CHECK(g[0] == Approx(-0.25));
  CHECK(g[1] == Approx(0.25));
  CHECK(g[2] == Approx(0.375));
  CHECK(g[3] == Approx(-0.375));

  // The same identity at size, with smoothing: target distribution
  // q = (1 - e) onehot + e / C, grad = (softmax - q) / B.
  Generator gen(21);
  const int64_t B = 64, C = 10;
  const double e = 0.1;
  Tensor logits = (randn({B, C}, kFloat64, &gen) * 3.0).requires_grad_();
  Tensor target = randint(0, C, {B}, &gen);
  cross_entropy(logits, target, Reduction::Mean, -100, e).backward();
  Tensor onehot =
      eq(unsqueeze(target, 1), reshape(arange(double(C), {kInt64}), {1, C})).to(kFloat64);
  Tensor q = onehot * (1.0 - e) + e / double(C);
  Tensor expected = (softmax(logits.detach(), 1) - q) / double(B);
  CHECK(max_abs_diff(logits.grad(), expected) < 1e-15);
}

TEST_CASE("cross_entropy: float32, unbatched input, all targets ignored", "[loss]") {
  Generator gen(22);
  Tensor x64 = randn({8, 5}, kFloat64, &gen);
  Tensor t = randint(0, 5, {8}, &gen);
  CHECK(cross_entropy(x64.to(kFloat32), t, Reduction::Mean, -100, 0.1).item() ==
        Approx(cross_entropy(x64, t, Reduction::Mean, -100, 0.1).item()).epsilon(1e-6));
  // (C) logits with a 0-d target behave as a batch of one.
  Tensor row = tensor({1, 2, 3}, kFloat64);
  Tensor none = cross_entropy(row, scalar_tensor(2, kInt64), Reduction::None);
  CHECK(none.dim() == 0);
  CHECK(none.item() ==
        Approx(cross_entropy(row.reshape({1, 3}), i64({2}), Reduction::Mean).item()));
  // Every target ignored: the mean is 0/0 = NaN, as in PyTorch; the sum is 0.
  CHECK(std::isnan(cross_entropy(x64, full({8}, -100, kInt64)).item()));
  CHECK(cross_entropy(x64, full({8}, -100, kInt64), Reduction::Sum).item() == 0.0);
}

TEST_CASE("loss errors name the op and the values", "[loss]") {
  Tensor logits = zeros({3, 5});
  CHECK_THROWS_WITH(cross_entropy(logits, i64({0, 5, 1})),
                    Catch::Contains("cross_entropy: target 5 is out of range for 5 classes "
                                    "(expected 0 to 4, or ignore_index -100)"));
  CHECK_THROWS_WITH(cross_entropy(logits, i64({0, -1, 1})),
                    Catch::Contains("cross_entropy: target -1 is out of range for 5 classes"));
  CHECK_THROWS_WITH(cross_entropy(logits, tensor({0, 1, 1})),
                    Catch::Contains("cross_entropy: target must hold int64 class indices, got "
                                    "float32"));
  CHECK_THROWS_WITH(cross_entropy(logits, i64({0, 1})),
                    Catch::Contains("cross_entropy: target shape [2] does not match input shape "
                                    "[3, 5] (expected target shape [3])"));
  CHECK_THROWS_WITH(cross_entropy(zeros({2, 3, 4, 4}), zeros({2, 4, 5}, kInt64)),
                    Catch::Contains("expected target shape [2, 4, 4]"));
  CHECK_THROWS_WITH(cross_entropy(logits, i64({0, 1, 2}), Reduction::Mean, -100, 1.5),
                    Catch::Contains("cross_entropy: label_smoothing must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(cross_entropy(zeros({3, 5}, kInt64), i64({0, 1, 2})),
                    Catch::Contains("cross_entropy: expected a floating-point tensor"));
  CHECK_THROWS_WITH(nll_loss(logits, i64({0, 1, 7})),
                    Catch::Contains("nll_loss: target 7 is out of range for 5 classes"));
  CHECK_THROWS_WITH(nll_loss(logits, i64({0, 1, 2}).to(kFloat64)),
                    Catch::Contains("nll_loss: target must hold int64 class indices, got float64"));
  CHECK_THROWS_WITH(mse_loss(zeros({3, 1}), zeros({3})),
                    Catch::Contains("mse_loss: input shape [3, 1] and target shape [3] differ"));
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3})),
                    Catch::Contains("binary_cross_entropy_with_logits: target shape [3] must "
                                    "equal input shape [2, 3]"));
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}, kInt64)),
                    Catch::Contains("binary_cross_entropy_with_logits: target must be floating "
                                    "point"));
  CHECK_THROWS_WITH(
      binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}), Reduction::Mean, ones({2})),
      Catch::Contains("binary_cross_entropy_with_logits: pos_weight shape [2] does "
                      "not broadcast to input shape [2, 3]"));
}

// --- gradcheck cases
namespace {
In ce_inputs() {
  return In{gc_input({4, 5}, -2, 2), i64({1, -100, 4, 4})};
}
In ce_spatial_inputs() {
  return In{gc_input({2, 3, 2, 2}, -2, 2), i64({0, 2, 1, 0, 2, 2, -100, 1}).reshape({2, 2, 2})};
}
In bce_inputs() {
  return In{gc_input({3, 4}, -3, 3), gc_input({3, 4}, 0, 1, 2), gc_input({4}, 0.5, 2, 3)};
}
}  // namespace

HEED_GRADCHECK_CASE({"cross_entropy", "smoothing + ignore_index, mean", ce_inputs, [](const In& i) {
                       return cross_entropy(i[0], i[1], Reduction::Mean, -100, 0.2);
                     }});
HEED_GRADCHECK_CASE({"cross_entropy", "ignore_index 4 (a class), none",
                     [] {
                       return In{gc_input({4, 5}, -2, 2), i64({1, 0, 4, 2})};
                     },
                     [](const In& i) { return cross_entropy(i[0], i[1], Reduction::None, 4); }});
HEED_GRADCHECK_CASE({"cross_entropy", "spatial, smoothing, sum", ce_spatial_inputs,
                     [](const In& i) {
                       return cross_entropy(i[0], i[1], Reduction::Sum, -100, 0.1);
                     }});
HEED_GRADCHECK_CASE({"nll_loss", "ignore_index, mean", ce_inputs,
                     [](const In& i) { return nll_loss(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"nll_loss", "spatial, none", ce_spatial_inputs,
                     [](const In& i) { return nll_loss(i[0], i[1], Reduction::None); }});
HEED_GRADCHECK_CASE({"mse_loss", "both inputs, mean",
                     [] {
                       return In{gc_input({3, 4}), gc_input({3, 4}, -1, 1, 2)};
                     },
                     [](const In& i) { return mse_loss(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"mse_loss", "strided, none",
                     [] {
                       return In{gc_strided_input({3, 4}), gc_input({3, 4}, -1, 1, 2)};
                     },
                     [](const In& i) { return mse_loss(i[0], i[1], Reduction::None); }});
HEED_GRADCHECK_CASE({"binary_cross_entropy_with_logits", "logits, target, pos_weight, mean",
                     bce_inputs, [](const In& i) {
                       return binary_cross_entropy_with_logits(i[0], i[1], Reduction::Mean, i[2]);
                     }});
HEED_GRADCHECK_CASE({"binary_cross_entropy_with_logits", "no pos_weight, none",
                     [] {
                       return In{gc_input({3, 4}, -3, 3), gc_input({3, 4}, 0, 1, 2)};
                     },
                     [](const In& i) {
                       return binary_cross_entropy_with_logits(i[0], i[1], Reduction::None);
                     }});

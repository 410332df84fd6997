// softmax / log_softmax: hand-computed values, extreme inputs, every dim,
// PyTorch fixtures (tests/fixtures/loss/softmax.json), the kernel's row and
// column paths against a composed reference, errors, and gradcheck cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;
using nlohmann::json;

namespace {
using In = std::vector<Tensor>;
constexpr double kInf = std::numeric_limits<double>::infinity();

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

// exp(x - logsumexp(x)): the composed reference for the fused kernel.
Tensor softmax_reference(const Tensor& x, int64_t dim) {
  return exp(x - logsumexp(x, {dim}, true));
}

}  // namespace

TEST_CASE("softmax of a small row, by hand", "[softmax]") {
  // Shifted by the max 3: [e^-2, e^-1, 1] / (e^-2 + e^-1 + 1)
  //   = [0.135335, 0.367879, 1] / 1.503214 = [0.0900306, 0.2447285, 0.6652410].
  Tensor y = softmax(tensor({1, 2, 3}, kFloat64), 0);
  double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  std::vector<double> v = y.to_vector<double>();
  CHECK(v[0] == Approx(std::exp(-2.0) / z));
  CHECK(v[1] == Approx(std::exp(-1.0) / z));
  CHECK(v[2] == Approx(1.0 / z));
  CHECK(v[2] == Approx(0.6652410));
  // log_softmax = x - 3 - log(z): [-2.4076059, -1.4076059, -0.4076059].
  std::vector<double> l = log_softmax(tensor({1, 2, 3}, kFloat64), -1).to_vector<double>();
  CHECK(l[0] == Approx(-2.0 - std::log(z)));
  CHECK(l[2] == Approx(-0.4076059));
}

TEST_CASE("softmax stays finite for huge inputs and handles -inf", "[softmax]") {
  // float32: exp(1000) overflows unless shifted; shifted row [0, -1] gives
  // [1/(1+e^-1), e^-1/(1+e^-1)] = [0.7310586, 0.2689414].
  std::vector<float> y = softmax(tensor({1000, 999}), 0).to_vector<float>();
  CHECK(y[0] == Approx(0.7310586f));
  CHECK(y[1] == Approx(0.2689414f));
  // log_softmax([1000, 1000]) = [-log 2, -log 2].
  std::vector<float> l = log_softmax(tensor({1000, 1000}), 0).to_vector<float>();
  CHECK(l[0] == Approx(-std::log(2.0f)));
  CHECK(l[1] == Approx(-std::log(2.0f)));
  // Extremes in one row: 1000 takes all the mass, -1000 and -inf none.
  std::vector<float> e = softmax(tensor({1000, 0, -1000, -kInf}), 0).to_vector<float>();
  CHECK(e == std::vector<float>{1, 0, 0, 0});
  std::vector<float> le = log_softmax(tensor({0, -kInf}), 0).to_vector<float>();
  CHECK(le[0] == 0.0f);
  CHECK(le[1] == -std::numeric_limits<float>::infinity());
  // A row of only -inf has no distribution: NaN, like PyTorch.
  std::vector<float> n = softmax(tensor({-kInf, -kInf}), 0).to_vector<float>();
  CHECK(std::isnan(n[0]));
  CHECK(std::isnan(n[1]));
}

TEST_CASE("softmax gradient is zero (not NaN) at -inf entries", "[softmax]") {
  Tensor x = tensor({0.5, -kInf, 1.0}, kFloat64).requires_grad_();
  sum(softmax(x, 0) * tensor({1, 2, 3}, kFloat64)).backward();
  std::vector<double> g = x.grad().to_vector<double>();
  CHECK(g[1] == 0.0);
  CHECK(std::isfinite(g[0]));
  // log_softmax: dx = g - exp(y) * sum(g); exp(-inf) = 0 so dx = g there.
  Tensor x2 = tensor({0.5, -kInf, 1.0}, kFloat64).requires_grad_();
  sum(log_softmax(x2, 0) * tensor({1, 2, 3}, kFloat64)).backward();
  CHECK(x2.grad().to_vector<double>()[1] == 2.0);
}

TEST_CASE("softmax over every dim, negative dims and 0-d", "[softmax]") {
  Generator gen(3);
  Tensor x = randn({2, 3, 4}, kFloat64, &gen);
  for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
    INFO("dim " << dim);
    Tensor y = softmax(x, dim);
    // Every slice along dim sums to 1.
    Tensor s = sum(y, {dim});
    CHECK(max_abs_diff(s, ones_like(s)) < 1e-12);
    CHECK(max_abs_diff(y, softmax_reference(x, dim)) < 1e-12);
    CHECK(max_abs_diff(log_softmax(x, dim), log(softmax_reference(x, dim))) < 1e-12);
  }
  CHECK(softmax(scalar_tensor(3.0), 0).item() == 1.0);
  CHECK(log_softmax(scalar_tensor(3.0), -1).item() == 0.0);
}

TEST_CASE("softmax kernel paths agree with the composed reference at size", "[softmax]") {
  // Rows (inner == 1), a middle dim (column blocks), and the first dim, big
  // enough to split across threads; float32 and float64.
  Generator gen(5);
  for (DType t : {kFloat64, kFloat32}) {
    const double tol = t == kFloat64 ? 1e-12 : 2e-6;
    Tensor rows = randn({257, 300}, t, &gen) * 4.0;
    Tensor mid = randn({9, 70, 65}, t, &gen) * 4.0;
    CHECK(max_abs_diff(softmax(rows, 1), softmax_reference(rows, 1)) < tol);
    CHECK(max_abs_diff(log_softmax(rows, 1), rows - logsumexp(rows, {1}, true)) < 40 * tol);
    CHECK(max_abs_diff(softmax(mid, 1), softmax_reference(mid, 1)) < tol);
    CHECK(max_abs_diff(softmax(mid, 0), softmax_reference(mid, 0)) < tol);
    CHECK(max_abs_diff(log_softmax(mid, 1), mid - logsumexp(mid, {1}, true)) < 40 * tol);
  }
}

TEST_CASE("float32 softmax keeps float precision over the whole exp range", "[softmax]") {
  // The float32 kernel uses its own vectorized exp (Cephes expf): compare with
  // the float64 kernel (std::exp) on rows spanning x - max in [-120, 0], so
  // the exps cover underflow to 0 as well as the normal range.
  Generator gen(8);
  Tensor x32 = rand({64, 1000}, kFloat32, &gen) * 120.0f;
  Tensor x64 = x32.to(kFloat64);  // the same values exactly
  for (int64_t dim : {1, 0}) {
    INFO("dim " << dim);
    Tensor p64 = softmax(x64, dim), l64 = log_softmax(x64, dim);
    // Probabilities: relative to the largest (<= 1); log-probs: relative to their size.
    CHECK(max(abs(softmax(x32, dim).to(kFloat64) - p64)).item() < 1e-6);
    Tensor rel = abs(log_softmax(x32, dim).to(kFloat64) - l64) / (abs(l64) + 1.0);
    CHECK(max(rel).item() < 1e-6);
  }
}

TEST_CASE("softmax backward kernels match the composed gradient at size", "[softmax]") {
  Generator gen(6);
  for (int64_t dim : {1, 2}) {
    for (bool is_log : {false, true}) {
      INFO("dim " << dim << (is_log ? " log_softmax" : " softmax"));
      Tensor x = randn({5, 40, 33}, kFloat64, &gen).requires_grad_();
      Tensor w = randn({5, 40, 33}, kFloat64, &gen);
      sum((is_log ? log_softmax(x, dim) : softmax(x, dim)) * w).backward();
      Tensor fused = x.grad();
      Tensor x2 = x.detach().clone().requires_grad_();
      Tensor ref = is_log ? x2 - logsumexp(x2, {dim}, true) : softmax_reference(x2, dim);
      sum(ref * w).backward();
      CHECK(max_abs_diff(fused, x2.grad()) < 1e-12);
    }
  }
}

TEST_CASE("softmax accepts strided input", "[softmax]") {
  Generator gen(7);
  Tensor base = randn({6, 4}, kFloat64, &gen);
  Tensor xt = base.t();  // (4, 6), not contiguous
  CHECK(max_abs_diff(softmax(xt, 1), softmax(xt.contiguous(), 1)) < 1e-15);
}

TEST_CASE("softmax matches PyTorch", "[softmax]") {
  json cases = load_fixture("softmax.json").at("cases");
  REQUIRE(cases.size() == 8);
  for (const json& c : cases) {
    std::string name = c.at("name");
    DYNAMIC_SECTION(name) {
      int64_t dim = c.at("params").at("dim");
      Tensor x = from_json(c.at("inputs").at("x")).requires_grad_();
      Tensor y = name.rfind("log_softmax", 0) == 0 ? log_softmax(x, dim) : softmax(x, dim);
      check_close(y, c.at("output"), 1e-12);
      sum(y * from_json(c.at("grad_out"))).backward();
      check_close(x.grad(), c.at("grads").at("x"), 1e-12);
    }
  }
}

TEST_CASE("softmax errors name the op and the values", "[softmax]") {
  CHECK_THROWS_WITH(softmax(tensor({1, 2}, kInt64), 0),
                    Catch::Contains("softmax: expected a floating-point tensor, got int64"));
  CHECK_THROWS_WITH(log_softmax(zeros({2, 3}), 2),
                    Catch::Contains("log_softmax: dim 2 is out of range for a tensor of 2 dims"));
  CHECK_THROWS_WITH(softmax(zeros({2, 3}), -3), Catch::Contains("softmax: dim -3 is out of range"));
}

// --- gradcheck cases
HEED_GRADCHECK_CASE({"softmax", "dim 0",
                     [] {
                       return In{gc_input({3, 4}, -2, 2)};
                     },
                     [](const In& i) { return softmax(i[0], 0); }});
HEED_GRADCHECK_CASE({"softmax", "dim -1",
                     [] {
                       return In{gc_input({3, 4}, -2, 2)};
                     },
                     [](const In& i) { return softmax(i[0], -1); }});
HEED_GRADCHECK_CASE({"softmax", "middle dim of 3-D",
                     [] {
                       return In{gc_input({2, 3, 4}, -2, 2)};
                     },
                     [](const In& i) { return softmax(i[0], 1); }});
HEED_GRADCHECK_CASE({"softmax", "strided",
                     [] {
                       return In{gc_strided_input({3, 5}, -2, 2)};
                     },
                     [](const In& i) { return softmax(i[0], 1); }});
HEED_GRADCHECK_CASE({"log_softmax", "dim 0",
                     [] {
                       return In{gc_input({3, 4}, -2, 2)};
                     },
                     [](const In& i) { return log_softmax(i[0], 0); }});
HEED_GRADCHECK_CASE({"log_softmax", "dim -1",
                     [] {
                       return In{gc_input({3, 4}, -2, 2)};
                     },
                     [](const In& i) { return log_softmax(i[0], -1); }});
HEED_GRADCHECK_CASE({"log_softmax", "middle dim of 3-D",
                     [] {
                       return In{gc_input({2, 3, 4}, -2, 2)};
                     },
                     [](const In& i) { return log_softmax(i[0], 1); }});
HEED_GRADCHECK_CASE({"log_softmax", "strided",
                     [] {
                       return In{gc_strided_input({3, 5}, -2, 2)};
                     },
                     [](const In& i) { return log_softmax(i[0], 0); }});

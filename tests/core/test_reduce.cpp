// Reductions: values (hand-computed or from torch 1.13), every loop shape of
// the CPU reduce kernel against a slow reference, indices and ties, errors,
// and gradcheck cases.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/backend.h"
#include "core/cpu/isa.h"
#include "core/ops/internal.h"  // ops::reduced_shape for the kernel test
#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;
using Vec = std::vector<double>;
using Fvec = std::vector<float>;
using Ivec = std::vector<int64_t>;

// The slow, readable reference: walks every element of x and folds it into
// the output element with the reduced coordinates set to 0 (keepdim layout).
Vec reference_reduce(const Tensor& x, const std::vector<int64_t>& dims, ReduceOp op) {
  Vec v = x.to_vector<double>();
  Shape out_shape = x.shape();
  for (int64_t d : dims) out_shape[size_t(d)] = 1;
  double init = op == ReduceOp::Sum   ? 0.0
                : op == ReduceOp::Max ? -std::numeric_limits<double>::infinity()
                                      : std::numeric_limits<double>::infinity();
  Vec out(size_t(numel_of(out_shape)), init);
  Shape out_strides = contiguous_strides(out_shape);
  Shape idx(size_t(x.dim()), 0);
  for (size_t flat = 0; flat < v.size(); ++flat) {
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (out_shape[d] != 1) o += idx[d] * out_strides[d];
    double& acc = out[size_t(o)];
    acc = op == ReduceOp::Sum   ? acc + v[flat]
          : op == ReduceOp::Max ? std::max(acc, v[flat])
                                : std::min(acc, v[flat]);
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < x.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

void check_close(const Vec& got, const Vec& want, double eps = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).epsilon(eps).margin(1e-12));
  }
}

Tensor random64(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return randn(shape, kFloat64, &g);
}

}  // namespace

TEST_CASE("sum over dims, negative dims and keepdim", "[reduce]") {
  Tensor x = arange(24).reshape({2, 3, 4});  // x[i][j][k] = 12i + 4j + k
  CHECK(x.sum().item() == 276);              // 23 * 24 / 2
  CHECK(x.sum().dim() == 0);
  // Over k: 4 * (12i + 4j) + 6.
  CHECK(sum(x, {2}).to_vector<float>() == Fvec{6, 22, 38, 54, 70, 86});
  CHECK(sum(x, {-1}).shape() == Shape{2, 3});
  CHECK(sum(x, {-1}, true).shape() == Shape{2, 3, 1});
  // Over i and k: 2 * (4 * 4j + 6) + 4 * 12 = 32j + 60 (torch: [60, 92, 124]).
  CHECK(sum(x, {0, 2}).to_vector<float>() == Fvec{60, 92, 124});
  CHECK(sum(x, {2, -3}, true).shape() == Shape{1, 3, 1});
  // Over j: 3 * (12i + k) + 12.
  CHECK(x.sum({1}).to_vector<float>() == Fvec{12, 15, 18, 21, 48, 51, 54, 57});
  CHECK(sum(x, {0, 1, 2}).item() == 276);
  CHECK(sum(tensor({1, 2}, kInt64)).dtype() == kInt64);
  // Counting a mask gives int64, like PyTorch.
  Tensor m = from_vector(std::vector<bool>{true, false, true});
  CHECK(sum(m).dtype() == kInt64);
  CHECK(sum(m).item() == 2);
  // A 0-d tensor and an empty one.
  CHECK(sum(scalar_tensor(5)).item() == 5);
  CHECK(sum(zeros({0, 3}), {0}).to_vector<float>() == Fvec{0, 0, 0});
}

TEST_CASE("the CPU reduce kernel agrees with the reference on every loop shape",
          "[reduce][kernel]") {
  struct Layout {
    const char* what;
    Shape shape;
    std::vector<int64_t> dims;
  };
  // Which path each hits: runs of (kept K / reduced R) dims after dropping size-1 dims.
  std::vector<Layout> layouts = {
      {"row: R", {7, 5}, {0, 1}},
      {"row: K R", {6, 9}, {1}},
      {"row: K R, merged", {3, 4, 5}, {1, 2}},
      {"column: R K", {9, 6}, {0}},
      {"column: K R K", {3, 5, 4}, {1}},
      {"column: merged runs", {2, 3, 4, 5}, {1, 2}},
      {"general: R K R", {3, 4, 5}, {0, 2}},
      {"general: K R K R", {2, 3, 4, 5}, {1, 3}},
      {"size-1 reduced dim only", {2, 1, 3}, {1}},
      {"size-1 dims between", {3, 1, 4, 1}, {0, 3}},
      {"big rows (parallel)", {1500, 300}, {1}},
      {"big columns (parallel)", {300, 1500}, {0}},
      {"big middle (parallel)", {40, 50, 70}, {1}},
  };
  for (const Layout& l : layouts) {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
      INFO(l.what << " op " << int(op));
      Tensor x = random64(l.shape, 7);
      Tensor out = zeros(ops::reduced_shape(x.shape(), l.dims, true), kFloat64);
      backend_of(x).reduce(op, out, x, l.dims);
      check_close(out.to_vector<double>(), reference_reduce(x, l.dims, op), 1e-10);
    }
  }
}

TEST_CASE("reductions read non-contiguous inputs", "[reduce][kernel]") {
  Tensor base = random64({4, 5, 6}, 3);
  std::vector<Tensor> views = {base.transpose(0, 2),
                               base.permute({1, 2, 0}),
                               base.slice(1, 0, 5, 2),
                               base.select(2, 3),
                               base.narrow(0, 1, 2).transpose(1, 2),
                               base.select(0, 1).select(0, 2).unsqueeze(0).expand({3, 6})};
  for (size_t v = 0; v < views.size(); ++v) {
    const Tensor& x = views[v];
    INFO("view " << v << " shape " << shape_str(x.shape()));
    for (int64_t d = 0; d < x.dim(); ++d) {
      check_close(sum(x, {d}, true).to_vector<double>(), reference_reduce(x, {d}, ReduceOp::Sum));
      check_close(max(x, d, true).first.to_vector<double>(),
                  reference_reduce(x, {d}, ReduceOp::Max));
      check_close(amax(x, {d}, true).to_vector<double>(), reference_reduce(x, {d}, ReduceOp::Max));
      check_close(min(x, d, true).first.to_vector<double>(),
                  reference_reduce(x, {d}, ReduceOp::Min));
    }
    check_close(sum(x, {0, x.dim() - 1}, true).to_vector<double>(),
                reference_reduce(x, {0, x.dim() - 1}, ReduceOp::Sum));
    std::vector<int64_t> all(size_t(x.dim()));
    for (int64_t d = 0; d < x.dim(); ++d) all[size_t(d)] = d;
    CHECK(sum(x).item() == Approx(reference_reduce(x, all, ReduceOp::Sum)[0]));
  }
}

TEST_CASE("mean and var, unbiased or not", "[reduce]") {
  Tensor x = tensor({1, 2, 3, 4}, kFloat64);
  CHECK(mean(x).item() == 2.5);
  // Squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5: unbiased 5/3, biased 5/4.
  CHECK(var(x).item() == Approx(5.0 / 3));
  CHECK(var(x, {}, false).item() == 1.25);
  Tensor y = arange(24).reshape({2, 3, 4});
  // Over j: mean 12i + k + 4; values 4 apart, so var = (16 + 0 + 16) / 2 = 16 (torch agrees).
  CHECK(mean(y, {1}).to_vector<float>() == Fvec{4, 5, 6, 7, 16, 17, 18, 19});
  CHECK(var(y, {1}).to_vector<float>() == Fvec(8, 16));
  // Over i and k: torch.var(dim=(0, 2), unbiased=False) = 37.25 for every j.
  CHECK(var(y, {0, -1}, false, true).shape() == Shape{1, 3, 1});
  check_close(var(y.to(kFloat64), {0, 2}, false).to_vector<double>(), Vec(3, 37.25));
  CHECK(y.mean({0, 1}, true).shape() == Shape{1, 1, 4});
  // Degenerate cases give NaN, as PyTorch: the mean of nothing and the
  // unbiased variance of one value.
  CHECK(std::isnan(mean(zeros({0})).item()));
  CHECK(std::isnan(var(tensor({3})).item()));
  CHECK(var(tensor({3}), {}, false).item() == 0);
  CHECK_THROWS_WITH(mean(tensor({1, 2}, kInt64)),
                    Catch::Contains("mean: expected a floating-point tensor, got int64"));
  CHECK_THROWS_WITH(var(tensor({1, 2}, kInt64)), Catch::Contains("var: expected a floating"));
}

TEST_CASE("max and min return values and first indices", "[reduce]") {
  Tensor x = tensor({1, 3, 3, 5, 5, 2}).reshape({2, 3});
  // torch: x.max(1) = ([3, 5], [1, 0]); x.min(1) = ([1, 2], [0, 2]);
  //        x.max(0) = ([5, 5, 3], [1, 1, 0]); x.min(0) = ([1, 3, 2], [0, 0, 1]).
  auto [mv, mi] = max(x, 1);
  CHECK(mv.to_vector<float>() == Fvec{3, 5});
  CHECK(mi.to_vector<int64_t>() == Ivec{1, 0});
  CHECK(mi.dtype() == kInt64);
  auto [nv, ni] = min(x, -1);
  CHECK(nv.to_vector<float>() == Fvec{1, 2});
  CHECK(ni.to_vector<int64_t>() == Ivec{0, 2});
  CHECK(max(x, 0).first.to_vector<float>() == Fvec{5, 5, 3});
  CHECK(max(x, 0).second.to_vector<int64_t>() == Ivec{1, 1, 0});
  CHECK(min(x, -2).second.to_vector<int64_t>() == Ivec{0, 0, 1});
  auto [kv, ki] = max(x, 0, true);
  CHECK(kv.shape() == Shape{1, 3});
  CHECK(ki.shape() == Shape{1, 3});
  // Over everything.
  CHECK(max(x).item() == 5);
  CHECK(min(x).item() == 1);
  CHECK(max(x).dim() == 0);
  // NaN wins and its index is reported, as PyTorch.
  auto [nanv, nani] = max(tensor({1, NAN, 3}), 0);
  CHECK(std::isnan(nanv.item()));
  CHECK(nani.item() == 1);
  CHECK(std::isnan(amax(tensor({1, NAN, 3}), {0}).item()));
  // int64 and a 0-d input.
  CHECK(max(tensor({4, -7, 9}, kInt64), 0).first.item() == 9);
  CHECK(min(tensor({4, -7, 9}, kInt64), 0).second.item() == 1);
  CHECK(max(scalar_tensor(2), 0).first.item() == 2);
  CHECK(max(scalar_tensor(2), -1).second.item() == 0);
}

TEST_CASE("max/min gradients go to the first extreme; amax and max() split ties", "[reduce]") {
  Tensor x = tensor({1, 3, 3, 5, 5, 2}).reshape({2, 3}).requires_grad_();
  max(x, 1).first.backward(tensor({10, 20}));
  CHECK(x.grad().to_vector<float>() == Fvec{0, 10, 0, 20, 0, 0});
  x.set_grad(Tensor());
  min(x, 0, true).first.backward(tensor({1, 2, 3}).reshape({1, 3}));
  CHECK(x.grad().to_vector<float>() == Fvec{1, 2, 0, 0, 0, 3});
  // amax: ties share evenly (torch: [[0, .5, .5], [1, 1, 1]] for g = [1, 3]).
  Tensor y = tensor({1, 3, 3, 2, 2, 2}).reshape({2, 3}).requires_grad_();
  amax(y, {1}).backward(tensor({1, 3}));
  CHECK(y.grad().to_vector<float>() == Fvec{0, 0.5, 0.5, 1, 1, 1});
  // max() and min() over everything split too (torch.max(x) uses
  // evenly_distribute_backward): [1, 3, 3] -> [0, .5, .5].
  Tensor z = tensor({1, 3, 3}).requires_grad_();
  max(z).backward();
  CHECK(z.grad().to_vector<float>() == Fvec{0, 0.5, 0.5});
  Tensor w = tensor({1, 1, 3}).requires_grad_();
  min(w).backward();
  CHECK(w.grad().to_vector<float>() == Fvec{0.5, 0.5, 0});
}

TEST_CASE("amax over several dims", "[reduce]") {
  Tensor x = arange(24).reshape({2, 3, 4});
  CHECK(amax(x, {0, 2}).to_vector<float>() == Fvec{15, 19, 23});  // 12 + 4j + 3
  CHECK(amax(x, {-1}, true).shape() == Shape{2, 3, 1});
  CHECK(amax(x, {}).item() == 23);
  CHECK(amax(x, {1, 0}).to_vector<float>() == Fvec{20, 21, 22, 23});
  CHECK_THROWS_WITH(amax(zeros({0, 2}), {1}), Catch::Contains("amax: cannot reduce an empty"));
}

TEST_CASE("argmax and argmin", "[reduce]") {
  Tensor x = tensor({2, 7, 7, 0, -1, 0, 9, 9}).reshape({2, 4});
  CHECK(argmax(x, 1).to_vector<int64_t>() == Ivec{1, 2});
  CHECK(argmin(x, 1).to_vector<int64_t>() == Ivec{3, 0});
  CHECK(argmax(x, 0).to_vector<int64_t>() == Ivec{0, 0, 1, 1});
  CHECK(argmin(x, -2).to_vector<int64_t>() == Ivec{1, 1, 0, 0});
  CHECK(argmax(x, 1, true).shape() == Shape{2, 1});
  CHECK(x.argmax(-1).to_vector<int64_t>() == Ivec{1, 2});
  // No graph: indices are not differentiable.
  Tensor r = x.detach().requires_grad_();
  CHECK(argmax(r, 0).grad_fn() == nullptr);
  CHECK_FALSE(argmax(r, 0).requires_grad());
}

TEST_CASE("logsumexp is stable", "[reduce]") {
  // log(e^0 + e^log 3) = log 4.
  CHECK(logsumexp(tensor({0, std::log(3.0)}, kFloat64), {0}).item() == Approx(std::log(4.0)));
  // Shifted by the max: no overflow (torch: [1000., 2.]).
  Tensor x = tensor({0, 1000, -1000, 2}, kFloat64).reshape({2, 2});
  check_close(logsumexp(x, {1}).to_vector<double>(), Vec{1000, 2});
  CHECK(logsumexp(x, {1}, true).shape() == Shape{2, 1});
  // log(2 e^1000) = 1000 + log 2.
  CHECK(logsumexp(tensor({1000, 1000}, kFloat64), {0}).item() == Approx(1000 + std::log(2.0)));
  // Over two dims: log(4 e^1) = 1 + log 4.
  CHECK(logsumexp(ones({2, 3, 2}, kFloat64), {0, -1}).to_vector<double>()[0] ==
        Approx(1 + std::log(4.0)));
  // All -inf and empty give -inf, not NaN.
  CHECK(logsumexp(tensor({-INFINITY, -INFINITY}), {0}).item() == -INFINITY);
  CHECK(logsumexp(zeros({0, 3}), {0}).to_vector<float>() == Fvec(3, -INFINITY));
  CHECK(logsumexp(tensor({INFINITY, 0}), {0}).item() == INFINITY);
}

TEST_CASE("reduction errors name the op", "[reduce]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(sum(x, {1, -1}), Catch::Contains("sum: dim appears more than once in [1, -1]"));
  CHECK_THROWS_WITH(sum(x, {2}),
                    Catch::Contains("sum: dim 2 is out of range for a tensor of 2 dims"));
  CHECK_THROWS_WITH(max(x, -3), Catch::Contains("max: dim -3 is out of range"));
  CHECK_THROWS_WITH(
      max(zeros({2, 0}), 1),
      Catch::Contains("max: cannot reduce over an empty dimension 1 of shape [2, 0]"));
  CHECK_THROWS_WITH(max(zeros({0})), Catch::Contains("max: cannot reduce an empty tensor"));
  CHECK_THROWS_WITH(max(from_vector(std::vector<bool>{true}), 0),
                    Catch::Contains("max/min: not defined for bool tensors"));
  CHECK_THROWS_WITH(logsumexp(tensor({1}, kInt64), {0}),
                    Catch::Contains("logsumexp: expected a floating"));
}

TEST_CASE("channel_mean_max is cat(mean(x * gate, 1), max(x * gate, 1)) in one pass", "[reduce]") {
  Generator gen(9);
  for (DType dt : {kFloat64, kFloat32}) {
    // 300 pixels: one full block of the CPU kernel and a short one.
    for (bool gated : {true, false})
      for (bool max_first : {false, true}) {
        INFO("dtype " << dt << " gated " << gated << " max_first " << max_first);
        Tensor x = randn({3, 5, 15, 20}, dt, &gen), gate = rand({3, 5, 1, 1}, dt, &gen);
        Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
        Tensor g1 = gate.clone().requires_grad_(), g2 = gate.clone().requires_grad_();
        Tensor y1 = channel_mean_max(x1, gated ? g1 : Tensor(), max_first);
        Tensor u = gated ? x2 * g2 : x2;
        Tensor mean_u = mean(u, {1}, true), max_u = max(u, 1, true).first;
        Tensor y2 = max_first ? cat({max_u, mean_u}, 1) : cat({mean_u, max_u}, 1);
        const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
        CHECK(max_abs_diff(y1, y2) <= tol);
        Tensor g = randn(y1.shape(), dt, &gen);
        sum(y1 * g).backward();
        sum(y2 * g).backward();
        CHECK(max_abs_diff(x1.grad(), x2.grad()) <= tol);
        if (gated) CHECK(max_abs_diff(g1.grad(), g2.grad()) <= tol * 100);  // sums of 300
      }
  }
  SECTION("ties go to the first channel, NaN wins, strided x, clear errors") {
    Tensor x = tensor({1.0f, 3.0f, 3.0f, 2.0f}).reshape({1, 4, 1, 1});
    Tensor leaf = x.clone().requires_grad_();
    Tensor y = channel_mean_max(leaf);
    CHECK(y.to_vector<float>() == Fvec{2.25f, 3.0f});
    sum(y).backward();
    CHECK(leaf.grad().to_vector<float>() == Fvec{0.25f, 1.25f, 0.25f, 0.25f});
    Tensor nan = tensor({1.0f, NAN, 5.0f}).reshape({1, 3, 1, 1});
    CHECK(std::isnan(channel_mean_max(nan).to_vector<float>()[1]));
    Tensor xs = randn({2, 3, 4, 5}).transpose(2, 3);
    Tensor want = cat({mean(xs, {1}, true), max(xs, 1, true).first}, 1);
    CHECK(max_abs_diff(channel_mean_max(xs), want) <= 1e-6);
    CHECK_THROWS_WITH(channel_mean_max(randn({2, 3, 4})),
                      Catch::Contains("channel_mean_max: expected x of shape (B, C, H, W)"));
    CHECK_THROWS_WITH(channel_mean_max(randn({2, 3, 4, 4}), rand({2, 1, 4, 4})),
                      Catch::Contains("gate has shape [2, 1, 4, 4], expected (2, 3, 1, 1)"));
  }
}

TEST_CASE("channel_mean_max float32 kernels match the composed ops on every ISA",
          "[reduce][kernel]") {
  // 7×7 = 49 pixels: vector bodies and a tail on every ISA; C = 3 with ties
  // from integer values.
  Generator gen(10);
  Tensor x = randint(-2, 3, {4, 3, 7, 7}, &gen).to(kFloat32), gate = rand({4, 3, 1, 1});
  Tensor g = randn({4, 2, 7, 7});
  Tensor xr = x.clone().requires_grad_(), gr = gate.clone().requires_grad_();
  Tensor u = xr * gr;
  Tensor want = cat({mean(u, {1}, true), max(u, 1, true).first}, 1);
  sum(want * g).backward();
  for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    cpu::IsaCapGuard cap(isa);
    INFO("isa cap " << cpu::isa_name(isa));
    Tensor x1 = x.clone().requires_grad_(), g1 = gate.clone().requires_grad_();
    Tensor got = channel_mean_max(x1, g1);
    CHECK(max_abs_diff(got, want) <= 1e-6);
    sum(got * g).backward();
    CHECK(max_abs_diff(x1.grad(), xr.grad()) <= 1e-6);
    CHECK(max_abs_diff(g1.grad(), gr.grad()) <= 1e-5);
  }
}

TEST_CASE("sum_to reverses broadcasting", "[reduce]") {
  Tensor g = ones({2, 3, 4});
  CHECK(sum_to(g, {3, 1}).to_vector<float>() == Fvec{8, 8, 8});
  CHECK(sum_to(g, {4}).to_vector<float>() == Fvec{6, 6, 6, 6});
  CHECK(sum_to(g, {}).item() == 24);
  CHECK(sum_to(g, {2, 3, 4}).impl() == g.impl());
  CHECK_THROWS_WITH(sum_to(ones({3}), {2, 3}), Catch::Contains("sum_to: cannot reduce shape [3]"));
}

// --- gradcheck cases (random values: no ties for max/min)
HEED_GRADCHECK_CASE({"sum", "dims 0 and 2",
                     [] {
                       return In{gc_input({2, 3, 4})};
                     },
                     [](const In& i) {
                       return sum(i[0], {0, 2});
                     }});
HEED_GRADCHECK_CASE({"sum", "all, strided",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) { return sum(i[0]); }});
HEED_GRADCHECK_CASE({"sum", "keepdim, negative dim, strided",
                     [] {
                       return In{gc_strided_input({3, 4, 2})};
                     },
                     [](const In& i) { return sum(i[0], {-2}, true); }});
HEED_GRADCHECK_CASE({"mean", "dim 1",
                     [] {
                       return In{gc_input({2, 3, 4})};
                     },
                     [](const In& i) { return mean(i[0], {1}); }});
HEED_GRADCHECK_CASE({"mean", "all, strided",
                     [] {
                       return In{gc_strided_input({4, 3})};
                     },
                     [](const In& i) { return mean(i[0]); }});
HEED_GRADCHECK_CASE({"var", "unbiased, dim -1",
                     [] {
                       return In{gc_input({3, 5})};
                     },
                     [](const In& i) { return var(i[0], {-1}); }});
HEED_GRADCHECK_CASE({"var", "biased, dims 0 and 2, keepdim, strided",
                     [] {
                       return In{gc_strided_input({4, 3, 2})};
                     },
                     [](const In& i) {
                       return var(i[0], {0, 2}, false, true);
                     }});
HEED_GRADCHECK_CASE({"max", "dim 1 values",
                     [] {
                       return In{gc_input({3, 5})};
                     },
                     [](const In& i) { return max(i[0], 1).first; }});
HEED_GRADCHECK_CASE({"max", "dim 0, keepdim, strided",
                     [] {
                       return In{gc_strided_input({4, 3})};
                     },
                     [](const In& i) { return max(i[0], 0, true).first; }});
HEED_GRADCHECK_CASE({"max", "over everything",
                     [] {
                       return In{gc_input({3, 4})};
                     },
                     [](const In& i) { return max(i[0]); }});
HEED_GRADCHECK_CASE({"min", "dim -1 values",
                     [] {
                       return In{gc_input({2, 3, 4})};
                     },
                     [](const In& i) { return min(i[0], -1).first; }});
HEED_GRADCHECK_CASE({"min", "over everything",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) { return min(i[0]); }});
HEED_GRADCHECK_CASE({"amax", "dims 0 and 2",
                     [] {
                       return In{gc_input({3, 2, 4})};
                     },
                     [](const In& i) {
                       return amax(i[0], {0, 2});
                     }});
HEED_GRADCHECK_CASE({"amax", "keepdim, strided",
                     [] {
                       return In{gc_strided_input({4, 5})};
                     },
                     [](const In& i) { return amax(i[0], {1}, true); }});
HEED_GRADCHECK_CASE({"logsumexp", "dim 1",
                     [] {
                       return In{gc_input({3, 4}, -3, 3)};
                     },
                     [](const In& i) { return logsumexp(i[0], {1}); }});
HEED_GRADCHECK_CASE({"logsumexp", "dims 0 and 2, keepdim, strided",
                     [] {
                       return In{gc_strided_input({3, 2, 4}, -3, 3)};
                     },
                     [](const In& i) {
                       return logsumexp(i[0], {0, 2}, true);
                     }});
HEED_GRADCHECK_CASE({"channel_mean_max", "gated, [mean; max]",
                     [] {
                       return In{gc_input({2, 4, 3, 3}), gc_input({2, 4, 1, 1}, 0.2, 1, 2)};
                     },
                     [](const In& i) { return channel_mean_max(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"channel_mean_max", "x alone, [max; mean], strided",
                     [] {
                       return In{gc_strided_input({2, 3, 2, 4})};
                     },
                     [](const In& i) { return channel_mean_max(i[0], Tensor(), true); }});

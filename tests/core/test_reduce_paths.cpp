// The vectorised float32 reductions (core/cpu/reduce_f32*) against the
// generic float64 kernels on every ISA: inner (row), non-inner (column) and
// mixed reductions, odd sizes, non-contiguous inputs, long rows, the
// thread-count-independent split of batch sums, NaN, and argmax / argmin.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/cpu/reduce_f32.h"
#include "core/heed_core.h"
#include "core/parallel.h"

using namespace heed;
using heed::cpu::Isa;
using heed::cpu::IsaCapGuard;

namespace {

const Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

Tensor random_input(const Shape& shape, uint64_t seed) {
  manual_seed(seed);
  Tensor t = empty(shape);
  uniform_(t, -3, 3);
  return t;
}

void check_reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                  double rtol = 1e-5) {
  cpu::CpuBackend be;
  Shape kept = x.shape();
  for (int64_t d : dims) kept[size_t(d)] = 1;
  Tensor want = empty(kept, {kFloat64}), got = empty(kept);
  be.reduce(op, want, x.to(kFloat64), dims);
  be.reduce(op, got, x, dims);
  auto g = got.to_vector<float>();
  auto w = want.to_vector<double>();
  double scale = 1;  // sums: the error scales with sum |x|, not with the result
  if (op == ReduceOp::Sum) scale = double(x.numel()) / double(std::max<size_t>(w.size(), 1));
  size_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool ok = std::isnan(w[i])
                        ? std::isnan(g[i])
                        : std::abs(double(g[i]) - w[i]) <= rtol * (std::abs(w[i]) + scale);
    if (!ok && bad++ == 0) UNSCOPED_INFO("at " << i << ": " << g[i] << " vs " << w[i]);
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("float32 reductions match float64 on every ISA", "[reduce_paths]") {
  const Tensor x = random_input({3, 5, 7, 9}, 1);
  const Tensor xt = random_input({3, 9, 7, 5}, 2).transpose(1, 3);
  const std::vector<std::vector<int64_t>> dim_sets = {{1}, {2, 3},       {0, 2, 3}, {0},
                                                      {3}, {0, 1, 2, 3}, {1, 3},    {0, 2}};
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
      for (const auto& dims : dim_sets) {
        INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " op " << int(op) << " dims " << dims.size()
                    << " first " << dims[0]);
        check_reduce(op, op == ReduceOp::Prod ? x * 0.01 + 1.0 : x, dims);
        check_reduce(op, op == ReduceOp::Prod ? xt * 0.01 + 1.0 : xt, dims);
      }
    }
    // Long rows, long columns (the split-rows batch sum), wide columns.
    check_reduce(ReduceOp::Sum, random_input({2, 100003}, 3), {1});
    check_reduce(ReduceOp::Sum, random_input({5000, 7}, 4), {0});
    check_reduce(ReduceOp::Max, random_input({600, 3}, 5), {0});
    check_reduce(ReduceOp::Sum, random_input({4, 37, 1000}, 6), {1});
  }
}

TEST_CASE("float32 batch sums do not depend on the thread count", "[reduce_paths]") {
  const Tensor x = random_input({8320, 19}, 7);
  const int threads = get_num_threads();
  set_num_threads(1);
  auto one = sum(x, {0}).to_vector<float>();
  set_num_threads(4);
  auto four = sum(x, {0}).to_vector<float>();
  set_num_threads(threads);
  CHECK(one == four);
}

TEST_CASE("float32 max / min reductions propagate NaN", "[reduce_paths]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    for (int64_t pos : {0, 5, 16, 39}) {
      Tensor x = random_input({2, 40, 3}, 8);
      x.data_ptr<float>()[pos * 3 + 1] = nan;
      for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum}) {
        check_reduce(op, x, {1});
        check_reduce(op, x.transpose(1, 2).contiguous(), {2});
      }
    }
  }
}

TEST_CASE("float32 max / min with indices over a non-inner dim", "[reduce_paths]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = random_input({3, 17, 5, 7}, 9);
  float* p = x.data_ptr<float>();
  p[2 * 35 + 3] = p[9 * 35 + 3];  // a tie: the first index wins
  p[4 * 35 + 10] = nan;           // NaN wins at its first index
  p[11 * 35 + 10] = nan;
  p[35 * 17 + 6 * 35 + 1] = 100;
  cpu::CpuBackend be;
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
      Tensor v = empty({3, 1, 5, 7}), i = empty({3, 1, 5, 7}, {kInt64});
      Tensor v64 = empty({3, 1, 5, 7}, {kFloat64}), i64 = empty({3, 1, 5, 7}, {kInt64});
      be.reduce_with_index(op, v, i, x, 1);
      be.reduce_with_index(op, v64, i64, x.to(kFloat64), 1);
      CHECK(i.to_vector<int64_t>() == i64.to_vector<int64_t>());
      auto a = v.to_vector<float>();
      auto b = v64.to_vector<double>();
      for (size_t k = 0; k < a.size(); ++k) {
        if (std::isnan(b[k]))
          CHECK(std::isnan(a[k]));
        else
          CHECK(double(a[k]) == b[k]);
      }
    }
  }
}

TEST_CASE("max_index: the first maximum (and the sum) in one pass on every ISA", "[reduce_paths]") {
  // Checked against a plain scan: ties (the first wins, -0 and +0 included),
  // the maximum in a vector lane, in the tail or at either end, -inf only,
  // and NaN anywhere (-1), for lengths around the vector widths and past a
  // sum block. Asked for the sum too it gives the same index, and the sum in
  // double to float rounding (NaN with a NaN, ±inf with infinities).
  auto first_max = [](const std::vector<float>& x) -> int64_t {
    int64_t arg = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::isnan(x[i])) return -1;
      if (x[i] > x[size_t(arg)]) arg = int64_t(i);
    }
    return arg;
  };
  Generator gen(7);
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    const cpu::ReduceF32Kernels& k = cpu::reduce_f32_kernels();
    for (int64_t len : {1, 2, 7, 8, 9, 15, 16, 17, 33, 64, 100, 1024, 1031, 9000}) {
      INFO("isa " << cpu::isa_name(isa) << ", len " << len);
      // max_index's answer, after checking the same scan with its sum.
      auto max_index = [&](const std::vector<float>& x) {
        const int64_t arg = k.max_index(x.data(), len, nullptr);
        float sum = 0;
        CHECK(k.max_index(x.data(), len, &sum) == arg);
        double want = 0;
        for (float v : x) want += double(v);
        if (std::isnan(want))
          CHECK(std::isnan(sum));
        else if (std::isinf(want))
          CHECK(sum == float(want));
        else
          CHECK(std::abs(double(sum) - want) <= 1e-6 * (1.0 + std::abs(want)));
        return arg;
      };
      // Few distinct values: many ties of the maximum.
      std::vector<float> x(static_cast<size_t>(len));
      for (int trial = 0; trial < 20; ++trial) {
        const std::vector<float> r = randint(0, 5, {len}, &gen).to(kFloat32).to_vector<float>();
        for (size_t i = 0; i < x.size(); ++i) x[i] = r[i] - 2.0f;
        CHECK(max_index(x) == first_max(x));
      }
      std::fill(x.begin(), x.end(), -INFINITY);
      CHECK(max_index(x) == 0);
      x.back() = 1.0f;  // the last element, in the tail or the last vector
      CHECK(max_index(x) == len - 1);
      std::fill(x.begin(), x.end(), 0.0f);
      x[size_t(len / 2)] = -0.0f;  // ±0 tie: index 0 still wins
      CHECK(max_index(x) == 0);
      x[size_t(len - 1)] = NAN;
      CHECK(max_index(x) == -1);
      x[size_t(len - 1)] = 0.0f;
      x[0] = NAN;
      CHECK(max_index(x) == -1);
    }
  }
}

TEST_CASE("sum_to_of_product matches sum_to(a * b) on every ISA", "[reduce_paths]") {
  // The fused gate gradient (CpuBackend::sum_of_products) against the
  // product-then-sum definition in float64: channel gates (B, C, 1, 1), a
  // spatial gate (B, 1, H, W), a reduction that is not one block (the
  // default path), a lower-rank target, odd sizes, long rows and a
  // non-contiguous operand.
  struct Case {
    Shape in, to;
  };
  const std::vector<Case> cases = {
      {{3, 5, 7, 9}, {3, 5, 1, 1}},      {{3, 5, 7, 9}, {3, 1, 7, 9}}, {{3, 5, 7, 9}, {1, 5, 1, 1}},
      {{3, 5, 7, 9}, {5, 1, 1}},         {{2, 300, 37}, {2, 1, 37}},   {{4, 3, 100003}, {4, 3, 1}},
      {{2, 17, 3, 600}, {2, 1, 3, 600}},
  };
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    for (const Case& c : cases) {
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " " << shape_str(c.in) << " -> "
                  << shape_str(c.to));
      const Tensor a = random_input(c.in, 7), b = random_input(c.in, 8);
      const Tensor got = sum_to_of_product(a, b, c.to);
      const Tensor want = sum_to(a.to(kFloat64) * b.to(kFloat64), c.to);
      REQUIRE(got.shape() == c.to);
      REQUIRE(got.dtype() == kFloat32);
      // Terms are products of U(-3, 3) values (|ab| ≤ 9): the error scales
      // with the number of terms per result, not with the result.
      const double scale = 9.0 * double(a.numel()) / double(want.numel());
      CHECK(max(abs(got.to(kFloat64) - want)).item<double>() <= 1e-6 * scale);
    }
  }
  const Tensor a = random_input({4, 6, 5, 3}, 9),
               b = random_input({4, 3, 5, 6}, 10).transpose(1, 3);
  CHECK(
      max(abs(sum_to_of_product(a, b, {4, 6, 1, 1}) - sum_to(a * b, {4, 6, 1, 1}))).item<double>() <
      1e-4);
}

TEST_CASE("sum_to_of_product records autograd like sum_to(a * b)", "[reduce_paths]") {
  Tensor a = random_input({2, 3, 4, 4}, 11).requires_grad_();
  Tensor b = random_input({2, 3, 4, 4}, 12);
  Tensor y = sum_to_of_product(a, b, {2, 3, 1, 1});
  REQUIRE(y.requires_grad());
  y.sum().backward();
  CHECK(max(abs(a.grad() - b)).item<double>() == 0.0);
  CHECK_THROWS_WITH(sum_to_of_product(a, random_input({2, 3, 4, 5}, 13), {2, 3, 1, 1}),
                    Catch::Contains("one shape and dtype"));
}

// The vectorised float32 element-wise rows (core/cpu/pointwise_f32*) against
// the generic float64 kernels, on every ISA, for odd sizes (masked tails),
// non-contiguous inputs, the broadcast patterns nets use, and NaN inputs.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"

using namespace heed;
using heed::cpu::Isa;
using heed::cpu::IsaCapGuard;

namespace {

const Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

Tensor random_input(const Shape& shape, double lo, double hi, uint64_t seed) {
  manual_seed(seed);
  Tensor t = empty(shape);
  uniform_(t, lo, hi);
  return t;
}

// Close to the float64 result, NaN where it is NaN.
void check_close(const Tensor& got32, const Tensor& want64, double rtol = 2e-6,
                 double atol = 2e-6) {
  auto g = got32.contiguous().to_vector<float>();
  auto w = want64.contiguous().to_vector<double>();
  REQUIRE(g.size() == w.size());
  size_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i])) {
      if (!std::isnan(g[i])) ++bad;
    } else if (!(std::abs(double(g[i]) - w[i]) <= atol + rtol * std::abs(w[i]))) {
      if (bad == 0) UNSCOPED_INFO("first mismatch at " << i << ": " << g[i] << " vs " << w[i]);
      ++bad;
    }
  }
  CHECK(bad == 0);
}

// The op on float32 `x` (possibly a strided view) vs the same op on its
// float64 copy.
void check_unary(UnaryOp op, const Tensor& x, OpParams p = {}) {
  cpu::CpuBackend be;
  Tensor x64 = x.to(kFloat64);
  Tensor want = empty(x.shape(), {kFloat64});
  be.unary(op, want, x64, p);
  Tensor got = empty(x.shape());
  be.unary(op, got, x, p);
  check_close(got, want);
}

void check_binary(BinaryOp op, const Tensor& a, const Tensor& b, OpParams p = {}) {
  cpu::CpuBackend be;
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), "test");
  Tensor ae = expand(a, shape), bee = expand(b, shape);
  Tensor want = empty(shape, {kFloat64});
  be.binary(op, want, expand(a.to(kFloat64), shape), expand(b.to(kFloat64), shape), p);
  Tensor got = empty(shape);
  be.binary(op, got, ae, bee, p);
  check_close(got, want);
}

}  // namespace

TEST_CASE("float32 unary rows match float64 on every ISA", "[pointwise]") {
  const Tensor x = random_input({1037}, -6, 6, 1);
  const Tensor pos = random_input({1037}, 0.01, 20, 2);
  const Tensor strided = random_input({33, 17}, -6, 6, 3).transpose(0, 1);
  const UnaryOp any_sign[] = {UnaryOp::Neg,       UnaryOp::Exp,       UnaryOp::Abs,
                              UnaryOp::Square,    UnaryOp::Erf,       UnaryOp::Relu,
                              UnaryOp::Relu6,     UnaryOp::Sigmoid,   UnaryOp::Tanh,
                              UnaryOp::GeluErf,   UnaryOp::GeluTanh,  UnaryOp::Silu,
                              UnaryOp::AddScalar, UnaryOp::MulScalar, UnaryOp::RSubScalar};
  const UnaryOp positive[] = {UnaryOp::Log, UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::Reciprocal,
                              UnaryOp::RDivScalar};
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    for (UnaryOp op : any_sign) {
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " op " << int(op));
      check_unary(op, x, {0.5, 0});
      check_unary(op, strided, {0.5, 0});
      check_unary(op, x.narrow(0, 3, 13), {0.5, 0});
    }
    for (UnaryOp op : positive) {
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " op " << int(op));
      check_unary(op, pos, {1.5, 0});
    }
    check_unary(UnaryOp::LeakyRelu, x, {0.01, 0});
    check_unary(UnaryOp::Clamp, x, {-1, 2});
    check_unary(UnaryOp::PowScalar, x, {2, 0});
  }
}

TEST_CASE("float32 binary rows match float64 for net broadcast patterns", "[pointwise]") {
  const Tensor x = random_input({3, 5, 7, 9}, -4, 4, 4);
  const Tensor chan = random_input({3, 5, 1, 1}, -2, 2, 5);
  const Tensor gate = random_input({3, 1, 7, 9}, -2, 2, 6);
  const Tensor bias = random_input({9}, -2, 2, 7);
  const Tensor scalar = random_input({}, 0.5, 2, 8);
  const Tensor pos = random_input({3, 5, 7, 9}, 0.5, 4, 9);
  const Tensor xt = random_input({3, 5, 9, 7}, -4, 4, 10).transpose(2, 3);
  const BinaryOp ops[] = {BinaryOp::Add,
                          BinaryOp::Sub,
                          BinaryOp::Mul,
                          BinaryOp::Maximum,
                          BinaryOp::Minimum,
                          BinaryOp::ReluBackward,
                          BinaryOp::TanhBackward,
                          BinaryOp::SigmoidBackward,
                          BinaryOp::GeluErfBackward,
                          BinaryOp::GeluTanhBackward,
                          BinaryOp::SiluBackward,
                          BinaryOp::LeakyReluBackward,
                          BinaryOp::AddRelu};
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    for (BinaryOp op : ops) {
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " op " << int(op));
      check_binary(op, x, pos, {1, 0});
      check_binary(op, x, chan, {1, 0});
      check_binary(op, chan, x, {1, 0});
      check_binary(op, x, gate, {1, 0});
      check_binary(op, x, bias, {1, 0});
      check_binary(op, x, scalar, {1, 0});
      check_binary(op, scalar, x, {1, 0});
      check_binary(op, xt, x, {1, 0});
    }
    check_binary(BinaryOp::Add, x, chan, {0.5, 0});
    check_binary(BinaryOp::Sub, x, gate, {-2, 0});
    check_binary(BinaryOp::Div, x, pos, {});
    check_binary(BinaryOp::Div, x, chan.abs() + 0.5, {});
    check_binary(BinaryOp::ClampBackward, x, pos, {-1, 2});
  }
}

TEST_CASE("NaN propagates through the float32 rows like PyTorch", "[pointwise]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = from_vector(
      std::vector<float>{nan, 1, nan, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, nan});
  const Tensor b = from_vector(
      std::vector<float>{1, nan, nan, 3, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    auto mx = maximum(a, b).to_vector<float>();
    auto mn = minimum(a, b).to_vector<float>();
    for (int i : {0, 1, 2, 17}) {
      CHECK(std::isnan(mx[size_t(i)]));
      CHECK(std::isnan(mn[size_t(i)]));
    }
    CHECK(mx[3] == 3);
    CHECK(mn[3] == 2);
    auto r = relu(a).to_vector<float>();
    CHECK(std::isnan(r[0]));
    CHECK(r[1] == 1);
    auto e = exp(a).to_vector<float>();
    CHECK(std::isnan(e[17]));
    for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Tanh, UnaryOp::Sigmoid, UnaryOp::Erf,
                       UnaryOp::GeluErf, UnaryOp::Silu, UnaryOp::Log})
      check_unary(op, a);
  }
}

TEST_CASE("where rows with contiguous, broadcast and strided choices", "[pointwise]") {
  const Tensor x = random_input({4, 33}, -1, 1, 11);
  const Tensor y = random_input({4, 33}, -1, 1, 12);
  const Tensor cond = x > 0.0;
  const Tensor zero = zeros({});
  const Tensor yt = random_input({33, 4}, -1, 1, 13).transpose(0, 1);
  auto check = [&](const Tensor& a, const Tensor& b) {
    Tensor got = where(cond, a, b);
    auto g = got.to_vector<float>();
    auto c = cond.contiguous().to_vector<bool>();
    auto av = expand(a, {4, 33}).contiguous().to_vector<float>();
    auto bv = expand(b, {4, 33}).contiguous().to_vector<float>();
    for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == (c[i] ? av[i] : bv[i]));
  };
  check(x, y);
  check(x, zero);
  check(zero, y);
  check(x, yt);
}

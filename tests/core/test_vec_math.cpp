// Accuracy of the vectorised float32 math (core/cpu/vec_math_impl.inc) on
// every ISA this machine has, through the CPU backend's unary kernels:
// a dense sweep of float bit patterns (every 1021st, both signs: ~8.4M
// values including denormals and the saturation regions) plus the special
// values, against the double-precision C library rounded to float.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"

using namespace heed;
using heed::cpu::Isa;
using heed::cpu::IsaCapGuard;

namespace {

std::vector<float> sweep_values() {
  std::vector<float> v;
  for (uint64_t bits = 0; bits < 0x7f800000u; bits += 1021) {
    v.push_back(std::bit_cast<float>(uint32_t(bits)));
    v.push_back(-std::bit_cast<float>(uint32_t(bits)));
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float s : {0.0f,
                  -0.0f,
                  inf,
                  -inf,
                  std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(),
                  std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(),
                  1.0f,
                  -1.0f,
                  0.625f,
                  -0.625f,
                  88.72283f,
                  88.7229f,
                  -87.3f,
                  -103.9f,
                  -104.1f,
                  10.5f,
                  -10.5f,
                  3.92f,
                  -3.92f,
                  9.1f,
                  -9.1f})
    v.push_back(s);
  return v;
}

// Error of `got` in units of the float ulp at the exact value; denormal
// results are measured in the smallest denormal step.
double ulp_error(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : 1e30;
  if (std::isinf(float(exact))) return got == float(exact) ? 0 : 1e30;  // overflows in float
  if (std::isnan(got) || std::isinf(got)) return 1e30;
  int e = 0;
  std::frexp(exact, &e);  // exact = m 2^e, m in [0.5, 1)
  const double ulp = std::ldexp(1.0, std::max(e - 24, -149));
  return std::abs(double(got) - exact) / ulp;
}

struct Case {
  UnaryOp op;
  double (*exact)(double);
  double max_ulp;
};

double gelu_exact(double x) {
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}
double sigmoid_exact(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

std::vector<Isa> isas() {
  return {Isa::Scalar, Isa::Avx2, Isa::Avx512};
}

}  // namespace

TEST_CASE("vectorised float math stays within its ulp bounds on every ISA", "[vec_math]") {
  const std::vector<float> xs = sweep_values();
  const Tensor in = from_vector(xs);
  cpu::CpuBackend be;
  // Bounds a little above the measured maxima (same on every ISA): exp 0.96,
  // log 0.75, tanh 1.28, sigmoid 2.78, erf 2.23 ulp.
  const Case cases[] = {
      {UnaryOp::Exp, [](double x) { return std::exp(x); }, 1.5},
      {UnaryOp::Log, [](double x) { return std::log(x); }, 1},
      {UnaryOp::Tanh, [](double x) { return std::tanh(x); }, 2},
      {UnaryOp::Sigmoid, sigmoid_exact, 3.5},
      {UnaryOp::Erf, [](double x) { return std::erf(x); }, 3},
  };
  for (Isa isa : isas()) {
    IsaCapGuard cap(isa);
    for (const Case& c : cases) {
      Tensor out = empty_like(in);
      be.unary(c.op, out, in, {});
      const float* y = out.data_ptr<float>();
      double worst = 0;
      float worst_x = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        const double err = ulp_error(y[i], c.exact(double(xs[i])));
        if (err > worst) {
          worst = err;
          worst_x = xs[i];
        }
      }
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " op " << int(c.op)
                  << " worst at x = " << worst_x);
      CHECK(worst <= c.max_ulp);
    }
  }
}

TEST_CASE("vectorised erf is also accurate in absolute terms and GELU where Phi is tiny",
          "[vec_math]") {
  const std::vector<float> xs = sweep_values();
  const Tensor in = from_vector(xs);
  cpu::CpuBackend be;
  for (Isa isa : isas()) {
    IsaCapGuard cap(isa);
    Tensor e = empty_like(in), g = empty_like(in);
    be.unary(UnaryOp::Erf, e, in, {});
    be.unary(UnaryOp::GeluErf, g, in, {});
    double erf_abs = 0, gelu_abs = 0, gelu_rel = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double x = xs[i];
      if (std::isnan(x)) {
        CHECK(std::isnan(e.data_ptr<float>()[i]));
        CHECK(std::isnan(g.data_ptr<float>()[i]));
        continue;
      }
      erf_abs = std::max(erf_abs, std::abs(double(e.data_ptr<float>()[i]) - std::erf(x)));
      if (std::isinf(x)) continue;
      const double ge = gelu_exact(x), gg = g.data_ptr<float>()[i];
      if (std::abs(x) < 8) gelu_abs = std::max(gelu_abs, std::abs(gg - ge));
      // Relative error where the result is a normal float.
      if (std::abs(ge) > 1e-37) gelu_rel = std::max(gelu_rel, std::abs(gg - ge) / std::abs(ge));
    }
    // Measured: erf 9.2e-8 absolute; GELU 5.4e-7 relative, 3.8e-7 absolute.
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    CHECK(erf_abs <= 1.5e-7);
    CHECK(gelu_rel <= 1e-6);
    CHECK(gelu_abs <= 5e-7);
  }
}

TEST_CASE("vectorised math special values", "[vec_math]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor in = from_vector(std::vector<float>{0.0f, -0.0f, inf, -inf, nan, -1.0f});
  cpu::CpuBackend be;
  auto run = [&](UnaryOp op) {
    Tensor out = empty_like(in);
    be.unary(op, out, in, {});
    return out.to_vector<float>();
  };
  for (Isa isa : isas()) {
    IsaCapGuard cap(isa);
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    auto ex = run(UnaryOp::Exp);
    CHECK(ex[0] == 1.0f);
    CHECK(ex[2] == inf);
    CHECK(ex[3] == 0.0f);
    CHECK(std::isnan(ex[4]));
    auto lg = run(UnaryOp::Log);
    CHECK(lg[0] == -inf);
    CHECK(lg[1] == -inf);
    CHECK(lg[2] == inf);
    CHECK(std::isnan(lg[3]));
    CHECK(std::isnan(lg[4]));
    CHECK(std::isnan(lg[5]));
    auto th = run(UnaryOp::Tanh);
    CHECK(th[2] == 1.0f);
    CHECK(th[3] == -1.0f);
    CHECK(std::signbit(th[1]));
    CHECK(std::isnan(th[4]));
    auto sg = run(UnaryOp::Sigmoid);
    CHECK(sg[0] == 0.5f);
    CHECK(sg[2] == 1.0f);
    CHECK(sg[3] == 0.0f);
    CHECK(std::isnan(sg[4]));
    auto ef = run(UnaryOp::Erf);
    CHECK(ef[2] == 1.0f);
    CHECK(ef[3] == -1.0f);
    CHECK(std::signbit(ef[1]));
    CHECK(std::isnan(ef[4]));
    auto ge = run(UnaryOp::GeluErf);
    CHECK(ge[0] == 0.0f);
    CHECK(ge[2] == inf);
    CHECK(std::isnan(ge[4]));
  }
}

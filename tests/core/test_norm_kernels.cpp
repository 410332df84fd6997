// The CPU batch_norm / layer_norm kernels (vectorised, one-pass statistics,
// task-split sums) against plain two-pass references written out below, on
// odd shapes (C = 1, 3, 17; S = 1, 7, 49, 70; B = 1), for every instruction
// set this machine has (IsaCapGuard), float32 and float64, training and
// eval, running-stat updates included; the same with the fused ReLU (and
// residual add).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"
#include "support/fixtures.h"

using namespace heed;
using namespace heed::testing;

namespace {

using V = std::vector<double>;

// --- references: the textbook formulas, two passes, all in double.

struct BnRef {
  V y, mean, invstd, running_mean, running_var;
};

BnRef batch_norm_ref(const V& x, int64_t B, int64_t C, int64_t S, const V& w, const V& b, V rm,
                     V rv, bool training, double momentum, double eps) {
  BnRef r{V(x.size()), V(size_t(C)), V(size_t(C)), rm, rv};
  const double N = double(B * S);
  for (int64_t c = 0; c < C; ++c) {
    auto at = [&](int64_t bi, int64_t s) { return x[size_t((bi * C + c) * S + s)]; };
    double mean = 0, var = 0;
    if (training) {
      for (int64_t bi = 0; bi < B; ++bi)
        for (int64_t s = 0; s < S; ++s) mean += at(bi, s) / N;
      for (int64_t bi = 0; bi < B; ++bi)
        for (int64_t s = 0; s < S; ++s) var += (at(bi, s) - mean) * (at(bi, s) - mean) / N;
      r.running_mean[size_t(c)] = (1 - momentum) * rm[size_t(c)] + momentum * mean;
      const double unbiased = N > 1 ? var * N / (N - 1) : var;
      r.running_var[size_t(c)] = (1 - momentum) * rv[size_t(c)] + momentum * unbiased;
    } else {
      mean = rm[size_t(c)];
      var = rv[size_t(c)];
    }
    const double invstd = 1 / std::sqrt(var + eps);
    r.mean[size_t(c)] = mean;
    r.invstd[size_t(c)] = invstd;
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t s = 0; s < S; ++s)
        r.y[size_t((bi * C + c) * S + s)] =
            (at(bi, s) - mean) * invstd * w[size_t(c)] + b[size_t(c)];
  }
  return r;
}

struct GradRef {
  V dx, dw, db;
};

GradRef batch_norm_backward_ref(const V& x, const V& dy, int64_t B, int64_t C, int64_t S,
                                const V& w, const V& mean, const V& invstd, bool training) {
  GradRef r{V(x.size()), V(size_t(C)), V(size_t(C))};
  const double N = double(B * S);
  for (int64_t c = 0; c < C; ++c) {
    auto idx = [&](int64_t bi, int64_t s) { return size_t((bi * C + c) * S + s); };
    const double m = mean[size_t(c)], is = invstd[size_t(c)];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t s = 0; s < S; ++s) {
        sum_dy += dy[idx(bi, s)];
        sum_dy_xhat += dy[idx(bi, s)] * (x[idx(bi, s)] - m) * is;
      }
    r.dw[size_t(c)] = sum_dy_xhat;
    r.db[size_t(c)] = sum_dy;
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t s = 0; s < S; ++s) {
        const double xhat = (x[idx(bi, s)] - m) * is;
        const double centred =
            training ? dy[idx(bi, s)] - sum_dy / N - xhat * sum_dy_xhat / N : dy[idx(bi, s)];
        r.dx[idx(bi, s)] = w[size_t(c)] * is * centred;
      }
  }
  return r;
}

struct LnRef {
  V y, dx, dw, db;
};

LnRef layer_norm_ref(const V& x, const V& dy, int64_t M, int64_t N, const V& w, const V& b,
                     double eps) {
  LnRef r{V(x.size()), V(x.size()), V(size_t(N)), V(size_t(N))};
  for (int64_t i = 0; i < M; ++i) {
    const double* p = x.data() + i * N;
    const double* d = dy.data() + i * N;
    double mean = 0, var = 0;
    for (int64_t j = 0; j < N; ++j) mean += p[j] / double(N);
    for (int64_t j = 0; j < N; ++j) var += (p[j] - mean) * (p[j] - mean) / double(N);
    const double rstd = 1 / std::sqrt(var + eps);
    double mean_g = 0, mean_g_xhat = 0;
    for (int64_t j = 0; j < N; ++j) {
      const double xhat = (p[j] - mean) * rstd, g = d[j] * w[size_t(j)];
      r.y[size_t(i * N + j)] = xhat * w[size_t(j)] + b[size_t(j)];
      r.dw[size_t(j)] += d[j] * xhat;
      r.db[size_t(j)] += d[j];
      mean_g += g / double(N);
      mean_g_xhat += g * xhat / double(N);
    }
    for (int64_t j = 0; j < N; ++j) {
      const double xhat = (p[j] - mean) * rstd;
      r.dx[size_t(i * N + j)] = rstd * (d[j] * w[size_t(j)] - mean_g - xhat * mean_g_xhat);
    }
  }
  return r;
}

// |a - b| ≤ tol·(1 + |b|) elementwise.
void check_close(const Tensor& a, const V& b, double tol, const char* what) {
  INFO(what);
  const V x = a.to_vector<double>();
  REQUIRE(x.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - b[i]) / (1 + std::abs(b[i])));
  CHECK(worst <= tol);
}

// Values of `t` (already rounded to its dtype) as doubles.
V values(const Tensor& t) {
  return t.to_vector<double>();
}

const cpu::Isa kIsas[] = {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512};

}  // namespace

TEST_CASE("batch_norm kernels match the two-pass reference on odd shapes, every ISA",
          "[norm][kernels]") {
  Backend& be = backend(kCPU);
  Generator gen(21);
  const int64_t Bs[] = {1, 4}, Cs[] = {1, 3, 17}, Ss[] = {1, 7, 49, 70};
  for (cpu::Isa isa : kIsas)
    for (DType dt : {kFloat32, kFloat64})
      for (int64_t B : Bs)
        for (int64_t C : Cs)
          for (int64_t S : Ss)
            for (bool training : {true, false}) {
              if (training && B * S == 1) continue;  // a 1-value batch has no variance
              DYNAMIC_SECTION(cpu::isa_name(isa) << " " << dt << " B=" << B << " C=" << C
                                                 << " S=" << S << " training=" << training) {
                cpu::IsaCapGuard cap(isa);
                // An offset of 30 makes the shift of the one-pass statistics matter.
                Tensor x = (randn({B, C, S}, kFloat64, &gen) * 2.0 + 30.0).to(dt);
                Tensor dy = randn({B, C, S}, kFloat64, &gen).to(dt);
                Tensor w = (rand({C}, kFloat64, &gen) + 0.5).to(dt);
                Tensor b = randn({C}, kFloat64, &gen).to(dt);
                Tensor rm = (randn({C}, kFloat64, &gen) + 30.0).to(dt);
                Tensor rv = (rand({C}, kFloat64, &gen) + 0.5).to(dt);
                const BnRef ref = batch_norm_ref(values(x), B, C, S, values(w), values(b),
                                                 values(rm), values(rv), training, 0.1, 1e-5);
                Tensor y = empty({B, C, S}, dt), mean = empty({C}, dt), invstd = empty({C}, dt);
                be.batch_norm(y, mean, invstd, x, w, b, rm, rv, training, 0.1, 1e-5);
                // float32: the inputs are exact, the kernels round on the way.
                const double tol = dt == kFloat64 ? 1e-10 : 2e-5;
                check_close(y, ref.y, tol, "y");
                check_close(mean, ref.mean, tol, "save_mean");
                check_close(invstd, ref.invstd, tol, "save_invstd");
                check_close(rm, ref.running_mean, tol, "running_mean");
                check_close(rv, ref.running_var, tol, "running_var");

                const GradRef gref =
                    batch_norm_backward_ref(values(x), values(dy), B, C, S, values(w), values(mean),
                                            values(invstd), training);
                Tensor dx = empty({B, C, S}, dt), dw = empty({C}, dt), db = empty({C}, dt);
                be.batch_norm_backward(dx, dw, db, dy, x, w, mean, invstd, training);
                // Sums over N values: scale the tolerance with their size.
                const double sum_tol = tol * std::sqrt(double(B * S)) * 4;
                check_close(dx, gref.dx, tol * 4, "grad_input");
                check_close(dw, gref.dw, sum_tol, "grad_weight");
                check_close(db, gref.db, sum_tol, "grad_bias");

                // Fused ReLU, with and without a residual r: y⁺ = max(y + r, 0);
                // the gradient flows where y⁺ > 0 (the kernel's own output
                // decides, as its backward does) and is also r's gradient.
                for (bool with_residual : {false, true}) {
                  INFO("residual " << with_residual);
                  Tensor res = with_residual ? randn({B, C, S}, kFloat64, &gen).to(dt) : Tensor();
                  Tensor yr = empty({B, C, S}, dt), mean2 = empty({C}, dt),
                         invstd2 = empty({C}, dt);
                  Tensor rm2 = rm.clone(), rv2 = rv.clone();
                  be.batch_norm_relu(yr, mean2, invstd2, x, w, b, res, rm2, rv2, training, 0.1,
                                     1e-5);
                  V yr_ref = values(y);
                  const V res_values = with_residual ? values(res) : V(yr_ref.size(), 0.0);
                  for (size_t i = 0; i < yr_ref.size(); ++i)
                    yr_ref[i] = std::max(yr_ref[i] + res_values[i], 0.0);
                  check_close(yr, yr_ref, tol * 2, "relu output");
                  V dy_masked = values(dy);
                  const V yr_values = values(yr);
                  for (size_t i = 0; i < dy_masked.size(); ++i)
                    if (!(yr_values[i] > 0)) dy_masked[i] = 0;
                  const GradRef rref =
                      batch_norm_backward_ref(values(x), dy_masked, B, C, S, values(w),
                                              values(mean2), values(invstd2), training);
                  Tensor dxr = empty({B, C, S}, dt), dwr = empty({C}, dt), dbr = empty({C}, dt);
                  Tensor drr = with_residual ? empty({B, C, S}, dt) : Tensor();
                  be.batch_norm_relu_backward(dxr, dwr, dbr, drr, dy, yr, x, w, mean2, invstd2,
                                              training);
                  check_close(dxr, rref.dx, tol * 4, "relu grad_input");
                  check_close(dwr, rref.dw, sum_tol, "relu grad_weight");
                  check_close(dbr, rref.db, sum_tol, "relu grad_bias");
                  if (with_residual) check_close(drr, dy_masked, 0, "relu grad_residual");
                  // Only the affine grads (grad_input not needed), as a first layer's.
                  Tensor dwr2 = empty({C}, dt), dbr2 = empty({C}, dt);
                  be.batch_norm_relu_backward(Tensor(), dwr2, dbr2, drr, dy, yr, x, w, mean2,
                                              invstd2, training);
                  check_close(dwr2, rref.dw, sum_tol, "relu grad_weight alone");
                  check_close(dbr2, rref.db, sum_tol, "relu grad_bias alone");
                }
              }
            }
}

TEST_CASE("layer_norm kernels match the two-pass reference on odd shapes, every ISA",
          "[norm][kernels]") {
  Backend& be = backend(kCPU);
  Generator gen(22);
  for (cpu::Isa isa : kIsas)
    for (DType dt : {kFloat32, kFloat64})
      for (int64_t M : {1, 5, 300})
        for (int64_t N : {1, 7, 49, 192, 201})
          for (bool with_w : {true, false}) {
            if (N == 1) continue;  // one value: no variance to normalise
            DYNAMIC_SECTION(cpu::isa_name(isa)
                            << " " << dt << " M=" << M << " N=" << N << " weight=" << with_w) {
              cpu::IsaCapGuard cap(isa);
              Tensor x = (randn({M, N}, kFloat64, &gen) * 3.0 - 40.0).to(dt);
              Tensor dy = randn({M, N}, kFloat64, &gen).to(dt);
              Tensor w = with_w ? (rand({N}, kFloat64, &gen) + 0.5).to(dt) : Tensor();
              Tensor b = with_w ? randn({N}, kFloat64, &gen).to(dt) : Tensor();
              const V wv = with_w ? values(w) : V(size_t(N), 1.0);
              const V bv = with_w ? values(b) : V(size_t(N), 0.0);
              const LnRef ref = layer_norm_ref(values(x), values(dy), M, N, wv, bv, 1e-5);
              Tensor y = empty({M, N}, dt), mean = empty({M}, dt), rstd = empty({M}, dt);
              be.layer_norm(y, mean, rstd, x, w, b, N, 1e-5);
              const double tol = dt == kFloat64 ? 1e-10 : 2e-5;
              check_close(y, ref.y, tol, "y");
              Tensor dx = empty({M, N}, dt);
              Tensor dw = with_w ? empty({N}, dt) : Tensor(),
                     db = with_w ? empty({N}, dt) : Tensor();
              be.layer_norm_backward(dx, dw, db, dy, x, w, mean, rstd, N);
              check_close(dx, ref.dx, tol * 4, "grad_input");
              if (with_w) {
                const double sum_tol = tol * std::sqrt(double(M)) * 4;
                check_close(dw, ref.dw, sum_tol, "grad_weight");
                check_close(db, ref.db, sum_tol, "grad_bias");
              }
            }
          }
}

TEST_CASE("batch_norm statistics are split the same whatever the thread count", "[norm][kernels]") {
  Backend& be = backend(kCPU);
  Generator gen(23);
  for (const Shape& s : {Shape{64, 3, 16, 16}, Shape{2, 40, 9, 9}}) {
    Tensor x = randn(s, kFloat32, &gen) + 3.0, dy = randn(s, kFloat32, &gen);
    const int64_t C = s[1];
    auto run = [&](int threads) {
      set_num_threads(threads);
      Tensor y = empty(s), mean = empty({C}), invstd = empty({C}), dx = empty(s);
      Tensor dw = empty({C}), db = empty({C});
      be.batch_norm(y, mean, invstd, x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
      be.batch_norm_backward(dx, dw, db, dy, x, Tensor(), mean, invstd, true);
      return std::vector<Tensor>{y, mean, invstd, dx, dw, db};
    };
    const int threads = get_num_threads();
    auto a = run(1), c = run(3);
    set_num_threads(threads);
    for (size_t i = 0; i < a.size(); ++i) CHECK(max_abs_diff(a[i], c[i]) == 0);
  }
}

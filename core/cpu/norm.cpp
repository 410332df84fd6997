// CPU normalisation kernels: batch norm (parallel over channels) and layer
// norm (parallel over rows). Statistics are two-pass (mean, then the sum of
// squared deviations) accumulated in double, so float32 inputs with a large
// mean keep their variance. Every reduction has a fixed order, so the
// results do not depend on the thread count.
//
// Glossary: B batch, C channels, S spatial elements per (b, c) (1 for
// (B, C) inputs), N = B·S values per channel; layer norm: M rows of N values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

struct BnGeometry {
  int64_t B, C, S;
};

BnGeometry bn_geometry(const Tensor& input) {
  BnGeometry g{input.shape()[0], input.shape()[1], 1};
  for (int64_t d = 2; d < input.dim(); ++d) g.S *= input.shape()[size_t(d)];
  return g;
}

// Element c of a 1-D tensor that may be undefined (then `dflt`) or strided.
template <typename T>
struct Vec1 {
  T* p = nullptr;
  int64_t stride = 0;
  explicit Vec1(const Tensor& t) {
    if (t.defined()) {
      p = t.data_ptr<T>();
      stride = t.stride(0);
    }
  }
  bool defined() const { return p != nullptr; }
  T get(int64_t c, T dflt) const { return p ? p[c * stride] : dflt; }
  T& at(int64_t c) const { return p[c * stride]; }
};

}  // namespace

void CpuBackend::batch_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                            const Tensor& input, const Tensor& weight, const Tensor& bias,
                            const Tensor& running_mean, const Tensor& running_var, bool training,
                            double momentum, double eps) {
  const BnGeometry g = bn_geometry(input);
  const int64_t N = g.B * g.S;
  dispatch_floating(input.dtype(), "batch_norm", [&]<typename T>() {
    const T* x = input.data_ptr<T>();       // (B, C, S)
    T* y = out.data_ptr<T>();               // (B, C, S)
    T* mean_out = save_mean.data_ptr<T>();  // (C)
    T* invstd_out = save_invstd.data_ptr<T>();
    Vec1<T> w(weight), b(bias), rm(running_mean), rv(running_var);
    HEED_CHECK(training || (rm.defined() && rv.defined()),
               "batch_norm: eval mode needs running_mean and running_var");
    parallel_for(
        0, g.C, std::max<int64_t>(1, 32768 / std::max<int64_t>(N, 1)), [&](int64_t lo, int64_t hi) {
          for (int64_t c = lo; c < hi; ++c) {
            double mean, invstd;
            if (training) {
              double sum = 0;
              for (int64_t bi = 0; bi < g.B; ++bi) {
                const T* p = x + (bi * g.C + c) * g.S;
                for (int64_t s = 0; s < g.S; ++s) sum += double(p[s]);
              }
              mean = sum / double(N);
              double sq = 0;
              for (int64_t bi = 0; bi < g.B; ++bi) {
                const T* p = x + (bi * g.C + c) * g.S;
                for (int64_t s = 0; s < g.S; ++s) {
                  double d = double(p[s]) - mean;
                  sq += d * d;
                }
              }
              double var = sq / double(N);  // biased: what the batch is normalised with
              invstd = 1.0 / std::sqrt(var + eps);
              if (rm.defined()) rm.at(c) = T((1 - momentum) * double(rm.at(c)) + momentum * mean);
              if (rv.defined()) {
                double unbiased = N > 1 ? sq / double(N - 1) : var;
                rv.at(c) = T((1 - momentum) * double(rv.at(c)) + momentum * unbiased);
              }
            } else {
              mean = double(rm.at(c));
              invstd = 1.0 / std::sqrt(double(rv.at(c)) + eps);
            }
            mean_out[c] = T(mean);
            invstd_out[c] = T(invstd);
            // y = (x - mean) · (invstd · w) + b
            const T m = T(mean), scale = T(invstd * double(w.get(c, T(1)))), shift = b.get(c, T(0));
            for (int64_t bi = 0; bi < g.B; ++bi) {
              const T* p = x + (bi * g.C + c) * g.S;
              T* q = y + (bi * g.C + c) * g.S;
              for (int64_t s = 0; s < g.S; ++s) q[s] = (p[s] - m) * scale + shift;
            }
          }
        });
  });
}

void CpuBackend::batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                     const Tensor& grad_bias, const Tensor& grad_out,
                                     const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_invstd,
                                     bool training) {
  const BnGeometry g = bn_geometry(input);
  const int64_t N = g.B * g.S;
  dispatch_floating(input.dtype(), "batch_norm_backward", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                     // (B, C, S)
    const T* gy = grad_out.data_ptr<T>();                                 // (B, C, S)
    T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;    // (B, C, S)
    T* gw = grad_weight.defined() ? grad_weight.data_ptr<T>() : nullptr;  // (C)
    T* gb = grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr;      // (C)
    const T* mean_in = save_mean.data_ptr<T>();
    const T* invstd_in = save_invstd.data_ptr<T>();
    Vec1<T> w(weight);
    // The sums are only needed for the affine grads, or for grad_input in training.
    const bool need_sums = gw || gb || (gx && training);
    parallel_for(0, g.C, std::max<int64_t>(1, 32768 / std::max<int64_t>(N, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t c = lo; c < hi; ++c) {
                     const double mean = double(mean_in[c]), invstd = double(invstd_in[c]);
                     double sum_dy = 0, sum_dy_xmu = 0;  // Σ dy, Σ dy·(x - mean)
                     if (need_sums) {
                       for (int64_t bi = 0; bi < g.B; ++bi) {
                         const T* p = x + (bi * g.C + c) * g.S;
                         const T* d = gy + (bi * g.C + c) * g.S;
                         for (int64_t s = 0; s < g.S; ++s) {
                           sum_dy += double(d[s]);
                           sum_dy_xmu += double(d[s]) * (double(p[s]) - mean);
                         }
                       }
                     }
                     if (gw) gw[c] = T(sum_dy_xmu * invstd);
                     if (gb) gb[c] = T(sum_dy);
                     if (!gx) continue;
                     const double wc = double(w.get(c, T(1)));
                     // Training: dx = w·invstd·(dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x -
                     // mean))); eval: the statistics are constants, dx = w·invstd·dy.
                     const T k = training ? T(sum_dy_xmu * invstd * invstd / double(N)) : T(0);
                     const T dy_mean = training ? T(sum_dy / double(N)) : T(0);
                     const T m = T(mean), scale = T(invstd * wc);
                     for (int64_t bi = 0; bi < g.B; ++bi) {
                       const T* p = x + (bi * g.C + c) * g.S;
                       const T* d = gy + (bi * g.C + c) * g.S;
                       T* q = gx + (bi * g.C + c) * g.S;
                       for (int64_t s = 0; s < g.S; ++s)
                         q[s] = (d[s] - dy_mean - (p[s] - m) * k) * scale;
                     }
                   }
                 });
  });
}

void CpuBackend::layer_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd,
                            const Tensor& input, const Tensor& weight, const Tensor& bias,
                            int64_t normalized, double eps) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  dispatch_floating(input.dtype(), "layer_norm", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                // (M, N)
    T* y = out.data_ptr<T>();                                        // (M, N)
    T* mean_out = save_mean.data_ptr<T>();                           // (M)
    T* rstd_out = save_rstd.data_ptr<T>();                           // (M)
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;  // (N), contiguous
    const T* b = bias.defined() ? bias.data_ptr<T>() : nullptr;      // (N)
    parallel_for(0, M, std::max<int64_t>(1, 32768 / std::max<int64_t>(N, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const T* p = x + r * N;
                     T* q = y + r * N;
                     double sum = 0;
                     for (int64_t j = 0; j < N; ++j) sum += double(p[j]);
                     const double mean = sum / double(N);
                     double sq = 0;
                     for (int64_t j = 0; j < N; ++j) {
                       double d = double(p[j]) - mean;
                       sq += d * d;
                     }
                     const double rstd = 1.0 / std::sqrt(sq / double(N) + eps);
                     mean_out[r] = T(mean);
                     rstd_out[r] = T(rstd);
                     const T m = T(mean), rs = T(rstd);
                     if (w && b) {
                       for (int64_t j = 0; j < N; ++j) q[j] = (p[j] - m) * rs * w[j] + b[j];
                     } else {
                       for (int64_t j = 0; j < N; ++j) {
                         T v = (p[j] - m) * rs;
                         if (w) v *= w[j];
                         if (b) v += b[j];
                         q[j] = v;
                       }
                     }
                   }
                 });
  });
}

void CpuBackend::layer_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                     const Tensor& grad_bias, const Tensor& grad_out,
                                     const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_rstd,
                                     int64_t normalized) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  // grad_weight/grad_bias sum over rows: each of K row chunks writes partial
  // sums, added in chunk order afterwards. K depends only on (M, N), never on
  // the thread count, so results are reproducible.
  const bool affine = grad_weight.defined() || grad_bias.defined();
  const int64_t K = affine ? std::clamp<int64_t>(
                                 std::min<int64_t>(M * N / 16384, 64), 1,
                                 std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(N, 1)))
                           : 1;
  const int64_t rows_per_chunk = std::max<int64_t>(1, (M + K - 1) / K);
  dispatch_floating(input.dtype(), "layer_norm_backward", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                   // (M, N)
    const T* gy = grad_out.data_ptr<T>();                               // (M, N)
    T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;  // (M, N)
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;     // (N)
    const T* mean_in = save_mean.data_ptr<T>();                         // (M)
    const T* rstd_in = save_rstd.data_ptr<T>();                         // (M)
    // (K, 2, N): Σ dy·x̂ and Σ dy per column, per chunk.
    std::vector<double> partial(affine ? size_t(K * 2 * N) : 0, 0.0);
    parallel_for(0, K, 1, [&](int64_t k0, int64_t k1) {
      std::vector<double> xhat(static_cast<size_t>(N));
      for (int64_t k = k0; k < k1; ++k) {
        double* pw = affine ? partial.data() + k * 2 * N : nullptr;
        double* pb = affine ? pw + N : nullptr;
        const int64_t r_end = std::min(M, (k + 1) * rows_per_chunk);
        for (int64_t r = k * rows_per_chunk; r < r_end; ++r) {
          const T* p = x + r * N;
          const T* d = gy + r * N;
          const double mean = double(mean_in[r]), rstd = double(rstd_in[r]);
          double sum_g = 0, sum_g_xhat = 0;  // Σ dy·w, Σ dy·w·x̂
          for (int64_t j = 0; j < N; ++j) {
            const double xh = (double(p[j]) - mean) * rstd;
            const double gw = double(d[j]) * (w ? double(w[j]) : 1.0);
            xhat[size_t(j)] = xh;
            sum_g += gw;
            sum_g_xhat += gw * xh;
            if (affine) {
              pw[j] += double(d[j]) * xh;
              pb[j] += double(d[j]);
            }
          }
          if (!gx) continue;
          // dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) with g = dy·w
          const double a = sum_g / double(N), c = sum_g_xhat / double(N);
          T* q = gx + r * N;
          for (int64_t j = 0; j < N; ++j) {
            const double gw = double(d[j]) * (w ? double(w[j]) : 1.0);
            q[j] = T(rstd * (gw - a - xhat[size_t(j)] * c));
          }
        }
      }
    });
    if (!affine) return;
    T* gw = grad_weight.defined() ? grad_weight.data_ptr<T>() : nullptr;  // (N)
    T* gb = grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr;      // (N)
    parallel_for(0, N, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        double sw = 0, sb = 0;
        for (int64_t k = 0; k < K; ++k) {
          sw += partial[size_t(k * 2 * N + j)];
          sb += partial[size_t(k * 2 * N + N + j)];
        }
        if (gw) gw[j] = T(sw);
        if (gb) gb[j] = T(sb);
      }
    });
  });
}

}  // namespace heed::cpu

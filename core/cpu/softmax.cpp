// CPU softmax / log_softmax and their backward over one dim of a contiguous
// tensor seen as (outer, D, inner). Rows (inner == 1, the common case: the
// last dim) run three passes per row (float32: the per-ISA kernels of
// softmax_f32.h); otherwise a block of inner columns is
// processed together so the loops over the block stay contiguous. Both shapes
// split the independent (outer, inner) positions across parallel_for.
//
// Stability: every row is shifted by its max, so exp never overflows (inputs
// of 1000 are fine) and -inf entries give exp(-inf) = 0. A row whose entries
// are all -inf has no max to shift by and gives NaN, like PyTorch.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/softmax_f32.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

// Elements of work per parallel chunk.
constexpr int64_t kGrain = 16384;

struct Geometry {
  int64_t outer = 1, D = 1, inner = 1;
};

Geometry geometry_of(const Tensor& t, int64_t dim) {
  Geometry g;
  if (t.dim() == 0) return g;
  for (int64_t d = 0; d < dim; ++d) g.outer *= t.shape()[size_t(d)];
  g.D = t.shape()[size_t(dim)];
  for (int64_t d = dim + 1; d < t.dim(); ++d) g.inner *= t.shape()[size_t(d)];
  return g;
}

// ------------------------------------------------------------ vector math
// std::exp on float is a libm call the compiler cannot vectorize (without
// -ffast-math), and it dominated softmax. vexp<float> is Cephes' expf
// (Cody-Waite reduction + degree-5 polynomial; max relative error 8.5e-8,
// 1.4 ulp, measured against double exp over the whole range) written
// branch-free, rounding with the 1.5 * 2^23 shifter instead of std::floor (a
// call that blocks vectorization), so loops over it vectorize. Below -87.34 it
// returns 0 (true results are denormal), above 88.38 +inf, NaN stays NaN.
// Softmax only feeds it x - max <= 0. float64 keeps std::exp (gradcheck).
inline float vexp(float x) {
  const float xc = x != x ? 0.0f : std::min(std::max(x, -87.33654f), 88.37626f);
  const float shifter = 12582912.0f;                                 // 1.5 * 2^23
  const float fx = (xc * 1.44269504088896341f + shifter) - shifter;  // n = round(x / ln 2)
  const float r = xc - fx * 0.693359375f - fx * -2.12194440e-4f;     // x - n ln 2
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n from the exponent bits; n is in [-126, 127] after the clamp.
  const float two_n = std::bit_cast<float>(uint32_t(int32_t(fx) + 127) << 23);
  float y = p * two_n;
  y = x < -87.33654f ? 0.0f : y;
  y = x > 88.37626f ? std::numeric_limits<float>::infinity() : y;
  return x != x ? x : y;
}
inline double vexp(double x) {
  return std::exp(x);
}

// Reductions over a row with kLanes partial results: the lanes are
// independent, so the compiler vectorizes them without reassociating a
// single accumulator (which it may not do for floats without -ffast-math).
constexpr int64_t kLanes = 16;

template <typename T>
T lane_sum(const T* x, int64_t n) {
  T part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) part[l] += x[i + l];
  T s = 0;
  for (; i < n; ++i) s += x[i];
  for (int64_t l = 0; l < kLanes; ++l) s += part[l];
  return s;
}

template <typename T>
T lane_dot(const T* a, const T* b, int64_t n) {
  T part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) part[l] += a[i + l] * b[i + l];
  T s = 0;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int64_t l = 0; l < kLanes; ++l) s += part[l];
  return s;
}

template <typename T>
T row_max(const T* x, int64_t n) {
  T part[kLanes];
  std::fill(part, part + kLanes, -std::numeric_limits<T>::infinity());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) part[l] = std::max(part[l], x[i + l]);
  T m = -std::numeric_limits<T>::infinity();
  for (; i < n; ++i) m = std::max(m, x[i]);
  for (int64_t l = 0; l < kLanes; ++l) m = std::max(m, part[l]);
  return m;
}

// ---------------------------------------------------------------- forward

// Each pass is a plain loop over the row (the exps vectorize), and the row
// stays in L1 between passes.
template <typename T>
void softmax_row(T* y, const T* x, int64_t D, bool log) {
  const T mx = row_max(x, D);
  for (int64_t i = 0; i < D; ++i) y[i] = vexp(x[i] - mx);
  const T sum = lane_sum(y, D);
  if (log) {
    // (x - max) - log(sum), not x - (max + log(sum)): the first difference is
    // exact, so large inputs keep the precision of log(sum).
    const T lse = std::log(sum);
    for (int64_t i = 0; i < D; ++i) y[i] = (x[i] - mx) - lse;
  } else {
    const T inv = T(1) / sum;
    for (int64_t i = 0; i < D; ++i) y[i] *= inv;
  }
}

// Columns [b0, b1) of one outer slice: x, y point at (o, 0, 0); stride between
// consecutive d is `inner`. mx and sum are scratch of size b1 - b0.
template <typename T>
void softmax_columns(T* y, const T* x, int64_t D, int64_t inner, int64_t b0, int64_t b1, bool log,
                     T* mx, T* sum) {
  const int64_t n = b1 - b0;
  std::fill(mx, mx + n, -std::numeric_limits<T>::infinity());
  std::fill(sum, sum + n, T(0));
  for (int64_t d = 0; d < D; ++d) {
    const T* xr = x + d * inner + b0;
    for (int64_t b = 0; b < n; ++b) mx[b] = std::max(mx[b], xr[b]);
  }
  for (int64_t d = 0; d < D; ++d) {
    const T* xr = x + d * inner + b0;
    T* yr = y + d * inner + b0;
    if (log) {
      for (int64_t b = 0; b < n; ++b) sum[b] += vexp(xr[b] - mx[b]);
    } else {
      for (int64_t b = 0; b < n; ++b) {
        yr[b] = vexp(xr[b] - mx[b]);
        sum[b] += yr[b];
      }
    }
  }
  if (log) {
    for (int64_t b = 0; b < n; ++b) sum[b] = std::log(sum[b]);
    for (int64_t d = 0; d < D; ++d) {
      const T* xr = x + d * inner + b0;
      T* yr = y + d * inner + b0;
      for (int64_t b = 0; b < n; ++b) yr[b] = (xr[b] - mx[b]) - sum[b];
    }
  } else {
    for (int64_t b = 0; b < n; ++b) sum[b] = T(1) / sum[b];
    for (int64_t d = 0; d < D; ++d) {
      T* yr = y + d * inner + b0;
      for (int64_t b = 0; b < n; ++b) yr[b] *= sum[b];
    }
  }
}

// ---------------------------------------------------------------- backward
// softmax:     gx = y * (g - sum(g * y))
// log_softmax: gx = g - exp(y) * sum(g)

template <typename T>
void softmax_backward_row(T* gx, const T* g, const T* y, int64_t D, bool log) {
  if (log) {
    const T s = lane_sum(g, D);
    for (int64_t i = 0; i < D; ++i) gx[i] = g[i] - vexp(y[i]) * s;
  } else {
    const T s = lane_dot(g, y, D);
    for (int64_t i = 0; i < D; ++i) gx[i] = y[i] * (g[i] - s);
  }
}

template <typename T>
void softmax_backward_columns(T* gx, const T* g, const T* y, int64_t D, int64_t inner, int64_t b0,
                              int64_t b1, bool log, T* s) {
  const int64_t n = b1 - b0;
  std::fill(s, s + n, T(0));
  for (int64_t d = 0; d < D; ++d) {
    const int64_t off = d * inner + b0;
    if (log) {
      for (int64_t b = 0; b < n; ++b) s[b] += g[off + b];
    } else {
      for (int64_t b = 0; b < n; ++b) s[b] += g[off + b] * y[off + b];
    }
  }
  for (int64_t d = 0; d < D; ++d) {
    const int64_t off = d * inner + b0;
    if (log) {
      for (int64_t b = 0; b < n; ++b) gx[off + b] = g[off + b] - vexp(y[off + b]) * s[b];
    } else {
      for (int64_t b = 0; b < n; ++b) gx[off + b] = y[off + b] * (g[off + b] - s[b]);
    }
  }
}

// Runs `row(o)` for each row when inner == 1, else `cols(o, b0, b1, scratch)`
// over blocks of inner columns, all in parallel over outer * inner positions.
template <typename T, typename Row, typename Cols>
void for_each_slice(const Geometry& g, int scratch_per_col, Row row, Cols cols) {
  const int64_t D = std::max<int64_t>(g.D, 1);
  if (g.inner == 1) {
    parallel_for(0, g.outer, std::max<int64_t>(1, kGrain / D), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) row(o);
    });
    return;
  }
  parallel_for(0, g.outer * g.inner, std::max<int64_t>(1, kGrain / D), [&](int64_t lo, int64_t hi) {
    std::vector<T> scratch;
    int64_t i = lo;
    while (i < hi) {
      const int64_t o = i / g.inner, b0 = i % g.inner;
      const int64_t b1 = std::min(g.inner, b0 + (hi - i));
      scratch.resize(size_t(scratch_per_col * (b1 - b0)));
      cols(o, b0, b1, scratch.data());
      i += b1 - b0;
    }
  });
}

}  // namespace

void CpuBackend::softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) {
  HEED_CHECK(in.is_contiguous() && out.is_contiguous(),
             "softmax: the cpu kernel expects contiguous tensors");
  if (in.numel() == 0) return;
  const Geometry geo = geometry_of(in, dim);
  dispatch_floating(in.dtype(), "softmax", [&]<typename T>() {
    const T* x = in.data_ptr<T>();
    T* y = out.data_ptr<T>();
    const int64_t D = geo.D, inner = geo.inner, slice = D * inner;
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1) {  // rows: the per-ISA vector kernels
        const SoftmaxF32Kernels& k = softmax_f32_kernels();
        parallel_for(
            0, geo.outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(D, 1)),
            [&](int64_t lo, int64_t hi) { k.forward(y + lo * D, x + lo * D, hi - lo, D, log); });
        return;
      }
    }
    for_each_slice<T>(
        geo, 2, [&](int64_t o) { softmax_row(y + o * D, x + o * D, D, log); },
        [&](int64_t o, int64_t b0, int64_t b1, T* scratch) {
          softmax_columns(y + o * slice, x + o * slice, D, inner, b0, b1, log, scratch,
                          scratch + (b1 - b0));
        });
  });
}

void CpuBackend::softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                  int64_t dim, bool log) {
  HEED_CHECK(grad_in.is_contiguous() && grad_out.is_contiguous() && out.is_contiguous(),
             "softmax_backward: the cpu kernel expects contiguous tensors");
  if (out.numel() == 0) return;
  const Geometry geo = geometry_of(out, dim);
  dispatch_floating(out.dtype(), "softmax_backward", [&]<typename T>() {
    const T* g = grad_out.data_ptr<T>();
    const T* y = out.data_ptr<T>();
    T* gx = grad_in.data_ptr<T>();
    const int64_t D = geo.D, inner = geo.inner, slice = D * inner;
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1) {
        const SoftmaxF32Kernels& k = softmax_f32_kernels();
        parallel_for(0, geo.outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(D, 1)),
                     [&](int64_t lo, int64_t hi) {
                       k.backward(gx + lo * D, g + lo * D, y + lo * D, hi - lo, D, log);
                     });
        return;
      }
    }
    for_each_slice<T>(
        geo, 1, [&](int64_t o) { softmax_backward_row(gx + o * D, g + o * D, y + o * D, D, log); },
        [&](int64_t o, int64_t b0, int64_t b1, T* scratch) {
          softmax_backward_columns(gx + o * slice, g + o * slice, y + o * slice, D, inner, b0, b1,
                                   log, scratch);
        });
  });
}

}  // namespace heed::cpu

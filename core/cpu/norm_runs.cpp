#include "core/cpu/norm_runs.h"

#include "core/check.h"
#include "core/cpu/isa.h"
#include "core/cpu/prefetch.h"

#if HEED_X86_KERNELS
#include <immintrin.h>
#endif

namespace heed::cpu {
namespace {

// --- portable loops: the reference the SIMD versions must agree with, and
// the path for double and for Isa::Scalar.

template <typename T>
void moments_portable(const T* x, int64_t n, T shift, double* sum, double* sumsq) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(x[i] - shift);
    s += d;
    q += d * d;
  }
  *sum += s;
  *sumsq += q;
}

// relu_out (may be null): dy counts only where relu_out > 0.
template <typename T>
void grad_moments_portable(const T* dy, const T* x, const T* relu_out, int64_t n, T mean,
                           double* sum_dy, double* sum_dy_xmu) {
  double s = 0, p = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T g = relu_out && !(relu_out[i] > T(0)) ? T(0) : dy[i];
    s += double(g);
    p += double(g) * double(x[i] - mean);
  }
  *sum_dy += s;
  *sum_dy_xmu += p;
}

template <typename T>
void ln_row_sums_portable(const LnRowGrad<T>& r, double* sum_g, double* sum_g_xhat,
                          double* col_dy_xhat, double* col_dy) {
  double sg = 0, sgx = 0;
  for (int64_t j = 0; j < r.n; ++j) {
    const T xh = (r.x[j] - r.mean) * r.rstd;
    const T g = r.w ? r.dy[j] * r.w[j] : r.dy[j];
    sg += double(g);
    sgx += double(g) * double(xh);
    if (col_dy_xhat) col_dy_xhat[j] += double(r.dy[j]) * double(xh);
    if (col_dy) col_dy[j] += double(r.dy[j]);
  }
  *sum_g += sg;
  *sum_g_xhat += sgx;
}

#if HEED_X86_KERNELS

// --- AVX-512: 16 floats per vector, widened to two vectors of 8 doubles.

// The maskz forms: GCC 12's plain converts and extracts go through an
// "undefined" register that -Wmaybe-uninitialized flags.
HEED_TARGET_AVX512 inline __m512d lo_pd(__m512 v) {
  return _mm512_maskz_cvtps_pd(__mmask8(0xFF), _mm512_maskz_extractf32x8_ps(__mmask8(0xFF), v, 0));
}
HEED_TARGET_AVX512 inline __m512d hi_pd(__m512 v) {
  return _mm512_maskz_cvtps_pd(__mmask8(0xFF), _mm512_maskz_extractf32x8_ps(__mmask8(0xFF), v, 1));
}
HEED_TARGET_AVX512 inline double hsum(__m512d v) {
  const __m256d s = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(__mmask8(0xF), v, 0),
                                  _mm512_maskz_extractf64x4_pd(__mmask8(0xF), v, 1));
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
// Lanes [0, n) of a 16-lane tail.
HEED_TARGET_AVX512 inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
}

HEED_TARGET_AVX512 void moments_avx512(const float* x, int64_t n, float shift, double* sum,
                                       double* sumsq) {
  // Four independent (sum, sumsq) chains hide the add latency.
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m512d q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const __m512 k = _mm512_set1_ps(shift);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    prefetch_ahead(x + i, 32);
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), k);
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), k);
    const __m512d a = lo_pd(d0), b = hi_pd(d0), c = lo_pd(d1), e = hi_pd(d1);
    s0 = _mm512_add_pd(s0, a);
    s1 = _mm512_add_pd(s1, b);
    s2 = _mm512_add_pd(s2, c);
    s3 = _mm512_add_pd(s3, e);
    q0 = _mm512_fmadd_pd(a, a, q0);
    q1 = _mm512_fmadd_pd(b, b, q1);
    q2 = _mm512_fmadd_pd(c, c, q2);
    q3 = _mm512_fmadd_pd(e, e, q3);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);  // masked-off lanes stay 0
    const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), k);
    const __m512d a = lo_pd(d), b = hi_pd(d);
    s0 = _mm512_add_pd(s0, a);
    s1 = _mm512_add_pd(s1, b);
    q0 = _mm512_fmadd_pd(a, a, q0);
    q1 = _mm512_fmadd_pd(b, b, q1);
  }
  *sum += hsum(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
  *sumsq += hsum(_mm512_add_pd(_mm512_add_pd(q0, q1), _mm512_add_pd(q2, q3)));
}

// dy[i..i+16) as is, or zeroed where relu_out ≤ 0 (Masked).
template <bool Masked>
HEED_TARGET_AVX512 inline __m512 load_dy16(const float* dy, const float* relu_out, int64_t i,
                                           __mmask16 k = 0xFFFF) {
  const __m512 g = _mm512_maskz_loadu_ps(k, dy + i);
  if constexpr (!Masked) return g;
  const __m512 y = _mm512_maskz_loadu_ps(k, relu_out + i);
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ), g);
}

template <bool Masked>
HEED_TARGET_AVX512 void grad_moments_avx512(const float* dy, const float* x, const float* relu_out,
                                            int64_t n, float mean, double* sum_dy,
                                            double* sum_dy_xmu) {
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m512d p0 = s0, p1 = s0, p2 = s0, p3 = s0;
  const __m512 m = _mm512_set1_ps(mean);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    prefetch_ahead(dy + i, 32);
    prefetch_ahead(x + i, 32);
    if constexpr (Masked) prefetch_ahead(relu_out + i, 32);
    const __m512 g0 = load_dy16<Masked>(dy, relu_out, i);
    const __m512 g1 = load_dy16<Masked>(dy, relu_out, i + 16);
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), m);
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), m);
    const __m512d ga = lo_pd(g0), gb = hi_pd(g0), gc = lo_pd(g1), ge = hi_pd(g1);
    s0 = _mm512_add_pd(s0, ga);
    s1 = _mm512_add_pd(s1, gb);
    s2 = _mm512_add_pd(s2, gc);
    s3 = _mm512_add_pd(s3, ge);
    p0 = _mm512_fmadd_pd(ga, lo_pd(d0), p0);
    p1 = _mm512_fmadd_pd(gb, hi_pd(d0), p1);
    p2 = _mm512_fmadd_pd(gc, lo_pd(d1), p2);
    p3 = _mm512_fmadd_pd(ge, hi_pd(d1), p3);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512 g = load_dy16<Masked>(dy, relu_out, i, k);
    const __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), m);
    const __m512d ga = lo_pd(g), gb = hi_pd(g);
    s0 = _mm512_add_pd(s0, ga);
    s1 = _mm512_add_pd(s1, gb);
    p0 = _mm512_fmadd_pd(ga, lo_pd(d), p0);
    p1 = _mm512_fmadd_pd(gb, hi_pd(d), p1);
  }
  *sum_dy += hsum(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
  *sum_dy_xmu += hsum(_mm512_add_pd(_mm512_add_pd(p0, p1), _mm512_add_pd(p2, p3)));
}

HEED_TARGET_AVX512 void ln_row_sums_avx512(const LnRowGrad<float>& r, double* sum_g,
                                           double* sum_g_xhat, double* col_dy_xhat,
                                           double* col_dy) {
  __m512d sg0 = _mm512_setzero_pd(), sg1 = sg0, sgx0 = sg0, sgx1 = sg0;
  const __m512 m = _mm512_set1_ps(r.mean), rs = _mm512_set1_ps(r.rstd);
  for (int64_t j = 0; j < r.n; j += 16) {
    const __mmask16 k = tail_mask(r.n - j);  // zero lanes add nothing below
    const __m512 dy = _mm512_maskz_loadu_ps(k, r.dy + j);
    const __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, r.x + j), m), rs);
    const __m512 g = r.w ? _mm512_mul_ps(dy, _mm512_maskz_loadu_ps(k, r.w + j)) : dy;
    const __m512d xl = lo_pd(xh), xu = hi_pd(xh), gl = lo_pd(g), gu = hi_pd(g);
    sg0 = _mm512_add_pd(sg0, gl);
    sg1 = _mm512_add_pd(sg1, gu);
    sgx0 = _mm512_fmadd_pd(gl, xl, sgx0);
    sgx1 = _mm512_fmadd_pd(gu, xu, sgx1);
    const __mmask8 kl = __mmask8(k), ku = __mmask8(k >> 8);
    const __m512d dl = lo_pd(dy), du = hi_pd(dy);
    if (col_dy_xhat) {
      double* c = col_dy_xhat + j;
      _mm512_mask_storeu_pd(c, kl, _mm512_fmadd_pd(dl, xl, _mm512_maskz_loadu_pd(kl, c)));
      _mm512_mask_storeu_pd(c + 8, ku, _mm512_fmadd_pd(du, xu, _mm512_maskz_loadu_pd(ku, c + 8)));
    }
    if (col_dy) {
      double* c = col_dy + j;
      _mm512_mask_storeu_pd(c, kl, _mm512_add_pd(dl, _mm512_maskz_loadu_pd(kl, c)));
      _mm512_mask_storeu_pd(c + 8, ku, _mm512_add_pd(du, _mm512_maskz_loadu_pd(ku, c + 8)));
    }
  }
  *sum_g += hsum(_mm512_add_pd(sg0, sg1));
  *sum_g_xhat += hsum(_mm512_add_pd(sgx0, sgx1));
}

HEED_TARGET_AVX512 void cbam_out_grad_avx512(const CbamOutRun<float>& r, double* sum,
                                             double* sum_dev) {
  __m512d s0 = _mm512_setzero_pd(), s1 = s0, p0 = s0, p1 = s0;
  const __m512 m = _mm512_set1_ps(r.mean), k = _mm512_set1_ps(r.scale);
  const __m512 sh = _mm512_set1_ps(r.shift), gate = _mm512_set1_ps(r.gate);
  for (int64_t i = 0; i < r.n; i += 16) {
    const __mmask16 t = tail_mask(r.n - i);  // masked-off lanes are 0: they add nothing
    prefetch_ahead(r.dy + i, 16);
    prefetch_ahead(r.out + i, 16);
    prefetch_ahead(r.x + i, 16);
    const __m512 g = load_dy16<true>(r.dy, r.out, i, t);
    _mm512_mask_storeu_ps(r.gm + i, t, g);
    const __m512 d = _mm512_maskz_sub_ps(t, _mm512_maskz_loadu_ps(t, r.x + i), m);
    const __m512 u = _mm512_mul_ps(_mm512_fmadd_ps(d, k, sh), gate);
    _mm512_mask_storeu_ps(r.dsg + i, t, _mm512_fmadd_ps(g, u, _mm512_maskz_loadu_ps(t, r.dsg + i)));
    const __m512 w = _mm512_mul_ps(g, _mm512_maskz_loadu_ps(t, r.sg + i));
    const __m512d wl = lo_pd(w), wh = hi_pd(w);
    s0 = _mm512_add_pd(s0, wl);
    s1 = _mm512_add_pd(s1, wh);
    p0 = _mm512_fmadd_pd(wl, lo_pd(d), p0);
    p1 = _mm512_fmadd_pd(wh, hi_pd(d), p1);
  }
  *sum += hsum(_mm512_add_pd(s0, s1));
  *sum_dev += hsum(_mm512_add_pd(p0, p1));
}

// --- AVX2: 8 floats per vector, widened to two vectors of 4 doubles; the
// tails (< 8 values) use the portable loop.

HEED_TARGET_AVX2 inline __m256d lo_pd(__m256 v) {
  return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}
HEED_TARGET_AVX2 inline __m256d hi_pd(__m256 v) {
  return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}
HEED_TARGET_AVX2 inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

HEED_TARGET_AVX2 void moments_avx2(const float* x, int64_t n, float shift, double* sum,
                                   double* sumsq) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m256d q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const __m256 k = _mm256_set1_ps(shift);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), k);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), k);
    const __m256d a = lo_pd(d0), b = hi_pd(d0), c = lo_pd(d1), e = hi_pd(d1);
    s0 = _mm256_add_pd(s0, a);
    s1 = _mm256_add_pd(s1, b);
    s2 = _mm256_add_pd(s2, c);
    s3 = _mm256_add_pd(s3, e);
    q0 = _mm256_fmadd_pd(a, a, q0);
    q1 = _mm256_fmadd_pd(b, b, q1);
    q2 = _mm256_fmadd_pd(c, c, q2);
    q3 = _mm256_fmadd_pd(e, e, q3);
  }
  *sum += hsum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  *sumsq += hsum(_mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3)));
  moments_portable(x + i, n - i, shift, sum, sumsq);
}

// dy[i..i+8) as is, or zeroed where relu_out ≤ 0 (Masked).
template <bool Masked>
HEED_TARGET_AVX2 inline __m256 load_dy8(const float* dy, const float* relu_out, int64_t i) {
  const __m256 g = _mm256_loadu_ps(dy + i);
  if constexpr (!Masked) return g;
  const __m256 pass = _mm256_cmp_ps(_mm256_loadu_ps(relu_out + i), _mm256_setzero_ps(), _CMP_GT_OQ);
  return _mm256_and_ps(g, pass);
}

template <bool Masked>
HEED_TARGET_AVX2 void grad_moments_avx2(const float* dy, const float* x, const float* relu_out,
                                        int64_t n, float mean, double* sum_dy, double* sum_dy_xmu) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  __m256d p0 = s0, p1 = s0, p2 = s0, p3 = s0;
  const __m256 m = _mm256_set1_ps(mean);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 g0 = load_dy8<Masked>(dy, relu_out, i);
    const __m256 g1 = load_dy8<Masked>(dy, relu_out, i + 8);
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
    const __m256d ga = lo_pd(g0), gb = hi_pd(g0), gc = lo_pd(g1), ge = hi_pd(g1);
    s0 = _mm256_add_pd(s0, ga);
    s1 = _mm256_add_pd(s1, gb);
    s2 = _mm256_add_pd(s2, gc);
    s3 = _mm256_add_pd(s3, ge);
    p0 = _mm256_fmadd_pd(ga, lo_pd(d0), p0);
    p1 = _mm256_fmadd_pd(gb, hi_pd(d0), p1);
    p2 = _mm256_fmadd_pd(gc, lo_pd(d1), p2);
    p3 = _mm256_fmadd_pd(ge, hi_pd(d1), p3);
  }
  *sum_dy += hsum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
  *sum_dy_xmu += hsum(_mm256_add_pd(_mm256_add_pd(p0, p1), _mm256_add_pd(p2, p3)));
  grad_moments_portable(dy + i, x + i, Masked ? relu_out + i : nullptr, n - i, mean, sum_dy,
                        sum_dy_xmu);
}

HEED_TARGET_AVX2 void ln_row_sums_avx2(const LnRowGrad<float>& r, double* sum_g, double* sum_g_xhat,
                                       double* col_dy_xhat, double* col_dy) {
  __m256d sg0 = _mm256_setzero_pd(), sg1 = sg0, sgx0 = sg0, sgx1 = sg0;
  const __m256 m = _mm256_set1_ps(r.mean), rs = _mm256_set1_ps(r.rstd);
  int64_t j = 0;
  for (; j + 8 <= r.n; j += 8) {
    const __m256 dy = _mm256_loadu_ps(r.dy + j);
    const __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(r.x + j), m), rs);
    const __m256 g = r.w ? _mm256_mul_ps(dy, _mm256_loadu_ps(r.w + j)) : dy;
    const __m256d xl = lo_pd(xh), xu = hi_pd(xh), gl = lo_pd(g), gu = hi_pd(g);
    sg0 = _mm256_add_pd(sg0, gl);
    sg1 = _mm256_add_pd(sg1, gu);
    sgx0 = _mm256_fmadd_pd(gl, xl, sgx0);
    sgx1 = _mm256_fmadd_pd(gu, xu, sgx1);
    const __m256d dl = lo_pd(dy), du = hi_pd(dy);
    if (col_dy_xhat) {
      double* c = col_dy_xhat + j;
      _mm256_storeu_pd(c, _mm256_fmadd_pd(dl, xl, _mm256_loadu_pd(c)));
      _mm256_storeu_pd(c + 4, _mm256_fmadd_pd(du, xu, _mm256_loadu_pd(c + 4)));
    }
    if (col_dy) {
      double* c = col_dy + j;
      _mm256_storeu_pd(c, _mm256_add_pd(dl, _mm256_loadu_pd(c)));
      _mm256_storeu_pd(c + 4, _mm256_add_pd(du, _mm256_loadu_pd(c + 4)));
    }
  }
  *sum_g += hsum(_mm256_add_pd(sg0, sg1));
  *sum_g_xhat += hsum(_mm256_add_pd(sgx0, sgx1));
  LnRowGrad<float> tail = r;
  tail.x += j;
  tail.dy += j;
  if (tail.w) tail.w += j;
  tail.n -= j;
  ln_row_sums_portable(tail, sum_g, sum_g_xhat, col_dy_xhat ? col_dy_xhat + j : nullptr,
                       col_dy ? col_dy + j : nullptr);
}

#endif  // HEED_X86_KERNELS

}  // namespace

void add_shifted_moments(const float* x, int64_t n, float shift, double* sum, double* sumsq) {
#if HEED_X86_KERNELS
  switch (cpu_isa()) {
    case Isa::Avx512:
      return moments_avx512(x, n, shift, sum, sumsq);
    case Isa::Avx2:
      return moments_avx2(x, n, shift, sum, sumsq);
    case Isa::Scalar:
      break;
  }
#endif
  moments_portable(x, n, shift, sum, sumsq);
}

void add_shifted_moments(const double* x, int64_t n, double shift, double* sum, double* sumsq) {
  moments_portable(x, n, shift, sum, sumsq);
}

void add_grad_moments(const float* dy, const float* x, const float* relu_out, int64_t n, float mean,
                      double* sum_dy, double* sum_dy_xmu) {
#if HEED_X86_KERNELS
  switch (cpu_isa()) {
    case Isa::Avx512:
      return relu_out ? grad_moments_avx512<true>(dy, x, relu_out, n, mean, sum_dy, sum_dy_xmu)
                      : grad_moments_avx512<false>(dy, x, nullptr, n, mean, sum_dy, sum_dy_xmu);
    case Isa::Avx2:
      return relu_out ? grad_moments_avx2<true>(dy, x, relu_out, n, mean, sum_dy, sum_dy_xmu)
                      : grad_moments_avx2<false>(dy, x, nullptr, n, mean, sum_dy, sum_dy_xmu);
    case Isa::Scalar:
      break;
  }
#endif
  grad_moments_portable(dy, x, relu_out, n, mean, sum_dy, sum_dy_xmu);
}

void add_grad_moments(const double* dy, const double* x, const double* relu_out, int64_t n,
                      double mean, double* sum_dy, double* sum_dy_xmu) {
  grad_moments_portable(dy, x, relu_out, n, mean, sum_dy, sum_dy_xmu);
}

void cbam_out_grad_run_avx512(const CbamOutRun<float>& r, double* sum, double* sum_dev) {
#if HEED_X86_KERNELS
  cbam_out_grad_avx512(r, sum, sum_dev);
#else
  (void)r, (void)sum, (void)sum_dev;
  HEED_CHECK(false, "cbam_out_grad_run_avx512: no AVX-512 kernels in this build");
#endif
}

void add_layer_norm_row_sums(const LnRowGrad<float>& r, double* sum_g, double* sum_g_xhat,
                             double* col_dy_xhat, double* col_dy) {
#if HEED_X86_KERNELS
  switch (cpu_isa()) {
    case Isa::Avx512:
      return ln_row_sums_avx512(r, sum_g, sum_g_xhat, col_dy_xhat, col_dy);
    case Isa::Avx2:
      return ln_row_sums_avx2(r, sum_g, sum_g_xhat, col_dy_xhat, col_dy);
    case Isa::Scalar:
      break;
  }
#endif
  ln_row_sums_portable(r, sum_g, sum_g_xhat, col_dy_xhat, col_dy);
}

void add_layer_norm_row_sums(const LnRowGrad<double>& r, double* sum_g, double* sum_g_xhat,
                             double* col_dy_xhat, double* col_dy) {
  ln_row_sums_portable(r, sum_g, sum_g_xhat, col_dy_xhat, col_dy);
}

}  // namespace heed::cpu

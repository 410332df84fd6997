// AVX2 micro-kernels of the shifted-tap convolution (see conv_kernels.h); the
// AVX-512 file explains the scheme. With 16 ymm registers the tiles are
// smaller: forward 4 rows × 3 slots of 8 positions (12 accumulators), weight grad
// 3 rows × 3 taps (9 accumulators).
#include "core/cpu/conv_kernels.h"

#if HEED_X86_KERNELS
#include <immintrin.h>

namespace heed::cpu::conv {
namespace {

constexpr int kMr = 4;        // forward rows per panel
constexpr int kNv = 3;        // slots per forward tile (24 positions)
constexpr int kNr = kNv * 8;  // forward positions per tile
constexpr int kWgRows = 3;    // weight-grad rows per tile
constexpr int kWgTaps = 3;    // weight-grad taps per tile

HEED_TARGET_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// NS slots (one ymm each) × MR rows; the last vector of a row may be partial.
template <int MR, int NS>
HEED_TARGET_AVX2 void direct_tile(const float* panel, const int64_t* off, int64_t taps,
                                  const float* x, const DirectSlot* slot, const float* bias,
                                  float* y, int64_t ldy) {
  __m256 acc[MR][NS];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const __m256 b = bias ? _mm256_set1_ps(bias[i]) : _mm256_setzero_ps();
#pragma GCC unroll 3
    for (int j = 0; j < NS; ++j) acc[i][j] = b;
  }
  const float* xs[NS];
#pragma GCC unroll 3
  for (int j = 0; j < NS; ++j) xs[j] = x + slot[j].q;
  const float* a = panel;
  for (int64_t t = 0; t < taps; ++t, a += kMr) {
    __m256 v[NS];
#pragma GCC unroll 3
    for (int j = 0; j < NS; ++j) v[j] = _mm256_loadu_ps(xs[j] + off[t]);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 3
      for (int j = 0; j < NS; ++j) acc[i][j] = _mm256_fmadd_ps(ai, v[j], acc[i][j]);
    }
  }
#pragma GCC unroll 3
  for (int j = 0; j < NS; ++j) {
    float* yj = y + slot[j].y_off;
    if (slot[j].width == 8) {
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) _mm256_storeu_ps(yj + i * ldy, acc[i][j]);
    } else {
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(slot[j].width), lane);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) _mm256_maskstore_ps(yj + i * ldy, mask, acc[i][j]);
    }
  }
}

template <int MR>
HEED_TARGET_AVX2 void direct_rows(const float* panel, const int64_t* off, int64_t taps,
                                  const float* x, const DirectSlot* slots, int64_t n_slots,
                                  const float* bias, float* y, int64_t ldy) {
  int64_t s = 0;
  for (; s + kNv <= n_slots; s += kNv)
    direct_tile<MR, kNv>(panel, off, taps, x, slots + s, bias, y, ldy);
  if (n_slots - s == 2) direct_tile<MR, 2>(panel, off, taps, x, slots + s, bias, y, ldy);
  if (n_slots - s == 1) direct_tile<MR, 1>(panel, off, taps, x, slots + s, bias, y, ldy);
}

HEED_TARGET_AVX2 void forward(const float* panel, int m_rows, const int64_t* off, int64_t taps,
                              const float* x, const DirectSlot* slots, int64_t n_slots,
                              const float* bias, float* y, int64_t ldy) {
  switch (m_rows) {
    case 4:
      return direct_rows<4>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    case 3:
      return direct_rows<3>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    case 2:
      return direct_rows<2>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    default:
      return direct_rows<1>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
  }
}

template <int MR, int TR>
HEED_TARGET_AVX2 void weight_grad_tile(const float* g, int64_t ldg, const int64_t* off,
                                       const float* x, int64_t q, float* gw, int64_t ldw) {
  __m256 acc[MR][TR];
#pragma GCC unroll 3
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < TR; ++j) acc[i][j] = _mm256_setzero_ps();
  const float* xt[TR];
#pragma GCC unroll 3
  for (int j = 0; j < TR; ++j) xt[j] = x + off[j];
  for (int64_t p = 0; p < q; p += 8) {
    __m256 gv[MR];
#pragma GCC unroll 3
    for (int i = 0; i < MR; ++i) gv[i] = _mm256_loadu_ps(g + i * ldg + p);
#pragma GCC unroll 3
    for (int j = 0; j < TR; ++j) {
      const __m256 xv = _mm256_loadu_ps(xt[j] + p);
#pragma GCC unroll 3
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(gv[i], xv, acc[i][j]);
    }
  }
#pragma GCC unroll 3
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < TR; ++j) gw[i * ldw + j] += horizontal_sum(acc[i][j]);
}

template <int MR>
HEED_TARGET_AVX2 void weight_grad_rows(const float* g, int64_t ldg, const int64_t* off,
                                       int64_t taps, const float* x, int64_t q, float* gw,
                                       int64_t ldw) {
  int64_t t = 0;
  for (; t + kWgTaps <= taps; t += kWgTaps)
    weight_grad_tile<MR, kWgTaps>(g, ldg, off + t, x, q, gw + t, ldw);
  switch (taps - t) {
    case 2:
      return weight_grad_tile<MR, 2>(g, ldg, off + t, x, q, gw + t, ldw);
    case 1:
      return weight_grad_tile<MR, 1>(g, ldg, off + t, x, q, gw + t, ldw);
    default:
      return;
  }
}

HEED_TARGET_AVX2 void weight_grad(const float* g, int64_t ldg, int m_rows, const int64_t* off,
                                  int64_t taps, const float* x, int64_t q, float* gw, int64_t ldw) {
  int m = 0;
  for (; m + kWgRows <= m_rows; m += kWgRows)
    weight_grad_rows<kWgRows>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
  switch (m_rows - m) {
    case 2:
      return weight_grad_rows<2>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
    case 1:
      return weight_grad_rows<1>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
    default:
      return;
  }
}

}  // namespace

const ShiftedKernels& avx2_kernels() {
  static const ShiftedKernels k{Isa::Avx2, kMr, kNr, 8, forward, weight_grad};
  return k;
}

}  // namespace heed::cpu::conv

#endif  // HEED_X86_KERNELS

// AVX-512 micro-kernels of the shifted-tap convolution (see conv_kernels.h).
//
// Forward: a register tile of 8 rows of A × 3 slots of 16 positions (24 zmm
// accumulators). Per tap: 3 unaligned loads of X, 8 broadcasts of A (folded
// into the FMAs as {1to16} memory operands), 24 FMAs; the accumulators stay
// in registers over all taps, so Y is written once.
// Weight grad: a tile of 4 rows of G × 6 taps (24 accumulators) summed over
// q 16 lanes at a time, reduced horizontally once per call.
// Smaller row / tap counts at the edges get their own instantiation.
#include "core/cpu/conv_kernels.h"

#include "core/cpu/conv_avx512.h"

#if HEED_X86_KERNELS

namespace heed::cpu::conv {
namespace {

constexpr int kMr = 8;         // forward rows per panel
constexpr int kNv = 3;         // slots per forward tile (48 positions)
constexpr int kNr = kNv * 16;  // forward positions per tile
constexpr int kWgRows = 4;     // weight-grad rows per tile
constexpr int kWgTaps = 6;     // weight-grad taps per tile

// NS slots (one zmm each) × MR rows; a partial last vector of a row is
// stored under a mask.
template <int MR, int NS>
HEED_TARGET_AVX512 void direct_tile(const float* panel, const int64_t* off, int64_t taps,
                                    const float* x, const DirectSlot* slot, const float* bias,
                                    float* y, int64_t ldy) {
  __m512 acc[MR][NS];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    const __m512 b = bias ? _mm512_set1_ps(bias[i]) : _mm512_setzero_ps();
#pragma GCC unroll 3
    for (int j = 0; j < NS; ++j) acc[i][j] = b;
  }
  const float* xs[NS];
#pragma GCC unroll 3
  for (int j = 0; j < NS; ++j) xs[j] = x + slot[j].q;
  const float* a = panel;
  for (int64_t t = 0; t < taps; ++t, a += kMr) {
    __m512 v[NS];
#pragma GCC unroll 3
    for (int j = 0; j < NS; ++j) v[j] = _mm512_loadu_ps(xs[j] + off[t]);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 3
      for (int j = 0; j < NS; ++j) acc[i][j] = _mm512_fmadd_ps(ai, v[j], acc[i][j]);
    }
  }
#pragma GCC unroll 3
  for (int j = 0; j < NS; ++j) {
    float* yj = y + slot[j].y_off;
    const __mmask16 mask = __mmask16((1u << slot[j].width) - 1);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) _mm512_mask_storeu_ps(yj + i * ldy, mask, acc[i][j]);
  }
}

template <int MR>
HEED_TARGET_AVX512 void direct_rows(const float* panel, const int64_t* off, int64_t taps,
                                    const float* x, const DirectSlot* slots, int64_t n_slots,
                                    const float* bias, float* y, int64_t ldy) {
  int64_t s = 0;
  for (; s + kNv <= n_slots; s += kNv)
    direct_tile<MR, kNv>(panel, off, taps, x, slots + s, bias, y, ldy);
  if (n_slots - s == 2) direct_tile<MR, 2>(panel, off, taps, x, slots + s, bias, y, ldy);
  if (n_slots - s == 1) direct_tile<MR, 1>(panel, off, taps, x, slots + s, bias, y, ldy);
}

HEED_TARGET_AVX512 void forward(const float* panel, int m_rows, const int64_t* off, int64_t taps,
                                const float* x, const DirectSlot* slots, int64_t n_slots,
                                const float* bias, float* y, int64_t ldy) {
  switch (m_rows) {
    case 8:
      return direct_rows<8>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    case 7:
      return direct_rows<7>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    case 6:
      return direct_rows<6>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
    case 5:
      return direct_rows<5>(panel, off, taps, x, slots, n_slots, bias, y, ldy);
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
HEED_TARGET_AVX512 void weight_grad_tile(const float* g, int64_t ldg, const int64_t* off,
                                         const float* x, int64_t q, float* gw, int64_t ldw) {
  __m512 acc[MR][TR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 6
    for (int j = 0; j < TR; ++j) acc[i][j] = _mm512_setzero_ps();
  const float* xt[TR];
#pragma GCC unroll 6
  for (int j = 0; j < TR; ++j) xt[j] = x + off[j];
  for (int64_t p = 0; p < q; p += 16) {
    __m512 gv[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) gv[i] = _mm512_loadu_ps(g + i * ldg + p);
#pragma GCC unroll 6
    for (int j = 0; j < TR; ++j) {
      const __m512 xv = _mm512_loadu_ps(xt[j] + p);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm512_fmadd_ps(gv[i], xv, acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 6
    for (int j = 0; j < TR; ++j) gw[i * ldw + j] += _mm512_reduce_add_ps(acc[i][j]);
}

template <int MR>
HEED_TARGET_AVX512 void weight_grad_rows(const float* g, int64_t ldg, const int64_t* off,
                                         int64_t taps, const float* x, int64_t q, float* gw,
                                         int64_t ldw) {
  int64_t t = 0;
  for (; t + kWgTaps <= taps; t += kWgTaps)
    weight_grad_tile<MR, kWgTaps>(g, ldg, off + t, x, q, gw + t, ldw);
  switch (taps - t) {
    case 5:
      return weight_grad_tile<MR, 5>(g, ldg, off + t, x, q, gw + t, ldw);
    case 4:
      return weight_grad_tile<MR, 4>(g, ldg, off + t, x, q, gw + t, ldw);
    case 3:
      return weight_grad_tile<MR, 3>(g, ldg, off + t, x, q, gw + t, ldw);
    case 2:
      return weight_grad_tile<MR, 2>(g, ldg, off + t, x, q, gw + t, ldw);
    case 1:
      return weight_grad_tile<MR, 1>(g, ldg, off + t, x, q, gw + t, ldw);
    default:
      return;
  }
}

HEED_TARGET_AVX512 void weight_grad(const float* g, int64_t ldg, int m_rows, const int64_t* off,
                                    int64_t taps, const float* x, int64_t q, float* gw,
                                    int64_t ldw) {
  int m = 0;
  for (; m + kWgRows <= m_rows; m += kWgRows)
    weight_grad_rows<kWgRows>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
  switch (m_rows - m) {
    case 3:
      return weight_grad_rows<3>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
    case 2:
      return weight_grad_rows<2>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
    case 1:
      return weight_grad_rows<1>(g + m * ldg, ldg, off, taps, x, q, gw + m * ldw, ldw);
    default:
      return;
  }
}

}  // namespace

const ShiftedKernels& avx512_kernels() {
  static const ShiftedKernels k{Isa::Avx512, kMr, kNr, 16, forward, weight_grad};
  return k;
}

}  // namespace heed::cpu::conv

#endif  // HEED_X86_KERNELS

// Few-channel stride-1 conv2d as a row stencil (see conv_stencil.h).
//
// Per image, each input channel is copied into a zero-padded plane of Hp =
// OH + K - 1 rows of `wrow` = round_up16(OW) + K - 1 floats, so that output
// pixel (r, q) reads padded (r + ki, q + kj) and every 16-wide load of a
// tile stays inside the plane. Lanes past OW compute on padding (or on real
// columns beyond the last output) and are never stored; the weight gradient
// zeroes gy's lanes there instead.
#include "core/cpu/conv_stencil.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu/conv_avx512.h"
#include "core/cpu/isa.h"
#include "core/parallel.h"

namespace heed::cpu::conv {
namespace {

constexpr int kRows = 8;  // output rows per forward register tile
// Images per block of the weight gradient: its register sums run over a
// block before their horizontal sums, and blocks are added in order.
constexpr int64_t kBlockImages = 4;

// A stride-1 convolution of in (B, C, H, W) with a K × K kernel and padding
// (ph, pw) into out (B, O, OH, OW).
struct Stencil {
  int64_t B, C, H, W, O, K, OH, OW, ph, pw;
  int64_t Hp() const { return OH + K - 1; }
  int64_t wrow() const { return round_up16(OW) + K - 1; }
  int64_t plane() const { return Hp() * wrow(); }
};

// xp (C planes per image, zeroed here) ← images [n0, n1) of `in`, shifted
// by the padding.
void copy_padded(const Stencil& st, const float* in, int64_t n0, int64_t n1,
                 std::vector<float>& xp) {
  const int64_t plane = st.plane(), wrow = st.wrow();
  xp.assign(size_t((n1 - n0) * st.C * plane), 0.0f);
  for (int64_t p = 0; p < (n1 - n0) * st.C; ++p) {
    const float* src = in + (n0 * st.C + p) * st.H * st.W;
    float* dst = xp.data() + p * plane + st.ph * wrow + st.pw;
    for (int64_t r = 0; r < st.H; ++r)
      std::memcpy(dst + r * wrow, src + r * st.W, size_t(st.W) * sizeof(float));
  }
}

#if HEED_X86_KERNELS

// v, held in a register: GCC otherwise folds a load into every
// multiply-add that uses it, repeating the (cache-line splitting) load.
HEED_TARGET_AVX512 inline __m512 in_register(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

// R output rows × V·16 columns of one output channel: xp points at the
// tile's top-left tap in plane 0, wo at the channel's (C, K, K) weights, y at
// its first output; rows of y are OW apart, lanes past `left` columns not
// stored. Each input vector is loaded once (unaligned loads but one in K
// split a cache line, so they count twice) and serves every output row it
// reaches; each broadcast weight serves the V vectors of a row.
template <int K, int R, int V>
HEED_TARGET_AVX512 void forward_tile(const float* xp, int64_t plane, int64_t wrow, int64_t C,
                                     const float* wo, float bias, float* y, int64_t OW,
                                     int64_t left) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_set1_ps(bias);
  for (int64_t c = 0; c < C; ++c, xp += plane, wo += K * K) {
    // Input row ir feeds output row r through kernel row ir - r.
#pragma GCC unroll 16
    for (int ir = 0; ir < R + K - 1; ++ir) {
      const float* row = xp + ir * wrow;
#pragma GCC unroll 7
      for (int kj = 0; kj < K; ++kj) {
        __m512 in[V];
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) in[v] = _mm512_loadu_ps(row + 16 * v + kj);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r)
          if (ir - r >= 0 && ir - r < K) {
            const __m512 w = _mm512_set1_ps(wo[(ir - r) * K + kj]);
#pragma GCC unroll 2
            for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(w, in[v], acc[r][v]);
          }
      }
    }
  }
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const int64_t n = left - 16 * v;
    const __mmask16 m = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * OW + 16 * v, m, acc[r][v]);
  }
}

// Output rows [r0, r0 + R) of every output channel of one image.
template <int K, int R>
HEED_TARGET_AVX512 void forward_rows(const Stencil& st, const float* xp, const float* w,
                                     const float* bias, float* y, int64_t r0) {
  const int64_t wrow = st.wrow(), plane = st.plane();
  for (int64_t o = 0; o < st.O; ++o) {
    const float* wo = w + o * st.C * K * K;
    const float b = bias ? bias[o] : 0.0f;
    float* yo = y + (o * st.OH + r0) * st.OW;
    int64_t q = 0;
    for (; q + 16 < st.OW; q += 32)  // two vectors, the second possibly partial
      forward_tile<K, R, 2>(xp + r0 * wrow + q, plane, wrow, st.C, wo, b, yo + q, st.OW, st.OW - q);
    if (q < st.OW)
      forward_tile<K, R, 1>(xp + r0 * wrow + q, plane, wrow, st.C, wo, b, yo + q, st.OW, st.OW - q);
  }
}

template <int K>
HEED_TARGET_AVX512 void forward_image(const Stencil& st, const float* xp, const float* w,
                                      const float* bias, float* y) {
  int64_t r = 0;
  for (; r + kRows <= st.OH; r += kRows) forward_rows<K, kRows>(st, xp, w, bias, y, r);
  if (r + 4 <= st.OH) forward_rows<K, 4>(st, xp, w, bias, y, r), r += 4;
  if (r + 2 <= st.OH) forward_rows<K, 2>(st, xp, w, bias, y, r), r += 2;
  if (r < st.OH) forward_rows<K, 1>(st, xp, w, bias, y, r);
}

void run_forward(const Stencil& st, const float* in, const float* w, const float* bias,
                 const OutputEpilogue& epilogue, float* out) {
  const int64_t per_image = st.O * st.OH * st.OW;
  parallel_for(0, st.B, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> xp;
    for (int64_t n = lo; n < hi; ++n) {
      copy_padded(st, in, n, n + 1, xp);
      float* y = out + n * per_image;
      switch (st.K) {
        case 3:
          forward_image<3>(st, xp.data(), w, bias, y);
          break;
        case 5:
          forward_image<5>(st, xp.data(), w, bias, y);
          break;
        default:
          forward_image<7>(st, xp.data(), w, bias, y);
      }
      epilogue(out, n * per_image, per_image);
    }
  });
}

HEED_TARGET_AVX512 inline float hsum(__m512 v) {
  return _mm512_reduce_add_ps(v);
}

// Σ over the output pixels of images [n0, n1) of gy[o] · xp[c] shifted by
// (ki0 + a, kj), for a < NA and kj < K, into sum[a·K + kj]. xp holds the
// images' padded planes, C per image from image n0. The loop runs over
// padded input rows: each input vector is loaded once and meets the NA
// output rows that reach it through kernel rows ki0 + a (gy's rows pass
// from one register to the next as the input row moves down).
template <int K, int NA>
HEED_TARGET_AVX512 void weight_grad_rows(const Stencil& st, const float* gy, const float* xp,
                                         int64_t n0, int64_t n1, int64_t o, int64_t c, int64_t ki0,
                                         float* sum) {
  const int64_t wrow = st.wrow();
  __m512 acc[NA][K];
#pragma GCC unroll 2
  for (int a = 0; a < NA; ++a)
#pragma GCC unroll 7
    for (int kj = 0; kj < K; ++kj) acc[a][kj] = _mm512_setzero_ps();
  for (int64_t n = n0; n < n1; ++n) {
    const float* gyo = gy + (n * st.O + o) * st.OH * st.OW;
    const float* xc = xp + ((n - n0) * st.C + c) * st.plane();
    for (int64_t q = 0; q < st.OW; q += 16) {
      const int64_t left = st.OW - q;
      const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
      // g[a]: gy's row r = ir - ki0 - a, zero outside [0, OH) and past OW.
      __m512 g[NA];
#pragma GCC unroll 2
      for (int a = 0; a < NA; ++a) g[a] = _mm512_setzero_ps();
      for (int64_t r = 0; r < st.OH + NA - 1; ++r) {
#pragma GCC unroll 2
        for (int a = NA - 1; a > 0; --a) g[a] = g[a - 1];
        g[0] = r < st.OH ? _mm512_maskz_loadu_ps(m, gyo + r * st.OW + q) : _mm512_setzero_ps();
        const float* row = xc + (r + ki0) * wrow + q;  // input row ir = r + ki0
#pragma GCC unroll 7
        for (int kj = 0; kj < K; ++kj) {
          const __m512 in = in_register(_mm512_loadu_ps(row + kj));
#pragma GCC unroll 2
          for (int a = 0; a < NA; ++a) acc[a][kj] = _mm512_fmadd_ps(g[a], in, acc[a][kj]);
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int a = 0; a < NA; ++a)
#pragma GCC unroll 7
    for (int kj = 0; kj < K; ++kj) sum[a * K + kj] = hsum(acc[a][kj]);
}

// part (O, C, K, K) ← the share of images [n0, n1) in the weight gradient.
template <int K>
HEED_TARGET_AVX512 void weight_grad_block(const Stencil& st, const float* gy, const float* xp,
                                          int64_t n0, int64_t n1, float* part) {
  for (int64_t o = 0; o < st.O; ++o)
    for (int64_t c = 0; c < st.C; ++c) {
      float* sum = part + (o * st.C + c) * K * K;
      int64_t ki = 0;
      for (; ki + 2 <= K; ki += 2)
        weight_grad_rows<K, 2>(st, gy, xp, n0, n1, o, c, ki, sum + ki * K);
      if (ki < K) weight_grad_rows<K, 1>(st, gy, xp, n0, n1, o, c, ki, sum + ki * K);
    }
}

#endif  // HEED_X86_KERNELS

Stencil stencil_of(const ConvShape& s) {
  return {s.B, s.C, s.H, s.W, s.O, s.KH, s.OH, s.OW, s.ph, s.pw};
}

}  // namespace

bool stencil_supported(const ConvShape& s) {
#if HEED_X86_KERNELS
  return cpu_isa() == Isa::Avx512 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.C >= 1 &&
         s.C <= 4 && s.O >= 1 && s.O <= 4 && s.KH == s.KW &&
         (s.KH == 3 || s.KH == 5 || s.KH == 7) && s.ph >= 0 && s.pw >= 0 && s.ph < s.KH &&
         s.pw < s.KW && s.OH == s.H + 2 * s.ph - s.KH + 1 && s.OW == s.W + 2 * s.pw - s.KW + 1 &&
         s.OH > 0 && s.OW > 0;
#else
  (void)s;
  return false;
#endif
}

void stencil_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                     const OutputEpilogue& epilogue, float* y) {
#if HEED_X86_KERNELS
  run_forward(stencil_of(s), x, w, bias, epilogue, y);
#else
  (void)s, (void)x, (void)w, (void)bias, (void)epilogue, (void)y;
#endif
}

void stencil_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
#if HEED_X86_KERNELS
  // gx[c][i][j] = Σ gy[o][i + ph - ki][j + pw - kj] · w[o][c][ki][kj]: the
  // stencil of gy (O channels) with weights w'[c][o][K-1-ki][K-1-kj] and
  // padding K-1-ph, giving C channels of H × W.
  const int64_t K = s.KH, KK = K * K;
  const Stencil st{s.B, s.O, s.OH, s.OW, s.C, K, s.H, s.W, K - 1 - s.ph, K - 1 - s.pw};
  std::vector<float> flipped(size_t(s.C * s.O * KK));
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t k = 0; k < KK; ++k)
        flipped[size_t((c * s.O + o) * KK + (KK - 1 - k))] = w[(o * s.C + c) * KK + k];
  run_forward(st, gy, flipped.data(), nullptr, {}, gx);
#else
  (void)s, (void)gy, (void)w, (void)gx;
#endif
}

void stencil_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw) {
#if HEED_X86_KERNELS
  const Stencil st = stencil_of(s);
  const int64_t len = s.O * s.C * s.KH * s.KW;
  // Each block's share on its own, added in block order afterwards.
  const int64_t blocks = (s.B + kBlockImages - 1) / kBlockImages;
  std::vector<float> parts(size_t(blocks * len));
  parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> xp;
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t n0 = blk * kBlockImages, n1 = std::min(s.B, n0 + kBlockImages);
      copy_padded(st, x, n0, n1, xp);
      float* part = parts.data() + blk * len;
      switch (st.K) {
        case 3:
          weight_grad_block<3>(st, gy, xp.data(), n0, n1, part);
          break;
        case 5:
          weight_grad_block<5>(st, gy, xp.data(), n0, n1, part);
          break;
        default:
          weight_grad_block<7>(st, gy, xp.data(), n0, n1, part);
      }
    }
  });
  for (int64_t i = 0; i < len; ++i) {
    double total = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) total += double(parts[size_t(blk * len + i)]);
    gw[i] = float(total);
  }
#else
  (void)s, (void)gy, (void)x, (void)gw;
#endif
}

}  // namespace heed::cpu::conv

// Output-channel-vectorised stride-1 conv2d (see conv_cout.h).
//
// Per image, the input is copied once into a zero-padded plane per channel
// (Hp × Wp with Hp = (OH - 1)·S + KH, Wp = (OW - 1)·S + KW for stride S), so
// output pixel (r, c) reads padded (r·S + ki, c·S + kj) for tap (ki, kj):
// tap t = (c, ki, kj) is a constant offset toff[t]. Weights are packed as [tap][out channel] rows
// of `opad` (O rounded up to 16, zeros beyond O). A register tile holds OB 16-channel vectors × P
// consecutive pixels of one output row (OB ≤ 2, P ≤ 8: 16 zmm accumulators); per tap it loads OB
// weight vectors and broadcasts P inputs. Results go to the NCHW output with a scatter per pixel
// (16 channels one plane apart).
#include "core/cpu/conv_cout.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu/conv_avx512.h"
#include "core/cpu/isa.h"
#include "core/cpu/prefetch.h"
#include "core/parallel.h"

namespace heed::cpu::conv {
namespace {

constexpr int kPixels = 8;   // pixels per register tile
constexpr int kVectors = 2;  // 16-channel vectors per register tile
constexpr int64_t kTileFloats = kPixels * kVectors * 16;
// Taps per block of the tap sum (rounded down to whole channels): 128 taps of
// 32 channels are 16 KiB of weights.
constexpr int64_t kTapBlock = 128;

// One stride-1 convolution as this file computes it: in (B, Ci, Hi, Wi),
// padded by (pad_h, pad_w), taps KH × KW, out (B, Co, OH, OW);
// wp[(c·KH + ki)·KW + kj][o] (row stride opad).
struct Problem {
  int64_t B, Ci, Hi, Wi, Co, KH, KW, OH, OW, pad_h, pad_w;
  int64_t opad;
  int stride;  // 1 or 2, both directions
  int64_t Hp() const { return (OH - 1) * stride + KH; }
  int64_t Wp() const { return (OW - 1) * stride + KW; }
};

#if HEED_X86_KERNELS
// The accumulators of a tile that sums over part of the taps: kept in `part`
// (OB × P vectors) between tap blocks; `first` / `last` say whether this call
// starts from zero / writes the final result to y.
struct Partial {
  float* part;
  bool first, last;
};

template <int OB, int P, int S>
HEED_TARGET_AVX512 void tile(const float* wp, int64_t opad, const int64_t* toff, int64_t taps,
                             const float* xb, const float* bias, int64_t valid, float* y,
                             int64_t plane, Partial pa) {
  __m512 acc[OB][P];
#pragma GCC unroll 2
  for (int b = 0; b < OB; ++b)
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p)
      acc[b][p] = pa.first ? _mm512_setzero_ps() : _mm512_loadu_ps(pa.part + (b * P + p) * 16);
  for (int64_t t = 0; t < taps; ++t, wp += opad) {
    const float* xt = xb + toff[t];
    __m512 wv[OB];
#pragma GCC unroll 2
    for (int b = 0; b < OB; ++b) wv[b] = _mm512_loadu_ps(wp + 16 * b);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      const __m512 xv = _mm512_set1_ps(xt[S * p]);
#pragma GCC unroll 2
      for (int b = 0; b < OB; ++b) acc[b][p] = _mm512_fmadd_ps(wv[b], xv, acc[b][p]);
    }
  }
  if (!pa.last) {
#pragma GCC unroll 2
    for (int b = 0; b < OB; ++b)
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) _mm512_storeu_ps(pa.part + (b * P + p) * 16, acc[b][p]);
    return;
  }
  // Lane l of vector b is channel 16·b + l: plane·l floats further in y.
  const __m512i lanes =
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(int(plane)));
#pragma GCC unroll 2
  for (int b = 0; b < OB; ++b) {
    const int64_t left = valid - 16 * b;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
    const __m512 bv = bias ? _mm512_maskz_loadu_ps(m, bias + 16 * b) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p)
      _mm512_mask_i32scatter_ps(y + 16 * b * plane + p, m, lanes, _mm512_add_ps(acc[b][p], bv), 4);
  }
}

template <int OB, int S>
HEED_TARGET_AVX512 void tile_pixels(int pixels, const float* wp, int64_t opad, const int64_t* toff,
                                    int64_t taps, const float* xb, const float* bias, int64_t valid,
                                    float* y, int64_t plane, Partial pa) {
  switch (pixels) {
    case 8:
      return tile<OB, 8, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 7:
      return tile<OB, 7, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 6:
      return tile<OB, 6, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 5:
      return tile<OB, 5, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 4:
      return tile<OB, 4, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 3:
      return tile<OB, 3, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    case 2:
      return tile<OB, 2, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
    default:
      return tile<OB, 1, S>(wp, opad, toff, taps, xb, bias, valid, y, plane, pa);
  }
}

// xp (Ci × Hp × Wp, borders already zero) ← image n of `in`, shifted by the
// padding.
void copy_padded(const Problem& pr, const float* in, int64_t n, float* xp) {
  const int64_t Hp = pr.Hp(), Wp = pr.Wp();
  // The input's rows land at padded rows [r0, r0 + rows), columns [c0, c0 + cols).
  const int64_t r0 = std::max<int64_t>(pr.pad_h, 0), c0 = std::max<int64_t>(pr.pad_w, 0);
  const int64_t skip_r = r0 - pr.pad_h, skip_c = c0 - pr.pad_w;
  const int64_t rows = std::clamp<int64_t>(std::min(pr.Hi - skip_r, Hp - r0), 0, Hp);
  const int64_t cols = std::clamp<int64_t>(std::min(pr.Wi - skip_c, Wp - c0), 0, Wp);
  for (int64_t c = 0; c < pr.Ci; ++c)
    for (int64_t i = 0; i < rows; ++i) {
      const float* src = in + ((n * pr.Ci + c) * pr.Hi + skip_r + i) * pr.Wi + skip_c;
      prefetch_ahead(src, cols);
      std::memcpy(xp + (c * Hp + r0 + i) * Wp + c0, src, size_t(cols) * sizeof(float));
    }
}

using TileFn = void (*)(int, const float*, int64_t, const int64_t*, int64_t, const float*,
                        const float*, int64_t, float*, int64_t, Partial);

TileFn tile_fn(bool two_vectors, int stride) {
  if (stride == 2) return two_vectors ? tile_pixels<2, 2> : tile_pixels<1, 2>;
  return two_vectors ? tile_pixels<2, 1> : tile_pixels<1, 1>;
}

// Images [lo, hi) of the problem; xp: scratch for one padded image.
void run_images(const Problem& pr, const float* in, const float* wp, const float* bias,
                const OutputEpilogue& epilogue, float* out, int64_t lo, int64_t hi,
                std::vector<float>& xp, std::vector<int64_t>& toff, std::vector<float>& partials) {
  const int64_t Hp = pr.Hp(), Wp = pr.Wp(), taps = pr.Ci * pr.KH * pr.KW;
  xp.assign(size_t(pr.Ci * Hp * Wp), 0.0f);
  toff.resize(size_t(taps));
  for (int64_t c = 0, t = 0; c < pr.Ci; ++c)
    for (int64_t ki = 0; ki < pr.KH; ++ki)
      for (int64_t kj = 0; kj < pr.KW; ++kj) toff[size_t(t++)] = (c * Hp + ki) * Wp + kj;
  const int64_t plane = pr.OH * pr.OW;
  // Taps are summed in blocks of whole channels whose weights (block × 32
  // channels) stay in L1 while every tile of the image uses them.
  const int64_t kk = pr.KH * pr.KW, block = std::max<int64_t>(1, kTapBlock / kk) * kk;
  partials.resize(size_t(pr.OH * ((pr.OW + kPixels - 1) / kPixels) * kTileFloats));
  for (int64_t n = lo; n < hi; ++n) {
    copy_padded(pr, in, n, xp.data());
    float* y = out + n * pr.Co * plane;
    for (int64_t o0 = 0; o0 < pr.Co; o0 += 16 * kVectors) {
      const int64_t valid = std::min<int64_t>(16 * kVectors, pr.Co - o0);
      const float* bt = bias ? bias + o0 : nullptr;
      const TileFn fn = tile_fn(valid > 16, pr.stride);
      for (int64_t t0 = 0; t0 < taps; t0 += block) {
        const int64_t bt_taps = std::min(block, taps - t0);
        const float* wb = wp + t0 * pr.opad + o0;
        float* part = partials.data();
        for (int64_t r = 0; r < pr.OH; ++r)
          for (int64_t c = 0; c < pr.OW; c += kPixels, part += kTileFloats) {
            const int pixels = int(std::min<int64_t>(kPixels, pr.OW - c));
            const float* xb = xp.data() + (r * Wp + c) * pr.stride;
            float* yt = y + o0 * plane + r * pr.OW + c;
            const Partial pa{part, t0 == 0, t0 + block >= taps};
            fn(pixels, wb, pr.opad, toff.data() + t0, bt_taps, xb, bt, valid, yt, plane, pa);
          }
      }
    }
    epilogue(out, n * pr.Co * plane, pr.Co * plane);
  }
}

void run(const Problem& pr, const float* in, const std::vector<float>& wp, const float* bias,
         const OutputEpilogue& epilogue, float* out) {
  parallel_for(0, pr.B, 1, [&](int64_t lo, int64_t hi) {
    thread_local std::vector<float> xp;
    thread_local std::vector<int64_t> toff;
    thread_local std::vector<float> partials;
    run_images(pr, in, wp.data(), bias, epilogue, out, lo, hi, xp, toff, partials);
  });
}
// Weight gradient gw[o][c][ki][kj] = Σ over images and output pixels (r, q)
// of gy[o][r][q] · xp[c][r·S + ki][q·S + kj], 3×3 kernels: a register tile
// is 16·OB output channels × the 9 taps of one input channel (18
// accumulators) over the pixels of one image, then added to `sum`
// ([tap][opad] floats for this channel). gyt is the image's gy transposed
// to [pixel][opad], so 16 channels of a pixel are one load.
template <int OB, int S>
HEED_TARGET_AVX512 void weight_grad_tile(const float* gyt, int64_t opad, const float* xc,
                                         int64_t OH, int64_t OW, int64_t Wp, float* sum) {
  __m512 acc[OB][9];
#pragma GCC unroll 2
  for (int b = 0; b < OB; ++b)
#pragma GCC unroll 9
    for (int k = 0; k < 9; ++k) acc[b][k] = _mm512_setzero_ps();
  for (int64_t r = 0; r < OH; ++r)
    for (int64_t q = 0; q < OW; ++q) {
      const float* g = gyt + (r * OW + q) * opad;
      __m512 gv[OB];
#pragma GCC unroll 2
      for (int b = 0; b < OB; ++b) gv[b] = _mm512_loadu_ps(g + 16 * b);
      const float* xb = xc + (r * Wp + q) * S;
#pragma GCC unroll 3
      for (int ki = 0; ki < 3; ++ki)
#pragma GCC unroll 3
        for (int kj = 0; kj < 3; ++kj) {
          const __m512 xv = _mm512_set1_ps(xb[ki * Wp + kj]);
#pragma GCC unroll 2
          for (int b = 0; b < OB; ++b)
            acc[b][ki * 3 + kj] = _mm512_fmadd_ps(gv[b], xv, acc[b][ki * 3 + kj]);
        }
    }
#pragma GCC unroll 2
  for (int b = 0; b < OB; ++b)
#pragma GCC unroll 9
    for (int k = 0; k < 9; ++k) {
      float* d = sum + k * opad + 16 * b;
      _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), acc[b][k]));
    }
}

using WeightGradFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t,
                              float*);

WeightGradFn weight_grad_fn(bool two_vectors, int stride) {
  if (stride == 2) return two_vectors ? weight_grad_tile<2, 2> : weight_grad_tile<1, 2>;
  return two_vectors ? weight_grad_tile<2, 1> : weight_grad_tile<1, 1>;
}

// Images [first, last) summed into sum ([c][tap][opad]), image by image.
void weight_grad_images(const Problem& pr, const float* gy, const float* x, int64_t first,
                        int64_t last, float* sum) {
  thread_local std::vector<float> xp, gyt;
  const int64_t Hp = pr.Hp(), Wp = pr.Wp(), plane = pr.OH * pr.OW;
  xp.assign(size_t(pr.Ci * Hp * Wp), 0.0f);
  gyt.assign(size_t(plane * pr.opad), 0.0f);  // channels ≥ Co stay zero
  for (int64_t n = first; n < last; ++n) {
    copy_padded(pr, x, n, xp.data());
    for (int64_t o = 0; o < pr.Co; ++o) {
      const float* src = gy + (n * pr.Co + o) * plane;
      prefetch_ahead(src, plane);
      for (int64_t p = 0; p < plane; ++p) gyt[size_t(p * pr.opad + o)] = src[p];
    }
    for (int64_t o0 = 0; o0 < pr.Co; o0 += 16 * kVectors) {
      const WeightGradFn fn = weight_grad_fn(pr.Co - o0 > 16, pr.stride);
      for (int64_t c = 0; c < pr.Ci; ++c)
        fn(gyt.data() + o0, pr.opad, xp.data() + c * Hp * Wp, pr.OH, pr.OW, Wp,
           sum + c * 9 * pr.opad + o0);
    }
  }
}
#endif

}  // namespace

namespace {

// The shapes this file's tiles can take at all.
bool cout_shape(const ConvShape& s) {
#if HEED_X86_KERNELS
  // Small outputs only: from 32×32 on, the shifted-tap layout wastes little
  // and its wider tiles win. The output channels fill 16-wide vectors, so
  // with fewer than 8 (CBAM's 2→1 spatial conv) most lanes would be padding.
  return cpu_isa() == Isa::Avx512 && s.sh == s.sw && (s.sh == 1 || s.sh == 2) && s.dh == 1 &&
         s.dw == 1 && s.OW <= 16 && s.O >= 8 && shifted_supported(s);
#else
  (void)s;
  return false;
#endif
}

}  // namespace

// Stride-1 rows of exactly 16 outputs fill the vectors of the shifted-tap
// direct forward, which beats these tiles there (32→32 @16, 1 thread, best
// of 7: forward 144 against 75-125 GFLOP/s, backward-input 141-148 against
// 91-127); its weight gradient does not (101-107 against 128-134).
bool cout_forward_supported(const ConvShape& s) {
  return cout_shape(s) && (s.sh == 2 || s.OW % 16 != 0);
}

bool cout_backward_weight_supported(const ConvShape& s) {
  return cout_shape(s) && s.KH == 3 && s.KW == 3;
}

bool cout_backward_input_supported(const ConvShape& s) {
  // The flipped convolution needs stride 1 and padding ≤ kernel - 1.
  // Its vectors hold input channels, hence the same lane rule on C.
  return cout_shape(s) && s.sh == 1 && s.W <= 16 && s.W % 16 != 0 && s.C >= 8 && s.ph < s.KH &&
         s.pw < s.KW;
}

void cout_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                  const OutputEpilogue& epilogue, float* y) {
#if HEED_X86_KERNELS
  const Problem pr{
      s.B, s.C, s.H, s.W, s.O, s.KH, s.KW, s.OH, s.OW, s.ph, s.pw, round_up16(s.O), int(s.sh)};
  const int64_t taps = s.C * s.KH * s.KW;
  std::vector<float> wp(size_t(taps * pr.opad), 0.0f);
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t t = 0; t < taps; ++t) wp[size_t(t * pr.opad + o)] = w[o * taps + t];
  run(pr, x, wp, bias, epilogue, y);
#else
  (void)s, (void)x, (void)w, (void)bias, (void)epilogue, (void)y;
#endif
}

void cout_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
#if HEED_X86_KERNELS
  // gx[c][i][j] = Σ gy[o][i + ph - ki][j + pw - kj] · w[o][c][ki][kj]: a
  // stride-1 convolution of gy (O channels) with tap (o, KH-1-ki, KW-1-kj),
  // padding KH-1-ph, giving C channels of H × W.
  const Problem pr{s.B,
                   s.O,
                   s.OH,
                   s.OW,
                   s.C,
                   s.KH,
                   s.KW,
                   s.H,
                   s.W,
                   s.KH - 1 - s.ph,
                   s.KW - 1 - s.pw,
                   round_up16(s.C),
                   1};
  const int64_t KK = s.KH * s.KW, taps = s.O * KK;
  std::vector<float> wp(size_t(taps * pr.opad), 0.0f);
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t k = 0; k < KK; ++k)
        wp[size_t((o * KK + (KK - 1 - k)) * pr.opad + c)] = w[(o * s.C + c) * KK + k];
  run(pr, gy, wp, nullptr, {}, gx);
#else
  (void)s, (void)gy, (void)w, (void)gx;
#endif
}

void cout_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw) {
#if HEED_X86_KERNELS
  const Problem pr{
      s.B, s.C, s.H, s.W, s.O, s.KH, s.KW, s.OH, s.OW, s.ph, s.pw, round_up16(s.O), int(s.sh)};
  // Fixed image ranges, one per thread, each summed image by image into its
  // own buffer; the buffers are added in range order (deterministic for a
  // given thread count).
  const int64_t ranges = std::min<int64_t>(get_num_threads(), s.B);
  const int64_t len = s.C * 9 * pr.opad;
  // Reused across calls: a fresh buffer of this size would be mmapped (and
  // page-faulted) on every call. The workers must not name it (they would
  // see their own), hence the pointer.
  thread_local std::vector<float> caller_sums;
  caller_sums.assign(size_t(ranges * len), 0.0f);
  float* const sums = caller_sums.data();
  parallel_for(0, ranges, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t range = lo; range < hi; ++range)
      weight_grad_images(pr, gy, x, range * s.B / ranges, (range + 1) * s.B / ranges,
                         sums + range * len);
  });
  // Range order, one contiguous pass per range; then [c][tap][o] → gw's [o][c][tap].
  for (int64_t r = 1; r < ranges; ++r) {
    const float* part = sums + r * len;
    for (int64_t i = 0; i < len; ++i) sums[i] += part[i];
  }
  for (int64_t o = 0; o < s.O; ++o)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t k = 0; k < 9; ++k) gw[(o * s.C + c) * 9 + k] = sums[(c * 9 + k) * pr.opad + o];
#else
  (void)s, (void)gy, (void)x, (void)gw;
#endif
}

}  // namespace heed::cpu::conv

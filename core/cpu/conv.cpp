// conv2d on the CPU. float32 without groups runs on the shifted-tap kernels
// of conv_shifted.h (no im2col, heed's own micro-kernels), or where they fit
// better on the output-channel kernels of conv_cout.h (small images) or the
// row stencils of conv_stencil.h (few channels); float64 and grouped
// convolutions on im2col + GEMM (OpenBLAS), below. The batch is processed in
// chunks of nb images whose im2col buffer `col` (R, nb·P) fits in the
// caches, columns ordered (image, oh, ow). Per chunk and per group:
//   forward          y_g (Og × N)   = W_g (Og × K) · col_g (K × N)
//   backward input   col_g (K × N)  = W_gᵀ (K × Og) · gy_g (Og × N), then col2im
//   backward weight  gW_g (Og × K) += gy_g (Og × N) · col_gᵀ (N × K)
// Two ways to run those GEMMs, chosen by image size:
// - small images (deep layers): N = nb·P, one large GEMM per chunk; its
//   (O, N) result is scattered to / gathered from the (B, O, OH, OW) layout;
// - large images: the same GEMM split per image (N = P, already large), which
//   reads and writes (B, O, OH, OW) directly, with no scatter/gather pass.
// im2col, col2im and scatter/gather run in parallel_for; the GEMMs run outside
// any parallel region (gemm.cpp splits them over the pool). 1×1 stride-1 convs on
// large images skip im2col: the input is already the GEMM's operand.
//
// Glossary: B batch, C input channels, O output channels, G groups, Cg = C/G,
// Og = O/G, (H, W) input, (KH, KW) kernel, (OH, OW) output, P = OH·OW,
// K = Cg·KH·KW (GEMM reduction dim per group), R = C·KH·KW rows of col,
// N = nb·P columns of a chunk. The slow, readable reference (7 nested loops)
// these kernels are tested against is in tests/core/test_conv.cpp.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/cpu/conv_cout.h"
#include "core/cpu/conv_shifted.h"
#include "core/cpu/conv_stencil.h"
#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {

namespace {

// Tuning, measured on the ResNet-20 shapes of bench/bench_conv (one thread,
// thread CPU time): a chunk's col buffer of about 512 KiB per thread stays in
// L2 between im2col and the GEMM (16 MiB chunks were 1.5-2× slower); per-image
// GEMMs beat one chunk GEMM + scatter from about 512 output pixels per thread.
constexpr int64_t kColBytesPerThread = int64_t(512) << 10;
constexpr int64_t kPerImagePixelsPerThread = 512;

struct Geom {
  int64_t B, C, H, W, O, KH, KW, OH, OW, G;
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t threads;
  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t P() const { return OH * OW; }
  int64_t K() const { return Cg() * KH * KW; }
  int64_t R() const { return C * KH * KW; }
  bool pointwise() const { return KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
  bool per_image() const { return P() >= kPerImagePixelsPerThread * threads; }
  bool direct() const { return pointwise() && per_image(); }
};

// input (B, C, H, W), weight (O, C/G, KH, KW), out (B, O, OH, OW).
Geom make_geom(const Tensor& input, const Tensor& weight, const Tensor& out,
               const Conv2dParams& p) {
  HEED_CHECK(input.is_contiguous() && weight.is_contiguous() && out.is_contiguous(),
             "conv2d (cpu): expected contiguous tensors");
  HEED_CHECK(input.dtype() == weight.dtype() && input.dtype() == out.dtype() &&
                 (input.dtype() == kFloat32 || input.dtype() == kFloat64),
             "conv2d (cpu): expected float32 or float64 tensors of one dtype, got ", input.dtype(),
             ", ", weight.dtype(), ", ", out.dtype());
  Geom g{input.size(0),  input.size(1),    input.size(2), input.size(3), weight.size(0),
         weight.size(2), weight.size(3),   out.size(2),   out.size(3),   p.groups,
         p.stride_h,     p.stride_w,       p.pad_h,       p.pad_w,       p.dilation_h,
         p.dilation_w,   get_num_threads()};
  HEED_CHECK(out.size(0) == g.B && out.size(1) == g.O && weight.size(1) * g.G == g.C,
             "conv2d (cpu): inconsistent shapes input ", shape_str(input.shape()), ", weight ",
             shape_str(weight.shape()), ", output ", shape_str(out.shape()));
  return g;
}

// float32 convolutions without groups run on the shifted-tap kernels
// (conv_shifted.h); the rest (float64, groups) on im2col + GEMM below.
bool use_shifted(const Geom& g, DType dtype, conv::ConvShape& s) {
  s = {g.B, g.C, g.H, g.W, g.O, g.KH, g.KW, g.OH, g.OW, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw};
  return dtype == kFloat32 && g.G == 1 && conv::shifted_supported(s);
}

// Images per chunk.
int64_t chunk_images(const Geom& g, size_t elem) {
  const int64_t per_image = std::max<int64_t>(g.R() * g.P() * int64_t(elem), 1);
  return std::clamp<int64_t>(kColBytesPerThread * g.threads / per_image, 1,
                             std::max<int64_t>(g.B, 1));
}

// The outputs ow in [lo, hi) whose input column ow·sw + off lies in [0, W).
void valid_range(int64_t off, int64_t stride, int64_t in_size, int64_t out_size, int64_t& lo,
                 int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = in_size - off > 0 ? (in_size - 1 - off) / stride + 1 : 0;
  lo = std::min(lo, out_size);
  hi = std::clamp(hi, lo, out_size);
}

// Stride 1 with OW == W (e.g. 3×3, padding 1): the plane of tap (ki, kj) is
// the input plane shifted by `shift` elements, output position p reading
// input p + shift. Positions [cb, ce) read inside the input plane; outside
// it, and in the columns [0, ow_lo) and [ow_hi, W) of rows [oh_lo, oh_hi)
// (which wrap into the neighbouring row), the tap is on padding. Copies and
// sums then run over one long contiguous range instead of row by row.
struct ShiftedRun {
  int64_t shift, cb, ce, oh_lo, oh_hi, ow_lo, ow_hi;
};

bool shifted_run(const Geom& g, int64_t ki, int64_t kj, ShiftedRun& r) {
  if (g.sh != 1 || g.sw != 1 || g.OW != g.W) return false;
  const int64_t row_off = ki * g.dh - g.ph, col_off = kj * g.dw - g.pw;
  valid_range(row_off, 1, g.H, g.OH, r.oh_lo, r.oh_hi);
  valid_range(col_off, 1, g.W, g.OW, r.ow_lo, r.ow_hi);
  r.shift = row_off * g.W + col_off;
  const int64_t begin = r.oh_lo * g.W, end = r.oh_hi * g.W;
  r.cb = std::clamp(-r.shift, begin, end);
  r.ce = std::clamp(g.H * g.W - r.shift, r.cb, end);
  return true;
}

// Zeroes the wrapped columns of a (OH, W) plane, column by column (a strided
// loop: a few elements per row, no per-row library call).
template <typename T>
void zero_wrapped_columns(const Geom& g, const ShiftedRun& r, T* plane) {
  for (int64_t ow = 0; ow < r.ow_lo; ++ow)
    for (int64_t oh = r.oh_lo; oh < r.oh_hi; ++oh) plane[oh * g.W + ow] = T(0);
  for (int64_t ow = r.ow_hi; ow < g.W; ++ow)
    for (int64_t oh = r.oh_lo; oh < r.oh_hi; ++oh) plane[oh * g.W + ow] = T(0);
}

// One (OH, OW) plane of col: tap (ki, kj) of one (H, W) input plane, zero
// where the tap falls on padding.
template <typename T>
void im2col_plane(const Geom& g, const T* src, int64_t ki, int64_t kj, T* dst) {
  ShiftedRun r;
  if (shifted_run(g, ki, kj, r)) {
    std::fill(dst, dst + r.cb, T(0));
    std::memcpy(dst + r.cb, src + r.cb + r.shift, size_t(r.ce - r.cb) * sizeof(T));
    std::fill(dst + r.ce, dst + g.P(), T(0));
    zero_wrapped_columns(g, r, dst);
    return;
  }
  const int64_t row_off = ki * g.dh - g.ph, col_off = kj * g.dw - g.pw;
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
  valid_range(row_off, g.sh, g.H, g.OH, oh_lo, oh_hi);
  valid_range(col_off, g.sw, g.W, g.OW, ow_lo, ow_hi);
  std::fill(dst, dst + oh_lo * g.OW, T(0));
  std::fill(dst + oh_hi * g.OW, dst + g.P(), T(0));
  for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
    T* d = dst + oh * g.OW;
    const T* s = src + (oh * g.sh + row_off) * g.W;  // the input row
    std::fill(d, d + ow_lo, T(0));
    for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] = s[ow * g.sw + col_off];
    std::fill(d + ow_hi, d + g.OW, T(0));
  }
}

// dst (H, W) += one (OH, OW) plane of col folded back onto the input
// positions of tap (ki, kj) (the adjoint of im2col_plane). `src` is scratch:
// the fast path zeroes its padding columns first.
template <typename T>
void col2im_plane(const Geom& g, T* src, int64_t ki, int64_t kj, T* dst) {
  ShiftedRun r;
  if (shifted_run(g, ki, kj, r)) {
    zero_wrapped_columns(g, r, src);
    for (int64_t p = r.cb; p < r.ce; ++p) dst[p + r.shift] += src[p];
    return;
  }
  const int64_t row_off = ki * g.dh - g.ph, col_off = kj * g.dw - g.pw;
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
  valid_range(row_off, g.sh, g.H, g.OH, oh_lo, oh_hi);
  valid_range(col_off, g.sw, g.W, g.OW, ow_lo, ow_hi);
  for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
    T* d = dst + (oh * g.sh + row_off) * g.W;  // the input row
    const T* s = src + oh * g.OW;
    for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow * g.sw + col_off] += s[ow];
  }
}

// col (R, nb·P) ← the patches of images [n0, n0 + nb) of x (B, C, H, W); row
// r = (c, ki, kj), column = (image, oh, ow).
template <typename T>
void im2col(const Geom& g, const T* x, int64_t n0, int64_t nb, T* col) {
  const int64_t P = g.P(), N = nb * P, HW = g.H * g.W, KK = g.KH * g.KW;
  parallel_for(0, g.R() * nb, std::max<int64_t>(1, 4096 / P), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t r = t / nb, nl = t % nb;
      const int64_t c = r / KK, ki = (r / g.KW) % g.KH, kj = r % g.KW;
      const T* src = x + ((n0 + nl) * g.C + c) * HW;  // (H, W)
      T* dst = col + r * N + nl * P;                  // (OH, OW)
      if (g.pointwise())
        std::memcpy(dst, src, size_t(P) * sizeof(T));
      else
        im2col_plane(g, src, ki, kj, dst);
    }
  });
}

// gx (B, C, H, W) images [n0, n0 + nb) = col (R, nb·P) folded back onto the
// input (the adjoint of im2col); col is used as scratch. Each (image,
// channel) plane is owned by one task, so there are no write races.
template <typename T>
void col2im(const Geom& g, T* col, int64_t n0, int64_t nb, T* gx) {
  const int64_t P = g.P(), N = nb * P, HW = g.H * g.W;
  const int64_t grain = std::max<int64_t>(1, 4096 / (HW * g.KH * g.KW));
  parallel_for(0, nb * g.C, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t nl = t / g.C, c = t % g.C;
      T* dst = gx + ((n0 + nl) * g.C + c) * HW;  // (H, W)
      if (g.pointwise()) {
        std::memcpy(dst, col + c * N + nl * P, size_t(P) * sizeof(T));
        continue;
      }
      std::fill(dst, dst + HW, T(0));
      for (int64_t ki = 0; ki < g.KH; ++ki)
        for (int64_t kj = 0; kj < g.KW; ++kj)
          col2im_plane(g, col + ((c * g.KH + ki) * g.KW + kj) * N + nl * P, ki, kj, dst);
    }
  });
}

// y (B, O, P) images [n0, n0 + nb) ← buf (O, nb·P), adding bias[o] when given.
template <typename T>
void scatter_out(const Geom& g, const T* buf, int64_t n0, int64_t nb, const T* bias, T* y) {
  const int64_t P = g.P(), N = nb * P;
  parallel_for(0, nb * g.O, std::max<int64_t>(1, 8192 / P), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t nl = t / g.O, o = t % g.O;
      const T* bp = buf + o * N + nl * P;
      T* yp = y + ((n0 + nl) * g.O + o) * P;
      if (bias) {
        const T b = bias[o];
        for (int64_t i = 0; i < P; ++i) yp[i] = bp[i] + b;
      } else {
        std::memcpy(yp, bp, size_t(P) * sizeof(T));
      }
    }
  });
}

// buf (O, nb·P) ← y (B, O, P) images [n0, n0 + nb) (the inverse of scatter_out).
template <typename T>
void gather_out(const Geom& g, const T* y, int64_t n0, int64_t nb, T* buf) {
  const int64_t P = g.P(), N = nb * P;
  parallel_for(0, nb * g.O, std::max<int64_t>(1, 8192 / P), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t nl = t / g.O, o = t % g.O;
      std::memcpy(buf + o * N + nl * P, y + ((n0 + nl) * g.O + o) * P, size_t(P) * sizeof(T));
    }
  });
}

// y (B, O, P) += bias[o], for the paths that write the GEMM's result in place.
template <typename T>
void add_bias(const Geom& g, T* y, int64_t n0, int64_t nb, const T* bias) {
  const int64_t P = g.P();
  parallel_for(0, nb * g.O, std::max<int64_t>(1, 8192 / P), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      T* yp = y + (n0 * g.O + t) * P;
      const T b = bias[t % g.O];
      for (int64_t i = 0; i < P; ++i) yp[i] += b;
    }
  });
}

// One GEMM per group (a strided batch over groups).
GemmArgs group_gemm(DType dtype, const Geom& g) {
  GemmArgs a;
  a.dtype = dtype;
  a.batch = g.G;
  return a;
}

template <typename T>
void conv2d_forward(CpuBackend& be, const Geom& g, T* y, const T* x, const T* w, const T* bias) {
  const int64_t P = g.P(), Og = g.Og(), Cg = g.Cg(), K = g.K();
  const DType dt = dtype_of<T>();
  if (g.direct()) {
    // y[n]_g (Og × P) = W_g (Og × Cg) · x[n]_g (Cg × P): x is the operand, no im2col.
    for (int64_t gi = 0; gi < g.G; ++gi) {
      GemmArgs a = group_gemm(dt, g);
      a.batch = g.B;
      a.m = Og, a.n = P, a.k = Cg;
      a.a = w + gi * Og * Cg, a.lda = Cg, a.stride_a = 0;
      a.b = x + gi * Cg * P, a.ldb = P, a.stride_b = g.C * P;
      a.c = y + gi * Og * P, a.ldc = P, a.stride_c = g.O * P;
      be.gemm(a);
    }
    if (bias) add_bias(g, y, 0, g.B, bias);
    return;
  }
  const int64_t nb_max = chunk_images(g, sizeof(T));
  const bool chunk_gemm = !g.per_image() && nb_max > 1;
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor buf_t = chunk_gemm ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(g, x, n0, nb, col);
    if (chunk_gemm && nb > 1) {
      GemmArgs a = group_gemm(dt, g);
      a.m = Og, a.n = N, a.k = K;
      a.a = w, a.lda = K, a.stride_a = Og * K;
      a.b = col, a.ldb = N, a.stride_b = K * N;
      a.c = buf_t.data_ptr<T>(), a.ldc = N, a.stride_c = Og * N;
      be.gemm(a);
      scatter_out(g, buf_t.data_ptr<T>(), n0, nb, bias, y);
      continue;
    }
    // Per image: B is image n's P columns of col, C is y[n] itself.
    for (int64_t gi = 0; gi < g.G; ++gi) {
      GemmArgs a = group_gemm(dt, g);
      a.batch = nb;
      a.m = Og, a.n = P, a.k = K;
      a.a = w + gi * Og * K, a.lda = K, a.stride_a = 0;
      a.b = col + gi * K * N, a.ldb = N, a.stride_b = P;
      a.c = y + n0 * g.O * P + gi * Og * P, a.ldc = P, a.stride_c = g.O * P;
      be.gemm(a);
    }
    if (bias) add_bias(g, y, n0, nb, bias);
  }
}

template <typename T>
void conv2d_backward_input_impl(CpuBackend& be, const Geom& g, T* gx, const T* gy, const T* w) {
  const int64_t P = g.P(), Og = g.Og(), Cg = g.Cg(), K = g.K();
  const DType dt = dtype_of<T>();
  if (g.direct()) {
    // gx[n]_g (Cg × P) = W_gᵀ (Cg × Og) · gy[n]_g (Og × P), no col2im.
    for (int64_t gi = 0; gi < g.G; ++gi) {
      GemmArgs a = group_gemm(dt, g);
      a.batch = g.B;
      a.trans_a = true;
      a.m = Cg, a.n = P, a.k = Og;
      a.a = w + gi * Og * Cg, a.lda = Cg, a.stride_a = 0;
      a.b = gy + gi * Og * P, a.ldb = P, a.stride_b = g.O * P;
      a.c = gx + gi * Cg * P, a.ldc = P, a.stride_c = g.C * P;
      be.gemm(a);
    }
    return;
  }
  const int64_t nb_max = chunk_images(g, sizeof(T));
  const bool chunk_gemm = !g.per_image() && nb_max > 1;
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor buf_t = chunk_gemm ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    if (chunk_gemm && nb > 1) {
      gather_out(g, gy, n0, nb, buf_t.data_ptr<T>());
      GemmArgs a = group_gemm(dt, g);
      a.trans_a = true;
      a.m = K, a.n = N, a.k = Og;
      a.a = w, a.lda = K, a.stride_a = Og * K;
      a.b = buf_t.data_ptr<T>(), a.ldb = N, a.stride_b = Og * N;
      a.c = col, a.ldc = N, a.stride_c = K * N;
      be.gemm(a);
    } else {
      // Per image: B is gy[n] itself, C is image n's P columns of col.
      for (int64_t gi = 0; gi < g.G; ++gi) {
        GemmArgs a = group_gemm(dt, g);
        a.batch = nb;
        a.trans_a = true;
        a.m = K, a.n = P, a.k = Og;
        a.a = w + gi * Og * K, a.lda = K, a.stride_a = 0;
        a.b = gy + n0 * g.O * P + gi * Og * P, a.ldb = P, a.stride_b = g.O * P;
        a.c = col + gi * K * N, a.ldc = N, a.stride_c = P;
        be.gemm(a);
      }
    }
    col2im(g, col, n0, nb, gx);
  }
}

template <typename T>
void conv2d_backward_weight_impl(CpuBackend& be, const Geom& g, T* gw, T* gb, const T* gy,
                                 const T* x) {
  const int64_t P = g.P(), Og = g.Og(), Cg = g.Cg(), K = g.K();
  const DType dt = dtype_of<T>();
  if (gb) {
    // gb[o] = Σ_n Σ_p gy[n, o, p], accumulated in double.
    parallel_for(0, g.O, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        double s = 0;
        for (int64_t n = 0; n < g.B; ++n) {
          const T* p = gy + (n * g.O + o) * P;
          T row = 0;
          for (int64_t i = 0; i < P; ++i) row += p[i];
          s += double(row);
        }
        gb[o] = T(s);
      }
    });
  }
  if (g.B == 0) {
    std::fill(gw, gw + g.O * K, T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    conv::ConvShape s;
    if (use_shifted(g, kFloat32, s) && conv::stencil_supported(s)) {
      conv::stencil_backward_weight(s, gy, x, gw);
      return;
    }
    if (use_shifted(g, kFloat32, s) && conv::cout_backward_weight_supported(s)) {
      conv::cout_backward_weight(s, gy, x, gw);
      return;
    }
    if (use_shifted(g, kFloat32, s)) {
      conv::shifted_backward_weight(s, gy, x, gw);
      return;
    }
  }
  if (g.direct()) {
    // gW_g (Og × Cg) += gy[n]_g (Og × P) · x[n]_gᵀ (P × Cg), one image at a time.
    for (int64_t n = 0; n < g.B; ++n) {
      GemmArgs a = group_gemm(dt, g);
      a.trans_b = true;
      a.beta = n == 0 ? 0 : 1;
      a.m = Og, a.n = Cg, a.k = P;
      a.a = gy + n * g.O * P, a.lda = P, a.stride_a = Og * P;
      a.b = x + n * g.C * P, a.ldb = P, a.stride_b = Cg * P;
      a.c = gw, a.ldc = Cg, a.stride_c = Og * Cg;
      be.gemm(a);
    }
    return;
  }
  const int64_t nb_max = chunk_images(g, sizeof(T));
  const bool chunk_gemm = !g.per_image() && nb_max > 1;
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor buf_t = chunk_gemm ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(g, x, n0, nb, col);
    if (chunk_gemm && nb > 1) {
      gather_out(g, gy, n0, nb, buf_t.data_ptr<T>());
      GemmArgs a = group_gemm(dt, g);
      a.trans_b = true;
      a.beta = n0 == 0 ? 0 : 1;
      a.m = Og, a.n = K, a.k = N;
      a.a = buf_t.data_ptr<T>(), a.lda = N, a.stride_a = Og * N;
      a.b = col, a.ldb = N, a.stride_b = K * N;
      a.c = gw, a.ldc = K, a.stride_c = Og * K;
      be.gemm(a);
      continue;
    }
    // Per image: A is gy[n] itself, B image n's P columns of col.
    for (int64_t nl = 0; nl < nb; ++nl) {
      GemmArgs a = group_gemm(dt, g);
      a.trans_b = true;
      a.beta = n0 + nl == 0 ? 0 : 1;
      a.m = Og, a.n = K, a.k = P;
      a.a = gy + (n0 + nl) * g.O * P, a.lda = P, a.stride_a = Og * P;
      a.b = col + nl * P, a.ldb = N, a.stride_b = K * N;
      a.c = gw, a.ldc = K, a.stride_c = Og * K;
      be.gemm(a);
    }
  }
}

}  // namespace

namespace {

// The float32 fast forwards (with their epilogue), or false when neither
// takes this convolution.
bool fast_forward(const Geom& g, const Tensor& out, const Tensor& input, const Tensor& weight,
                  const Tensor& bias, const conv::OutputEpilogue& epilogue) {
  conv::ConvShape s;
  if (!use_shifted(g, out.dtype(), s)) return false;
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  if (conv::stencil_supported(s))
    conv::stencil_forward(s, input.data_ptr<float>(), weight.data_ptr<float>(), b, epilogue,
                          out.data_ptr<float>());
  else if (conv::cout_forward_supported(s))
    conv::cout_forward(s, input.data_ptr<float>(), weight.data_ptr<float>(), b, epilogue,
                       out.data_ptr<float>());
  else
    conv::shifted_forward(s, input.data_ptr<float>(), weight.data_ptr<float>(), b, epilogue,
                          out.data_ptr<float>());
  return true;
}

void check_bias(const Geom& g, const Tensor& out, const Tensor& bias) {
  HEED_CHECK(!bias.defined() ||
                 (bias.is_contiguous() && bias.dtype() == out.dtype() && bias.numel() == g.O),
             "conv2d (cpu): bias must be a contiguous (", g.O, ") tensor of the output's dtype");
}

}  // namespace

void CpuBackend::conv2d(const Tensor& out, const Tensor& input, const Tensor& weight,
                        const Tensor& bias, const Conv2dParams& p) {
  const Geom g = make_geom(input, weight, out, p);
  check_bias(g, out, bias);
  if (out.numel() == 0 || fast_forward(g, out, input, weight, bias, {})) return;
  if (out.dtype() == kFloat32)
    conv2d_forward<float>(*this, g, out.data_ptr<float>(), input.data_ptr<float>(),
                          weight.data_ptr<float>(),
                          bias.defined() ? bias.data_ptr<float>() : nullptr);
  else
    conv2d_forward<double>(*this, g, out.data_ptr<double>(), input.data_ptr<double>(),
                           weight.data_ptr<double>(),
                           bias.defined() ? bias.data_ptr<double>() : nullptr);
}

void CpuBackend::conv2d_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                                 const Tensor& bias, const Tensor& residual,
                                 const Conv2dParams& p) {
  const Geom g = make_geom(input, weight, out, p);
  check_bias(g, out, bias);
  HEED_CHECK(!residual.defined() || (residual.is_contiguous() && residual.dtype() == out.dtype() &&
                                     residual.shape() == out.shape()),
             "conv2d_add_relu (cpu): residual must be a contiguous tensor of the output's shape "
             "and dtype");
  if (out.numel() == 0) return;
  if (out.dtype() == kFloat32) {
    const conv::OutputEpilogue epilogue{residual.defined() ? residual.data_ptr<float>() : nullptr,
                                        true};
    if (fast_forward(g, out, input, weight, bias, epilogue)) return;
  }
  Backend::conv2d_add_relu(out, input, weight, bias, residual, p);
}

void CpuBackend::conv2d_backward_input(const Tensor& grad_input, const Tensor& grad_out,
                                       const Tensor& weight, const Conv2dParams& p) {
  const Geom g = make_geom(grad_input, weight, grad_out, p);
  if (grad_input.numel() == 0) return;
  if (grad_out.numel() == 0) {
    fill(grad_input, 0);
    return;
  }
  conv::ConvShape s;
  if (use_shifted(g, grad_out.dtype(), s) && conv::stencil_supported(s))
    conv::stencil_backward_input(s, grad_out.data_ptr<float>(), weight.data_ptr<float>(),
                                 grad_input.data_ptr<float>());
  else if (use_shifted(g, grad_out.dtype(), s) && conv::cout_backward_input_supported(s))
    conv::cout_backward_input(s, grad_out.data_ptr<float>(), weight.data_ptr<float>(),
                              grad_input.data_ptr<float>());
  else if (use_shifted(g, grad_out.dtype(), s))
    conv::shifted_backward_input(s, grad_out.data_ptr<float>(), weight.data_ptr<float>(),
                                 grad_input.data_ptr<float>());
  else if (grad_out.dtype() == kFloat32)
    conv2d_backward_input_impl<float>(*this, g, grad_input.data_ptr<float>(),
                                      grad_out.data_ptr<float>(), weight.data_ptr<float>());
  else
    conv2d_backward_input_impl<double>(*this, g, grad_input.data_ptr<double>(),
                                       grad_out.data_ptr<double>(), weight.data_ptr<double>());
}

void CpuBackend::conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_bias,
                                        const Tensor& grad_out, const Tensor& input,
                                        const Conv2dParams& p) {
  const Geom g = make_geom(input, grad_weight, grad_out, p);
  HEED_CHECK(
      !grad_bias.defined() || (grad_bias.is_contiguous() && grad_bias.dtype() == grad_out.dtype() &&
                               grad_bias.numel() == g.O),
      "conv2d_backward_weight (cpu): grad_bias must be a contiguous (", g.O,
      ") tensor of grad_out's dtype");
  if (grad_out.dtype() == kFloat32)
    conv2d_backward_weight_impl<float>(*this, g, grad_weight.data_ptr<float>(),
                                       grad_bias.defined() ? grad_bias.data_ptr<float>() : nullptr,
                                       grad_out.data_ptr<float>(), input.data_ptr<float>());
  else
    conv2d_backward_weight_impl<double>(
        *this, g, grad_weight.data_ptr<double>(),
        grad_bias.defined() ? grad_bias.data_ptr<double>() : nullptr, grad_out.data_ptr<double>(),
        input.data_ptr<double>());
}

}  // namespace heed::cpu

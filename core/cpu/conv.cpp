// conv2d on the CPU: im2col + GEMM (OpenBLAS), over chunks of several images
// so that each GEMM is large. Per chunk of nb images and per group:
//   forward          out_g (Og × N)  = W_g (Og × K) · col_g (K × N)
//   backward input   col_g (K × N)   = W_gᵀ (K × Og) · gout_g (Og × N), then col2im
//   backward weight  gW_g (Og × K)  += gout_g (Og × N) · col_gᵀ (N × K)
// with N = nb·P columns ordered (image, oh, ow). The chunk's outputs live in a
// (O, N) buffer that is scattered to / gathered from the (B, O, OH, OW) layout.
// im2col, col2im and the scatter/gather run in parallel_for; the GEMMs run
// outside any parallel region (OpenBLAS threads them itself).
//
// Glossary: B batch, C input channels, O output channels, G groups, Cg = C/G,
// Og = O/G, (H, W) input, (KH, KW) kernel, (OH, OW) output, P = OH·OW,
// K = Cg·KH·KW (GEMM reduction dim per group), R = C·KH·KW rows of col.
// The slow, readable reference (7 nested loops) these kernels are tested
// against is in tests/core/test_conv.cpp.
#include <algorithm>
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {

namespace {

// col buffers are sized to about this many bytes per chunk: large enough that
// the GEMM's N dim is big (OpenBLAS is efficient), small enough to stay in
// the last-level cache between im2col and GEMM.
constexpr int64_t kColChunkBytes = int64_t(16) << 20;
// 1×1 stride-1 convs skip im2col and run one GEMM per image on the input
// itself when an image has at least this many pixels (else the GEMMs are too
// narrow and a chunked copy pays off).
constexpr int64_t kDirectMinPixels = 1024;

struct Geom {
  int64_t B, C, H, W, O, KH, KW, OH, OW, G;
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t P() const { return OH * OW; }
  int64_t K() const { return Cg() * KH * KW; }
  int64_t R() const { return C * KH * KW; }
  bool pointwise() const { return KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
  bool direct() const { return pointwise() && P() >= kDirectMinPixels; }
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
  Geom g{input.size(0),  input.size(1),  input.size(2),  input.size(3),
         weight.size(0), weight.size(2), weight.size(3), out.size(2),
         out.size(3),    p.groups,       p.stride_h,     p.stride_w,
         p.pad_h,        p.pad_w,        p.dilation_h,   p.dilation_w};
  HEED_CHECK(out.size(0) == g.B && out.size(1) == g.O && weight.size(1) * g.G == g.C,
             "conv2d (cpu): inconsistent shapes input ", shape_str(input.shape()), ", weight ",
             shape_str(weight.shape()), ", output ", shape_str(out.shape()));
  return g;
}

// Images per chunk.
int64_t chunk_images(const Geom& g, size_t elem) {
  int64_t per_image = std::max<int64_t>(g.R() * g.P() * int64_t(elem), 1);
  return std::clamp<int64_t>(kColChunkBytes / per_image, 1, std::max<int64_t>(g.B, 1));
}

// The outputs ow in [lo, hi) whose input column ow·sw + off lies in [0, W).
void valid_range(int64_t off, int64_t stride, int64_t in_size, int64_t out_size, int64_t& lo,
                 int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = in_size - off > 0 ? (in_size - 1 - off) / stride + 1 : 0;
  lo = std::min(lo, out_size);
  hi = std::clamp(hi, lo, out_size);
}

// col (R, nb·P) ← the patches of images [n0, n0 + nb) of x (B, C, H, W); row
// r = (c, ki, kj), column = (image, oh, ow). Zero where the patch is padding.
template <typename T>
void im2col(const Geom& g, const T* x, int64_t n0, int64_t nb, T* col) {
  const int64_t P = g.P(), N = nb * P, HW = g.H * g.W, KK = g.KH * g.KW;
  parallel_for(0, g.R() * nb, std::max<int64_t>(1, 4096 / P), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t r = t / nb, nl = t % nb;
      const int64_t c = r / KK, ki = (r / g.KW) % g.KH, kj = r % g.KW;
      const T* src = x + ((n0 + nl) * g.C + c) * HW;  // (H, W)
      T* dst = col + r * N + nl * P;                  // (OH, OW)
      if (g.pointwise()) {
        std::memcpy(dst, src, size_t(P) * sizeof(T));
        continue;
      }
      const int64_t off = kj * g.dw - g.pw;
      int64_t ow_lo, ow_hi;
      valid_range(off, g.sw, g.W, g.OW, ow_lo, ow_hi);
      for (int64_t oh = 0; oh < g.OH; ++oh) {
        T* d = dst + oh * g.OW;
        const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
        if (ih < 0 || ih >= g.H) {
          std::fill(d, d + g.OW, T(0));
          continue;
        }
        const T* s = src + ih * g.W + off;  // s[ow·sw] is input column ow·sw + off
        std::fill(d, d + ow_lo, T(0));
        if (g.sw == 1) {
          std::copy(s + ow_lo, s + ow_hi, d + ow_lo);
        } else {
          for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] = s[ow * g.sw];
        }
        std::fill(d + ow_hi, d + g.OW, T(0));
      }
    }
  });
}

// gx (B, C, H, W) images [n0, n0 + nb) = the sum of col (R, nb·P) folded back
// onto the input positions (the adjoint of im2col). Each (image, channel)
// plane is owned by one task, so there are no write races.
template <typename T>
void col2im(const Geom& g, const T* col, int64_t n0, int64_t nb, T* gx) {
  const int64_t P = g.P(), N = nb * P, HW = g.H * g.W;
  parallel_for(0, nb * g.C, std::max<int64_t>(1, 4096 / (HW * g.KH * g.KW)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t t = lo; t < hi; ++t) {
                   const int64_t nl = t / g.C, c = t % g.C;
                   T* dst = gx + ((n0 + nl) * g.C + c) * HW;  // (H, W)
                   if (g.pointwise()) {
                     std::memcpy(dst, col + c * N + nl * P, size_t(P) * sizeof(T));
                     continue;
                   }
                   std::fill(dst, dst + HW, T(0));
                   for (int64_t ki = 0; ki < g.KH; ++ki) {
                     for (int64_t kj = 0; kj < g.KW; ++kj) {
                       const T* src = col + ((c * g.KH + ki) * g.KW + kj) * N + nl * P;  // (OH, OW)
                       const int64_t off = kj * g.dw - g.pw;
                       int64_t ow_lo, ow_hi;
                       valid_range(off, g.sw, g.W, g.OW, ow_lo, ow_hi);
                       for (int64_t oh = 0; oh < g.OH; ++oh) {
                         const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
                         if (ih < 0 || ih >= g.H) continue;
                         T* d = dst + ih * g.W + off;
                         const T* s = src + oh * g.OW;
                         if (g.sw == 1) {
                           for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow] += s[ow];
                         } else {
                           for (int64_t ow = ow_lo; ow < ow_hi; ++ow) d[ow * g.sw] += s[ow];
                         }
                       }
                     }
                   }
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
void conv2d_forward(CpuBackend& be, const Geom& g, T* out, const T* x, const T* w, const T* bias) {
  const int64_t P = g.P(), Og = g.Og(), Cg = g.Cg(), K = g.K();
  const DType dt = dtype_of<T>();
  if (g.direct()) {
    // out[n]_g (Og × P) = W_g (Og × Cg) · x[n]_g (Cg × P), no copies; a batch over images.
    for (int64_t gi = 0; gi < g.G; ++gi) {
      GemmArgs a = group_gemm(dt, g);
      a.batch = g.B;
      a.m = Og, a.n = P, a.k = Cg;
      a.a = w + gi * Og * Cg, a.lda = Cg, a.stride_a = 0;
      a.b = x + gi * Cg * P, a.ldb = P, a.stride_b = g.C * P;
      a.c = out + gi * Og * P, a.ldc = P, a.stride_c = g.O * P;
      be.gemm(a);
    }
    if (bias) add_bias(g, out, 0, g.B, bias);
    return;
  }
  const int64_t nb_max = chunk_images(g, sizeof(T));
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor tmp_t = nb_max > 1 ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(g, x, n0, nb, col);
    // One image: the GEMM writes straight into out[n0] (its (O, P) layout is the buffer's).
    T* dst = nb == 1 ? out + n0 * g.O * P : tmp_t.data_ptr<T>();
    GemmArgs a = group_gemm(dt, g);
    a.m = Og, a.n = N, a.k = K;
    a.a = w, a.lda = K, a.stride_a = Og * K;
    a.b = col, a.ldb = N, a.stride_b = K * N;
    a.c = dst, a.ldc = N, a.stride_c = Og * N;
    be.gemm(a);
    if (nb == 1) {
      if (bias) add_bias(g, out, n0, 1, bias);
    } else {
      scatter_out(g, dst, n0, nb, bias, out);
    }
  }
}

template <typename T>
void conv2d_backward_input_impl(CpuBackend& be, const Geom& g, T* gx, const T* gy, const T* w) {
  const int64_t P = g.P(), Og = g.Og(), Cg = g.Cg(), K = g.K();
  const DType dt = dtype_of<T>();
  if (g.direct()) {
    // gx[n]_g (Cg × P) = W_gᵀ (Cg × Og) · gy[n]_g (Og × P).
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
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor tmp_t = nb_max > 1 ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    const T* src = gy + n0 * g.O * P;
    if (nb > 1) {
      gather_out(g, gy, n0, nb, tmp_t.data_ptr<T>());
      src = tmp_t.data_ptr<T>();
    }
    GemmArgs a = group_gemm(dt, g);
    a.trans_a = true;
    a.m = K, a.n = N, a.k = Og;
    a.a = w, a.lda = K, a.stride_a = Og * K;
    a.b = src, a.ldb = N, a.stride_b = Og * N;
    a.c = col, a.ldc = N, a.stride_c = K * N;
    be.gemm(a);
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
  if (g.B == 0 || P == 0) {
    std::fill(gw, gw + g.O * K, T(0));
    return;
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
  Tensor col_t = empty({g.R() * nb_max * P}, dt);                        // (R, nb·P)
  Tensor tmp_t = nb_max > 1 ? empty({g.O * nb_max * P}, dt) : Tensor();  // (O, nb·P)
  T* col = col_t.data_ptr<T>();
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(g, x, n0, nb, col);
    const T* src = gy + n0 * g.O * P;
    if (nb > 1) {
      gather_out(g, gy, n0, nb, tmp_t.data_ptr<T>());
      src = tmp_t.data_ptr<T>();
    }
    GemmArgs a = group_gemm(dt, g);
    a.trans_b = true;
    a.beta = n0 == 0 ? 0 : 1;
    a.m = Og, a.n = K, a.k = N;
    a.a = src, a.lda = N, a.stride_a = Og * N;
    a.b = col, a.ldb = N, a.stride_b = K * N;
    a.c = gw, a.ldc = K, a.stride_c = Og * K;
    be.gemm(a);
  }
}

}  // namespace

void CpuBackend::conv2d(const Tensor& out, const Tensor& input, const Tensor& weight,
                        const Tensor& bias, const Conv2dParams& p) {
  const Geom g = make_geom(input, weight, out, p);
  HEED_CHECK(!bias.defined() ||
                 (bias.is_contiguous() && bias.dtype() == out.dtype() && bias.numel() == g.O),
             "conv2d (cpu): bias must be a contiguous (", g.O, ") tensor of the output's dtype");
  if (out.numel() == 0) return;
  if (out.dtype() == kFloat32)
    conv2d_forward<float>(*this, g, out.data_ptr<float>(), input.data_ptr<float>(),
                          weight.data_ptr<float>(),
                          bias.defined() ? bias.data_ptr<float>() : nullptr);
  else
    conv2d_forward<double>(*this, g, out.data_ptr<double>(), input.data_ptr<double>(),
                           weight.data_ptr<double>(),
                           bias.defined() ? bias.data_ptr<double>() : nullptr);
}

void CpuBackend::conv2d_backward_input(const Tensor& grad_input, const Tensor& grad_out,
                                       const Tensor& weight, const Conv2dParams& p) {
  const Geom g = make_geom(grad_input, weight, grad_out, p);
  if (grad_input.numel() == 0) return;
  if (grad_out.numel() == 0) {
    fill(grad_input, 0);
    return;
  }
  if (grad_out.dtype() == kFloat32)
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

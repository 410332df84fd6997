// Per-element index math of the CUDA pooling and convolution kernels,
// written from core/cpu/pool.cpp and conv.cpp. Host+device (HEED_HD), so
// tests/cuda/test_cuda_host.cpp runs every function here over whole tensors
// on a machine without a GPU and compares with the CPU backend.
//
// The backward kernels gather instead of scatter: a thread per input element
// sums the outputs whose windows contain it, in the order the CPU's scatter
// adds them (outputs in raster order, taps (ki, kj) in order), so there are
// no atomics and the sums match the CPU's.
//
// Glossary: H×W input plane, OH×OW output plane, (KH, KW) kernel, P = OH·OW.
#pragma once

#include <cstdint>

#include "core/cuda/hd_math.h"

namespace heed::cuda::win {

// Pool2dParams / Conv2dParams as plain numbers (device code takes them by value).
struct Pool {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool count_include_pad;
};

struct Conv {
  int64_t C, H, W, KH, KW, OH, OW;
  int64_t sh, sw, ph, pw, dh, dw;
};

HEED_HD int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}
HEED_HD int64_t max64(int64_t a, int64_t b) {
  return a < b ? b : a;
}

// First in-range tap of a dilated window starting at `start` (may be < 0).
HEED_HD int64_t first_tap(int64_t start, int64_t dilation) {
  return start >= 0 ? start : start + ((-start + dilation - 1) / dilation) * dilation;
}

// Adaptive window i along a dim: [floor(i·in/out), ceil((i+1)·in/out)).
HEED_HD int64_t adaptive_start(int64_t i, int64_t in, int64_t out) {
  return (i * in) / out;
}
HEED_HD int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// Max over taps h = h0, h0+dh, ... < h1 (same for w) of one plane; ties keep
// the first index, a NaN wins (the last NaN); an empty window gives -inf and
// index -1 (the backward skips it).
template <typename T>
HEED_HD void max_window(const T* in, int64_t W, int64_t h0, int64_t h1, int64_t dh, int64_t w0,
                        int64_t w1, int64_t dw, T* out, int64_t* out_index) {
  T best = -hd::infinity<T>();
  int64_t arg = (h0 < h1 && w0 < w1) ? h0 * W + w0 : -1;
  for (int64_t h = h0; h < h1; h += dh) {
    const T* row = in + h * W;
    for (int64_t w = w0; w < w1; w += dw) {
      const T v = row[w];
      if (v > best || v != v) {
        best = v;
        arg = h * W + w;
      }
    }
  }
  *out = best;
  *out_index = arg;
}

// max_pool2d output (oh, ow) of plane `in` (H, W).
template <typename T>
HEED_HD void max_pool_at(const T* in, int64_t H, int64_t W, int64_t oh, int64_t ow, const Pool& p,
                         T* out, int64_t* out_index) {
  const int64_t span_h = (p.kh - 1) * p.dh + 1, span_w = (p.kw - 1) * p.dw + 1;
  const int64_t hs = oh * p.sh - p.ph, ws = ow * p.sw - p.pw;
  max_window(in, W, first_tap(hs, p.dh), min64(hs + span_h, H), p.dh, first_tap(ws, p.dw),
             min64(ws + span_w, W), p.dw, out, out_index);
}

template <typename T>
HEED_HD void adaptive_max_at(const T* in, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t oh,
                             int64_t ow, T* out, int64_t* out_index) {
  max_window(in, W, adaptive_start(oh, H, OH), adaptive_end(oh, H, OH), 1,
             adaptive_start(ow, W, OW), adaptive_end(ow, W, OW), 1, out, out_index);
}

// PyTorch's avg_pool2d window: the divisor counts padding (clipped to the
// padded input) when count_include_pad, else only the real elements.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

HEED_HD AvgWindow avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const Pool& p) {
  int64_t h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
  int64_t h1 = min64(h0 + p.kh, H + p.ph);
  int64_t w1 = min64(w0 + p.kw, W + p.pw);
  const int64_t padded_area = (h1 - h0) * (w1 - w0);
  h0 = max64(h0, 0);
  w0 = max64(w0, 0);
  h1 = min64(h1, H);
  w1 = min64(w1, W);
  const int64_t divisor = p.count_include_pad ? padded_area : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, max64(divisor, 1)};
}

template <typename T>
HEED_HD T avg_pool_at(const T* in, int64_t H, int64_t W, int64_t oh, int64_t ow, const Pool& p) {
  const AvgWindow win = avg_window(oh, ow, H, W, p);
  double acc = 0;
  for (int64_t h = win.h0; h < win.h1; ++h)
    for (int64_t w = win.w0; w < win.w1; ++w) acc += double(in[h * W + w]);
  return T(acc / double(win.divisor));
}

// The outputs o along one dim whose un-clipped window [o·s - pad, o·s - pad + k)
// holds input position i: o in [lo, hi] (empty when lo > hi).
HEED_HD void windows_holding(int64_t i, int64_t k, int64_t s, int64_t pad, int64_t out_size,
                             int64_t& lo, int64_t& hi) {
  const int64_t t = i + pad;  // o·s <= t and o·s > t - k
  hi = min64(t / s, out_size - 1);
  lo = t - k < 0 ? 0 : (t - k) / s + 1;
}

// grad_input (h, w) of avg_pool2d: Σ grad_out / divisor over the windows that
// hold (h, w), in the CPU's order (outputs in raster order), in T.
template <typename T>
HEED_HD T avg_pool_backward_at(const T* gout, int64_t H, int64_t W, int64_t OH, int64_t OW,
                               int64_t h, int64_t w, const Pool& p) {
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
  windows_holding(h, p.kh, p.sh, p.ph, OH, oh_lo, oh_hi);
  windows_holding(w, p.kw, p.sw, p.pw, OW, ow_lo, ow_hi);
  T acc = T(0);
  for (int64_t oh = oh_lo; oh <= oh_hi; ++oh)
    for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
      const AvgWindow win = avg_window(oh, ow, H, W, p);
      if (h < win.h0 || h >= win.h1 || w < win.w0 || w >= win.w1) continue;
      acc += gout[oh * OW + ow] / T(win.divisor);
    }
  return acc;
}

template <typename T>
HEED_HD T adaptive_avg_at(const T* in, int64_t H, int64_t W, int64_t OH, int64_t OW, int64_t oh,
                          int64_t ow) {
  const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
  const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
  double acc = 0;  // row sums first, as the CPU's streaming loop adds them
  for (int64_t h = h0; h < h1; ++h) {
    double s = 0;
    for (int64_t w = w0; w < w1; ++w) s += double(in[h * W + w]);
    acc += s;
  }
  return T(acc / double((h1 - h0) * (w1 - w0)));
}

// The adaptive windows o holding input position i: a superset [lo, hi] that
// the caller filters with adaptive_start/end.
HEED_HD void adaptive_holding(int64_t i, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
  lo = max64((i * out) / in - 1, 0);
  hi = min64(((i + 1) * out + in - 1) / in, out - 1);
}

template <typename T>
HEED_HD T adaptive_avg_backward_at(const T* gout, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                   int64_t h, int64_t w) {
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
  adaptive_holding(h, H, OH, oh_lo, oh_hi);
  adaptive_holding(w, W, OW, ow_lo, ow_hi);
  T acc = T(0);
  for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
    const int64_t h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
    if (h < h0 || h >= h1) continue;
    for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
      const int64_t w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
      if (w < w0 || w >= w1) continue;
      acc += gout[oh * OW + ow] / T((h1 - h0) * (w1 - w0));
    }
  }
  return acc;
}

// im2col: element (r, j) of col (R, N), r = (c, ki, kj), j = (image nl, oh, ow),
// from images x (nb, C, H, W); 0 where the tap falls on padding.
template <typename T>
HEED_HD T im2col_at(const T* x, const Conv& g, int64_t r, int64_t j) {
  const int64_t P = g.OH * g.OW, KK = g.KH * g.KW;
  const int64_t nl = j / P, pix = j - nl * P;
  const int64_t oh = pix / g.OW, ow = pix - oh * g.OW;
  const int64_t c = r / KK, ki = (r / g.KW) % g.KH, kj = r % g.KW;
  const int64_t ih = oh * g.sh - g.ph + ki * g.dh, iw = ow * g.sw - g.pw + kj * g.dw;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return T(0);
  return x[((nl * g.C + c) * g.H + ih) * g.W + iw];
}

// col2im: gx element (nl, c, ih, iw) = Σ over taps (ki, kj), in order, of the
// col entry that im2col read from it. col is (R, N) with N = nb·P.
template <typename T>
HEED_HD T col2im_at(const T* col, const Conv& g, int64_t N, int64_t nl, int64_t c, int64_t ih,
                    int64_t iw) {
  const int64_t P = g.OH * g.OW;
  T acc = T(0);
  for (int64_t ki = 0; ki < g.KH; ++ki) {
    const int64_t th = ih + g.ph - ki * g.dh;  // = oh · sh
    if (th < 0 || th % g.sh != 0) continue;
    const int64_t oh = th / g.sh;
    if (oh >= g.OH) continue;
    for (int64_t kj = 0; kj < g.KW; ++kj) {
      const int64_t tw = iw + g.pw - kj * g.dw;
      if (tw < 0 || tw % g.sw != 0) continue;
      const int64_t ow = tw / g.sw;
      if (ow >= g.OW) continue;
      acc += col[((c * g.KH + ki) * g.KW + kj) * N + nl * P + oh * g.OW + ow];
    }
  }
  return acc;
}

}  // namespace heed::cuda::win

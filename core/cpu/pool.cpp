// CPU pooling kernels over contiguous (..., H, W) tensors: every leading dim
// is a "plane" (b, c), and planes are split across parallel_for. Window
// arithmetic follows PyTorch's CPU kernels exactly (clipping, divisors,
// first-index-wins ties, NaN propagation), so values and indices match.
//
// Glossary: P planes (B·C), H×W input plane, OH×OW output plane.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/reduce_f32.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

struct Planes {
  int64_t P, H, W, OH, OW;
};

Planes planes_of(const Tensor& in, const Tensor& out) {
  const int64_t nd = in.dim();
  Planes g{};
  g.H = in.shape()[size_t(nd - 2)];
  g.W = in.shape()[size_t(nd - 1)];
  g.OH = out.shape()[size_t(nd - 2)];
  g.OW = out.shape()[size_t(nd - 1)];
  g.P =
      g.OH * g.OW > 0 ? out.numel() / (g.OH * g.OW) : in.numel() / std::max<int64_t>(g.H * g.W, 1);
  return g;
}

// Planes per parallel chunk: about 32k elements of work each.
int64_t plane_grain(const Planes& g, int64_t window = 1) {
  int64_t work = std::max<int64_t>(g.H * g.W + g.OH * g.OW * window, 1);
  return std::max<int64_t>(1, 32768 / work);
}

// Adaptive windows along one dim: window i is [floor(i·in/out), ceil((i+1)·in/out)),
// kept as (start, end) pairs computed once per call, not per element.
struct Bounds {
  std::vector<int64_t> b;
  Bounds(int64_t in, int64_t out) : b(size_t(2 * out)) {
    for (int64_t i = 0; i < out; ++i) {
      b[size_t(2 * i)] = (i * in) / out;
      b[size_t(2 * i + 1)] = ((i + 1) * in + out - 1) / out;
    }
  }
  int64_t start(int64_t i) const { return b[size_t(2 * i)]; }
  int64_t end(int64_t i) const { return b[size_t(2 * i + 1)]; }
};

// First in-range tap of a dilated window starting at `start` (may be < 0).
inline int64_t first_tap(int64_t start, int64_t dilation) {
  return start >= 0 ? start : start + ((-start + dilation - 1) / dilation) * dilation;
}

// Max of a large dense window (global pooling, CBAM's (1, 1)) in two cheap
// passes: the max over 8 independent lanes (no loop-carried select chain),
// then the first element equal to it, or the last NaN if there is one.
template <typename T>
inline void max_dense_window(const T* in, int64_t W, int64_t h0, int64_t h1, int64_t w0, int64_t w1,
                             T* out, int64_t* out_index) {
  constexpr int L = 8;
  T lane[L];
  for (T& l : lane) l = -std::numeric_limits<T>::infinity();
  bool nan = false;
  for (int64_t h = h0; h < h1; ++h) {
    const T* row = in + h * W;
    int64_t w = w0;
    for (; w + L <= w1; w += L)
      for (int k = 0; k < L; ++k) {
        const T v = row[w + k];
        lane[k] = v > lane[k] ? v : lane[k];
        nan |= v != v;
      }
    for (; w < w1; ++w) {
      lane[0] = row[w] > lane[0] ? row[w] : lane[0];
      nan |= row[w] != row[w];
    }
  }
  T m = lane[0];
  for (int k = 1; k < L; ++k) m = lane[k] > m ? lane[k] : m;
  int64_t arg = h0 * W + w0;  // all -inf: the first element, as PyTorch
  bool found = false;
  for (int64_t h = h0; h < h1 && !(found && !nan); ++h) {
    const T* row = in + h * W;
    for (int64_t w = w0; w < w1; ++w) {
      if (nan ? row[w] != row[w] : row[w] == m) {
        arg = h * W + w;
        found = true;
        if (!nan) break;  // first max; with NaNs keep scanning for the last one
      }
    }
  }
  *out = in[arg];  // the element itself: keeps the sign of a zero max
  *out_index = arg;
}

// Max over taps h = h0, h0+dh, ... < h1 (same for w); ties keep the first
// index, a NaN wins (the last NaN, as PyTorch). An empty window (possible only
// with dilation) gives -inf and index -1, which the backward skips.
template <typename T>
inline void max_window(const T* in, int64_t W, int64_t h0, int64_t h1, int64_t dh, int64_t w0,
                       int64_t w1, int64_t dw, T* out, int64_t* out_index) {
  if (dh == 1 && dw == 1 && (h1 - h0) * (w1 - w0) >= 64)
    return max_dense_window(in, W, h0, h1, w0, w1, out, out_index);
  // Locals, not the output references: the output could alias `in` as far as
  // the compiler knows, which would force a store per tap.
  T best = -std::numeric_limits<T>::infinity();
  int64_t arg = (h0 < h1 && w0 < w1) ? h0 * W + w0 : -1;
  for (int64_t h = h0; h < h1; h += dh) {
    const T* row = in + h * W;
    for (int64_t w = w0; w < w1; w += dw) {
      // Branch-free select: random data would mispredict a branch here.
      const T v = row[w];
      const bool take = (v > best) | (v != v);
      best = take ? v : best;
      arg = take ? h * W + w : arg;
    }
  }
  *out = best;
  *out_index = arg;
}

// max_window for a K×K window with no dilation that lies inside the plane:
// the same selection, with constant trip counts the compiler unrolls (the
// generic loop's variable steps cost several times more per tap).
template <int K, typename T>
inline void max_window_inside(const T* in, int64_t W, int64_t h0, int64_t w0, T* out,
                              int64_t* out_index) {
  T best = -std::numeric_limits<T>::infinity();
  int64_t arg = h0 * W + w0;
  for (int dh = 0; dh < K; ++dh) {
    const T* row = in + (h0 + dh) * W + w0;
    for (int dw = 0; dw < K; ++dw) {
      const T v = row[dw];
      const bool take = (v > best) | (v != v);
      best = take ? v : best;
      arg = take ? (h0 + dh) * W + w0 + dw : arg;
    }
  }
  *out = best;
  *out_index = arg;
}

// One output row of a 2×2, stride-2 max pooling whose windows lie inside
// the plane: rows r0 and r1 = r0 + W of the input (r0 at index `base` of
// the plane), taps in max_window's order and with its rule (ties keep the
// first, the last NaN wins). Straight-line code over each window, no calls
// or bounds checks: the compiler vectorises it across the outputs.
template <typename T>
void max_pool_2x2_row(const T* r0, int64_t W, int64_t base, int64_t OW, T* out,
                      int64_t* out_index) {
  const T* r1 = r0 + W;
  for (int64_t ow = 0; ow < OW; ++ow) {
    const T a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
    T best = a;
    int64_t tap = 0;  // 0, 1: row 0; 2, 3: row 1
    const bool take_b = (b > best) | (b != b);
    best = take_b ? b : best;
    tap = take_b ? 1 : tap;
    const bool take_c = (c > best) | (c != c);
    best = take_c ? c : best;
    tap = take_c ? 2 : tap;
    const bool take_d = (d > best) | (d != d);
    best = take_d ? d : best;
    tap = take_d ? 3 : tap;
    out[ow] = best;
    out_index[ow] = base + (tap >> 1) * W + 2 * ow + (tap & 1);
  }
}

// Σ of n contiguous values in double over 8 independent lanes, which the
// compiler vectorises (one running sum would be a serial chain of adds).
template <typename T>
double plane_sum(const T* x, int64_t n) {
  double lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += double(x[i + k]);
  for (int k = 0; i < n; ++i, ++k) lane[k] += double(x[i]);
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

// PyTorch's avg_pool2d window: the divisor counts padding (clipped to the
// padded input) when count_include_pad, else only the real elements.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  int64_t divisor;
};

inline AvgWindow avg_window(int64_t oh, int64_t ow, int64_t H, int64_t W, const Pool2dParams& p) {
  int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  int64_t h1 = std::min(h0 + p.kernel_h, H + p.pad_h);
  int64_t w1 = std::min(w0 + p.kernel_w, W + p.pad_w);
  int64_t padded_area = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, H);
  w1 = std::min(w1, W);
  int64_t divisor = p.count_include_pad ? padded_area : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, std::max<int64_t>(divisor, 1)};
}

}  // namespace

void CpuBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& input,
                            const Pool2dParams& p) {
  const Planes g = planes_of(input, out);
  dispatch_floating(input.dtype(), "max_pool2d", [&]<typename T>() {
    const T* x = input.data_ptr<T>();  // (P, H, W)
    T* y = out.data_ptr<T>();          // (P, OH, OW)
    int64_t* ix = indices.data_ptr<int64_t>();
    const int64_t span_h = (p.kernel_h - 1) * p.dilation_h + 1;
    const int64_t span_w = (p.kernel_w - 1) * p.dilation_w + 1;
    const bool square2or3 = p.kernel_h == p.kernel_w && (p.kernel_h == 2 || p.kernel_h == 3) &&
                            p.dilation_h == 1 && p.dilation_w == 1;
    // The common downsampling: every window a 2×2 block inside the plane.
    const bool blocks2x2 = square2or3 && p.kernel_h == 2 && p.stride_h == 2 && p.stride_w == 2 &&
                           p.pad_h == 0 && p.pad_w == 0 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
    parallel_for(0, g.P, plane_grain(g, p.kernel_h * p.kernel_w), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const T* xp = x + pl * g.H * g.W;
        T* yp = y + pl * g.OH * g.OW;
        int64_t* ip = ix + pl * g.OH * g.OW;
        if (blocks2x2) {
          for (int64_t oh = 0; oh < g.OH; ++oh)
            max_pool_2x2_row(xp + 2 * oh * g.W, g.W, 2 * oh * g.W, g.OW, yp + oh * g.OW,
                             ip + oh * g.OW);
          continue;
        }
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          int64_t hs = oh * p.stride_h - p.pad_h;
          int64_t h1 = std::min(hs + span_h, g.H), h0 = first_tap(hs, p.dilation_h);
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t ws = ow * p.stride_w - p.pad_w;
            if (square2or3 && hs >= 0 && hs + span_h <= g.H && ws >= 0 && ws + span_w <= g.W) {
              if (p.kernel_h == 2)
                max_window_inside<2>(xp, g.W, hs, ws, yp + oh * g.OW + ow, ip + oh * g.OW + ow);
              else
                max_window_inside<3>(xp, g.W, hs, ws, yp + oh * g.OW + ow, ip + oh * g.OW + ow);
              continue;
            }
            int64_t w1 = std::min(ws + span_w, g.W), w0 = first_tap(ws, p.dilation_w);
            max_window(xp, g.W, h0, h1, p.dilation_h, w0, w1, p.dilation_w, yp + oh * g.OW + ow,
                       ip + oh * g.OW + ow);
          }
        }
      }
    });
  });
}

namespace {

// Global max pooling of float32 planes (CBAM's channel gate): one vectorised
// pass for the maximum and the index of its first occurrence, or the last
// NaN when the plane has one, as max_window chooses.
// The max of plane xp (n values) and its index, given arg = max_index's
// answer for it.
void plane_max_f32(const float* xp, int64_t n, int64_t arg, float* y, int64_t* ix) {
  if (arg < 0)
    for (arg = n - 1; xp[arg] == xp[arg];) --arg;  // the last NaN
  *y = xp[arg];  // not `best`: a max of ±0 keeps the chosen element's sign
  *ix = arg;
}

void global_max_pool_f32(const Planes& g, const float* x, float* y, int64_t* ix) {
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const int64_t n = g.H * g.W;
  parallel_for(0, g.P, plane_grain(g, n), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const float* xp = x + pl * n;
      plane_max_f32(xp, n, k.max_index(xp, n, nullptr), y + pl, ix + pl);
    }
  });
}

}  // namespace

void CpuBackend::adaptive_max_pool2d(const Tensor& out, const Tensor& indices,
                                     const Tensor& input) {
  const Planes g = planes_of(input, out);
  if (g.OH == 1 && g.OW == 1 && g.H * g.W > 0 && input.dtype() == kFloat32)
    return global_max_pool_f32(g, input.data_ptr<float>(), out.data_ptr<float>(),
                               indices.data_ptr<int64_t>());
  const Bounds bh(g.H, g.OH), bw(g.W, g.OW);
  dispatch_floating(input.dtype(), "adaptive_max_pool2d", [&]<typename T>() {
    const T* x = input.data_ptr<T>();  // (P, H, W)
    T* y = out.data_ptr<T>();          // (P, OH, OW)
    int64_t* ix = indices.data_ptr<int64_t>();
    int64_t window = ((g.H + g.OH - 1) / std::max<int64_t>(g.OH, 1) + 1) *
                     ((g.W + g.OW - 1) / std::max<int64_t>(g.OW, 1) + 1);
    parallel_for(0, g.P, plane_grain(g, window), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const T* xp = x + pl * g.H * g.W;
        T* yp = y + pl * g.OH * g.OW;
        int64_t* ip = ix + pl * g.OH * g.OW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          int64_t h0 = bh.start(oh), h1 = bh.end(oh);
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t w0 = bw.start(ow), w1 = bw.end(ow);
            max_window(xp, g.W, h0, h1, 1, w0, w1, 1, yp + oh * g.OW + ow, ip + oh * g.OW + ow);
          }
        }
      }
    });
  });
}

void CpuBackend::global_mean_max_pool2d(const Tensor& out, const Tensor& argmax,
                                        const Tensor& input) {
  const int64_t P = input.size(0) * input.size(1), n = input.size(2) * input.size(3);
  if (input.dtype() != kFloat32 || n == 0)
    return Backend::global_mean_max_pool2d(out, argmax, input);
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const float* x = input.data_ptr<float>();  // (P, H·W)
  float* mean = out.data_ptr<float>();       // P means, then P maxima
  int64_t* ix = argmax.data_ptr<int64_t>();
  const Planes g{P, input.size(2), input.size(3), 1, 1};
  parallel_for(0, P, plane_grain(g, n), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      const float* xp = x + pl * n;
      float sum = 0;
      const int64_t arg = k.max_index(xp, n, &sum);
      mean[pl] = sum / float(n);
      plane_max_f32(xp, n, arg, mean + P + pl, ix + pl);
    }
  });
}

void CpuBackend::global_mean_max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                                 const Tensor& argmax) {
  const int64_t P = grad_input.size(0) * grad_input.size(1);
  const int64_t n = grad_input.size(2) * grad_input.size(3);
  if (grad_input.dtype() != kFloat32 || n == 0)
    return Backend::global_mean_max_pool2d_backward(grad_input, grad_out, argmax);
  float* gi = grad_input.data_ptr<float>();          // (P, H·W)
  const float* g_mean = grad_out.data_ptr<float>();  // P, then P of the maxima
  const int64_t* ix = argmax.data_ptr<int64_t>();
  const Planes g{P, grad_input.size(2), grad_input.size(3), 1, 1};
  parallel_for(0, P, plane_grain(g), [&](int64_t lo, int64_t hi) {
    for (int64_t pl = lo; pl < hi; ++pl) {
      float* gp = gi + pl * n;
      std::fill(gp, gp + n, g_mean[pl] / float(n));
      if (ix[pl] >= 0 && ix[pl] < n) gp[ix[pl]] += g_mean[P + pl];
    }
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                     const Tensor& indices) {
  const Planes g = planes_of(grad_input, grad_out);
  dispatch_floating(grad_out.dtype(), "max_pool2d_backward", [&]<typename T>() {
    T* gi = grad_input.data_ptr<T>();      // (P, H, W)
    const T* go = grad_out.data_ptr<T>();  // (P, OH, OW)
    const int64_t* ix = indices.data_ptr<int64_t>();
    const int64_t plane = g.H * g.W, oplane = g.OH * g.OW;
    parallel_for(0, g.P, plane_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        T* gp = gi + pl * plane;
        std::fill(gp, gp + plane, T(0));
        const T* gop = go + pl * oplane;
        const int64_t* ip = ix + pl * oplane;
        for (int64_t o = 0; o < oplane; ++o) {
          int64_t i = ip[o];
          if (i >= 0 && i < plane) gp[i] += gop[o];  // -1 marks an empty window
        }
      }
    });
  });
}

void CpuBackend::avg_pool2d(const Tensor& out, const Tensor& input, const Pool2dParams& p) {
  const Planes g = planes_of(input, out);
  dispatch_floating(input.dtype(), "avg_pool2d", [&]<typename T>() {
    const T* x = input.data_ptr<T>();  // (P, H, W)
    T* y = out.data_ptr<T>();          // (P, OH, OW)
    parallel_for(0, g.P, plane_grain(g, p.kernel_h * p.kernel_w), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const T* xp = x + pl * g.H * g.W;
        T* yp = y + pl * g.OH * g.OW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            AvgWindow win = avg_window(oh, ow, g.H, g.W, p);
            double acc = 0;
            for (int64_t h = win.h0; h < win.h1; ++h)
              for (int64_t w = win.w0; w < win.w1; ++w) acc += double(xp[h * g.W + w]);
            yp[oh * g.OW + ow] = T(acc / double(win.divisor));
          }
        }
      }
    });
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                     const Pool2dParams& p) {
  const Planes g = planes_of(grad_input, grad_out);
  dispatch_floating(grad_out.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    T* gi = grad_input.data_ptr<T>();      // (P, H, W)
    const T* go = grad_out.data_ptr<T>();  // (P, OH, OW)
    parallel_for(0, g.P, plane_grain(g, p.kernel_h * p.kernel_w), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        T* gp = gi + pl * g.H * g.W;
        std::fill(gp, gp + g.H * g.W, T(0));
        const T* gop = go + pl * g.OH * g.OW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            AvgWindow win = avg_window(oh, ow, g.H, g.W, p);
            const T v = gop[oh * g.OW + ow] / T(win.divisor);
            for (int64_t h = win.h0; h < win.h1; ++h)
              for (int64_t w = win.w0; w < win.w1; ++w) gp[h * g.W + w] += v;
          }
        }
      }
    });
  });
}

void CpuBackend::adaptive_avg_pool2d(const Tensor& out, const Tensor& input) {
  const Planes g = planes_of(input, out);
  const Bounds bh(g.H, g.OH), bw(g.W, g.OW);
  dispatch_floating(input.dtype(), "adaptive_avg_pool2d", [&]<typename T>() {
    const T* x = input.data_ptr<T>();  // (P, H, W)
    T* y = out.data_ptr<T>();          // (P, OH, OW)
    parallel_for(0, g.P, plane_grain(g), [&](int64_t lo, int64_t hi) {
      // Row-major streaming: each input row of a window band adds into one
      // accumulator per output column, so (1, W) and (1, 1) read memory in order.
      std::vector<double> acc(size_t(g.OW));
      for (int64_t pl = lo; pl < hi; ++pl) {
        const T* xp = x + pl * g.H * g.W;
        T* yp = y + pl * g.OH * g.OW;
        if (g.OH == 1 && g.OW == 1) {  // global pooling: one contiguous sum
          yp[0] = T(plane_sum(xp, g.H * g.W) / double(g.H * g.W));
          continue;
        }
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          int64_t h0 = bh.start(oh), h1 = bh.end(oh);
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t h = h0; h < h1; ++h) {
            const T* row = xp + h * g.W;
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              int64_t w0 = bw.start(ow), w1 = bw.end(ow);
              double s = 0;
              for (int64_t w = w0; w < w1; ++w) s += double(row[w]);
              acc[size_t(ow)] += s;
            }
          }
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t w0 = bw.start(ow), w1 = bw.end(ow);
            yp[oh * g.OW + ow] = T(acc[size_t(ow)] / double((h1 - h0) * (w1 - w0)));
          }
        }
      }
    });
  });
}

void CpuBackend::adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out) {
  const Planes g = planes_of(grad_input, grad_out);
  const Bounds bh(g.H, g.OH), bw(g.W, g.OW);
  dispatch_floating(grad_out.dtype(), "adaptive_avg_pool2d_backward", [&]<typename T>() {
    T* gi = grad_input.data_ptr<T>();      // (P, H, W)
    const T* go = grad_out.data_ptr<T>();  // (P, OH, OW)
    parallel_for(0, g.P, plane_grain(g), [&](int64_t lo, int64_t hi) {
      std::vector<T> scaled(size_t(g.OW));  // one band of grad_out / window area
      for (int64_t pl = lo; pl < hi; ++pl) {
        T* gp = gi + pl * g.H * g.W;
        std::fill(gp, gp + g.H * g.W, T(0));
        const T* gop = go + pl * g.OH * g.OW;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
          int64_t h0 = bh.start(oh), h1 = bh.end(oh);
          for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t w0 = bw.start(ow), w1 = bw.end(ow);
            scaled[size_t(ow)] = gop[oh * g.OW + ow] / T((h1 - h0) * (w1 - w0));
          }
          for (int64_t h = h0; h < h1; ++h) {
            T* row = gp + h * g.W;
            for (int64_t ow = 0; ow < g.OW; ++ow) {
              int64_t w0 = bw.start(ow), w1 = bw.end(ow);
              const T v = scaled[size_t(ow)];
              for (int64_t w = w0; w < w1; ++w) row[w] += v;
            }
          }
        }
      }
    });
  });
}

}  // namespace heed::cpu

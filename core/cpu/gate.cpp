// The CPU gate_add_relu kernels: relu(x · gate + residual), an attention
// gate (channel (B, C, 1, 1) or spatial (B, 1, H, W)) followed by a ResNet
// block's residual join, in one pass forward and one pass backward (with the
// gate's gradient summed on the way) instead of a product, a sum and a ReLU
// with their own passes and buffers.
//
// Glossary: B batch, C channels, S = H·W values per (b, c) run.
#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

struct GateGeometry {
  int64_t B, C, S;
  bool channel;  // gate (B, C, 1, 1); else (B, 1, H, W)
};

GateGeometry gate_geometry(const Tensor& x, const Tensor& gate) {
  return {x.size(0), x.size(1), x.size(2) * x.size(3), gate.size(2) == 1 && gate.size(3) == 1};
}

bool fused_kernels_take(const Tensor& x, const Tensor& gate) {
  return x.dim() == 4 && gate.dim() == 4 && x.is_contiguous() && gate.is_contiguous() &&
         (x.dtype() == kFloat32 || x.dtype() == kFloat64);
}

int64_t run_grain(const GateGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(g.S, 1));
}

// Σ a[i]·b[i] over i < n in double, summed in float lanes flushed to double
// every block: a loop the compiler vectorises, in a fixed order.
template <typename T>
double dot(const T* a, const T* b, int64_t n) {
  constexpr int kLanes = 16;
  constexpr int64_t kBlock = 512;
  double total = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    T lanes[kLanes] = {};
    int64_t i = i0;
    for (; i + kLanes <= i1; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lanes[j] += a[i + j] * b[i + j];
    for (; i < i1; ++i) lanes[0] += a[i] * b[i];
    for (int j = 0; j < kLanes; ++j) total += double(lanes[j]);
  }
  return total;
}

}  // namespace

void CpuBackend::gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& gate,
                               const Tensor& residual) {
  if (!fused_kernels_take(x, gate)) return Backend::gate_add_relu(out, x, gate, residual);
  const GateGeometry g = gate_geometry(x, gate);
  dispatch_floating(x.dtype(), "gate_add_relu", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();         // (B, C, S)
    const T* gp = gate.data_ptr<T>();      // (B, C) or (B, S)
    const T* rp = residual.data_ptr<T>();  // (B, C, S)
    T* yp = out.data_ptr<T>();             // (B, C, S)
    parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* p = xp + r * g.S;
        const T* a = rp + r * g.S;
        T* q = yp + r * g.S;
        if (g.channel) {
          const T s = gp[r];
          for (int64_t i = 0; i < g.S; ++i) {
            const T v = p[i] * s + a[i];
            q[i] = v <= T(0) ? T(0) : v;  // NaN stays NaN, as relu
          }
        } else {
          const T* s = gp + (r / g.C) * g.S;
          for (int64_t i = 0; i < g.S; ++i) {
            const T v = p[i] * s[i] + a[i];
            q[i] = v <= T(0) ? T(0) : v;
          }
        }
      }
    });
  });
}

void CpuBackend::gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                        const Tensor& grad_residual, const Tensor& grad_out,
                                        const Tensor& out, const Tensor& x, const Tensor& gate) {
  if (!fused_kernels_take(x, gate) || !grad_out.is_contiguous())
    return Backend::gate_add_relu_backward(grad_x, grad_gate, grad_residual, grad_out, out, x,
                                           gate);
  const GateGeometry g = gate_geometry(x, gate);
  dispatch_floating(x.dtype(), "gate_add_relu_backward", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();         // (B, C, S)
    const T* gp = gate.data_ptr<T>();      // (B, C) or (B, S)
    const T* yp = out.data_ptr<T>();       // (B, C, S)
    const T* dp = grad_out.data_ptr<T>();  // (B, C, S)
    T* gx = grad_x.defined() ? grad_x.data_ptr<T>() : nullptr;
    T* gg = grad_gate.defined() ? grad_gate.data_ptr<T>() : nullptr;
    T* gr = grad_residual.defined() ? grad_residual.data_ptr<T>() : nullptr;
    // The masked gradient of run r, in gr when kept, else in a scratch run.
    auto masked_run = [&](int64_t r, std::vector<T>& scratch) {
      T* m = gr ? gr + r * g.S : (scratch.resize(size_t(g.S)), scratch.data());
      const T* d = dp + r * g.S;
      const T* y = yp + r * g.S;
      for (int64_t i = 0; i < g.S; ++i) m[i] = y[i] > T(0) ? d[i] : T(0);
      return m;
    };
    if (g.channel) {
      parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
        std::vector<T> scratch;
        for (int64_t r = lo; r < hi; ++r) {
          const T* m = masked_run(r, scratch);
          if (gx) {
            const T s = gp[r];
            T* q = gx + r * g.S;
            for (int64_t i = 0; i < g.S; ++i) q[i] = m[i] * s;
          }
          if (gg) gg[r] = T(dot(m, xp + r * g.S, g.S));
        }
      });
      return;
    }
    // Spatial gate: its gradient sums over the channels of an image, so the
    // images are the parallel unit, channels added in order.
    parallel_for(0, g.B, 1, [&](int64_t lo, int64_t hi) {
      std::vector<T> scratch;
      std::vector<double> sum(size_t(g.S));
      for (int64_t b = lo; b < hi; ++b) {
        const T* s = gp + b * g.S;
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t r = b * g.C + c;
          const T* m = masked_run(r, scratch);
          const T* p = xp + r * g.S;
          if (gx) {
            T* q = gx + r * g.S;
            for (int64_t i = 0; i < g.S; ++i) q[i] = m[i] * s[i];
          }
          if (gg)
            for (int64_t i = 0; i < g.S; ++i) sum[size_t(i)] += double(m[i]) * double(p[i]);
        }
        if (gg)
          for (int64_t i = 0; i < g.S; ++i) gg[b * g.S + i] = T(sum[size_t(i)]);
      }
    });
  });
}

}  // namespace heed::cpu

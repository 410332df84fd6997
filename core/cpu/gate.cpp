// The CPU gate_add_relu kernels: relu(x · gate + residual), an attention
// gate (channel (B, C, 1, 1) or spatial (B, 1, H, W)) followed by a ResNet
// block's residual join, in one pass forward and one pass backward per image
// (the gate's gradient summed while the image is in cache, with the fused dot
// kernels of reduce_f32.h) instead of a product, a sum and a ReLU with their
// own passes and buffers. float32 only; other dtypes take the Backend default.
//
// Glossary: B batch, C channels, S = H·W values per (b, c) run.
#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/reduce_f32.h"
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
         x.dtype() == kFloat32;
}

}  // namespace

void CpuBackend::gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& gate,
                               const Tensor& residual) {
  if (!fused_kernels_take(x, gate)) return Backend::gate_add_relu(out, x, gate, residual);
  const GateGeometry g = gate_geometry(x, gate);
  const float* xp = x.data_ptr<float>();         // (B, C, S)
  const float* gp = gate.data_ptr<float>();      // (B, C) or (B, S)
  const float* rp = residual.data_ptr<float>();  // (B, C, S)
  float* yp = out.data_ptr<float>();             // (B, C, S)
  parallel_for(0, g.B * g.C, std::max<int64_t>(1, 32768 / std::max<int64_t>(g.S, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   const float* p = xp + r * g.S;
                   const float* a = rp + r * g.S;
                   float* q = yp + r * g.S;
                   auto run = [&](auto gate_at) {
                     for (int64_t i = 0; i < g.S; ++i) {
                       const float v = p[i] * gate_at(i) + a[i];
                       q[i] = v <= 0.0f ? 0.0f : v;  // NaN stays NaN, as relu
                     }
                   };
                   if (g.channel)
                     run([s = gp[r]](int64_t) { return s; });
                   else
                     run([s = gp + (r / g.C) * g.S](int64_t i) { return s[i]; });
                 }
               });
}

void CpuBackend::gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                        const Tensor& grad_residual, const Tensor& grad_out,
                                        const Tensor& out, const Tensor& x, const Tensor& gate) {
  if (!fused_kernels_take(x, gate) || !grad_out.is_contiguous())
    return Backend::gate_add_relu_backward(grad_x, grad_gate, grad_residual, grad_out, out, x,
                                           gate);
  const GateGeometry g = gate_geometry(x, gate);
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const int64_t image = g.C * g.S;
  const float* xp = x.data_ptr<float>();         // (B, C, S)
  const float* gp = gate.data_ptr<float>();      // (B, C) or (B, S)
  const float* yp = out.data_ptr<float>();       // (B, C, S)
  const float* dp = grad_out.data_ptr<float>();  // (B, C, S)
  float* gx = grad_x.defined() ? grad_x.data_ptr<float>() : nullptr;
  float* gg = grad_gate.defined() ? grad_gate.data_ptr<float>() : nullptr;
  float* gr = grad_residual.defined() ? grad_residual.data_ptr<float>() : nullptr;
  parallel_for(0, g.B, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> scratch;  // the masked gradient when the residual's is not kept
    for (int64_t b = lo; b < hi; ++b) {
      float* mi = gr ? gr + b * image : (scratch.resize(size_t(image)), scratch.data());
      // Run by run, so the masked run is still in L1 for grad_x and the
      // channel gate's dot product.
      for (int64_t c = 0; c < g.C; ++c) {
        const int64_t r = b * g.C + c;
        float* m = mi + c * g.S;
        const float* d = dp + r * g.S;
        const float* y = yp + r * g.S;
        for (int64_t i = 0; i < g.S; ++i) m[i] = y[i] > 0.0f ? d[i] : 0.0f;
        if (gx && g.channel) {
          const float s = gp[r];
          for (int64_t i = 0; i < g.S; ++i) gx[r * g.S + i] = m[i] * s;
        } else if (gx) {
          const float* s = gp + b * g.S;
          for (int64_t i = 0; i < g.S; ++i) gx[r * g.S + i] = m[i] * s[i];
        }
        if (gg && g.channel) k.dot_rows(m, xp + r * g.S, gg + r, 1, g.S);
      }
      // The spatial gate sums over the channels: once the image is masked.
      if (gg && !g.channel) k.dot_columns(mi, xp + b * image, gg + b * g.S, g.C, g.S, g.S);
    }
  });
}

}  // namespace heed::cpu

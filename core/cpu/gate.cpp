// The CPU gate_add_relu kernels: relu(x · channel_gate · spatial_gate +
// residual), attention gates (channel (B, C, 1, 1), spatial (B, 1, H, W), or
// both, as CBAM) followed by a ResNet block's residual join, in one pass
// forward and one pass backward per image (the gates' gradients summed while
// the image is in cache) instead of products, a sum and a ReLU with their own
// passes and buffers. float32 only; other dtypes take the Backend default.
//
// Glossary: B batch, C channels, S = H·W values per (b, c) run.
#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/reduce_f32.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

bool fused_kernels_take(const Tensor& x, const Tensor& channel_gate, const Tensor& spatial_gate) {
  for (const Tensor* gate : {&channel_gate, &spatial_gate})
    if (gate->defined() && !gate->is_contiguous()) return false;
  return x.dim() == 4 && x.is_contiguous() && x.dtype() == kFloat32;
}

}  // namespace

void CpuBackend::gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& channel_gate,
                               const Tensor& spatial_gate, const Tensor& residual) {
  if (!fused_kernels_take(x, channel_gate, spatial_gate))
    return Backend::gate_add_relu(out, x, channel_gate, spatial_gate, residual);
  const int64_t C = x.size(1), S = x.size(2) * x.size(3);
  const float* xp = x.data_ptr<float>();             // (B, C, S)
  const float* cg = f32_data_or_null(channel_gate);  // (B, C)
  const float* sg = f32_data_or_null(spatial_gate);  // (B, S)
  const float* rp = residual.data_ptr<float>();      // (B, C, S)
  float* yp = out.data_ptr<float>();                 // (B, C, S)
  parallel_for(0, x.size(0) * C, std::max<int64_t>(1, 32768 / std::max<int64_t>(S, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   const float* p = xp + r * S;
                   const float* a = rp + r * S;
                   float* q = yp + r * S;
                   // x · 1 is exact: one loop serves both "channel gate" cases.
                   const float c = cg ? cg[r] : 1.0f;
                   if (sg) {
                     const float* s = sg + (r / C) * S;
                     for (int64_t i = 0; i < S; ++i) {
                       const float v = p[i] * c * s[i] + a[i];
                       q[i] = v <= 0.0f ? 0.0f : v;  // NaN stays NaN, as relu
                     }
                   } else {
                     for (int64_t i = 0; i < S; ++i) {
                       const float v = p[i] * c + a[i];
                       q[i] = v <= 0.0f ? 0.0f : v;
                     }
                   }
                 }
               });
}

void CpuBackend::gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_channel_gate,
                                        const Tensor& grad_spatial_gate,
                                        const Tensor& grad_residual, const Tensor& grad_out,
                                        const Tensor& out, const Tensor& x,
                                        const Tensor& channel_gate, const Tensor& spatial_gate) {
  if (!fused_kernels_take(x, channel_gate, spatial_gate) || !grad_out.is_contiguous())
    return Backend::gate_add_relu_backward(grad_x, grad_channel_gate, grad_spatial_gate,
                                           grad_residual, grad_out, out, x, channel_gate,
                                           spatial_gate);
  const int64_t C = x.size(1), S = x.size(2) * x.size(3), image = C * S;
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const float* xp = x.data_ptr<float>();             // (B, C, S)
  const float* cg = f32_data_or_null(channel_gate);  // (B, C)
  const float* sg = f32_data_or_null(spatial_gate);  // (B, S)
  const float* yp = out.data_ptr<float>();           // (B, C, S)
  const float* dp = grad_out.data_ptr<float>();      // (B, C, S)
  float* gx = f32_data_or_null(grad_x);
  float* gcg = f32_data_or_null(grad_channel_gate);
  float* gsg = f32_data_or_null(grad_spatial_gate);
  float* gr = f32_data_or_null(grad_residual);
  parallel_for(0, x.size(0), 1, [&](int64_t lo, int64_t hi) {
    // The masked gradient when the residual's is not kept, and gu (the
    // gradient of x · channel_gate) when a spatial gate makes it differ.
    std::vector<float> masked_scratch, gu_run(size_t(sg ? S : 0));
    for (int64_t b = lo; b < hi; ++b) {
      float* mi =
          gr ? gr + b * image : (masked_scratch.resize(size_t(image)), masked_scratch.data());
      const float* s = sg ? sg + b * S : nullptr;
      float* gs = gsg ? gsg + b * S : nullptr;
      if (gs) std::fill(gs, gs + S, 0.0f);
      // Run by run, so the masked run is still in L1 for grad_x and the
      // gates' sums.
      for (int64_t ch = 0; ch < C; ++ch) {
        const int64_t r = b * C + ch;
        float* m = mi + ch * S;
        const float* d = dp + r * S;
        const float* y = yp + r * S;
        const float* xr = xp + r * S;
        const float c = cg ? cg[r] : 1.0f;
        for (int64_t i = 0; i < S; ++i) m[i] = y[i] > 0.0f ? d[i] : 0.0f;
        // Σ_C gm · x · c, accumulated channel by channel.
        if (gs)
          for (int64_t i = 0; i < S; ++i) gs[i] += m[i] * xr[i] * c;
        if (!gx && !gcg) continue;
        const float* gu = m;
        if (s) {
          for (int64_t i = 0; i < S; ++i) gu_run[size_t(i)] = m[i] * s[i];
          gu = gu_run.data();
        }
        if (gx)
          for (int64_t i = 0; i < S; ++i) gx[r * S + i] = gu[i] * c;
        if (gcg) k.dot_rows(gu, xr, gcg + r, 1, S);
      }
    }
  });
}

}  // namespace heed::cpu

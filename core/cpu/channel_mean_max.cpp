// The CPU channel_mean_max kernels: CBAM's spatial descriptor, the mean and
// the max over the channels of u = x · gate, without u. Forward reads x once
// (a block of pixels at a time, channel after channel, the running sums,
// maxima and argmax in L1); backward reads x once and writes grad_x once,
// summing the gate's gradient on the way. float32 only; other dtypes take the
// Backend default.
//
// Glossary: B batch, C channels, S = H·W pixels of a (b, c) run.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/reduce_f32.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

constexpr int64_t kPixelBlock = 256;  // running sums, maxima, argmax: 3 KiB

bool fused_kernels_take(const Tensor& x, const Tensor& gate) {
  return x.dim() == 4 && x.is_contiguous() && x.dtype() == kFloat32 &&
         (!gate.defined() || gate.is_contiguous());
}

}  // namespace

void CpuBackend::channel_mean_max(const Tensor& out, const Tensor& argmax, const Tensor& x,
                                  const Tensor& gate, bool max_first) {
  if (!fused_kernels_take(x, gate))
    return Backend::channel_mean_max(out, argmax, x, gate, max_first);
  const int64_t B = x.size(0), C = x.size(1), S = x.size(2) * x.size(3);
  const int64_t blocks = (S + kPixelBlock - 1) / kPixelBlock;
  const float* xp = x.data_ptr<float>();                                // (B, C, S)
  const float* gp = gate.defined() ? gate.data_ptr<float>() : nullptr;  // (B, C)
  float* op = out.data_ptr<float>();                                    // (B, 2, S)
  int64_t* ap = argmax.data_ptr<int64_t>();                             // (B, S)
  const float inv_c = 1.0f / float(C);
  parallel_for(0, B * blocks, std::max<int64_t>(1, 64 / std::max<int64_t>(C, 1)),
               [&](int64_t lo, int64_t hi) {
                 float sum[kPixelBlock], max[kPixelBlock];
                 int32_t arg[kPixelBlock];
                 for (int64_t task = lo; task < hi; ++task) {
                   const int64_t b = task / blocks, p0 = (task % blocks) * kPixelBlock;
                   const int64_t n = std::min(kPixelBlock, S - p0);
                   for (int64_t c = 0; c < C; ++c) {
                     const float g = gp ? gp[b * C + c] : 1.0f;
                     const float* xr = xp + (b * C + c) * S + p0;
                     if (c == 0) {
                       for (int64_t i = 0; i < n; ++i) {
                         sum[i] = max[i] = xr[i] * g;
                         arg[i] = 0;
                       }
                       continue;
                     }
                     for (int64_t i = 0; i < n; ++i) {
                       const float v = xr[i] * g;
                       sum[i] += v;
                       // The first maximum wins; so does the first NaN (as max()).
                       const bool take = v > max[i] || (v != v && max[i] == max[i]);
                       max[i] = take ? v : max[i];
                       arg[i] = take ? int32_t(c) : arg[i];
                     }
                   }
                   float* mean_plane = op + (b * 2 + (max_first ? 1 : 0)) * S + p0;
                   float* max_plane = op + (b * 2 + (max_first ? 0 : 1)) * S + p0;
                   int64_t* args = ap + b * S + p0;
                   for (int64_t i = 0; i < n; ++i) {
                     mean_plane[i] = sum[i] * inv_c;
                     max_plane[i] = max[i];
                     args[i] = arg[i];
                   }
                 }
               });
}

void CpuBackend::channel_mean_max_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                           const Tensor& grad_out, const Tensor& argmax,
                                           const Tensor& x, const Tensor& gate, bool max_first) {
  if (!fused_kernels_take(x, gate) || !grad_out.is_contiguous())
    return Backend::channel_mean_max_backward(grad_x, grad_gate, grad_out, argmax, x, gate,
                                              max_first);
  const int64_t C = x.size(1), S = x.size(2) * x.size(3);
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const float* xp = x.data_ptr<float>();                                // (B, C, S)
  const float* gp = gate.defined() ? gate.data_ptr<float>() : nullptr;  // (B, C)
  const float* dp = grad_out.data_ptr<float>();                         // (B, 2, S)
  const int64_t* ap = argmax.data_ptr<int64_t>();                       // (B, S)
  float* gx = grad_x.defined() ? grad_x.data_ptr<float>() : nullptr;
  float* gg = grad_gate.defined() ? grad_gate.data_ptr<float>() : nullptr;
  const float inv_c = 1.0f / float(C);
  parallel_for(0, x.size(0), 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> mean_share(static_cast<size_t>(S)), t(static_cast<size_t>(S));
    for (int64_t b = lo; b < hi; ++b) {
      const float* d_mean = dp + (b * 2 + (max_first ? 1 : 0)) * S;
      const float* d_max = dp + (b * 2 + (max_first ? 0 : 1)) * S;
      const int64_t* args = ap + b * S;
      for (int64_t i = 0; i < S; ++i) mean_share[size_t(i)] = d_mean[i] * inv_c;
      for (int64_t c = 0; c < C; ++c) {
        const int64_t r = b * C + c;
        // t: the gradient of u = x · gate on this run.
        for (int64_t i = 0; i < S; ++i)
          t[size_t(i)] = mean_share[size_t(i)] + (args[i] == c ? d_max[i] : 0.0f);
        if (gx) {
          const float g = gp ? gp[r] : 1.0f;
          for (int64_t i = 0; i < S; ++i) gx[r * S + i] = t[size_t(i)] * g;
        }
        if (gg) k.dot_rows(t.data(), xp + r * S, gg + r, 1, S);
      }
    }
  });
}

}  // namespace heed::cpu

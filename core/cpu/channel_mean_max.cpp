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
#include "core/cpu/prefetch.h"
#include "core/cpu/simd.h"
#include "core/parallel.h"

#define HEED_SIMD_KERNELS "core/cpu/channel_mean_max_impl.inc"
#include "core/cpu/simd_per_isa.inc"

namespace heed::cpu {

namespace {

// Running sums, maxima and argmax: 12 KiB, in L1. Whole 32×32 planes, so a
// channel is one contiguous read (shorter blocks of 4 KiB-strided runs alias
// in L1 and ran 3x slower).
constexpr int64_t kPixelBlock = 1024;

bool fused_kernels_take(const Tensor& x, const Tensor& gate) {
  return x.dim() == 4 && x.is_contiguous() && x.dtype() == kFloat32 &&
         (!gate.defined() || gate.is_contiguous());
}

void mean_max_block(const float* x, int64_t S, const float* gate, const float* center,
                    const float* offset, int64_t C, int64_t n, float* sum, float* max, float* arg) {
  HEED_SIMD_DISPATCH(mean_max_block(x, S, gate, center, offset, C, n, sum, max, arg));
}

void mean_max_backward_image(const float* x, int64_t S, const float* gate, int64_t C,
                             const float* mean_share, const float* grad_max, const float* arg,
                             float* gx, float* gg) {
  HEED_SIMD_DISPATCH(mean_max_backward_image(x, S, gate, C, mean_share, grad_max, arg, gx, gg));
}

}  // namespace

void channel_mean_max_f32(const ChannelMeanMaxArgs& a) {
  const int64_t B = a.B, C = a.C, S = a.S;
  const int64_t blocks = (S + kPixelBlock - 1) / kPixelBlock;
  const float* xp = a.x;
  const float* gp = a.gate;
  float* op = a.out;
  int64_t* ap = a.argmax;
  const bool max_first = a.max_first;
  const float inv_c = 1.0f / float(C);
  parallel_for(0, B * blocks, std::max<int64_t>(1, 64 / std::max<int64_t>(C, 1)),
               [&](int64_t lo, int64_t hi) {
                 float sum[kPixelBlock], max[kPixelBlock], arg[kPixelBlock];
                 for (int64_t task = lo; task < hi; ++task) {
                   const int64_t b = task / blocks, p0 = (task % blocks) * kPixelBlock;
                   const int64_t n = std::min(kPixelBlock, S - p0);
                   mean_max_block(xp + b * C * S + p0, S, gp ? gp + b * C : nullptr, a.center,
                                  a.offset ? a.offset + b * C : nullptr, C, n, sum, max, arg);
                   float* mean_plane = op + (b * 2 + (max_first ? 1 : 0)) * S + p0;
                   float* max_plane = op + (b * 2 + (max_first ? 0 : 1)) * S + p0;
                   int64_t* args = ap + b * S + p0;
                   for (int64_t i = 0; i < n; ++i) {
                     mean_plane[i] = sum[i] * inv_c;
                     max_plane[i] = max[i];
                     args[i] = int64_t(arg[i]);
                   }
                 }
               });
}

void CpuBackend::channel_mean_max(const Tensor& out, const Tensor& argmax, const Tensor& x,
                                  const Tensor& gate, bool max_first) {
  if (!fused_kernels_take(x, gate))
    return Backend::channel_mean_max(out, argmax, x, gate, max_first);
  channel_mean_max_f32({x.data_ptr<float>(), f32_data_or_null(gate), nullptr, nullptr, x.size(0),
                        x.size(1), x.size(2) * x.size(3), max_first, out.data_ptr<float>(),
                        argmax.data_ptr<int64_t>()});
}

void CpuBackend::channel_mean_max_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                           const Tensor& grad_out, const Tensor& argmax,
                                           const Tensor& x, const Tensor& gate, bool max_first) {
  if (!fused_kernels_take(x, gate) || !grad_out.is_contiguous())
    return Backend::channel_mean_max_backward(grad_x, grad_gate, grad_out, argmax, x, gate,
                                              max_first);
  const int64_t C = x.size(1), S = x.size(2) * x.size(3);
  const float* xp = x.data_ptr<float>();           // (B, C, S)
  const float* gp = f32_data_or_null(gate);        // (B, C)
  const float* dp = grad_out.data_ptr<float>();    // (B, 2, S)
  const int64_t* ap = argmax.data_ptr<int64_t>();  // (B, S)
  float* gx = f32_data_or_null(grad_x);
  float* gg = f32_data_or_null(grad_gate);
  const float inv_c = 1.0f / float(C);
  parallel_for(0, x.size(0), 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> mean_share(static_cast<size_t>(S)), arg(static_cast<size_t>(S));
    for (int64_t b = lo; b < hi; ++b) {
      const float* d_mean = dp + (b * 2 + (max_first ? 1 : 0)) * S;
      const float* d_max = dp + (b * 2 + (max_first ? 0 : 1)) * S;
      for (int64_t i = 0; i < S; ++i) {
        mean_share[size_t(i)] = d_mean[i] * inv_c;
        arg[size_t(i)] = float(ap[b * S + i]);
      }
      mean_max_backward_image(xp + b * C * S, S, gp ? gp + b * C : nullptr, C, mean_share.data(),
                              d_max, arg.data(), gx ? gx + b * C * S : nullptr,
                              gg ? gg + b * C : nullptr);
    }
  });
}

}  // namespace heed::cpu

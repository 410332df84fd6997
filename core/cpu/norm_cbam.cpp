// CPU kernels of batch_norm_cbam_add_relu: batch norm followed by CBAM and a
// residual join, with batch norm's output y and the channel-gated u = y · gc
// recomputed from x in every pass instead of stored (see Backend::
// batch_norm_cbam_stats). Forward: statistics (norm.cpp), descriptor, output:
// three reads of x. Backward: output pass (dout, out, x -> the masked
// gradient), descriptor pass (x), batch norm pass (masked gradient, x -> dx).
//
// Every pass but the statistics works image by image: the descriptor and the
// spatial gate are per pixel, shared by the channels of one image.
//
// Glossary: B batch, C channels, S = H·W pixels; run r = (b, c) of S values;
// gc (B, C) the channel gate, gs (B, S) the spatial gate, m / k / sh the
// channel's mean, scale and shift (y = (x - m)·k + sh).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/cpu/bn_affine.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/cpu/norm_runs.h"
#include "core/cpu/prefetch.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

struct CbamGeometry {
  int64_t B, C, S;
  explicit CbamGeometry(const Tensor& x) : B(x.size(0)), C(x.size(1)), S(x.size(2) * x.size(3)) {}
  // Images per parallel chunk: about 32k values.
  int64_t grain() const { return std::max<int64_t>(1, 32768 / std::max<int64_t>(C * S, 1)); }
};

// The descriptor's mean and max planes of image b (the order set by max_first).
template <typename T>
struct DescriptorPlanes {
  T* mean;
  T* max;
  DescriptorPlanes(T* d, int64_t b, int64_t S, bool max_first)
      : mean(d + (2 * b + (max_first ? 1 : 0)) * S), max(d + (2 * b + (max_first ? 0 : 1)) * S) {}
};

}  // namespace

void CpuBackend::batch_norm_cbam_descriptor(const BnCbamState& st, const Tensor& descriptor) {
  const CbamGeometry g(st.input);
  dispatch_floating(st.input.dtype(), "batch_norm_cbam_descriptor", [&]<typename T>() {
    const T* x = st.input.data_ptr<T>();
    const T* gc = st.channel_gate.data_ptr<T>();
    int64_t* arg = st.descriptor_argmax.data_ptr<int64_t>();  // (B, S)
    T* d = descriptor.data_ptr<T>();                          // (B, 2, S)
    const BnAffine<T> bn(g.C, st.weight, st.bias, st.save_mean, st.save_invstd);
    if constexpr (std::is_same_v<T, float>) {
      // u = (x - m)·(k·gc) + sh·gc on the SIMD kernels of channel_mean_max.
      std::vector<float> scale(size_t(g.B * g.C)), offset(size_t(g.B * g.C));
      for (int64_t r = 0; r < g.B * g.C; ++r) {
        const size_t c = size_t(r % g.C);
        scale[size_t(r)] = bn.scale[c] * gc[r];
        offset[size_t(r)] = bn.shift[c] * gc[r];
      }
      channel_mean_max_f32(
          {x, scale.data(), bn.mean.data(), offset.data(), g.B, g.C, g.S, st.max_first, d, arg});
      return;
    }
    parallel_for(0, g.B, g.grain(), [&](int64_t lo, int64_t hi) {
      std::vector<T> sum(size_t(g.S)), max(size_t(g.S));
      for (int64_t b = lo; b < hi; ++b) {
        int64_t* a = arg + b * g.S;
        // Channel after channel, each run one contiguous read; the first
        // channel starts the sums and maxima.
        for (int64_t c = 0; c < g.C; ++c) {
          const size_t ci = size_t(c);
          const T m = bn.mean[ci], k = bn.scale[ci], sh = bn.shift[ci], gate = gc[b * g.C + c];
          const T* p = x + (b * g.C + c) * g.S;
          for (int64_t s = 0; s < g.S; ++s) {
            const T u = ((p[s] - m) * k + sh) * gate;
            const size_t si = size_t(s);
            if (c == 0) {
              sum[si] = u, max[si] = u, a[s] = 0;
              continue;
            }
            sum[si] += u;
            // The first max wins ties; a NaN wins over numbers (the first NaN).
            if (u > max[si] || (u != u && max[si] == max[si])) max[si] = u, a[s] = c;
          }
        }
        const DescriptorPlanes<T> out(d, b, g.S, st.max_first);
        for (int64_t s = 0; s < g.S; ++s) {
          out.mean[s] = sum[size_t(s)] / T(g.C);
          out.max[s] = max[size_t(s)];
        }
      }
    });
  });
}

void CpuBackend::batch_norm_cbam_add_relu(const BnCbamState& st, const Tensor& out,
                                          const Tensor& residual) {
  const CbamGeometry g(st.input);
  dispatch_floating(st.input.dtype(), "batch_norm_cbam_add_relu", [&]<typename T>() {
    const T* x = st.input.data_ptr<T>();
    const T* gc = st.channel_gate.data_ptr<T>();
    const T* gs = st.spatial_gate.data_ptr<T>();
    const T* res = residual.data_ptr<T>();
    T* y = out.data_ptr<T>();
    const BnAffine<T> bn(g.C, st.weight, st.bias, st.save_mean, st.save_invstd);
    parallel_for(0, g.B * g.C, std::max<int64_t>(1, 32768 / g.S), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const size_t c = size_t(r % g.C);
        const T m = bn.mean[c], k = bn.scale[c], sh = bn.shift[c], gate = gc[r];
        const T* p = x + r * g.S;
        const T* a = res + r * g.S;
        const T* sg = gs + (r / g.C) * g.S;
        T* q = y + r * g.S;
        for_prefetched_blocks(
            g.S,
            [&](int64_t i0, int64_t i1) {
              for (int64_t s = i0; s < i1; ++s) {
                const T v = ((p[s] - m) * k + sh) * gate * sg[s] + a[s];
                q[s] = v <= T(0) ? T(0) : v;  // NaN stays NaN, as UnaryOp::Relu
              }
            },
            p, a);
      }
    });
  });
}

void CpuBackend::batch_norm_cbam_add_relu_backward(const BnCbamState& st, const Tensor& grad_masked,
                                                   const Tensor& grad_channel_gate,
                                                   const Tensor& grad_spatial_gate,
                                                   const Tensor& run_grad,
                                                   const Tensor& run_grad_dev,
                                                   const Tensor& grad_out, const Tensor& out) {
  const CbamGeometry g(st.input);
  dispatch_floating(st.input.dtype(), "batch_norm_cbam_add_relu_backward", [&]<typename T>() {
    const T* x = st.input.data_ptr<T>();
    const T* gc = st.channel_gate.data_ptr<T>();
    const T* gs = st.spatial_gate.data_ptr<T>();
    const T* dy = grad_out.data_ptr<T>();
    const T* o = out.data_ptr<T>();
    T* gm = grad_masked.data_ptr<T>();
    T* ggc = grad_channel_gate.data_ptr<T>();  // (B, C)
    T* ggs = grad_spatial_gate.data_ptr<T>();  // (B, S)
    T* rg = run_grad.data_ptr<T>();            // (B, C)
    T* rgd = run_grad_dev.data_ptr<T>();       // (B, C)
    const BnAffine<T> bn(g.C, st.weight, st.bias, st.save_mean, st.save_invstd);
    // float under AVX-512: one fused pass per run (norm_runs.h); else three loops.
    const bool avx512 = std::is_same_v<T, float> && cpu_isa() == Isa::Avx512;
    parallel_for(0, g.B, g.grain(), [&](int64_t lo, int64_t hi) {
      std::vector<T> scaled(avx512 ? 0 : size_t(g.S));  // gm · gs of one run
      for (int64_t b = lo; b < hi; ++b) {
        const T* sg = gs + b * g.S;
        T* dsg = ggs + b * g.S;
        std::fill(dsg, dsg + g.S, T(0));
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t r = b * g.C + c;
          const size_t ci = size_t(c);
          const T m = bn.mean[ci], k = bn.scale[ci], sh = bn.shift[ci], gate = gc[r];
          const T* p = x + r * g.S;
          const T* d = dy + r * g.S;
          const T* y = o + r * g.S;
          T* q = gm + r * g.S;
          // Σ gm·gs and Σ gm·gs·(x - m); the channel gate's share Σ gm·gs·y
          // follows from them.
          double sum = 0, sum_dev = 0;
          if (avx512) {
            if constexpr (std::is_same_v<T, float>)
              cbam_out_grad_run_avx512({d, y, p, sg, g.S, m, k, sh, gate, q, dsg}, &sum, &sum_dev);
          } else {
            T* sc = scaled.data();
            for (int64_t s = 0; s < g.S; ++s) {
              const T v = y[s] > T(0) ? d[s] : T(0);
              q[s] = v;
              sc[s] = v * sg[s];
            }
            for (int64_t s = 0; s < g.S; ++s) dsg[s] += q[s] * (((p[s] - m) * k + sh) * gate);
            // The run still in L1.
            add_grad_moments(sc, p, static_cast<const T*>(nullptr), g.S, m, &sum, &sum_dev);
          }
          rg[r] = T(sum);
          rgd[r] = T(sum_dev);
          ggc[r] = T(double(k) * sum_dev + double(sh) * sum);
        }
      }
    });
  });
}

void CpuBackend::batch_norm_cbam_descriptor_backward(const BnCbamState& st,
                                                     const Tensor& grad_channel_gate,
                                                     const Tensor& run_grad,
                                                     const Tensor& run_grad_dev,
                                                     const Tensor& grad_descriptor) {
  const CbamGeometry g(st.input);
  dispatch_floating(st.input.dtype(), "batch_norm_cbam_descriptor_backward", [&]<typename T>() {
    const T* x = st.input.data_ptr<T>();
    const T* gc = st.channel_gate.data_ptr<T>();
    const int64_t* arg = st.descriptor_argmax.data_ptr<int64_t>();
    const T* gd = grad_descriptor.data_ptr<T>();  // (B, 2, S)
    T* ggc = grad_channel_gate.data_ptr<T>();     // (B, C)
    T* rg = run_grad.data_ptr<T>();               // (B, C)
    T* rgd = run_grad_dev.data_ptr<T>();          // (B, C)
    const BnAffine<T> bn(g.C, st.weight, st.bias, st.save_mean, st.save_invstd);
    parallel_for(0, g.B, g.grain(), [&](int64_t lo, int64_t hi) {
      std::vector<T> share(size_t(g.S));
      std::vector<double> sum(size_t(g.C)), sum_dev(size_t(g.C));
      for (int64_t b = lo; b < hi; ++b) {
        // u's gradient t = grad_mean / C on every channel, + grad_max on the argmax channel.
        const DescriptorPlanes<const T> gdp(gd, b, g.S, st.max_first);
        for (int64_t s = 0; s < g.S; ++s) share[size_t(s)] = gdp.mean[s] / T(g.C);
        for (int64_t c = 0; c < g.C; ++c) {
          sum[size_t(c)] = sum_dev[size_t(c)] = 0;
          add_grad_moments(share.data(), x + (b * g.C + c) * g.S, static_cast<const T*>(nullptr),
                           g.S, bn.mean[size_t(c)], &sum[size_t(c)], &sum_dev[size_t(c)]);
        }
        const int64_t* a = arg + b * g.S;
        for (int64_t s = 0; s < g.S; ++s) {
          const int64_t c = a[s];
          const double t = double(gdp.max[s]);
          sum[size_t(c)] += t;
          sum_dev[size_t(c)] += t * double(x[(b * g.C + c) * g.S + s] - bn.mean[size_t(c)]);
        }
        // y's gradient is t · gc: its run sums; gc's is Σ t·y.
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t r = b * g.C + c;
          const double s1 = sum[size_t(c)], s2 = sum_dev[size_t(c)];
          rg[r] = T(double(gc[r]) * s1);
          rgd[r] = T(double(gc[r]) * s2);
          ggc[r] = T(double(bn.scale[size_t(c)]) * s2 + double(bn.shift[size_t(c)]) * s1);
        }
      }
    });
  });
}

void CpuBackend::batch_norm_cbam_backward(
    const BnCbamState& st, const Tensor& grad_input, const Tensor& grad_weight,
    const Tensor& grad_bias, const Tensor& grad_masked, const Tensor& out_run_grad,
    const Tensor& out_run_grad_dev, const Tensor& grad_descriptor, const Tensor& desc_run_grad,
    const Tensor& desc_run_grad_dev, const Tensor& grad_spatial_mean,
    const Tensor& grad_spatial_max, bool training) {
  const CbamGeometry g(st.input);
  const int64_t N = g.B * g.S;
  dispatch_floating(st.input.dtype(), "batch_norm_cbam_backward", [&]<typename T>() {
    const T* x = st.input.data_ptr<T>();
    const T* gc = st.channel_gate.data_ptr<T>();
    const T* gs = st.spatial_gate.data_ptr<T>();
    const int64_t* arg = st.descriptor_argmax.data_ptr<int64_t>();
    const int64_t* pos = st.max_pos.data_ptr<int64_t>();
    const T* max_dev = st.max_dev.data_ptr<T>();
    const T* dev = st.plane_dev.data_ptr<T>();
    const T* invstd = st.save_invstd.data_ptr<T>();
    const T* gm = grad_masked.data_ptr<T>();
    const T* gd = grad_descriptor.data_ptr<T>();
    const T* ra = out_run_grad.data_ptr<T>();
    const T* rad = out_run_grad_dev.data_ptr<T>();
    const T* rd = desc_run_grad.data_ptr<T>();
    const T* rdd = desc_run_grad_dev.data_ptr<T>();
    const T* gmean = grad_spatial_mean.data_ptr<T>();  // (B, C)
    const T* gmax = grad_spatial_max.data_ptr<T>();    // (B, C)
    const BnAffine<T> bn(g.C, st.weight, st.bias, st.save_mean, st.save_invstd);
    // Σ dy and Σ dy·(x - mean) per channel, from the run sums of every path
    // into y: the output's (gm·gs, scaled by gc), the descriptor's, the mean
    // pool's (grad/S on each value) and the max pool's (one value).
    std::vector<double> sum(size_t(g.C), 0.0), sum_dev(size_t(g.C), 0.0);
    for (int64_t b = 0, r = 0; b < g.B; ++b)
      for (int64_t c = 0; c < g.C; ++c, ++r) {
        const size_t ci = size_t(c);
        sum[ci] +=
            double(gc[r]) * double(ra[r]) + double(rd[r]) + double(gmean[r]) + double(gmax[r]);
        sum_dev[ci] += double(gc[r]) * double(rad[r]) + double(rdd[r]) +
                       double(gmean[r]) * double(dev[r]) + double(gmax[r]) * double(max_dev[r]);
      }
    if (grad_weight.defined()) {
      T* gw = grad_weight.data_ptr<T>();
      for (int64_t c = 0; c < g.C; ++c) gw[c] = T(sum_dev[size_t(c)] * double(invstd[c]));
    }
    if (grad_bias.defined()) {
      T* gb = grad_bias.data_ptr<T>();
      for (int64_t c = 0; c < g.C; ++c) gb[c] = T(sum[size_t(c)]);
    }
    if (!grad_input.defined()) return;
    T* gx = grad_input.data_ptr<T>();
    // dx = (dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x - mean)))·scale in
    // training, dy·scale in eval; linear in dy, so the sparse terms (the
    // maxima's) are added after the dense pass.
    std::vector<T> dy_mean(size_t(g.C)), kx(size_t(g.C));
    for (int64_t c = 0; c < g.C; ++c) {
      const double is = double(invstd[c]);
      dy_mean[size_t(c)] = training ? T(sum[size_t(c)] / double(N)) : T(0);
      kx[size_t(c)] = training ? T(sum_dev[size_t(c)] * is * is / double(N)) : T(0);
    }
    parallel_for(0, g.B, g.grain(), [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const T* sg = gs + b * g.S;
        const DescriptorPlanes<const T> gdp(gd, b, g.S, st.max_first);
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t r = b * g.C + c;
          const size_t ci = size_t(c);
          const T m = bn.mean[ci], sc = bn.scale[ci], gate = gc[r];
          // The run's constant: the mean pool's share minus the batch mean of dy.
          const T base = gmean[r] / T(g.S) - dy_mean[ci], kk = kx[ci];
          const T from_desc = gate / T(g.C);
          const T* p = x + r * g.S;
          const T* q = gm + r * g.S;
          T* dx = gx + r * g.S;
          if (training) {
            for_prefetched_blocks(
                g.S,
                [&](int64_t i0, int64_t i1) {
                  for (int64_t s = i0; s < i1; ++s)
                    dx[s] =
                        (q[s] * gate * sg[s] + from_desc * gdp.mean[s] + base - (p[s] - m) * kk) *
                        sc;
                },
                p, q);
          } else {  // x does not enter (a NaN input stays out of dx)
            for_prefetched_blocks(
                g.S,
                [&](int64_t i0, int64_t i1) {
                  for (int64_t s = i0; s < i1; ++s)
                    dx[s] = (q[s] * gate * sg[s] + from_desc * gdp.mean[s] + base) * sc;
                },
                q);
          }
          dx[pos[r]] += gmax[r] * sc;
        }
        const int64_t* a = arg + b * g.S;
        for (int64_t s = 0; s < g.S; ++s) {
          const int64_t r = b * g.C + a[s];
          gx[r * g.S + s] += gdp.max[s] * gc[r] * bn.scale[size_t(a[s])];
        }
      }
    });
  });
}

}  // namespace heed::cpu

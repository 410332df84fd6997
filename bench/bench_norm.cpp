// Throughput of the CPU normalisation, pooling and optimizer kernels on the
// shapes of a ResNet-20 (CIFAR, batch 128) and a ViT-tiny (65 tokens of 192,
// batch 128) training step, float32, with each pass of the ResNet block ends
// (batch norm + residual + ReLU, plain and with CBAM's fused op).
//
//   bench_norm [--threads N] [--reps R] [--cpu-clock] [--filter SUBSTRING]
//
// GB/s counts each tensor the kernel must touch once (inputs read, outputs
// written), so a kernel that reads its input twice shows it as a lower figure;
// times are medians over --reps runs after a warm-up, by the wall clock or
// (--cpu-clock, 1 thread only) by the thread's CPU time, which a busy shared
// machine disturbs less. HEED_CPU_ISA=scalar|avx2 caps the hand-written
// kernels; bench/norm_torch.py times the same ops in PyTorch (but the CBAM
// passes, which have no PyTorch counterpart).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"

using namespace heed;

namespace {

bool g_cpu_clock = false;
int g_reps = 20;
const char* g_filter = nullptr;

double now_seconds() {
  if (g_cpu_clock) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median_seconds(const std::function<void()>& fn) {
  fn();  // warm-up: first-touch pages, allocator pools
  std::vector<double> t;
  for (int r = 0; r < g_reps; ++r) {
    const double t0 = now_seconds();
    fn();
    t.push_back(now_seconds() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Prints one line: name, shape, median time and bytes / time.
void report(const std::string& name, const Shape& shape, double bytes,
            const std::function<void()>& fn) {
  if (g_filter && name.find(g_filter) == std::string::npos) return;
  const double s = median_seconds(fn);
  std::printf("%-22s %-18s %9.3f ms %8.2f GB/s\n", name.c_str(), shape_str(shape).c_str(), s * 1e3,
              bytes / s * 1e-9);
}

void bench_batch_norm(Backend& be) {
  const Shape shapes[] = {{128, 16, 32, 32}, {128, 32, 16, 16}, {128, 64, 8, 8}};
  for (const Shape& s : shapes) {
    const int64_t C = s[1];
    Tensor x = randn(s) * 2.0 + 0.5, gy = randn(s), y = empty(s), gx = empty(s);
    Tensor w = rand({C}) + 0.5, b = randn({C}), rm = zeros({C}), rv = ones({C});
    Tensor mean = empty({C}), invstd = empty({C}), gw = empty({C}), gb = empty({C});
    const double bytes = double(x.numel()) * 4;
    report("bn_fwd_train", s, 2 * bytes,
           [&] { be.batch_norm(y, mean, invstd, x, w, b, rm, rv, true, 0.1, 1e-5); });
    report("bn_fwd_eval", s, 2 * bytes,
           [&] { be.batch_norm(y, mean, invstd, x, w, b, rm, rv, false, 0.1, 1e-5); });
    be.batch_norm(y, mean, invstd, x, w, b, rm, rv, true, 0.1, 1e-5);
    report("bn_bwd", s, 3 * bytes,
           [&] { be.batch_norm_backward(gx, gw, gb, gy, x, w, mean, invstd, true); });
  }
}

void bench_layer_norm(Backend& be) {
  const Shape s{128 * 65, 192};
  Tensor x = randn(s), gy = randn(s), y = empty(s), gx = empty(s);
  Tensor w = rand({192}) + 0.5, b = randn({192}), gw = empty({192}), gb = empty({192});
  Tensor mean = empty({s[0]}), rstd = empty({s[0]});
  const double bytes = double(x.numel()) * 4;
  report("ln_fwd", s, 2 * bytes, [&] { be.layer_norm(y, mean, rstd, x, w, b, 192, 1e-5); });
  be.layer_norm(y, mean, rstd, x, w, b, 192, 1e-5);
  report("ln_bwd", s, 3 * bytes,
         [&] { be.layer_norm_backward(gx, gw, gb, gy, x, w, mean, rstd, 192); });
}

// The end of a ResNet block: batch norm + residual + ReLU, plain and with
// CBAM (statistics, descriptor and output passes forward; output,
// descriptor and batch-norm passes backward), the CBAM gates random.
void bench_block_end(Backend& be) {
  const Shape shapes[] = {{128, 16, 32, 32}, {128, 32, 16, 16}, {128, 64, 8, 8}};
  for (const Shape& s : shapes) {
    const int64_t B = s[0], C = s[1], S = s[2] * s[3];
    Tensor x = randn(s) * 2.0 + 0.5, res = randn(s), gy = randn(s), y = empty(s), gx = empty(s);
    Tensor gres = empty(s);
    Tensor w = rand({C}) + 0.5, b = randn({C}), rm = zeros({C}), rv = ones({C});
    Tensor mean = empty({C}), invstd = empty({C}), gw = empty({C}), gb = empty({C});
    const double bytes = double(x.numel()) * 4;
    report("bn_add_relu_fwd", s, 3 * bytes,
           [&] { be.batch_norm_relu(y, mean, invstd, x, w, b, res, rm, rv, true, 0.1, 1e-5); });
    report("bn_add_relu_bwd", s, 5 * bytes,
           [&] { be.batch_norm_relu_backward(gx, gw, gb, gres, gy, y, x, w, mean, invstd, true); });
    BnCbamState st;
    st.input = x, st.weight = w, st.bias = b, st.save_mean = mean, st.save_invstd = invstd;
    st.plane_dev = empty({B, C});
    st.max_pos = empty({B, C}, kInt64);
    st.max_dev = empty({B, C});
    st.descriptor_argmax = empty({B, S}, kInt64);
    st.channel_gate = rand({B, C});
    st.spatial_gate = rand({B, S});
    Tensor smean = empty({B, C}), smax = empty({B, C}), desc = empty({B, 2, s[2], s[3]});
    report("cbam_stats_fwd", s, bytes,
           [&] { be.batch_norm_cbam_stats(st, smean, smax, rm, rv, true, 0.1, 1e-5); });
    report("cbam_descriptor_fwd", s, bytes, [&] { be.batch_norm_cbam_descriptor(st, desc); });
    report("cbam_out_fwd", s, 3 * bytes, [&] { be.batch_norm_cbam_add_relu(st, y, res); });
    Tensor gm = empty(s), ggc = empty({B, C}), ggs = empty({B, S}), org = empty({B, C}),
           orgd = empty({B, C}), drg = empty({B, C}), drgd = empty({B, C}),
           gdesc = randn(desc.shape()), gmean = randn({B, C}), gmax = randn({B, C});
    report("cbam_out_bwd", s, 4 * bytes,
           [&] { be.batch_norm_cbam_add_relu_backward(st, gm, ggc, ggs, org, orgd, gy, y); });
    report("cbam_descriptor_bwd", s, bytes,
           [&] { be.batch_norm_cbam_descriptor_backward(st, ggc, drg, drgd, gdesc); });
    report("cbam_bn_bwd", s, 3 * bytes, [&] {
      be.batch_norm_cbam_backward(st, gx, gw, gb, gm, org, orgd, gdesc, drg, drgd, gmean, gmax,
                                  true);
    });
  }
}

void bench_pool(Backend& be) {
  {  // ResNet-20's head: global average pooling of the last stage
    const Shape s{128, 64, 8, 8}, so{128, 64, 1, 1};
    Tensor x = randn(s), y = empty(so), gy = randn(so), gx = empty(s);
    const double bytes = double(x.numel()) * 4;
    report("adaptive_avg_fwd", s, bytes, [&] { be.adaptive_avg_pool2d(y, x); });
    report("adaptive_avg_bwd", s, bytes, [&] { be.adaptive_avg_pool2d_backward(gx, gy); });
  }
  for (int64_t k : {2, 3}) {  // a stem's max pooling, and a 2×2 downsampling
    Pool2dParams p{};
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = k == 3 ? 1 : 0;
    p.dilation_h = p.dilation_w = 1;
    const Shape s{128, 64, 32, 32}, so{128, 64, 16, 16};
    Tensor x = randn(s), y = empty(so), ix = empty(so, kInt64), gy = randn(so), gx = empty(s);
    const double bytes = double(x.numel()) * 4 + double(y.numel()) * 12;  // + int64 indices
    const std::string tag = std::to_string(k) + "x" + std::to_string(k);
    report("max_pool" + tag + "_fwd", s, bytes, [&] { be.max_pool2d(y, ix, x, p); });
    be.max_pool2d(y, ix, x, p);
    report("max_pool" + tag + "_bwd", s, bytes, [&] { be.max_pool2d_backward(gx, gy, ix); });
    const double avg_bytes = double(x.numel()) * 4 + double(y.numel()) * 4;
    report("avg_pool" + tag + "_fwd", s, avg_bytes, [&] { be.avg_pool2d(y, x, p); });
    report("avg_pool" + tag + "_bwd", s, avg_bytes, [&] { be.avg_pool2d_backward(gx, gy, p); });
  }
}

void bench_optim(Backend& be) {
  const Shape s{1 << 20};  // about ResNet-20's 0.27M parameters ×4, ViT-tiny's 5.4M / 5
  Tensor p = randn(s), g = randn(s), buf = randn(s), m = randn(s), v = rand(s);
  const double n = double(p.numel()) * 4;
  SgdUpdate sgd{};
  sgd.lr = 0.1;
  sgd.momentum = 0.9;
  sgd.weight_decay = 5e-4;
  sgd.nesterov = true;
  report("sgd_nesterov_wd", s, 4 * n, [&] { be.sgd_update(p, g, buf, sgd); });  // p,b rw; g r
  AdamUpdate adam{};
  adam.lr = 1e-3;
  adam.beta1 = 0.9;
  adam.beta2 = 0.999;
  adam.eps = 1e-8;
  adam.weight_decay = 0.05;
  adam.decoupled_weight_decay = true;
  adam.step = 10;
  report("adamw", s, 7 * n, [&] { be.adam_update(p, g, m, v, Tensor(), adam); });  // p,m,v rw
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      g_reps = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) {
      g_filter = argv[++i];
    } else if (!std::strcmp(argv[i], "--cpu-clock")) {
      g_cpu_clock = true;
    } else {
      std::fprintf(stderr,
                   "usage: bench_norm [--threads N] [--reps R] [--cpu-clock] [--filter S]\n");
      return 2;
    }
  }
  if (g_cpu_clock && threads != 1) {
    std::fprintf(stderr, "--cpu-clock measures one thread: use --threads 1\n");
    return 2;
  }
  set_num_threads(threads);
  std::printf("threads %d, isa %s, %s clock, median of %d\n", threads,
              cpu::isa_name(cpu::cpu_isa()), g_cpu_clock ? "thread CPU" : "wall", g_reps);
  Backend& be = backend(kCPU);
  bench_batch_norm(be);
  bench_block_end(be);
  bench_layer_norm(be);
  bench_pool(be);
  bench_optim(be);
}

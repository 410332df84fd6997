// conv2d throughput against raw sgemm on the matching GEMM shape, for the
// ResNet-20 (CIFAR) 3×3 convolutions at batch 128.
//
//   bench_conv [--threads N] [--reps R] [--batch B] [--cpu-clock]
//
// For each layer it times the CPU backend's conv2d forward, backward-input
// and backward-weight (float32, 3×3, stride 1, padding 1, no bias) and
// cblas_sgemm on the GEMM each one amounts to:
//   forward          M = O,    N = B·H·W, K = C·9
//   backward-input   M = C·9,  N = B·H·W, K = O
//   backward-weight  M = O,    N = C·9,   K = B·H·W
// with the same transposition flags the kernels use. Both sides do 2·M·N·K
// flops; the ratio conv/sgemm is how close im2col + GEMM gets to the GEMM
// alone. Times are medians over --reps runs after one warm-up run, by the
// wall clock, or with --cpu-clock (one thread only) by the thread's CPU time,
// which a busy shared machine disturbs less.
//
// OpenBLAS 0.3.21 (Debian 12) does not recognise every recent CPU and may
// fall back to its slow generic kernels (the "OpenBLAS kernels" line says
// which); OPENBLAS_CORETYPE=SkylakeX (or Haswell) in the environment forces
// the right ones.
#include <cblas.h>

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
#include "core/heed_core.h"

using namespace heed;

namespace {

bool g_cpu_clock = false;

double now_seconds() {
  if (g_cpu_clock) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch pages, allocator pools, OpenBLAS buffers
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    fn();
    t.push_back(now_seconds() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Times C (M×N) = op(A) · op(B) in row-major, with buffers of the right size.
double time_sgemm(int reps, bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  Tensor a = rand({m * k}), b = rand({k * n}), c = zeros({m * n});
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* pc = c.data_ptr<float>();
  return median_seconds(reps, [&] {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                int(m), int(n), int(k), 1.0f, pa, int(ta ? m : k), pb, int(tb ? k : n), 0.0f, pc,
                int(n));
  });
}

struct Layer {
  int64_t c, o, hw;
};

int parse_int(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: %s [--threads N] [--reps R] [--batch B] [--cpu-clock]\n", argv[0]);
      return 0;
    }
    if (std::strcmp(argv[i], "--cpu-clock") == 0) g_cpu_clock = true;
  }
  const int threads = parse_int(argc, argv, "--threads", get_num_threads());
  const int reps = std::max(1, parse_int(argc, argv, "--reps", 5));
  const int64_t B = parse_int(argc, argv, "--batch", 128);
  if (threads < 1 || B < 1) {
    std::fprintf(stderr, "bench_conv: --threads and --batch must be positive\n");
    return 2;
  }
  if (g_cpu_clock && threads != 1) {
    std::fprintf(stderr, "bench_conv: --cpu-clock needs --threads 1\n");
    return 2;
  }
  set_num_threads(threads);
  std::printf("conv2d 3x3 pad 1 stride 1, float32, batch %lld, %d thread(s), median of %d (%s)\n",
              static_cast<long long>(B), threads, reps,
              g_cpu_clock ? "thread CPU time" : "wall clock");
  std::printf("OpenBLAS kernels: %s\n", openblas_get_corename());
  std::printf("GFLOP/s: conv kernel | sgemm on the matching shape | ratio conv/sgemm\n\n");
  std::printf("%-22s | %-22s | %-22s | %-22s | %s\n", "layer (C->O @ HxW)", "forward",
              "backward-input", "backward-weight", "fwd+bwd ratio");

  const std::vector<Layer> layers = {{3, 16, 32}, {16, 16, 32}, {32, 32, 16}, {64, 64, 8}};
  Backend& be = backend(kCPU);
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  double all_conv = 0, all_gemm = 0;
  for (const Layer& l : layers) {
    const int64_t C = l.c, O = l.o, H = l.hw, W = l.hw, K9 = C * 9, N = B * H * W;
    Tensor x = rand({B, C, H, W}), w = rand({O, C, 3, 3});
    Tensor y = empty({B, O, H, W}), gy = rand({B, O, H, W});
    Tensor gx = empty({B, C, H, W}), gw = empty({O, C, 3, 3});
    const double t_f = median_seconds(reps, [&] { be.conv2d(y, x, w, Tensor(), p); });
    const double t_bi = median_seconds(reps, [&] { be.conv2d_backward_input(gx, gy, w, p); });
    const double t_bw =
        median_seconds(reps, [&] { be.conv2d_backward_weight(gw, Tensor(), gy, x, p); });
    const double s_f = time_sgemm(reps, false, false, O, N, K9);
    const double s_bi = time_sgemm(reps, true, false, K9, N, O);
    const double s_bw = time_sgemm(reps, false, true, O, K9, N);
    const double flops = 2.0 * double(O) * double(N) * double(K9);  // same for all three
    auto cell = [&](double tc, double tg) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%6.1f | %6.1f | %4.0f%%", flops / tc * 1e-9,
                    flops / tg * 1e-9, 100.0 * tg / tc);
      return std::string(buf);
    };
    const double conv_total = t_f + t_bi + t_bw, gemm_total = s_f + s_bi + s_bw;
    all_conv += conv_total;
    all_gemm += gemm_total;
    char name[64];
    std::snprintf(name, sizeof name, "%lld->%lld @ %lldx%lld", static_cast<long long>(C),
                  static_cast<long long>(O), static_cast<long long>(H), static_cast<long long>(W));
    std::printf("%-22s | %-22s | %-22s | %-22s | %4.0f%%\n", name, cell(t_f, s_f).c_str(),
                cell(t_bi, s_bi).c_str(), cell(t_bw, s_bw).c_str(),
                100.0 * gemm_total / conv_total);
    std::fflush(stdout);
  }
  std::printf("\nall layers, fwd+bwd: conv %.1f ms, sgemm %.1f ms, ratio %.0f%% (target >= 70%%)\n",
              all_conv * 1e3, all_gemm * 1e3, 100.0 * all_gemm / all_conv);
  return 0;
}

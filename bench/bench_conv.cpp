// conv2d throughput of the CPU backend (float32, batch 128 by default) on
// the layers that matter: the ResNet-20 (CIFAR) 3×3 convolutions, CBAM's
// 2→1 7×7 spatial-attention conv and ViT's 4×4 stride-4 patch embedding.
//
//   bench_conv [--threads N] [--reps R] [--batch B] [--cpu-clock] [--best]
//              [--peak GFLOPS] [--sgemm] [--layer SUBSTRING]
//
// Per layer it times forward, backward-input and backward-weight (each
// 2·B·O·OH·OW·C·KH·KW flops) and prints GFLOP/s, the three together in ms,
// and their share of the FMA peak: --peak GFLOP/s per core, times the
// threads, or by default the peak measured at start-up (a loop of
// independent FMAs of the widest vectors cpu_isa() allows, thread CPU time). The last line weights
// the layers by their count in ResNet-20 (the stem needs no input gradient): the conv part of one
// training step. bench/conv_torch.py prints the same table for PyTorch.
//
// Times are medians (--best: minima) over --reps runs after one warm-up run,
// by the wall clock, or with --cpu-clock by CPU time, which a busy shared
// machine disturbs less: the thread's with one thread; with more, the
// process's (all threads), so GFLOP/s are per busy core and equal to the
// one-thread figures when the threads add no overhead (wall-clock scaling is
// then the thread count, given idle cores and balanced work). --sgemm adds raw cblas_sgemm on the
// forward's im2col GEMM shape (M = O, N = B·OH·OW, K = C·KH·KW) for scale.
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
#include "core/cpu/isa.h"
#include "core/heed_core.h"
#if HEED_X86_KERNELS
#include <immintrin.h>
#endif

using namespace heed;

namespace {

bool g_cpu_clock = false;
bool g_best = false;  // report the fastest run instead of the median
int g_threads = 1;

double now_seconds() {
  if (g_cpu_clock) {
    timespec ts;
    // One thread: its own CPU time. More: the process's (CPU-seconds of all
    // threads, spinning included), i.e. throughput per busy core.
    clock_gettime(g_threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median_seconds(int reps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch pages, scratch buffers, OpenBLAS buffers
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    fn();
    t.push_back(now_seconds() - t0);
  }
  std::sort(t.begin(), t.end());
  return g_best ? t.front() : t[t.size() / 2];
}

// Times C (M×N) = A (M×K) · B (K×N) in row-major: raw OpenBLAS on its own
// threads, as many as ours (heed holds it to one and splits GEMMs itself).
double time_sgemm(int reps, int64_t m, int64_t n, int64_t k) {
  openblas_set_num_threads(get_num_threads());
  Tensor a = rand({m * k}), b = rand({k * n}), c = zeros({m * n});
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* pc = c.data_ptr<float>();
  const double seconds = median_seconds(reps, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, pa, int(k),
                pb, int(n), 0.0f, pc, int(n));
  });
  openblas_set_num_threads(1);
  return seconds;
}

#if HEED_X86_KERNELS
// GFLOP/s of 12 independent FMA chains on zmm (ymm) registers.
#define HEED_FMA_PEAK_LOOP(V, FMA, SET1, LANES)                                       \
  V acc[12];                                                                          \
  for (int i = 0; i < 12; ++i) acc[i] = SET1(float(i));                               \
  const V b = SET1(1.0000001f), c = SET1(1e-7f);                                      \
  const int64_t n = 50'000'000;                                                       \
  const double t0 = now_seconds();                                                    \
  for (int64_t k = 0; k < n; ++k) {                                                   \
    _Pragma("GCC unroll 12") for (int i = 0; i < 12; ++i) acc[i] = FMA(acc[i], b, c); \
  }                                                                                   \
  const double t = now_seconds() - t0;                                                \
  float keep[LANES];                                                                  \
  for (int i = 1; i < 12; ++i) acc[0] = FMA(acc[0], b, acc[i]);                       \
  std::memcpy(keep, &acc[0], sizeof keep);                                            \
  if (keep[0] == 42.0f) std::printf(" ");                                             \
  return double(n) * 12 * 2 * LANES / t * 1e-9;

HEED_TARGET_AVX512 double fma_peak_avx512(){
    HEED_FMA_PEAK_LOOP(__m512, _mm512_fmadd_ps, _mm512_set1_ps, 16)} HEED_TARGET_AVX2
    double fma_peak_avx2() {
  HEED_FMA_PEAK_LOOP(__m256, _mm256_fmadd_ps, _mm256_set1_ps, 8)
}
#undef HEED_FMA_PEAK_LOOP
#endif

// One core's float32 FMA peak in GFLOP/s, measured on the thread's CPU time.
double measured_peak() {
  const bool cpu_clock = g_cpu_clock;
  const int threads = g_threads;
  g_cpu_clock = true, g_threads = 1;
  double peak = 0;
#if HEED_X86_KERNELS
  if (cpu::cpu_isa() == cpu::Isa::Avx512)
    peak = fma_peak_avx512();
  else if (cpu::cpu_isa() == cpu::Isa::Avx2)
    peak = fma_peak_avx2();
#endif
  g_cpu_clock = cpu_clock, g_threads = threads;
  return peak;
}

struct Layer {
  const char* name;
  int64_t c, o, hw, k, stride, pad;
  int resnet20_count;  // how often ResNet-20 has it (0: not in ResNet-20)
};

const char* parse_str(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

int parse_int(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return fallback;
}

double parse_double(int argc, char** argv, const char* name, double fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atof(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  bool with_sgemm = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: %s [--threads N] [--reps R] [--batch B] [--cpu-clock] [--best] [--peak GFLOPS] "
          "[--sgemm] [--layer SUBSTRING]\n",
          argv[0]);
      return 0;
    }
    if (std::strcmp(argv[i], "--cpu-clock") == 0) g_cpu_clock = true;
    if (std::strcmp(argv[i], "--sgemm") == 0) with_sgemm = true;
    if (std::strcmp(argv[i], "--best") == 0) g_best = true;
  }
  const int threads = parse_int(argc, argv, "--threads", get_num_threads());
  const int reps = std::max(1, parse_int(argc, argv, "--reps", 5));
  const int64_t B = parse_int(argc, argv, "--batch", 128);
  double peak_core = parse_double(argc, argv, "--peak", 0);
  if (peak_core <= 0) peak_core = measured_peak();
  if (peak_core <= 0) peak_core = 1;  // no SIMD: %peak is meaningless
  // Per-core figures under --cpu-clock (see above), whole-machine otherwise.
  const double peak = peak_core * (g_cpu_clock ? 1 : threads);
  if (threads < 1 || B < 1) {
    std::fprintf(stderr, "bench_conv: --threads and --batch must be positive\n");
    return 2;
  }
  g_threads = threads;
  set_num_threads(threads);
  std::printf("heed conv2d, float32, batch %lld, %d thread(s), %s of %d (%s), isa %s\n",
              static_cast<long long>(B), threads, g_best ? "best" : "median", reps,
              !g_cpu_clock   ? "wall clock"
              : threads == 1 ? "thread CPU time"
                             : "process CPU time: per busy core",
              cpu::isa_name(cpu::cpu_isa()));
  if (with_sgemm) std::printf("OpenBLAS kernels: %s\n", openblas_get_corename());
  std::printf(
      "GFLOP/s per pass; total = fwd + bwd-input + bwd-weight; peak %.1f GFLOP/s (%.1f per "
      "core)\n\n",
      peak, peak_core);
  std::printf("%-26s %8s %8s %8s %9s %6s%s\n", "layer", "fwd", "bwd-in", "bwd-w", "total ms",
              "%peak", with_sgemm ? "  sgemm(fwd shape)" : "");

  const std::vector<Layer> layers = {
      {"3->16 @32", 3, 16, 32, 3, 1, 1, 1},
      {"16->16 @32", 16, 16, 32, 3, 1, 1, 6},
      {"16->32 s2 @32", 16, 32, 32, 3, 2, 1, 1},
      {"32->32 @16", 32, 32, 16, 3, 1, 1, 5},
      {"32->64 s2 @16", 32, 64, 16, 3, 2, 1, 1},
      {"64->64 @8", 64, 64, 8, 3, 1, 1, 5},
      {"cbam 2->1 7x7 @32", 2, 1, 32, 7, 1, 3, 0},
      {"cbam 2->1 7x7 @16", 2, 1, 16, 7, 1, 3, 0},
      {"cbam 2->1 7x7 @8", 2, 1, 8, 7, 1, 3, 0},
      {"cbam mlp 16->1 1x1 @1", 16, 1, 1, 1, 1, 0, 0},
      {"cbam mlp 1->16 1x1 @1", 1, 16, 1, 1, 1, 0, 0},
      {"cbam mlp 64->4 1x1 @1", 64, 4, 1, 1, 1, 0, 0},
      {"cbam mlp 4->64 1x1 @1", 4, 64, 1, 1, 1, 0, 0},
      {"vit 3->192 4x4 s4 @32", 3, 192, 32, 4, 4, 0, 0},
  };
  Backend& be = backend(kCPU);
  double step_ms = 0, step_flops = 0;
  const char* only = parse_str(argc, argv, "--layer", "");
  for (const Layer& l : layers) {
    if (!std::strstr(l.name, only)) continue;
    const int64_t C = l.c, O = l.o, H = l.hw, K = l.k;
    const int64_t OH = (H + 2 * l.pad - K) / l.stride + 1;
    Conv2dParams p;
    p.stride_h = p.stride_w = l.stride;
    p.pad_h = p.pad_w = l.pad;
    Tensor x = rand({B, C, H, H}), w = rand({O, C, K, K});
    Tensor y = empty({B, O, OH, OH}), gy = rand({B, O, OH, OH});
    Tensor gx = empty({B, C, H, H}), gw = empty({O, C, K, K});
    const double t_f = median_seconds(reps, [&] { be.conv2d(y, x, w, Tensor(), p); });
    const double t_bi = median_seconds(reps, [&] { be.conv2d_backward_input(gx, gy, w, p); });
    const double t_bw =
        median_seconds(reps, [&] { be.conv2d_backward_weight(gw, Tensor(), gy, x, p); });
    const double flops = 2.0 * double(B * O * OH * OH) * double(C * K * K);  // per pass
    const double total = t_f + t_bi + t_bw;
    std::printf("%-26s %8.1f %8.1f %8.1f %9.2f %5.0f%%", l.name, flops / t_f * 1e-9,
                flops / t_bi * 1e-9, flops / t_bw * 1e-9, total * 1e3,
                100.0 * 3 * flops / total * 1e-9 / peak);
    if (with_sgemm)
      std::printf("  %6.1f", flops / time_sgemm(reps, O, B * OH * OH, C * K * K) * 1e-9);
    std::printf("\n");
    std::fflush(stdout);
    if (l.resnet20_count > 0) {
      const bool stem = C == 3;  // the network's input needs no gradient
      step_ms += l.resnet20_count * (stem ? t_f + t_bw : total) * 1e3;
      step_flops += l.resnet20_count * (stem ? 2 : 3) * flops;
    }
  }
  std::printf(
      "\nResNet-20 convs, one training step (fwd + bwd): %.1f ms, %.1f GFLOP/s, %.0f%% of peak\n",
      step_ms, step_flops / step_ms * 1e-6, 100.0 * step_flops / step_ms * 1e-6 / peak);
  return 0;
}

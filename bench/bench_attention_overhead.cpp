// Step-time overhead of attention modules in a ResNet-20 for CIFAR.
//
//   bench_attention_overhead [--threads N] [--reps R] [--steps S] [--modules se,cbam,eca,coord]
//
// The ResNet-20 that `heed train` and `heed bench` run (train::ResNetCifar,
// as /work/shared/bench/models.py: conv3×3(3→16) + BN + ReLU, 3 stages × 3
// basic blocks of 16/32/64 channels, option-A shortcut, global average pool,
// FC(64→10)), with its fused ops: relu(bn2(·) + shortcut) in one op when
// plain, the gate joined with the residual add when a module sits after bn2
// of every block ("standard"), built by name through attention::Placement
// with its default options.
//
// A step is zero_grad + forward + cross-entropy + backward on a batch of 128
// random 3×32×32 images (no optimizer step: the modules' cost is the point).
// After one warm-up step per model, each repetition times S steps of every
// model in turn, the order rotating between repetitions so that drift in a
// shared machine's load spreads over all of them; the table gives medians over
// repetitions and the overhead of each module over the plain network, by the
// wall clock and by the process's CPU time (all threads; with one thread it
// is the steadier figure on a busy machine), and "paired": the median over
// repetitions of each one's step time over the plain network's in the same
// repetition, which cancels drift slower than a repetition.
// bench/attention_overhead_torch.py does the same in PyTorch;
// bench/attention_overhead.sh runs both.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "attention/attention.h"
#include "heed.h"
#include "train/models/resnet_cifar.h"

using namespace heed;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Busy jiffies of the whole machine (/proc/stat) and this process's CPU
// seconds, to tell how much of the machine other processes used meanwhile.
double machine_busy_jiffies() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  return double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);  // user nice system irq softirq steal
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 5, steps = 3;
  std::string modules = "se,cbam,eca,coord";
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(next());
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::atoi(next());
    else if (!std::strcmp(argv[i], "--steps"))
      steps = std::atoi(next());
    else if (!std::strcmp(argv[i], "--modules"))
      modules = next();
    else {
      std::fprintf(stderr,
                   "usage: bench_attention_overhead [--threads N] [--reps R] [--steps S] "
                   "[--modules se,cbam,eca,coord]\n");
      return 2;
    }
  }
  set_num_threads(threads);
  manual_seed(0);

  std::vector<std::string> names{"plain"};
  for (size_t b = 0, e; b <= modules.size(); b = e + 1) {
    e = modules.find(',', b);
    if (e == std::string::npos) e = modules.size();
    if (e > b) names.push_back(modules.substr(b, e - b));
  }
  std::vector<train::ResNetCifar> models;
  std::vector<int64_t> params;
  for (const std::string& n : names) {
    models.emplace_back(train::ResNetCifarOptions{
        .attention = n == "plain" ? attention::Placement::none() : attention::Placement::parse(n)});
    int64_t p = 0;
    for (const Tensor& t : models.back()->parameters()) p += t.numel();
    params.push_back(p);
  }

  const int64_t B = 128;
  Tensor x = randn({B, 3, 32, 32});
  Tensor y = randint(0, 10, {B});
  auto step = [&](train::ResNetCifar& m) {
    m->zero_grad();
    Tensor loss = cross_entropy(m(x), y);
    loss.backward();
  };
  for (auto& m : models) step(m);  // warm-up

  std::vector<std::vector<double>> ms(models.size()), cpu_ms(models.size());
  const double busy0 = machine_busy_jiffies(), self0 = self_cpu_seconds(), wall0 = now();
  for (int r = 0; r < reps; ++r)
    for (size_t j = 0; j < models.size(); ++j) {
      size_t k = (j + size_t(r)) % models.size();
      double t0 = now(), c0 = self_cpu_seconds();
      for (int s = 0; s < steps; ++s) step(models[k]);
      ms[k].push_back(1000.0 * (now() - t0) / steps);
      cpu_ms[k].push_back(1000.0 * (self_cpu_seconds() - c0) / steps);
    }

  const double hz = double(sysconf(_SC_CLK_TCK)), ncpu = double(sysconf(_SC_NPROCESSORS_ONLN));
  const double foreign =
      std::max(0.0, (machine_busy_jiffies() - busy0 - (self_cpu_seconds() - self0) * hz) /
                        ((now() - wall0) * hz * ncpu));
  std::printf(
      "heed: ResNet-20, batch %lld, forward+backward, %d threads, %d reps x %d steps; other "
      "processes used %.0f%% of the machine\n",
      (long long)B, threads, reps, steps, 100.0 * foreign);
  std::printf("%-8s %9s %12s %9s %9s %10s %12s %10s %10s\n", "module", "params", "ms/step", "min",
              "max", "overhead", "cpu ms/step", "overhead", "paired");
  const double base = median(ms[0]), cpu_base = median(cpu_ms[0]);
  for (size_t k = 0; k < models.size(); ++k) {
    const double med = median(ms[k]);
    auto [lo, hi] = std::minmax_element(ms[k].begin(), ms[k].end());
    const double cpu = median(cpu_ms[k]);
    std::vector<double> ratios;
    for (size_t r = 0; r < ms[k].size(); ++r) ratios.push_back(ms[k][r] / ms[0][r]);
    std::printf("%-8s %9lld %12.1f %9.1f %9.1f %+9.1f%% %12.1f %+9.1f%% %+9.1f%%\n",
                names[k].c_str(), (long long)params[k], med, *lo, *hi, 100.0 * (med - base) / base,
                cpu, 100.0 * (cpu - cpu_base) / cpu_base, 100.0 * (median(ratios) - 1.0));
  }
  return 0;
}

// Step-time overhead of attention modules in a ResNet-20 for CIFAR.
//
//   bench_attention_overhead [--threads N] [--reps R] [--steps S] [--modules se,cbam,eca,coord]
//
// ResNet-20 as /work/shared/bench/models.py: conv3×3(3→16) + BN + ReLU,
// 3 stages × 3 basic blocks (16/32/64 channels, stride 2 entering stages 2
// and 3), option-A shortcut (x[:, :, ::2, ::2] zero-padded in channels),
// global average pool, FC(64→10). Each attention variant places the module
// after bn2 of every block, before the residual add ("standard"), built by
// name through attention::Placement with its default options.
//
// A step is zero_grad + forward + cross-entropy + backward on a batch of 128
// random 3×32×32 images (no optimizer step: the modules' cost is the point).
// After one warm-up step per model, each repetition times S steps of every
// model in turn, the order rotating between repetitions so that drift in a
// shared machine's load spreads over all of them; the table gives medians over
// repetitions and the overhead of each module over the plain network, by the
// wall clock and by the process's CPU time (all threads; with one thread it
// is the steadier figure on a busy machine).
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

using namespace heed;

namespace {

// A CIFAR basic block with an optional attention module after bn2.
class BlockImpl : public nn::Module {
 public:
  BlockImpl(int64_t cin, int64_t cout, int64_t stride, const attention::Placement& placement,
            int stage, int block)
      : stride_(stride), pad_(stride != 1 || cin != cout ? (cout - cin) / 2 : -1) {
    conv1 = register_module(
        "conv1", nn::Conv2d(cin, cout, 3, {.stride = stride, .padding = 1, .bias = false}));
    bn1 = register_module("bn1", nn::BatchNorm2d(cout));
    conv2 = register_module("conv2", nn::Conv2d(cout, cout, 3, {.padding = 1, .bias = false}));
    bn2 = register_module("bn2", nn::BatchNorm2d(cout));
    if (placement.applies(stage, block)) att = register_module("att", placement.make(cout));
  }
  Tensor forward(const Tensor& x) {
    Tensor o = relu(bn1(conv1(x)));
    o = bn2(conv2(o));
    if (!att.is_empty()) o = att(o);
    Tensor sc = x;
    if (pad_ >= 0) {  // option A: subsample, zero-pad the new channels
      sc = x.slice(2, 0, x.size(2), stride_).slice(3, 0, x.size(3), stride_);
      sc = pad(sc, {0, 0, 0, 0, pad_, pad_});
    }
    return relu(o + sc);
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  attention::AttentionModule att{nullptr};

 private:
  int64_t stride_, pad_;
};
HEED_MODULE(Block);

class ResNet20Impl : public nn::Module {
 public:
  explicit ResNet20Impl(const attention::Placement& placement) {
    conv = register_module("conv", nn::Conv2d(3, 16, 3, {.padding = 1, .bias = false}));
    bn = register_module("bn", nn::BatchNorm2d(16));
    layers = register_module("layers", nn::Sequential());
    int64_t cin = 16;
    const int64_t widths[] = {16, 32, 64};
    for (int stage = 1; stage <= 3; ++stage)
      for (int block = 0; block < 3; ++block) {
        const int64_t w = widths[stage - 1];
        layers->push_back(Block(cin, w, stage > 1 && block == 0 ? 2 : 1, placement, stage, block));
        cin = w;
      }
    fc = register_module("fc", nn::Linear(cin, 10));
  }
  Tensor forward(const Tensor& x) {
    Tensor h = layers(relu(bn(conv(x))));
    return fc(mean(h, {2, 3}));
  }
  nn::Conv2d conv{nullptr};
  nn::BatchNorm2d bn{nullptr};
  nn::Sequential layers{nullptr};
  nn::Linear fc{nullptr};
};
HEED_MODULE(ResNet20);

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
  std::vector<ResNet20> models;
  std::vector<int64_t> params;
  for (const std::string& n : names) {
    models.emplace_back(n == "plain" ? attention::Placement::none()
                                     : attention::Placement::parse(n));
    int64_t p = 0;
    for (const Tensor& t : models.back()->parameters()) p += t.numel();
    params.push_back(p);
  }

  const int64_t B = 128;
  Tensor x = randn({B, 3, 32, 32});
  Tensor y = randint(0, 10, {B});
  auto step = [&](ResNet20& m) {
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
  std::printf("%-8s %9s %12s %9s %9s %10s %12s %10s\n", "module", "params", "ms/step", "min", "max",
              "overhead", "cpu ms/step", "overhead");
  const double base = median(ms[0]), cpu_base = median(cpu_ms[0]);
  for (size_t k = 0; k < models.size(); ++k) {
    const double med = median(ms[k]);
    auto [lo, hi] = std::minmax_element(ms[k].begin(), ms[k].end());
    const double cpu = median(cpu_ms[k]);
    std::printf("%-8s %9lld %12.1f %9.1f %9.1f %+9.1f%% %12.1f %+9.1f%%\n", names[k].c_str(),
                (long long)params[k], med, *lo, *hi, 100.0 * (med - base) / base, cpu,
                100.0 * (cpu - cpu_base) / cpu_base);
  }
  return 0;
}

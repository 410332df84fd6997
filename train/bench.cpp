#include "train/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "core/autograd/grad_mode.h"
#include "core/autograd/profiler.h"
#include "core/generator.h"
#include "core/ops/ops.h"
#include "core/parallel.h"
#include "nn/summary.h"
#include "optim/sgd.h"
#include "train/load_monitor.h"
#include "train/models/factory.h"

namespace heed::train {

namespace {

using Clock = std::chrono::steady_clock;
namespace profiler = autograd::profiler;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);  // statistics.median
}

std::vector<int64_t> parse_chw(const std::string& input) {
  std::vector<int64_t> chw;
  for (size_t p = 0, q; p <= input.size(); p = q + 1) {
    q = input.find(',', p);
    if (q == std::string::npos) q = input.size();
    const std::string s = input.substr(p, q - p);
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    HEED_CHECK(!s.empty() && *end == '\0' && v > 0, "bench: --input must be C,H,W, got '", input,
               "'");
    chw.push_back(v);
  }
  HEED_CHECK(chw.size() == 3, "bench: --input must be C,H,W, got '", input, "'");
  return chw;
}

// Warm-up, then repetitions of `steps` calls of `step` as bench_torch.py.
BenchTiming time_reps(const std::function<void()>& step, const BenchOptions& o, int64_t steps) {
  for (int64_t i = 0; i < o.warmup; ++i) step();
  BenchTiming t;
  t.steps = steps;
  LoadMonitor mon;
  while (int64_t(t.clean.size()) < o.reps &&
         int64_t(t.clean.size() + t.dirty.size()) < 3 * o.reps) {
    mon.start();
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double s = ms_since(t0) / 1000.0;
    const double ips = double(o.batch_size * steps) / s;
    (mon.stop(s) <= LoadMonitor::kCleanMax ? t.clean : t.dirty).push_back(ips);
  }
  std::vector<double> v = t.clean;
  if (v.size() < 3) v.insert(v.end(), t.dirty.begin(), t.dirty.end());  // too noisy: all count
  t.median = median(v);
  t.min = *std::min_element(v.begin(), v.end());
  t.max = *std::max_element(v.begin(), v.end());
  return t;
}

// `steps` training steps under the profiler, with the step's parts the
// profiler cannot see (optimizer, zero_grad, the engine's own work around
// the backward nodes) added as "other" rows so the rows sum to the step.
std::string profile_training(nn::AnyModule& model, optim::SGD& opt, const Tensor& x,
                             const Tensor& y, int64_t steps) {
  model->train();
  profiler::set_enabled(true);
  (void)profiler::take();  // drop what HEED_PROFILE collected before
  double zero_ms = 0, fwd_ms = 0, bwd_ms = 0, opt_ms = 0;
  for (int64_t i = 0; i < steps; ++i) {
    auto t = Clock::now();
    opt.zero_grad();
    zero_ms += ms_since(t);
    t = Clock::now();
    profiler::mark();
    Tensor loss = cross_entropy(model(x), y);
    fwd_ms += ms_since(t);
    t = Clock::now();
    loss.backward();
    bwd_ms += ms_since(t);
    t = Clock::now();
    opt.step();
    opt_ms += ms_since(t);
  }
  profiler::set_enabled(false);
  profiler::Profile p = profiler::take();
  double fwd_ops = 0, bwd_nodes = 0;
  for (const auto& e : p.entries)
    (e.phase == profiler::Phase::Forward ? fwd_ops : bwd_nodes) += e.ms;
  const int64_t n = steps;
  auto other = [&](const char* name, double ms) {
    p.entries.push_back({name, profiler::Phase::Other, n, std::max(0.0, ms)});
  };
  other("optimizer.step", opt_ms);
  other("optimizer.zero_grad", zero_ms);
  other("autograd engine (outside nodes)", bwd_ms - bwd_nodes);
  other("forward (after the last op)", fwd_ms - fwd_ops);
  std::stable_sort(p.entries.begin(), p.entries.end(),
                   [](const auto& a, const auto& b) { return a.ms > b.ms; });
  const double step_ms = (zero_ms + fwd_ms + bwd_ms + opt_ms) / double(n);
  char head[160];
  std::snprintf(head, sizeof head,
                "profile of %lld training steps: %.1f ms/step (fwd %.1f, bwd %.1f, optimizer %.1f, "
                "zero_grad %.2f)\n",
                static_cast<long long>(n), step_ms, fwd_ms / double(n), bwd_ms / double(n),
                opt_ms / double(n), zero_ms / double(n));
  return head + p.table(n, step_ms);
}

}  // namespace

BenchResult bench_model(const BenchOptions& o) {
  HEED_CHECK(o.batch_size >= 1 && o.steps >= 0 && o.reps >= 1 && o.warmup >= 0,
             "bench: --batch-size and --reps must be >= 1, --steps and --warmup >= 0");
  HEED_CHECK(o.mode == "train" || o.mode == "infer" || o.mode == "both",
             "bench: --mode must be train, infer or both, got '", o.mode, "'");
  const std::vector<int64_t> chw = parse_chw(o.input);
  manual_seed(0);
  nn::AnyModule model = create_model({.name = o.model,
                                      .in_channels = chw[0],
                                      .num_classes = 10,
                                      .image_size = chw[1],
                                      .attention = o.attention});
  BenchResult r;
  r.options = o;
  r.threads = get_num_threads();
  nn::Summary s = nn::summary(model, {1, chw[0], chw[1], chw[2]});
  r.params = s.total_params;
  r.macs = s.total_macs;
  const bool profile = o.profile || profiler::requested_by_env();
  profiler::set_enabled(false);  // HEED_PROFILE must not slow the timed steps
  Tensor x = randn({o.batch_size, chw[0], chw[1], chw[2]});
  Tensor y = randint(0, 10, {o.batch_size});
  optim::SGD opt(model->named_parameters(),
                 {.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});
  if (o.mode != "infer") {
    model->train();
    r.train = time_reps(
        [&] {
          opt.zero_grad();
          Tensor loss = cross_entropy(model(x), y);
          loss.backward();
          opt.step();
        },
        o, o.steps > 0 ? o.steps : 5);
  }
  if (o.mode != "train") {
    model->eval();
    NoGradGuard no_grad;
    r.infer = time_reps([&] { (void)model(x); }, o, o.steps > 0 ? o.steps : 10);
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  r.peak_rss_mib = double(u.ru_maxrss) / 1024.0;  // KiB on Linux
  if (profile) r.profile = profile_training(model, opt, x, y, o.steps > 0 ? o.steps : 5);
  return r;
}

std::string BenchResult::str() const {
  char b[512];
  std::snprintf(b, sizeof b,
                "%s + %s, input %s, batch %lld, %d threads: %lld params, %.2f M MACs/img\n",
                options.model.c_str(), options.attention.c_str(), options.input.c_str(),
                static_cast<long long>(options.batch_size), threads, static_cast<long long>(params),
                double(macs) / 1e6);
  std::string out = b;
  for (const auto& [name, t] : {std::pair{"train", &train}, std::pair{"infer", &infer}}) {
    if (!t->ran()) continue;
    std::snprintf(b, sizeof b,
                  "  %s: %8.1f img/s median (min %.1f, max %.1f)  %8.1f ms/step   "
                  "(%zu clean + %zu dirty reps x %lld steps, warm-up %lld)\n",
                  name, t->median, t->min, t->max, 1000.0 * double(options.batch_size) / t->median,
                  t->clean.size(), t->dirty.size(), static_cast<long long>(t->steps),
                  static_cast<long long>(options.warmup));
    out += b;
  }
  std::snprintf(b, sizeof b, "  peak RSS %.0f MiB", peak_rss_mib);
  out += b;
  if (!profile.empty()) out += "\n" + profile;
  return out;
}

std::string BenchResult::lines() const {
  std::string out;
  char b[512];
  for (const auto& [name, t] : {std::pair{"train", &train}, std::pair{"infer", &infer}}) {
    if (!t->ran()) continue;
    std::snprintf(b, sizeof b,
                  "heed model=%s attention=%s mode=%s threads=%d batch=%lld params=%lld "
                  "median=%.2f min=%.2f max=%.2f ms_per_step=%.3f peak_rss_mib=%.1f clean=%zu "
                  "dirty=%zu steps=%lld\n",
                  options.model.c_str(), options.attention.c_str(), name, threads,
                  static_cast<long long>(options.batch_size), static_cast<long long>(params),
                  t->median, t->min, t->max, 1000.0 * double(options.batch_size) / t->median,
                  peak_rss_mib, t->clean.size(), t->dirty.size(), static_cast<long long>(t->steps));
    out += b;
  }
  if (!profile.empty()) out += profile;
  return out;
}

}  // namespace heed::train

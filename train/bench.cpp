#include "train/bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/autograd/grad_mode.h"
#include "core/generator.h"
#include "core/ops/ops.h"
#include "core/parallel.h"
#include "nn/summary.h"
#include "optim/sgd.h"
#include "train/models/factory.h"

namespace heed::train {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

BenchResult bench_model(const BenchOptions& o) {
  HEED_CHECK(o.batch_size >= 1 && o.steps >= 1, "bench: --batch-size and --steps must be >= 1");
  std::vector<int64_t> chw;
  for (size_t p = 0, q; p <= o.input.size(); p = q + 1) {
    q = o.input.find(',', p);
    if (q == std::string::npos) q = o.input.size();
    const std::string s = o.input.substr(p, q - p);
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    HEED_CHECK(!s.empty() && *end == '\0' && v > 0, "bench: --input must be C,H,W, got '", o.input,
               "'");
    chw.push_back(v);
  }
  HEED_CHECK(chw.size() == 3, "bench: --input must be C,H,W, got '", o.input, "'");
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
  Tensor x = randn({o.batch_size, chw[0], chw[1], chw[2]});
  Tensor y = randint(0, 10, {o.batch_size});
  optim::SGD opt(model->named_parameters(), {.lr = 0.01, .momentum = 0.9});
  using clock = std::chrono::steady_clock;
  std::vector<double> train_ms, infer_ms;
  model->train();
  for (int64_t i = 0; i < o.steps + 2; ++i) {
    auto t0 = clock::now();
    Tensor loss = cross_entropy(model(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (i >= 2) train_ms.push_back(ms);
  }
  model->eval();
  {
    NoGradGuard no_grad;
    for (int64_t i = 0; i < o.steps + 2; ++i) {
      auto t0 = clock::now();
      (void)model(x);
      double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
      if (i >= 2) infer_ms.push_back(ms);
    }
  }
  r.train_ms_per_step = median(train_ms);
  r.infer_ms_per_step = median(infer_ms);
  r.train_images_per_second = 1000.0 * double(o.batch_size) / r.train_ms_per_step;
  r.infer_images_per_second = 1000.0 * double(o.batch_size) / r.infer_ms_per_step;
  return r;
}

std::string BenchResult::str() const {
  char b[512];
  std::snprintf(b, sizeof b,
                "%s + %s, input %s, batch %lld, %d threads: %lld params, %.2f M MACs/img\n"
                "  train: %8.1f ms/step  %8.1f img/s   (median of %lld steps)\n"
                "  infer: %8.1f ms/step  %8.1f img/s",
                options.model.c_str(), options.attention.c_str(), options.input.c_str(),
                static_cast<long long>(options.batch_size), threads, static_cast<long long>(params),
                double(macs) / 1e6, train_ms_per_step, train_images_per_second,
                static_cast<long long>(options.steps), infer_ms_per_step, infer_images_per_second);
  return b;
}

}  // namespace heed::train

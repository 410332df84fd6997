// `heed bench`: throughput of one model's training step and of inference on
// random data, measured as bench/torch/bench_torch.py measures PyTorch, so
// the two can be compared row by row (bench/compare_torch.sh):
//
//   train: model.train(), batch of random inputs and labels (10 classes);
//          step = zero_grad (grads set to none) + forward + cross-entropy +
//          backward + SGD(lr 0.1, momentum 0.9, weight decay 5e-4, Nesterov).
//   infer: model.eval(), NoGradGuard, forward only.
//   `warmup` steps, then repetitions of `steps` steps (img/s each) until
//   `reps` clean ones (no other process used > 5 % of the machine, see
//   load_monitor.h), at most 3 × reps; with fewer than 3 clean, all count.
//
// With `profile` (or HEED_PROFILE=1) it then runs `steps` more training
// steps under the per-op profiler (core/autograd/profiler.h).
#pragma once

#include <string>
#include <vector>

namespace heed::train {

struct BenchOptions {
  std::string model = "resnet20";
  std::string attention = "none";
  std::string input = "3,32,32";
  std::string mode = "both";  // train, infer or both
  int64_t batch_size = 128;
  int64_t warmup = 3;
  int64_t reps = 7;
  int64_t steps = 0;  // per repetition; 0: 5 for train, 10 for infer (as bench_torch.py)
  int64_t threads = 0;
  bool profile = false;
};

// The repetitions of one mode, in images per second.
struct BenchTiming {
  int64_t steps = 0;                 // per repetition
  std::vector<double> clean, dirty;  // img/s of each repetition
  // Over the clean repetitions, or all of them when fewer than 3 are clean.
  double median = 0, min = 0, max = 0;
  bool ran() const { return steps > 0; }
};

struct BenchResult {
  BenchOptions options;
  int threads = 0;
  int64_t params = 0, macs = 0;  // per image
  BenchTiming train, infer;
  double peak_rss_mib = 0;  // of the whole process (getrusage ru_maxrss)
  std::string profile;      // the profiler's table, when asked for
  std::string str() const;
  // One line of key=value pairs per mode run, for scripts.
  std::string lines() const;
};

BenchResult bench_model(const BenchOptions& options);

}  // namespace heed::train

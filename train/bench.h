// `heed bench`: throughput of one model's training step (forward, backward,
// SGD update) and of inference, on random data, timed after warm-up.
#pragma once

#include <string>

namespace heed::train {

struct BenchOptions {
  std::string model = "resnet20";
  std::string attention = "none";
  std::string input = "3,32,32";
  int64_t batch_size = 128;
  int64_t steps = 10;
  int64_t threads = 0;
};

struct BenchResult {
  BenchOptions options;
  int threads = 0;
  int64_t params = 0, macs = 0;  // per image
  double train_ms_per_step = 0, train_images_per_second = 0;
  double infer_ms_per_step = 0, infer_images_per_second = 0;
  std::string str() const;
};

BenchResult bench_model(const BenchOptions& options);

}  // namespace heed::train

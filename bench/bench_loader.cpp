// DataLoader throughput (images/s): CIFAR-style 3x32x32 synthetic data held
// in memory and Fashion-MNIST from Debian's files, batch 128, shuffled, with
// the usual augmentation (crop with padding + flip + ToFloat + Normalize),
// for 0, 1 and 2 worker threads. The loop body only touches each batch, so
// this is the loader's own speed (what a training step can be fed at most).
//
//   bench_loader [epochs=2] [threads...]   e.g. bench_loader 3 0 1 2 4
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/generator.h"
#include "data/data.h"

using namespace heed;
using namespace heed::data;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs `epochs` epochs; returns images per second.
double measure(const Dataset& ds, const transforms::Compose& t, int workers, int epochs) {
  DataLoader loader(ds, {.batch_size = 128, .shuffle = true, .num_workers = workers, .seed = 0}, t);
  int64_t images = 0;
  double checksum = 0;
  const auto t0 = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    for (auto& [x, y] : loader) {
      images += y.size(0);
      checksum += x.data_ptr<float>()[0];  // keep the batch observable
    }
  }
  const double s = seconds_since(t0);
  if (checksum == 1234.5) std::printf(" ");
  return double(images) / s;
}

void report(const char* name, const Dataset& ds, const transforms::Compose& t,
            const std::vector<int>& threads, int epochs) {
  std::printf("%s (%lld images, %s)\n", name, (long long)ds.size(), t.repr().c_str());
  for (int w : threads)
    std::printf("  num_workers=%d: %10.0f images/s\n", w, measure(ds, t, w, epochs));
}

}  // namespace

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 2;
  std::vector<int> threads;
  for (int i = 2; i < argc; ++i) threads.push_back(std::atoi(argv[i]));
  if (threads.empty()) threads = {0, 1, 2};
  std::printf("bench_loader: batch 128, shuffle, %d epochs per setting\n", epochs);

  // CIFAR-style synthetic: 50,000 random 3x32x32 byte images.
  const int64_t n = 50000;
  std::vector<uint8_t> px(size_t(n * 3 * 32 * 32));
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(random_bits(1, i));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[size_t(i)] = i % 10;
  InMemoryDataset cifar(std::move(px), {3, 32, 32}, std::move(labels), {}, "cifar10");
  report("CIFAR-style synthetic", cifar, transforms::standard(cifar, true), threads, epochs);

  if (std::filesystem::exists(std::filesystem::path(kFashionMNISTDefaultRoot) /
                              "train-images-idx3-ubyte.gz")) {
    const auto t0 = Clock::now();
    FashionMNIST fm(true);
    std::printf("Fashion-MNIST: read and checked the gz files in %.2f s\n", seconds_since(t0));
    report("Fashion-MNIST train", fm, transforms::standard(fm, true), threads, epochs);
  } else {
    std::printf("Fashion-MNIST not installed at %s: skipped\n", kFashionMNISTDefaultRoot);
  }
  return 0;
}

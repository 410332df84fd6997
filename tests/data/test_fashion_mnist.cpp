// The real Fashion-MNIST files from Debian's dataset-fashion-mnist package,
// when installed (skipped otherwise).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "data/data.h"

using namespace heed;
using namespace heed::data;

namespace {
bool have_fashion_mnist() {
  return std::filesystem::exists(std::filesystem::path(kFashionMNISTDefaultRoot) /
                                 "train-images-idx3-ubyte.gz");
}
}  // namespace

TEST_CASE("Fashion-MNIST from Debian's files: sizes, labels, stats", "[data][mnist][fashion]") {
  if (!have_fashion_mnist()) {
    WARN("Fashion-MNIST is not installed at " << kFashionMNISTDefaultRoot << "; skipped");
    return;
  }
  FashionMNIST train(true), test(false);
  REQUIRE(train.size() == 60000);
  REQUIRE(test.size() == 10000);
  CHECK(train.name() == "fashion-mnist");
  CHECK(train.classes()[9] == "Ankle boot");
  CHECK(train.image_shape() == Shape{1, 28, 28});

  std::vector<int64_t> hist_train(10), hist_test(10);
  for (int64_t i = 0; i < train.size(); ++i) hist_train[size_t(train.label(i))]++;
  for (int64_t i = 0; i < test.size(); ++i) hist_test[size_t(test.label(i))]++;
  CHECK(hist_train == std::vector<int64_t>(10, 6000));
  CHECK(hist_test == std::vector<int64_t>(10, 1000));

  // The published constants in transforms::kFashionMNIST are this training
  // set's pixel mean and std (pixels / 255).
  double sum = 0, sum2 = 0;
  const int64_t per = 28 * 28;
  for (int64_t i = 0; i < train.size(); ++i) {
    const uint8_t* p = train.pixels(i);
    for (int64_t j = 0; j < per; ++j) {
      const double v = p[j] / 255.0;
      sum += v;
      sum2 += v * v;
    }
  }
  const double n = double(train.size() * per);
  const double mean = sum / n, stdev = std::sqrt(sum2 / n - mean * mean);
  CHECK(mean == Approx(transforms::kFashionMNIST.mean[0]).margin(1e-3));
  CHECK(stdev == Approx(transforms::kFashionMNIST.std[0]).margin(1e-3));
}

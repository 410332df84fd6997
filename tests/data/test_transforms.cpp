// Transforms: exact pixel results on small known images.
#include <catch2/catch.hpp>

#include <set>

#include "data/data.h"

using namespace heed;
using namespace heed::data;
using namespace heed::data::transforms;
using Catch::Contains;

namespace {

// A (C, H, W) image with the given values.
Image make(int64_t c, int64_t h, int64_t w, std::vector<float> values) {
  Image img;
  img.reshape(c, h, w);
  REQUIRE(int64_t(values.size()) == img.numel());
  img.data = std::move(values);
  return img;
}

// 1 x 2 x 3:  1 2 3 / 4 5 6
Image small() {
  return make(1, 2, 3, {1, 2, 3, 4, 5, 6});
}

std::vector<float> apply(const Transform& t, Image img, uint64_t seed = 0) {
  Generator g(seed);
  t.apply(img, g);
  return img.data;
}

}  // namespace

TEST_CASE("RandomCrop pads with constant, edge and reflect", "[data][transforms]") {
  // Crop size = padded size (2+2 x 3+2): one position, so the output is the
  // whole padded image. NumPy: np.pad([[1,2,3],[4,5,6]], 1, mode).
  Image img = small();
  Generator g(0);
  RandomCrop(ImageSize{4, 5}, 1, PadMode::Constant, 9.0f).apply(img, g);
  CHECK(img.shape() == Shape{1, 4, 5});
  CHECK(img.data == std::vector<float>{9, 9, 9, 9, 9,  //
                                       9, 1, 2, 3, 9,  //
                                       9, 4, 5, 6, 9,  //
                                       9, 9, 9, 9, 9});
  CHECK(apply(RandomCrop(ImageSize{4, 5}, 1, PadMode::Edge), small()) ==
        std::vector<float>{1, 1, 2, 3, 3,  //
                           1, 1, 2, 3, 3,  //
                           4, 4, 5, 6, 6,  //
                           4, 4, 5, 6, 6});
  // reflect: row -1 is row 1, row 2 is row 0; column -1 is 1, column 3 is 1.
  CHECK(apply(RandomCrop(ImageSize{4, 5}, 1, PadMode::Reflect), small()) ==
        std::vector<float>{5, 4, 5, 6, 5,  //
                           2, 1, 2, 3, 2,  //
                           5, 4, 5, 6, 5,  //
                           2, 1, 2, 3, 2});
}

TEST_CASE("RandomCrop takes the window its generator draws", "[data][transforms]") {
  // The reflect-padded image above; a 2x2 crop starts at top = next_int(3),
  // left = next_int(4), drawn in that order.
  const std::vector<float> padded = {5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2};
  std::set<std::pair<int64_t, int64_t>> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Generator ref(seed);
    const int64_t top = ref.next_int(3), left = ref.next_int(4);
    seen.insert({top, left});
    std::vector<float> want;
    for (int64_t y = top; y < top + 2; ++y)
      for (int64_t x = left; x < left + 2; ++x) want.push_back(padded[size_t(y * 5 + x)]);
    CHECK(apply(RandomCrop(2, 1, PadMode::Reflect), small(), seed) == want);
  }
  CHECK(seen.size() == 12);  // every position is reachable
  // Multi-channel: each channel gets the same window.
  Image two = make(2, 2, 3, {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60});
  Generator g(7), ref(7);
  const int64_t top = ref.next_int(2), left = ref.next_int(3);
  RandomCrop(ImageSize{1, 1}).apply(two, g);
  CHECK(two.data ==
        std::vector<float>{float(1 + top * 3 + left), float(10 * (1 + top * 3 + left))});
}

TEST_CASE("RandomCrop reports sizes it cannot crop", "[data][transforms][errors]") {
  CHECK_THROWS_WITH(apply(RandomCrop(5, 1), small()),
                    Contains("RandomCrop: crop 5x5 is larger than the padded image 4x5 (image "
                             "2x3, padding 1)"));
  CHECK_THROWS_WITH(apply(RandomCrop(2, 2, PadMode::Reflect), small()),
                    Contains("reflect padding 2 needs an image larger than the padding, got 2x3"));
  CHECK_THROWS_WITH(RandomCrop(0), Contains("RandomCrop: size must be positive"));
  CHECK_THROWS_WITH(RandomCrop(3, -1), Contains("padding must be >= 0, got -1"));
}

TEST_CASE("RandomHorizontalFlip mirrors rows with probability p", "[data][transforms]") {
  CHECK(apply(RandomHorizontalFlip(1.0), small()) == std::vector<float>{3, 2, 1, 6, 5, 4});
  CHECK(apply(RandomHorizontalFlip(0.0), small()) == std::vector<float>{1, 2, 3, 4, 5, 6});
  // p = 0.5: flipped exactly when the first draw is below 0.5.
  int flips = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Generator ref(seed);
    const bool flip = ref.next_double() < 0.5;
    flips += flip;
    CHECK(apply(RandomHorizontalFlip(), small(), seed) ==
          (flip ? std::vector<float>{3, 2, 1, 6, 5, 4} : std::vector<float>{1, 2, 3, 4, 5, 6}));
  }
  CHECK(flips > 150);
  CHECK(flips < 250);
  CHECK_THROWS_WITH(RandomHorizontalFlip(1.5), Contains("p must be in [0, 1], got 1.5"));
}

TEST_CASE("ToFloat and Normalize", "[data][transforms]") {
  Image img = make(2, 1, 3, {0, 51, 255, 102, 204, 255});
  Generator g(0);
  ToFloat().apply(img, g);
  // 51 / 255 = 0.2, 102 / 255 = 0.4, 204 / 255 = 0.8 (in float32).
  CHECK(img.data == std::vector<float>{0, 51 / 255.0f, 1, 102 / 255.0f, 204 / 255.0f, 1});
  Normalize({0.5, 0.25}, {0.25, 0.5}).apply(img, g);
  // channel 0: (x - 0.5) / 0.25 -> -2, -1.2, 2; channel 1: (x - 0.25) / 0.5 -> 0.3, 1.1, 1.5
  const std::vector<float> want = {-2, -1.2f, 2, 0.3f, 1.1f, 1.5f};
  for (size_t i = 0; i < want.size(); ++i) CHECK(img.data[i] == Approx(want[i]).epsilon(1e-6));
  CHECK(img.data[1] == (51 / 255.0f - 0.5f) / 0.25f);  // float32 arithmetic, as torchvision

  // One value applies to every channel.
  CHECK(apply(Normalize({1}, {2}), make(2, 1, 1, {3, 5})) == std::vector<float>{1, 2});
  CHECK_THROWS_WITH(apply(Normalize({0, 0, 0}, {1, 1, 1}), small()),
                    Contains("Normalize: the image has 1 channels but mean/std have 3 values"));
  CHECK_THROWS_WITH(Normalize({0}, {0}), Contains("Normalize: std[0] must be positive"));
  CHECK_THROWS_WITH(Normalize({0, 1}, {1}), Contains("mean and std need the same"));
}

TEST_CASE("Cutout zeroes the square its generator draws", "[data][transforms]") {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Image img = make(2, 4, 4, std::vector<float>(32, 1));
    Generator g(seed), ref(seed);
    Cutout(2, -1.0f).apply(img, g);
    const int64_t cy = ref.next_int(4), cx = ref.next_int(4);
    // Rows [cy-1, cy+1) and columns [cx-1, cx+1), clipped to [0, 4).
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const bool in = y >= cy - 1 && y < cy + 1 && x >= cx - 1 && x < cx + 1;
          CHECK(img.data[size_t((c * 4 + y) * 4 + x)] == (in ? -1.0f : 1.0f));
        }
  }
}

TEST_CASE("RandomErasing erases the rectangle torchvision's algorithm draws",
          "[data][transforms]") {
  // scale and ratio fixed: area 16 * 0.25 = 4, aspect 1 -> a 2x2 rectangle at
  // i = next_int(3), j = next_int(3) after the p, scale and ratio draws.
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Image img = make(1, 4, 4, std::vector<float>(16, 1));
    Generator g(seed), ref(seed);
    RandomErasing(1.0, {0.25, 0.25}, {1, 1}, 0.0f).apply(img, g);
    ref.next_double();
    ref.next_double();
    ref.next_double();
    const int64_t i = ref.next_int(3), j = ref.next_int(3);
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 4; ++x)
        CHECK(img.data[size_t(y * 4 + x)] ==
              ((y >= i && y < i + 2 && x >= j && x < j + 2) ? 0.0f : 1.0f));
  }
  // p = 0 never erases; a rectangle that can never fit leaves the image alone.
  CHECK(apply(RandomErasing(0.0), small()) == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(apply(RandomErasing(1.0, {1, 1}, {1, 1}), small()) == std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("Compose applies steps in order; tensors in, tensors out", "[data][transforms]") {
  Compose t{RandomHorizontalFlip(1.0), ToFloat(), Normalize({0}, {1.0 / 255})};
  CHECK(t.size() == 3);
  CHECK(apply(t, small()) == std::vector<float>{3, 2, 1, 6, 5, 4});
  CHECK(t.repr() ==
        "Compose(RandomHorizontalFlip(p=1), ToFloat(), Normalize(mean=[0], std=[0.00392157]))");
  Tensor x = tensor({1, 2, 3, 4, 5, 6}).reshape({1, 2, 3});
  Tensor out = Compose{RandomHorizontalFlip(1.0)}(x);
  CHECK(out.shape() == Shape{1, 2, 3});
  CHECK(out.to_vector<float>() == std::vector<float>{3, 2, 1, 6, 5, 4});
  // Nested pipelines, shared steps, and Lambda.
  Compose outer{t, Lambda([](Image& img, Generator&) { img.data[0] = 42; }, "Set")};
  outer.then(std::make_shared<ToFloat>());
  CHECK(apply(outer, small())[0] == 42 / 255.0f);
  CHECK(Compose().repr() == "Compose()");
  CHECK_THROWS_WITH(Compose{}(tensor({1, 2})), Contains("expected a (C, H, W) tensor"));
}

TEST_CASE("standard() picks the dataset's constants and augmentation", "[data][transforms]") {
  InMemoryDataset cifar(std::vector<uint8_t>(3 * 32 * 32), {3, 32, 32}, {0}, {}, "cifar10");
  CHECK(standard(cifar, true).repr() ==
        "Compose(RandomCrop(size=32x32, padding=4, mode=constant, fill=0), "
        "RandomHorizontalFlip(p=0.5), ToFloat(), Normalize(mean=[0.4914, 0.4822, 0.4465], "
        "std=[0.247, 0.2435, 0.2616]))");
  InMemoryDataset mnist(std::vector<uint8_t>(28 * 28), {1, 28, 28}, {0}, {}, "mnist");
  CHECK(standard(mnist, true).repr() ==
        "Compose(RandomCrop(size=28x28, padding=2, mode=constant, fill=0), ToFloat(), "
        "Normalize(mean=[0.1307], std=[0.3081]))");
  InMemoryDataset fm(std::vector<uint8_t>(28 * 28), {1, 28, 28}, {0}, {}, "fashion-mnist");
  CHECK(standard(fm, false).repr() == "Compose(ToFloat(), Normalize(mean=[0.286], std=[0.353]))");
  CHECK(standard(fm, true).size() == 4);
  InMemoryDataset other(std::vector<uint8_t>(4), {1, 2, 2}, {0});
  CHECK(standard(other, false).repr() == "Compose(ToFloat())");
  CHECK(standard_stats("cifar100") == &kCIFAR100);
  CHECK(standard_stats("imagenet") == nullptr);
}

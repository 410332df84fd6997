// DataLoader: batches are the same for any number of workers, every sample
// is seen once per epoch, drop_last, epochs, errors and clean shutdown.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "data/data.h"

using namespace heed;
using namespace heed::data;
using namespace heed::data::transforms;
using Catch::Contains;

namespace {

// n images of (3, 8, 8) with pseudo-random bytes; label i (so a batch's
// labels tell which samples it holds).
InMemoryDataset numbered_dataset(int64_t n) {
  std::vector<uint8_t> px(size_t(n * 3 * 8 * 8));
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(random_bits(99, i));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  std::iota(labels.begin(), labels.end(), int64_t(0));
  return InMemoryDataset(std::move(px), {3, 8, 8}, std::move(labels));
}

Compose augment() {
  return Compose{RandomCrop(8, 2, PadMode::Reflect),
                 RandomHorizontalFlip(),
                 ToFloat(),
                 Normalize({0.5, 0.4, 0.3}, {0.2, 0.25, 0.3}),
                 Cutout(3),
                 RandomErasing(0.5)};
}

struct Epoch {
  std::vector<std::vector<float>> x;
  std::vector<std::vector<int64_t>> y;
  std::vector<Shape> shapes;
};

Epoch run_epoch(DataLoader& loader) {
  Epoch e;
  for (auto& [x, y] : loader) {
    REQUIRE(x.is_contiguous());
    REQUIRE(x.dtype() == kFloat32);
    REQUIRE(y.dtype() == kInt64);
    e.shapes.push_back(x.shape());
    const float* p = x.data_ptr<float>();
    e.x.emplace_back(p, p + x.numel());
    e.y.push_back(y.to_vector<int64_t>());
  }
  return e;
}

bool bit_identical(const Epoch& a, const Epoch& b) {
  if (a.y != b.y || a.shapes != b.shapes || a.x.size() != b.x.size()) return false;
  for (size_t i = 0; i < a.x.size(); ++i)
    if (a.x[i].size() != b.x[i].size() ||
        std::memcmp(a.x[i].data(), b.x[i].data(), a.x[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

// A dataset that only implements get() (the default load() copies) and
// throws for one index.
class Flaky : public Dataset {
 public:
  explicit Flaky(int64_t bad) : bad_(bad) {}
  int64_t size() const override { return 40; }
  Example get(int64_t i) const override {
    HEED_CHECK(i != bad_, "Flaky: sample ", i, " is broken");
    return {full({1, 2, 2}, double(i)), i % 3};
  }

 private:
  int64_t bad_;
};

}  // namespace

TEST_CASE("DataLoader batches are bit-identical for 0, 1, 2 and 3 workers", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(37);
  std::vector<Epoch> epoch0, epoch1;
  for (int workers : {0, 1, 2, 3}) {
    DataLoader loader(ds, {.batch_size = 5, .shuffle = true, .num_workers = workers, .seed = 123},
                      augment());
    epoch0.push_back(run_epoch(loader));
    epoch1.push_back(run_epoch(loader));
    CHECK(loader.epoch() == 1);
  }
  for (size_t w = 1; w < epoch0.size(); ++w) {
    CHECK(bit_identical(epoch0[0], epoch0[w]));
    CHECK(bit_identical(epoch1[0], epoch1[w]));
  }
  // Epochs differ in order and augmentation.
  CHECK(epoch0[0].y != epoch1[0].y);
  CHECK_FALSE(bit_identical(epoch0[0], epoch1[0]));
  // A different seed gives different batches.
  DataLoader other(ds, {.batch_size = 5, .shuffle = true, .seed = 124}, augment());
  CHECK_FALSE(bit_identical(run_epoch(other), epoch0[0]));
}

TEST_CASE("DataLoader batch = transform of each sample with its own generator", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(11);
  Compose t = augment();
  DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .num_workers = 2, .seed = 5}, t);
  loader.set_epoch(3);
  int64_t b = 0;
  for (auto& [x, y] : loader) {
    CHECK(loader.epoch() == 3);
    const std::vector<int64_t> idx = y.to_vector<int64_t>();
    for (size_t k = 0; k < idx.size(); ++k) {
      Generator g = DataLoader::sample_generator(5, 3, idx[k]);
      Tensor want = t(ds.get(idx[k]).image, g);
      CHECK(x.select(0, int64_t(k)).to_vector<float>() == want.to_vector<float>());
    }
    Batch same = loader.batch(3, b++);
    CHECK(same.y.to_vector<int64_t>() == idx);
    CHECK(same.x.to_vector<float>() == x.to_vector<float>());
  }
  CHECK(b == 3);
}

TEST_CASE("DataLoader shows every sample exactly once per epoch", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(37);
  for (bool shuffle : {false, true}) {
    for (int workers : {0, 2}) {
      DataLoader loader(ds, {.batch_size = 8, .shuffle = shuffle, .num_workers = workers});
      CHECK(loader.size() == 5);  // ceil(37 / 8)
      for (int epoch = 0; epoch < 3; ++epoch) {
        std::vector<int64_t> all;
        std::vector<int64_t> sizes;
        for (auto& [x, y] : loader) {
          CHECK(x.shape() == Shape{y.size(0), 3, 8, 8});
          sizes.push_back(y.size(0));
          for (int64_t v : y.to_vector<int64_t>()) all.push_back(v);
        }
        CHECK(sizes == std::vector<int64_t>{8, 8, 8, 8, 5});
        if (!shuffle) {
          CHECK(all == loader.order(0));
        }
        CHECK(all == loader.order(epoch));
        std::sort(all.begin(), all.end());
        std::vector<int64_t> want(37);
        std::iota(want.begin(), want.end(), 0);
        CHECK(all == want);
      }
    }
  }
}

TEST_CASE("DataLoader drop_last drops the short batch", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(37);
  DataLoader keep(ds, {.batch_size = 5});
  DataLoader drop(ds, {.batch_size = 5, .drop_last = true, .num_workers = 2});
  CHECK(keep.size() == 8);
  CHECK(drop.size() == 7);
  int64_t n = 0, batches = 0;
  for (auto& [x, y] : drop) {
    CHECK(x.size(0) == 5);
    n += y.size(0);
    ++batches;
  }
  CHECK(batches == 7);
  CHECK(n == 35);
  // Exact multiple: nothing dropped. Fewer samples than a batch: no batch.
  InMemoryDataset ten = numbered_dataset(10);
  CHECK(DataLoader(ten, {.batch_size = 5, .drop_last = true}).size() == 2);
  DataLoader none(ten, {.batch_size = 11, .drop_last = true, .num_workers = 2});
  CHECK(none.size() == 0);
  int count = 0;
  for (auto& b : none) {
    (void)b;
    ++count;
  }
  CHECK(count == 0);
  CHECK(DataLoader(ten, {.batch_size = 11}).size() == 1);
}

TEST_CASE("DataLoader counts epochs and set_epoch replays one", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(9);
  DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .num_workers = 1, .seed = 1}, augment());
  CHECK(loader.epoch() == -1);
  Epoch e0 = run_epoch(loader);
  Epoch e1 = run_epoch(loader);
  CHECK(loader.epoch() == 1);
  loader.set_epoch(0);
  CHECK(bit_identical(run_epoch(loader), e0));
  CHECK(bit_identical(run_epoch(loader), e1));
  CHECK(loader.epoch() == 1);
}

TEST_CASE("DataLoader shuts down cleanly mid-epoch", "[data][loader]") {
  InMemoryDataset ds = numbered_dataset(200);
  const int64_t tensors_before = live_tensor_count();
  for (int workers : {1, 2, 3}) {
    for (int stop_after : {0, 1, 7}) {
      DataLoader loader(
          ds, {.batch_size = 4, .shuffle = true, .num_workers = workers, .prefetch = 1}, augment());
      int seen = 0;
      for (auto& batch : loader) {
        REQUIRE(batch.x.size(0) == 4);
        if (seen++ == stop_after) break;
      }
      // Breaking then iterating again starts the next epoch from its first batch.
      Tensor first_y;
      for (auto& [x, y] : loader) {
        first_y = y;
        break;
      }
      CHECK(loader.epoch() == 1);
      const std::vector<int64_t> order1 = loader.order(1);
      CHECK(first_y.to_vector<int64_t>() ==
            std::vector<int64_t>(order1.begin(), order1.begin() + 4));
    }  // destroyed with workers waiting on a full queue: must not hang
  }
  CHECK(live_tensor_count() == tensors_before);  // no batch left behind
}

TEST_CASE("DataLoader rethrows a worker's error at that batch", "[data][loader][errors]") {
  Flaky ds(17);
  for (int workers : {0, 2}) {
    DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    int64_t batches = 0;
    auto run = [&] {
      for (auto& [x, y] : loader) {
        CHECK(x.shape() == Shape{4, 1, 2, 2});  // default load() copied from get()
        ++batches;
      }
    };
    CHECK_THROWS_WITH(run(), Contains("Flaky: sample 17 is broken"));
    CHECK(batches == 4);  // batches 0..3 arrived; batch 4 holds sample 17
    // The loader can run again after the error (and fails at the same place).
    CHECK_THROWS_WITH(run(), Contains("Flaky: sample 17 is broken"));
    CHECK(batches == 8);
  }
  Flaky good(-1);
  DataLoader loader(good, {.batch_size = 8, .num_workers = 2});
  int64_t n = 0;
  for (auto& [x, y] : loader) {
    CHECK(x.select(0, 0).to_vector<float>()[0] == float(n * 8));  // image i is filled with i
    n++;
  }
  CHECK(n == 5);
}

TEST_CASE("DataLoader rejects bad options", "[data][loader][errors]") {
  InMemoryDataset ds = numbered_dataset(3);
  CHECK_THROWS_WITH(DataLoader(ds, {.batch_size = 0}),
                    Contains("DataLoader: batch_size must be >= 1, got 0"));
  CHECK_THROWS_WITH(DataLoader(ds, {.num_workers = -1}),
                    Contains("DataLoader: num_workers must be >= 0, got -1"));
  CHECK_THROWS_WITH(DataLoader(ds, {.prefetch = 0}), Contains("prefetch must be >= 1, got 0"));
  DataLoader ok(ds, {.batch_size = 2});
  CHECK_THROWS_WITH(ok.batch(0, 2), Contains("DataLoader: batch 2 is out of range for an epoch "
                                             "of 2 batches"));
  CHECK_THROWS_WITH(ok.set_epoch(-1), Contains("epoch must be >= 0"));
}

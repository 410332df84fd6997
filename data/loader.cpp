#include "data/loader.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>

#include "core/check.h"

namespace heed::data {
namespace {
// Keep the shuffle and augmentation streams apart for the same seed.
constexpr uint64_t kShuffleSalt = 0x53485546464c45ull;  // "SHUFFLE"
constexpr uint64_t kSampleSalt = 0x53414d504c45ull;     // "SAMPLE"
}  // namespace

DataLoader::DataLoader(const Dataset& dataset, LoaderOptions options, transforms::Compose transform)
    : dataset_(dataset), options_(options), transform_(std::move(transform)) {
  HEED_CHECK(options.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ",
             options.batch_size);
  HEED_CHECK(options.num_workers >= 0, "DataLoader: num_workers must be >= 0, got ",
             options.num_workers);
  HEED_CHECK(options.prefetch >= 1, "DataLoader: prefetch must be >= 1, got ", options.prefetch);
  num_batches_ = size();
}

DataLoader::~DataLoader() {
  stop_workers();
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::set_epoch(int64_t epoch) {
  HEED_CHECK(epoch >= 0, "DataLoader: epoch must be >= 0, got ", epoch);
  next_epoch_ = epoch;
}

Generator DataLoader::sample_generator(uint64_t seed, int64_t epoch, int64_t index) {
  const uint64_t epoch_key = random_bits(seed ^ kSampleSalt, uint64_t(epoch));
  return Generator(random_bits(epoch_key, uint64_t(index)));
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  std::vector<int64_t> v(size_t(dataset_.size()));
  std::iota(v.begin(), v.end(), int64_t(0));
  if (options_.shuffle) {
    Generator g(random_bits(options_.seed ^ kShuffleSalt, uint64_t(epoch)));
    for (int64_t i = int64_t(v.size()) - 1; i > 0; --i)  // Fisher-Yates
      std::swap(v[size_t(i)], v[size_t(g.next_int(i + 1))]);
  }
  return v;
}

Batch DataLoader::batch(int64_t epoch, int64_t index) const {
  HEED_CHECK(index >= 0 && index < size(), "DataLoader: batch ", index,
             " is out of range for an epoch of ", size(), " batches");
  Image image;
  return build(epoch, order(epoch), index, image, nullptr);
}

Batch DataLoader::build(int64_t epoch, const std::vector<int64_t>& order, int64_t index,
                        Image& image, const std::atomic<bool>* stop) const {
  const int64_t lo = index * options_.batch_size;
  const int64_t count = std::min<int64_t>(options_.batch_size, int64_t(order.size()) - lo);
  Tensor y = empty({count}, kInt64);  // (B)
  int64_t* yp = y.data_ptr<int64_t>();
  Tensor x;  // (B, C, H, W), allocated once the first sample's shape is known
  float* xp = nullptr;
  Shape first;
  int64_t per = 0;
  for (int64_t k = 0; k < count; ++k) {
    if (stop && stop->load(std::memory_order_relaxed)) return {};
    const int64_t i = order[size_t(lo + k)];
    yp[k] = dataset_.load(i, image);
    Generator gen = sample_generator(options_.seed, epoch, i);
    transform_.apply(image, gen);
    assert(int64_t(image.data.size()) >= image.numel());
    if (k == 0) {
      first = image.shape();
      per = image.numel();
      x = empty({count, first[0], first[1], first[2]}, kFloat32);
      xp = x.data_ptr<float>();
    } else {
      HEED_CHECK(image.shape() == first, "DataLoader: sample ", i, " is ", shape_str(image.shape()),
                 " after transforms but sample ", order[size_t(lo)], " in the same batch is ",
                 shape_str(first),
                 "; batched images need one size (resize them, e.g. ImageFolderOptions::resize)");
    }
    std::memcpy(xp + k * per, image.data.data(), size_t(per) * sizeof(float));
  }
  return {x, y};
}

// ------------------------------------------------------------- iteration

DataLoader::Iterator DataLoader::begin() {
  stop_workers();
  epoch_ = next_epoch_++;
  order_ = order(epoch_);
  num_batches_ = size();
  current_ = {};
  if (num_batches_ == 0) return end();
  if (options_.num_workers > 0) start_workers();
  current_ = next_batch(0);
  return Iterator(this, 0);
}

DataLoader::Iterator DataLoader::end() {
  return Iterator(this, num_batches_);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++position_;
  if (position_ < loader_->num_batches_) {
    loader_->current_ = loader_->next_batch(position_);
  } else {
    loader_->current_ = {};
    loader_->stop_workers();
  }
  return *this;
}

Batch DataLoader::next_batch(int64_t index) {
  if (workers_.empty()) return build(epoch_, order_, index, image_, nullptr);
  Result r;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ready_cv_.wait(lock, [&] { return ready_.count(index) > 0; });
    auto it = ready_.find(index);
    r = std::move(it->second);
    ready_.erase(it);
    next_consume_ = index + 1;
  }
  space_cv_.notify_all();
  if (r.error) std::rethrow_exception(r.error);
  return std::move(r.batch);
}

void DataLoader::start_workers() {
  next_claim_ = 0;
  next_consume_ = 0;
  ready_.clear();
  stop_ = false;
  try {
    for (int w = 0; w < options_.num_workers; ++w) workers_.emplace_back([this] { worker_loop(); });
  } catch (...) {
    stop_workers();
    throw;
  }
}

void DataLoader::stop_workers() {
  if (workers_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
}

void DataLoader::worker_loop() {
  const int64_t capacity = int64_t(options_.num_workers) * options_.prefetch;
  Image image;  // reused for every sample this worker loads
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      space_cv_.wait(lock, [&] {
        return stop_ || next_claim_ >= num_batches_ || next_claim_ < next_consume_ + capacity;
      });
      if (stop_ || next_claim_ >= num_batches_) return;
      index = next_claim_++;
    }
    Result r;
    try {
      r.batch = build(epoch_, order_, index, image, &stop_);
    } catch (...) {
      r.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      ready_.emplace(index, std::move(r));
    }
    ready_cv_.notify_all();
  }
}

}  // namespace heed::data

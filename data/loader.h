// DataLoader: batches of a Dataset, built in background threads.
//
//   data::DataLoader loader(train_set, {.batch_size = 128, .shuffle = true,
//                                       .num_workers = 2, .seed = 0},
//                           data::transforms::standard(train_set, true));
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& [x, y] : loader) { ... }   // x (B, C, H, W) float32, y (B) int64
//
// Reproducibility: the sample order of epoch e is a shuffle seeded by
// (seed, e), and sample i's augmentation draws from its own Generator seeded
// by (seed, e, i) (sample_generator). A batch is therefore a pure function
// of (seed, epoch, batch index): bit-identical for any num_workers.
//
// Epochs: each range-for (each begin()) runs the next epoch, counting from
// 0; set_epoch(e) makes the next one e (e.g. when resuming).
//
// Threads: with num_workers = 0 the batches are built on the calling thread
// when the loop asks for them. Otherwise workers claim batch indices in
// order and build whole batches, at most num_workers * prefetch batches
// ahead of the consumer (a bounded queue); the loop receives them in order.
// Breaking out of the loop is fine: the workers are stopped and joined at
// the next begin() or when the loader is destroyed. An exception thrown
// while building a batch is rethrown by the loop when it reaches that batch.
//
// The dataset must outlive the loader (a temporary is refused at compile
// time), and transforms (e.g. a Lambda) must be safe to call from several
// threads at once. A loader runs one iteration at a time: a second begin()
// ends the first.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace heed::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;  // drop the last batch when it is smaller
  int num_workers = 0;     // background threads; 0 = build on the calling thread
  uint64_t seed = 0;
  int prefetch = 2;  // batches queued per worker
};

struct Batch {
  Tensor x;  // (B, C, H, W) float32, contiguous
  Tensor y;  // (B) int64
};

class DataLoader {
 public:
  DataLoader(const Dataset& dataset, LoaderOptions options = {},
             transforms::Compose transform = {});
  DataLoader(const Dataset&& dataset, LoaderOptions options = {},
             transforms::Compose transform = {}) = delete;
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch.
  int64_t size() const;
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return dataset_; }
  const transforms::Compose& transform() const { return transform_; }

  // The epoch the next begin() runs.
  void set_epoch(int64_t epoch);
  // The epoch of the current (or last) iteration; -1 before the first.
  int64_t epoch() const { return epoch_; }

  // The dataset indices of epoch `epoch`, in the order they are batched.
  std::vector<int64_t> order(int64_t epoch) const;
  // Builds batch `index` of epoch `epoch` on the calling thread: what the
  // workers run (tests compare against it).
  Batch batch(int64_t epoch, int64_t index) const;
  // The Generator sample `index` draws its augmentation from in `epoch`.
  static Generator sample_generator(uint64_t seed, int64_t epoch, int64_t index);

  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Batch& operator*() const { return loader_->current_; }
    Batch* operator->() const { return &loader_->current_; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return position_ == o.position_; }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, int64_t position) : loader_(loader), position_(position) {}
    DataLoader* loader_ = nullptr;
    int64_t position_ = 0;
  };

  // Starts the next epoch (stopping any unfinished one) and returns its first batch.
  Iterator begin();
  Iterator end();

 private:
  struct Result {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build(int64_t epoch, const std::vector<int64_t>& order, int64_t index, Image& scratch,
              const std::atomic<bool>* stop) const;
  void start_workers();
  void stop_workers();
  void worker_loop();
  Batch next_batch(int64_t index);  // the epoch's batch `index`, in order

  const Dataset& dataset_;
  LoaderOptions options_;
  transforms::Compose transform_;

  int64_t next_epoch_ = 0;
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;  // this epoch's indices; read-only while workers run
  int64_t num_batches_ = 0;
  Batch current_;
  Image image_;  // the calling thread's sample buffer (num_workers = 0)

  // Worker state, guarded by mu_.
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable space_cv_, ready_cv_;
  std::atomic<bool> stop_{false};
  int64_t next_claim_ = 0;    // next batch index a worker takes
  int64_t next_consume_ = 0;  // next batch index the loop takes
  std::map<int64_t, Result> ready_;
};

}  // namespace heed::data

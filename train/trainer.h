// The training loop: epochs of SGD steps with metrics, evaluation,
// callbacks, EMA of weights, gradient clipping, non-finite checks, and
// checkpoints that resume exactly.
//
//   train::Trainer trainer(model, optimizer, &schedule, {.label_smoothing = 0.1});
//   trainer.add_callback(std::make_shared<train::ProgressBar>());
//   trainer.add_callback(std::make_shared<train::Checkpointer>("runs/x"));
//   trainer.fit(train_loader, &test_loader, /*epochs=*/10);
//
// The schedule is stepped once per batch (build step-based schedules in
// batches: StepLR(step_size = k * batches_per_epoch)).
//
// Exact resume (CPU, same thread count): a checkpoint holds the model's
// parameters and buffers, the optimizer and schedule state, the EMA weights,
// the epoch and step counters and the default generator's state; the
// DataLoader's order and augmentation are pure functions of (seed, epoch,
// index), so training on from a checkpoint written after epoch k gives the
// same bits as never stopping.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "nn/module.h"
#include "nn/safetensors.h"
#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"
#include "train/metrics.h"

namespace heed::train {

// Thrown when the loss or a gradient is NaN or infinite; the message names
// the epoch, step, and the first parameter whose gradient went bad.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

struct TrainerOptions {
  double label_smoothing = 0.0;
  double clip_grad_norm = 0.0;  // > 0: scale gradients to this global L2 norm at most
  double ema_decay = 0.0;       // > 0: keep an exponential moving average of the weights
  bool check_finite = true;     // stop on a NaN/Inf loss or gradient
  int64_t max_batches = 0;      // > 0: cut every epoch after this many batches (quick runs)
};

// One row of the history: what each epoch did.
struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  int64_t step = 0;   // optimizer steps so far
  double train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;  // NaN without a validation loader
  double lr = 0;                          // at the end of the epoch
  double seconds = 0;                     // training time of the epoch (evaluation excluded)
  double cpu_seconds = 0;                 // process CPU time of the same (all threads)
  double images_per_second = 0;
  nlohmann::json to_json() const;
  static EpochRecord from_json(const nlohmann::json& j);
};

struct BatchInfo {
  int64_t epoch = 0;                              // 1-based
  int64_t batch = 0;                              // 1-based, within the epoch
  int64_t batches = 0;                            // in this epoch
  int64_t step = 0;                               // optimizer steps so far
  double loss = 0;                                // this batch
  double running_loss = 0, running_accuracy = 0;  // this epoch so far
  double lr = 0;
  double seconds = 0;  // since the epoch started
  int64_t images = 0;  // this epoch so far
};

class Trainer;

// Hooks into the loop; override what you need.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_epoch_begin(Trainer&, int64_t /*epoch*/) {}
  virtual void on_batch_end(Trainer&, const BatchInfo&) {}
  // After evaluation; `record` is also the last entry of trainer.history().
  virtual void on_epoch_end(Trainer&, const EpochRecord& /*record*/) {}
  virtual void on_train_end(Trainer&) {}
};

class Trainer {
 public:
  // `model` maps a batch of images to logits (B, K). The optimizer (and the
  // schedule, which may be null) must outlive the trainer.
  Trainer(nn::AnyModule model, optim::Optimizer& optimizer, optim::LRScheduler* schedule,
          TrainerOptions options = {});

  void add_callback(std::shared_ptr<Callback> callback);

  // Trains until `epochs` epochs are done in total (a resumed trainer
  // continues from its epoch). Returns the whole history.
  const std::vector<EpochRecord>& fit(data::DataLoader& train_loader, data::DataLoader* val_loader,
                                      int64_t epochs);
  // Loss, accuracy and confusion matrix of the model (EMA weights when
  // kept) in eval mode; the model's mode is restored.
  EvalResult evaluate(data::DataLoader& loader);

  // Writes a training checkpoint atomically. `extra` goes into the metadata
  // (e.g. "config": the JSON needed to rebuild the model).
  void save_checkpoint(const std::string& path, const nn::Metadata& extra = {}) const;
  // Restores everything save_checkpoint wrote; returns its metadata.
  nn::Metadata load_checkpoint(const std::string& path);

  // Stops after the current batch (callbacks call it).
  void request_stop() { stop_requested_ = true; }

  nn::AnyModule& model() { return model_; }
  optim::Optimizer& optimizer() { return optimizer_; }
  optim::LRScheduler* schedule() { return schedule_; }
  const TrainerOptions& options() const { return options_; }
  int64_t epoch() const { return epoch_; }  // epochs completed
  int64_t step() const { return step_; }    // optimizer steps done
  int64_t total_epochs() const { return total_epochs_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  // The last evaluation on the validation loader (empty before one).
  const EvalResult& last_eval() const { return last_eval_; }
  // The best validation accuracy so far and its epoch (0 if none).
  double best_accuracy() const { return best_accuracy_; }
  int64_t best_epoch() const { return best_epoch_; }
  // Whether the EMA copy exists, and swapping it into the model (for
  // evaluation or export); swap twice to restore.
  bool has_ema() const { return !ema_.empty(); }
  void swap_ema();

 private:
  void train_epoch(data::DataLoader& loader, EpochRecord& record);
  void check_finite_grads(double loss);
  void update_ema();

  nn::AnyModule model_;
  optim::Optimizer& optimizer_;
  optim::LRScheduler* schedule_;
  TrainerOptions options_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  nn::NamedTensors params_;  // named_parameters(), fixed at construction
  nn::NamedTensors ema_;     // EMA of parameters and floating buffers (same names)

  int64_t epoch_ = 0, step_ = 0, total_epochs_ = 0;
  std::vector<EpochRecord> history_;
  EvalResult last_eval_;
  double best_accuracy_ = 0;
  int64_t best_epoch_ = 0;
  bool stop_requested_ = false;
};

// Loss, accuracy and confusion matrix of `model` in eval mode over `loader`
// (the model's mode is restored).
EvalResult evaluate(nn::AnyModule& model, data::DataLoader& loader);

// The one-call form: a Trainer with `options` and `callbacks`, fitted for
// `epochs` epochs; returns the history.
//   train::fit(model, train_loader, &test_loader, opt, &schedule, 10);
std::vector<EpochRecord> fit(nn::AnyModule model, data::DataLoader& train_loader,
                             data::DataLoader* val_loader, optim::Optimizer& optimizer,
                             optim::LRScheduler* schedule, int64_t epochs,
                             TrainerOptions options = {},
                             std::vector<std::shared_ptr<Callback>> callbacks = {});

}  // namespace heed::train

// The built-in callbacks: progress display, metric files (CSV, JSONL,
// TensorBoard), checkpoints, and the training-curve picture.
#pragma once

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "train/tensorboard.h"
#include "train/trainer.h"

namespace heed::train {

// tqdm-style bar on a terminal (rate, ETA, running loss and accuracy,
// redrawn in place at most ~10 times a second); plain lines every
// `every` batches (or ~10 per epoch when 0) when the stream is not a TTY.
// An epoch summary line follows each epoch either way.
class ProgressBar : public Callback {
 public:
  enum class Mode { Auto, Bar, Lines, Quiet };
  explicit ProgressBar(std::FILE* stream = stderr, Mode mode = Mode::Auto, int64_t every = 0);
  void on_epoch_begin(Trainer& t, int64_t epoch) override;
  void on_batch_end(Trainer& t, const BatchInfo& info) override;
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;

 private:
  std::FILE* stream_;
  Mode mode_;
  int64_t every_;
  double last_draw_ = -1;
};

// Appends one row per epoch: epoch, step, train_loss, train_accuracy,
// val_loss, val_accuracy, lr, seconds, images_per_second. On resume the
// rows past the checkpoint's epoch are dropped first.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path) : path_(std::move(path)) {}
  void on_train_begin(Trainer& t) override;
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;

 private:
  std::string path_;
};

// One JSON object per line: every `every` batches {"type": "batch", ...}
// (0 = none) and every epoch {"type": "epoch", ...} with per-class accuracy.
class JSONLLogger : public Callback {
 public:
  explicit JSONLLogger(std::string path, int64_t every = 0)
      : path_(std::move(path)), every_(every) {}
  void on_train_begin(Trainer& t) override;
  void on_batch_end(Trainer& t, const BatchInfo& info) override;
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;

 private:
  std::string path_;
  int64_t every_;
  std::ofstream out_;
};

// TensorBoard scalars: train/loss and train/lr every `every` batches;
// epoch/{train_loss, train_accuracy, val_loss, val_accuracy, images_per_second}.
class TensorBoardLogger : public Callback {
 public:
  explicit TensorBoardLogger(std::string dir, int64_t every = 50)
      : dir_(std::move(dir)), every_(every) {}
  void on_train_begin(Trainer& t) override;
  void on_batch_end(Trainer& t, const BatchInfo& info) override;
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;
  void on_train_end(Trainer& t) override;
  std::string path() const { return writer_ ? writer_->path() : ""; }

 private:
  std::string dir_;
  int64_t every_;
  std::unique_ptr<TensorBoardWriter> writer_;
};

// Writes `dir`/last.safetensors after every epoch and `dir`/best.safetensors
// when the validation accuracy improves (both atomically), with `metadata`.
class Checkpointer : public Callback {
 public:
  explicit Checkpointer(std::string dir, nn::Metadata metadata = {})
      : dir_(std::move(dir)), metadata_(std::move(metadata)) {}
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;
  std::string last_path() const;
  std::string best_path() const;

 private:
  std::string dir_;
  nn::Metadata metadata_;
};

// Loss and accuracy per epoch (train and validation) as an SVG picture,
// rewritten after every epoch.
class CurvesPlot : public Callback {
 public:
  explicit CurvesPlot(std::string path, std::string title = "")
      : path_(std::move(path)), title_(std::move(title)) {}
  void on_epoch_end(Trainer& t, const EpochRecord& r) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_, title_;
};

// Writes the curves of `history` to `path` (what CurvesPlot does).
void write_curves_svg(const std::string& path, const std::vector<EpochRecord>& history,
                      const std::string& title = "");

// "1:02:03" / "02:03".
std::string format_duration(double seconds);

}  // namespace heed::train

// One training run from a config: datasets, loaders, model, optimizer,
// schedule, callbacks, checkpoints and the final evaluation. What
// `heed train` and each run of `heed experiment` do.
//
//   train::RunConfig cfg;                 // SE-ResNet-20 on Fashion-MNIST
//   cfg.epochs = 2;
//   auto result = train::run_training(cfg);
//   std::printf("%.2f%%\n", 100 * result.test_accuracy);
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "train/models/factory.h"
#include "train/trainer.h"

namespace heed::train {

struct RunConfig {
  std::string model = "resnet20";
  std::string attention = "se";  // placement spec, "none" for none
  int64_t width = 1;
  std::string dataset = "fashion-mnist";  // fashion-mnist, mnist, cifar10, cifar100, folder
  std::string data_dir;                   // "" = the dataset's default location
  int64_t image_size = 32;                // folder datasets are resized to this
  int64_t epochs = 1;
  int64_t batch_size = 128;
  std::string optimizer = "sgd";  // sgd, adam, adamw
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "onecycle";  // onecycle, cosine, step, none
  double label_smoothing = 0.0;
  double clip_grad = 0.0;
  double ema = 0.0;
  bool augment = true;
  int64_t workers = 1;  // DataLoader threads
  int64_t threads = 0;  // compute threads (0 = HEED_NUM_THREADS or all cores)
  uint64_t seed = 0;
  int64_t max_batches = 0;  // > 0: cut each epoch (quick runs)
  int64_t train_limit = 0;  // > 0: use the first N training images
  int64_t test_limit = 0;   // > 0: use the first N test images
  std::string out = "runs/default";
  std::string progress = "auto";  // auto, bar, lines, quiet

  nlohmann::json to_json() const;
  // Unknown keys are errors; missing keys keep the defaults.
  static RunConfig from_json(const nlohmann::json& j);
};

struct RunResult {
  double test_accuracy = 0, test_loss = 0;
  double best_accuracy = 0;
  int64_t best_epoch = 0;
  int64_t params = 0, macs = 0;      // per image, from nn::summary
  double images_per_second = 0;      // training, mean over the epochs run
  double seconds_per_epoch = 0;      // training, mean
  double cpu_seconds_per_epoch = 0;  // process CPU time of training (all threads), mean
  double total_seconds = 0;          // wall time of the whole run
  std::vector<EpochRecord> history;
  EvalResult final_eval;
  std::vector<std::string> class_names;
  std::string checkpoint, best_checkpoint, curves, metrics_csv, tensorboard;
  nlohmann::json to_json() const;
};

// Opens a dataset by name ("fashion-mnist", "mnist", "cifar10", "cifar100",
// "folder" = dir/train and dir/test image folders). Missing files give a
// heed::Error naming the path.
std::unique_ptr<data::Dataset> open_dataset(const std::string& name, const std::string& dir,
                                            bool train, int64_t image_size = 32);
std::vector<std::string> dataset_names();

// The model a config describes, for a dataset whose images are (C, H, W)
// with `num_classes` classes.
ModelSpec model_spec(const RunConfig& cfg, int64_t in_channels, int64_t image_size,
                     int64_t num_classes);

// Trains as `cfg` says, writing into cfg.out: last/best.safetensors,
// metrics.csv, metrics.jsonl, tb/ (TensorBoard), curves.svg, config.json,
// result.json. With `resume`, continues from cfg.out/last.safetensors
// (whose config must match). Progress goes to stderr, the summary to `log`.
RunResult run_training(const RunConfig& cfg, bool resume = false, std::FILE* log = stdout);

// The config stored in a checkpoint written by run_training.
RunConfig config_from_checkpoint(const std::string& path);

// Rebuilds the model of a checkpoint and loads its weights (the EMA weights
// when the checkpoint has them and `ema` is set); fills *cfg.
nn::AnyModule load_model(const std::string& checkpoint, RunConfig* cfg = nullptr, bool ema = true);

}  // namespace heed::train

#include "train/run.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/generator.h"
#include "core/parallel.h"
#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "data/mnist.h"
#include "data/transforms.h"
#include "nn/safetensors.h"
#include "nn/summary.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "train/callbacks.h"

namespace heed::train {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ config

// One field per line, kept out of clang-format, which reflows this list
// differently on every run.
// clang-format off
#define HEED_RUN_FIELDS(X) \
  X(model) \
  X(attention) \
  X(width) \
  X(dataset) \
  X(data_dir) \
  X(image_size) \
  X(epochs) \
  X(batch_size) \
  X(optimizer) \
  X(lr) \
  X(momentum) \
  X(weight_decay) \
  X(schedule) \
  X(label_smoothing) \
  X(clip_grad) \
  X(ema) \
  X(augment) \
  X(workers) \
  X(threads) \
  X(seed) \
  X(max_batches) \
  X(train_limit) \
  X(test_limit) \
  X(out) \
  X(progress)
// clang-format on

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j;
#define X(f) j[#f] = f;
  HEED_RUN_FIELDS(X)
#undef X
  return j;
}

RunConfig RunConfig::from_json(const nlohmann::json& j) {
  RunConfig c;
  HEED_CHECK(j.is_object(), "config: expected a JSON object, got ", j.dump());
  static const std::set<std::string> known = {
#define X(f) #f,
      HEED_RUN_FIELDS(X)
#undef X
  };
  for (const auto& [k, v] : j.items()) HEED_CHECK(known.count(k), "config: unknown key '", k, "'");
  try {
#define X(f) \
  if (j.contains(#f)) j.at(#f).get_to(c.f);
    HEED_RUN_FIELDS(X)
#undef X
  } catch (const nlohmann::json::exception& e) {
    HEED_FAIL("config: ", e.what());
  }
  return c;
}
#undef HEED_RUN_FIELDS

nlohmann::json RunResult::to_json() const {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& r : history) h.push_back(r.to_json());
  nlohmann::json pc = nlohmann::json::array();
  for (double a : final_eval.confusion.per_class_accuracy())
    pc.push_back(std::isfinite(a) ? nlohmann::json(a) : nlohmann::json(nullptr));
  return {{"test_accuracy", test_accuracy},
          {"test_loss", test_loss},
          {"best_accuracy", best_accuracy},
          {"best_epoch", best_epoch},
          {"params", params},
          {"macs", macs},
          {"images_per_second", images_per_second},
          {"seconds_per_epoch", seconds_per_epoch},
          {"cpu_seconds_per_epoch", cpu_seconds_per_epoch},
          {"total_seconds", total_seconds},
          {"per_class_accuracy", pc},
          {"class_names", class_names},
          {"history", h}};
}

// ---------------------------------------------------------------- datasets

namespace {

// The first n examples of another dataset.
class Prefix final : public data::Dataset {
 public:
  Prefix(std::unique_ptr<data::Dataset> base, int64_t n)
      : base_(std::move(base)), n_(std::min(n, base_->size())) {}
  int64_t size() const override { return n_; }
  data::Example get(int64_t i) const override {
    check_index(i);
    return base_->get(i);
  }
  int64_t load(int64_t i, data::Image& out) const override {
    check_index(i);
    return base_->load(i, out);
  }
  int64_t label(int64_t i) const override {
    check_index(i);
    return base_->label(i);
  }
  const std::vector<std::string>& classes() const override { return base_->classes(); }
  std::string name() const override { return base_->name(); }

 private:
  std::unique_ptr<data::Dataset> base_;
  int64_t n_;
};

int64_t num_classes_of(const data::Dataset& d) {
  if (!d.classes().empty()) return int64_t(d.classes().size());
  int64_t k = 0;
  for (int64_t i = 0; i < d.size(); ++i) k = std::max(k, d.label(i) + 1);
  return k;
}

}  // namespace

std::vector<std::string> dataset_names() {
  return {"fashion-mnist", "mnist", "cifar10", "cifar100", "folder"};
}

std::unique_ptr<data::Dataset> open_dataset(const std::string& name, const std::string& dir,
                                            bool train, int64_t image_size) {
  auto need_dir = [&](const char* what) {
    HEED_CHECK(!dir.empty(), "dataset '", name, "' needs --data DIR (", what, ")");
    HEED_CHECK(fs::is_directory(dir), "data folder '", dir, "' does not exist");
  };
  if (name == "fashion-mnist") {
    std::string root = dir.empty() ? data::kFashionMNISTDefaultRoot : dir;
    HEED_CHECK(fs::is_directory(root), "data folder '", root,
               "' does not exist (Debian: apt-get install dataset-fashion-mnist)");
    return std::make_unique<data::FashionMNIST>(train, root);
  }
  if (name == "mnist") {
    need_dir("the folder with the MNIST IDX files");
    return std::make_unique<data::MNIST>(dir, train);
  }
  if (name == "cifar10") {
    need_dir("cifar-10-batches-bin or its parent");
    return std::make_unique<data::CIFAR10>(dir, train);
  }
  if (name == "cifar100") {
    need_dir("cifar-100-binary or its parent");
    return std::make_unique<data::CIFAR100>(dir, train);
  }
  if (name == "folder") {
    need_dir("with train/<class>/*.png and test/<class>/*.png");
    fs::path sub = fs::path(dir) / (train ? "train" : "test");
    HEED_CHECK(fs::is_directory(sub), "data folder '", sub.string(), "' does not exist");
    return std::make_unique<data::ImageFolder>(
        sub, data::ImageFolderOptions{.resize = {image_size, image_size}, .preload = true});
  }
  std::string names;
  for (const auto& n : dataset_names()) names += (names.empty() ? "" : ", ") + n;
  HEED_FAIL("unknown dataset '", name, "'; valid datasets: ", names);
}

ModelSpec model_spec(const RunConfig& cfg, int64_t in_channels, int64_t image_size,
                     int64_t num_classes) {
  return ModelSpec{.name = cfg.model,
                   .in_channels = in_channels,
                   .num_classes = num_classes,
                   .image_size = image_size,
                   .attention = cfg.attention,
                   .width = cfg.width};
}

// --------------------------------------------------------------- training

namespace {

std::unique_ptr<optim::Optimizer> make_optimizer(const RunConfig& c,
                                                 const optim::NamedParameters& params) {
  HEED_CHECK(c.lr > 0, "--lr must be positive, got ", c.lr);
  HEED_CHECK(c.weight_decay >= 0, "--weight-decay must be >= 0, got ", c.weight_decay);
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = c.lr,
                                                                  .momentum = c.momentum,
                                                                  .nesterov = c.momentum > 0,
                                                                  .weight_decay = c.weight_decay});
  if (c.optimizer == "adam")
    return std::make_unique<optim::Adam>(
        params, optim::AdamOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  if (c.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(
        params, optim::AdamWOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  HEED_FAIL("unknown optimizer '", c.optimizer, "'; valid optimizers: sgd, adam, adamw");
}

std::unique_ptr<optim::LRScheduler> make_schedule(const RunConfig& c, optim::Optimizer& opt,
                                                  int64_t total_steps) {
  total_steps = std::max<int64_t>(total_steps, 1);
  if (c.schedule == "onecycle")
    return std::make_unique<optim::OneCycleLR>(opt, c.lr,
                                               optim::OneCycleOptions{.total_steps = total_steps});
  if (c.schedule == "cosine") return std::make_unique<optim::CosineAnnealingLR>(opt, total_steps);
  if (c.schedule == "step")  // ÷10 at 50 % and 75 % of the steps
    return std::make_unique<optim::MultiStepLR>(
        opt, std::vector<int64_t>{std::max<int64_t>(1, total_steps / 2),
                                  std::max<int64_t>(1, total_steps * 3 / 4)});
  if (c.schedule == "none") return nullptr;
  HEED_FAIL("unknown schedule '", c.schedule, "'; valid schedules: onecycle, cosine, step, none");
}

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream f(path);
  HEED_CHECK(f.good(), "cannot write '", path.string(), "'");
  f << j.dump(2) << "\n";
}

ProgressBar::Mode progress_mode(const std::string& m) {
  if (m == "auto") return ProgressBar::Mode::Auto;
  if (m == "bar") return ProgressBar::Mode::Bar;
  if (m == "lines") return ProgressBar::Mode::Lines;
  if (m == "quiet") return ProgressBar::Mode::Quiet;
  HEED_FAIL("unknown progress mode '", m, "'; valid: auto, bar, lines, quiet");
}

}  // namespace

RunResult run_training(const RunConfig& cfg, bool resume, std::FILE* log) {
  const auto t_start = std::chrono::steady_clock::now();
  HEED_CHECK(cfg.epochs >= 1, "--epochs must be >= 1, got ", cfg.epochs);
  HEED_CHECK(cfg.batch_size >= 1, "--batch-size must be >= 1, got ", cfg.batch_size);
  HEED_CHECK(cfg.workers >= 0, "--workers must be >= 0, got ", cfg.workers);
  HEED_CHECK(cfg.threads >= 0, "--threads must be >= 0, got ", cfg.threads);
  const ProgressBar::Mode mode = progress_mode(cfg.progress);
  if (cfg.threads > 0) set_num_threads(int(cfg.threads));

  std::unique_ptr<data::Dataset> train_set =
      open_dataset(cfg.dataset, cfg.data_dir, true, cfg.image_size);
  std::unique_ptr<data::Dataset> test_set =
      open_dataset(cfg.dataset, cfg.data_dir, false, cfg.image_size);
  if (cfg.train_limit > 0)
    train_set = std::make_unique<Prefix>(std::move(train_set), cfg.train_limit);
  if (cfg.test_limit > 0) test_set = std::make_unique<Prefix>(std::move(test_set), cfg.test_limit);
  HEED_CHECK(train_set->size() > 0 && test_set->size() > 0, "dataset '", cfg.dataset,
             "' has no images");
  const data::Example first = train_set->get(0);
  const int64_t C = first.image.size(0), H = first.image.size(1), W = first.image.size(2);
  const int64_t K = num_classes_of(*train_set);

  data::DataLoader train_loader(*train_set,
                                {.batch_size = cfg.batch_size,
                                 .shuffle = true,
                                 .num_workers = int(cfg.workers),
                                 .seed = cfg.seed},
                                data::transforms::standard(*train_set, cfg.augment));
  data::DataLoader test_loader(*test_set,
                               {.batch_size = std::max<int64_t>(cfg.batch_size, 500),
                                .num_workers = int(cfg.workers),
                                .seed = cfg.seed},
                               data::transforms::standard(*test_set, false));

  manual_seed(cfg.seed);  // the model's initial weights
  nn::AnyModule model = create_model(model_spec(cfg, C, H, K));
  nn::Summary summary = nn::summary(model, {1, C, H, W});

  std::unique_ptr<optim::Optimizer> opt = make_optimizer(cfg, model->named_parameters());
  const int64_t steps_per_epoch =
      cfg.max_batches > 0 ? std::min(cfg.max_batches, train_loader.size()) : train_loader.size();
  std::unique_ptr<optim::LRScheduler> schedule =
      make_schedule(cfg, *opt, steps_per_epoch * cfg.epochs);

  Trainer trainer(model, *opt, schedule.get(),
                  {.label_smoothing = cfg.label_smoothing,
                   .clip_grad_norm = cfg.clip_grad,
                   .ema_decay = cfg.ema,
                   .max_batches = cfg.max_batches});
  const fs::path out = cfg.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  HEED_CHECK(!ec, "cannot create output folder '", out.string(), "': ", ec.message());

  nn::Metadata meta{{"heed.config", cfg.to_json().dump()},
                    {"heed.input_shape", nlohmann::json({C, H, W}).dump()},
                    {"heed.num_classes", std::to_string(K)},
                    {"heed.class_names", nlohmann::json(train_set->classes()).dump()}};
  auto checkpointer = std::make_shared<Checkpointer>(out.string(), meta);
  auto tb = std::make_shared<TensorBoardLogger>((out / "tb").string());
  trainer.add_callback(std::make_shared<ProgressBar>(stderr, mode));
  trainer.add_callback(std::make_shared<CSVLogger>((out / "metrics.csv").string()));
  trainer.add_callback(std::make_shared<JSONLLogger>((out / "metrics.jsonl").string(), 50));
  trainer.add_callback(tb);
  trainer.add_callback(checkpointer);
  trainer.add_callback(std::make_shared<CurvesPlot>((out / "curves.svg").string(),
                                                    cfg.model + " + " + cfg.attention));
  if (resume) {
    const std::string path = checkpointer->last_path();
    HEED_CHECK(fs::exists(path), "--resume: no checkpoint at '", path, "'");
    RunConfig saved = config_from_checkpoint(path);
    // A schedule spans all the epochs it was built for: it cannot stretch.
    HEED_CHECK(saved.epochs == cfg.epochs || cfg.schedule == "none", "--resume: the run in '",
               cfg.out, "' was planned for ", saved.epochs, " epochs with --schedule ",
               cfg.schedule, ", which spans them all; resume it with --epochs ", saved.epochs,
               " (runs with --schedule none can be extended)");
    saved.epochs = cfg.epochs;
    saved.out = cfg.out;
    saved.progress = cfg.progress;
    saved.threads = cfg.threads;
    saved.workers = cfg.workers;
    HEED_CHECK(saved.to_json() == cfg.to_json(), "--resume: the checkpoint '", path,
               "' was written with a different config: ", saved.to_json().dump(), " vs ",
               cfg.to_json().dump());
    trainer.load_checkpoint(path);
    if (log)
      std::fprintf(log, "resuming from %s after epoch %lld (step %lld)\n", path.c_str(),
                   static_cast<long long>(trainer.epoch()), static_cast<long long>(trainer.step()));
  }
  write_json(out / "config.json", cfg.to_json());

  if (log) {
    std::fprintf(log,
                 "model %s + attention %s: %lld params, %.2f M MACs per image\n"
                 "data %s: %lld train / %lld test images (%lld x %lld x %lld, %lld classes), "
                 "batch %lld, %lld steps per epoch, %lld epochs; %d threads\n",
                 cfg.model.c_str(), cfg.attention.c_str(),
                 static_cast<long long>(summary.total_params), double(summary.total_macs) / 1e6,
                 cfg.dataset.c_str(), static_cast<long long>(train_set->size()),
                 static_cast<long long>(test_set->size()), static_cast<long long>(C),
                 static_cast<long long>(H), static_cast<long long>(W), static_cast<long long>(K),
                 static_cast<long long>(cfg.batch_size), static_cast<long long>(steps_per_epoch),
                 static_cast<long long>(cfg.epochs), get_num_threads());
    std::fflush(log);
  }

  trainer.fit(train_loader, &test_loader, cfg.epochs);

  RunResult r;
  r.history = trainer.history();
  r.final_eval =
      trainer.last_eval().samples > 0 ? trainer.last_eval() : trainer.evaluate(test_loader);
  r.test_accuracy = r.final_eval.accuracy;
  r.test_loss = r.final_eval.loss;
  r.best_accuracy = trainer.best_accuracy();
  r.best_epoch = trainer.best_epoch();
  r.params = summary.total_params;
  r.macs = summary.total_macs;
  double secs = 0, ips = 0, cpu = 0;
  for (const auto& h : r.history)
    secs += h.seconds, ips += h.images_per_second, cpu += h.cpu_seconds;
  if (!r.history.empty()) {
    r.seconds_per_epoch = secs / double(r.history.size());
    r.cpu_seconds_per_epoch = cpu / double(r.history.size());
    r.images_per_second = ips / double(r.history.size());
  }
  r.class_names = train_set->classes();
  r.checkpoint = checkpointer->last_path();
  r.best_checkpoint = checkpointer->best_path();
  r.curves = (out / "curves.svg").string();
  r.metrics_csv = (out / "metrics.csv").string();
  r.tensorboard = tb->path();
  r.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  nlohmann::json rj = r.to_json();
  rj["config"] = cfg.to_json();
  write_json(out / "result.json", rj);
  if (log) {
    std::fprintf(log, "\n%s", r.final_eval.confusion.table(r.class_names).c_str());
    std::fprintf(log,
                 "\ntest accuracy: %.2f%% (loss %.4f; best %.2f%% at epoch %lld), %.1f s per "
                 "epoch (%.1f s of CPU time), %.0f img/s\n",
                 100 * r.test_accuracy, r.test_loss, 100 * r.best_accuracy,
                 static_cast<long long>(r.best_epoch), r.seconds_per_epoch, r.cpu_seconds_per_epoch,
                 r.images_per_second);
    std::fprintf(log,
                 "curves:      %s\ncheckpoint:  %s (best: %s)\nmetrics:     %s, %s\n"
                 "tensorboard: %s\n",
                 r.curves.c_str(), r.checkpoint.c_str(), r.best_checkpoint.c_str(),
                 r.metrics_csv.c_str(), (out / "metrics.jsonl").string().c_str(),
                 r.tensorboard.c_str());
    std::fflush(log);
  }
  return r;
}

RunConfig config_from_checkpoint(const std::string& path) {
  HEED_CHECK(fs::exists(path), "checkpoint '", path, "' does not exist");
  nn::Metadata md;
  (void)nn::load(path, &md);
  auto it = md.find("heed.config");
  HEED_CHECK(it != md.end(), "checkpoint '", path,
             "' has no heed.config metadata (not written by heed train)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    HEED_FAIL("checkpoint '", path, "': bad heed.config metadata: ", e.what());
  }
  return RunConfig::from_json(j);
}

nn::AnyModule load_model(const std::string& path, RunConfig* cfg_out, bool ema) {
  HEED_CHECK(fs::exists(path), "checkpoint '", path, "' does not exist");
  nn::Metadata md;
  nn::StateDict sd = nn::load(path, &md);
  RunConfig cfg = config_from_checkpoint(path);
  std::vector<int64_t> shape;
  int64_t K = 0;
  try {
    shape = nlohmann::json::parse(md.at("heed.input_shape")).get<std::vector<int64_t>>();
    K = std::stoll(md.at("heed.num_classes"));
  } catch (const std::exception& e) {
    HEED_FAIL("checkpoint '", path,
              "': missing or bad heed.input_shape / heed.num_classes: ", e.what());
  }
  HEED_CHECK(shape.size() == 3, "checkpoint '", path, "': heed.input_shape must be [C, H, W]");
  nn::AnyModule model = create_model(model_spec(cfg, shape[0], shape[1], K));
  nn::StateDict weights;
  bool has_ema = false;
  for (const auto& [k, t] : sd)
    if (k.rfind("ema/", 0) == 0) has_ema = true;
  for (const auto& [k, t] : sd) {
    if (k.find('/') != std::string::npos) continue;  // optimizer/, ema/
    const Tensor* e = (ema && has_ema) ? sd.find("ema/" + k) : nullptr;
    weights.insert(k, e ? *e : t);
  }
  model->load_state_dict(weights, /*strict=*/true);
  model->eval();
  if (cfg_out) *cfg_out = cfg;
  return model;
}

}  // namespace heed::train

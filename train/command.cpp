#include "train/command.h"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "attention/placement.h"
#include "core/check.h"
#include "core/parallel.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "nn/summary.h"
#include "train/attention_map.h"
#include "train/bench.h"
#include "train/experiment.h"
#include "train/gradcheck_suite.h"
#include "train/models/factory.h"
#include "train/run.h"
#include "train/trainer.h"

namespace heed::train {

namespace fs = std::filesystem;

namespace {

// What each subcommand runs once its flags are parsed.
using Action = std::function<int()>;

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Fails early (before any data is read) on unknown models or attention specs.
void check_model_and_attention(const std::string& model, const std::string& attention) {
  (void)attention::Placement::parse(attention);
  std::vector<std::string> names;
  for (const auto& [n, d] : model_names()) names.push_back(n);
  bool ok = std::find(names.begin(), names.end(), model) != names.end();
  HEED_CHECK(ok, "unknown model '", model, "'; valid models: ", join(names));
}

// --threads 0: HEED_NUM_THREADS when set, else the cores the machine has
// free now (cores minus the 1-minute load average, at least 1). heed's
// threads wait on each other, so on a busy machine fewer threads
// than cores run much faster (measured: SE-ResNet-20 trains 2.2x faster on
// 1 thread than on 2 of 2 cores while another job uses one core).
void choose_threads(int64_t threads, std::FILE* log) {
  if (threads > 0) {
    set_num_threads(int(threads));
    return;
  }
  if (std::getenv("HEED_NUM_THREADS") != nullptr) return;
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  double load = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  const int n = std::clamp(int(std::lround(double(cores) - load)), 1, cores);
  set_num_threads(n);
  if (log && n < cores)
    std::fprintf(log, "using %d of %d cores (load average %.1f; --threads sets it)\n", n, cores,
                 load);
}

bool has_builtin_attention(const std::string& model) {
  return model == "vit" || model == "vit-tiny" || model == "bilstm";
}

// Defaults that depend on the model, for the settings the user did not give:
// transformers and LSTMs train better with Adam(W) than with SGD at lr 0.1.
void apply_model_defaults(CLI::App* c, RunConfig& cfg) {
  const bool vit = cfg.model == "vit" || cfg.model == "vit-tiny", rnn = cfg.model == "bilstm";
  if (!c->count("--attention") && has_builtin_attention(cfg.model)) cfg.attention = "none";
  if (!vit && !rnn) return;
  if (!c->count("--optimizer")) cfg.optimizer = vit ? "adamw" : "adam";
  if (!c->count("--lr")) cfg.lr = vit ? 1e-3 : 2e-3;
  if (!c->count("--weight-decay")) cfg.weight_decay = vit ? 0.05 : 0.0;
  if (!c->count("--clip-grad")) cfg.clip_grad = 1.0;
}

void add_train_flags(CLI::App* c, RunConfig& cfg) {
  c->add_option(
       "--model", cfg.model,
       "network: " +
           [] {
             std::vector<std::string> n;
             for (const auto& [name, d] : model_names()) n.push_back(name);
             return join(n, ", ");
           }())
      ->capture_default_str();
  c->add_option("--attention", cfg.attention,
                "attention placement, e.g. \"cbam(ratio=8):stages=2,3:pos=standard\"; none")
      ->capture_default_str();
  c->add_option("--width", cfg.width, "resnet channel multiplier")->capture_default_str();
  c->add_option("--dataset", cfg.dataset, "fashion-mnist, mnist, cifar10, cifar100, folder")
      ->capture_default_str()
      ->check(CLI::IsMember(dataset_names()));
  c->add_option("--data", cfg.data_dir, "dataset folder (default: the dataset's usual place)");
  c->add_option("--image-size", cfg.image_size, "folder datasets: resize to this")
      ->capture_default_str();
  c->add_option("--epochs", cfg.epochs, "epochs to train")->capture_default_str();
  c->add_option("--batch-size", cfg.batch_size, "images per step")->capture_default_str();
  c->add_option("--lr", cfg.lr, "(peak) learning rate")->capture_default_str();
  c->add_option("--optimizer", cfg.optimizer, "sgd (momentum 0.9, nesterov), adam, adamw")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  c->add_option("--momentum", cfg.momentum, "SGD momentum")->capture_default_str();
  c->add_option("--weight-decay", cfg.weight_decay, "L2 (sgd, adam) or decoupled (adamw)")
      ->capture_default_str();
  c->add_option("--schedule", cfg.schedule,
                "lr schedule over all steps: onecycle, cosine, "
                "step (/10 at 50% and 75%), none")
      ->capture_default_str()
      ->check(CLI::IsMember({"onecycle", "cosine", "step", "none"}));
  c->add_option("--label-smoothing", cfg.label_smoothing, "cross-entropy label smoothing")
      ->capture_default_str();
  c->add_option("--clip-grad", cfg.clip_grad, "clip the gradient norm to this (0: off)")
      ->capture_default_str();
  c->add_option("--ema", cfg.ema, "EMA decay of the weights, e.g. 0.999 (0: off)")
      ->capture_default_str();
  c->add_flag("!--no-augment", cfg.augment, "no random crop / flip");
  c->add_option("--workers", cfg.workers, "data loader threads")->capture_default_str();
  c->add_option("--threads", cfg.threads,
                "compute threads (0: HEED_NUM_THREADS, else the cores not busy now)")
      ->capture_default_str();
  c->add_option("--seed", cfg.seed, "random seed (init, shuffle, augmentation)")
      ->capture_default_str();
  c->add_option("--max-batches", cfg.max_batches, "cut each epoch after N batches (0: all)")
      ->capture_default_str();
  c->add_option("--train-limit", cfg.train_limit, "use the first N training images (0: all)")
      ->capture_default_str();
  c->add_option("--test-limit", cfg.test_limit, "use the first N test images (0: all)")
      ->capture_default_str();
  c->add_option("--progress", cfg.progress, "auto (bar on a terminal), bar, lines, quiet")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "lines", "quiet"}));
}

}  // namespace

int run_command_line(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  CLI::App app{"heed: train neural nets and study attention modules (SE, CBAM, ECA, ...)", "heed"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");
  Action action;

  // ---------------------------------------------------------------- train
  RunConfig cfg;
  bool resume = false;
  CLI::App* train = app.add_subcommand(
      "train",
      "train a model; writes checkpoints, metrics, TensorBoard events and curves to --out");
  add_train_flags(train, cfg);
  train->add_option("--out", cfg.out, "output folder")->capture_default_str();
  train->add_flag("--resume", resume, "continue from OUT/last.safetensors");
  train->callback([&] {
    action = [&] {
      choose_threads(cfg.threads, out);
      apply_model_defaults(train, cfg);
      check_model_and_attention(cfg.model, cfg.attention);
      RunConfig c = cfg;
      if (resume && !train->count("--model")) {
        // Without flags, resume the run as configured.
        const std::string last = (fs::path(cfg.out) / "last.safetensors").string();
        HEED_CHECK(fs::exists(last), "--resume: no checkpoint at '", last, "'");
        RunConfig saved = config_from_checkpoint(last);
        saved.out = cfg.out;
        if (train->count("--epochs")) saved.epochs = cfg.epochs;
        if (train->count("--threads")) saved.threads = cfg.threads;
        if (train->count("--workers")) saved.workers = cfg.workers;
        if (train->count("--progress")) saved.progress = cfg.progress;
        c = saved;
      }
      (void)run_training(c, resume, out);
      return 0;
    };
  });

  // ----------------------------------------------------------------- eval
  std::string checkpoint, eval_dataset, eval_data;
  bool no_ema = false;
  int64_t eval_batch = 500;
  CLI::App* eval = app.add_subcommand(
      "eval", "evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix");
  eval->add_option("--checkpoint", checkpoint, "a .safetensors file written by heed train")
      ->required();
  eval->add_option("--dataset", eval_dataset, "default: the checkpoint's")
      ->check(CLI::IsMember(dataset_names()));
  eval->add_option("--data", eval_data, "dataset folder (default: the checkpoint's)");
  eval->add_option("--batch-size", eval_batch, "images per batch")->capture_default_str();
  eval->add_flag("--no-ema", no_ema, "use the raw weights even when the checkpoint has EMA ones");
  eval->callback([&] {
    action = [&] {
      RunConfig c;
      nn::AnyModule model = load_model(checkpoint, &c, !no_ema);
      const std::string ds = eval_dataset.empty() ? c.dataset : eval_dataset;
      const std::string dir = eval_data.empty() && eval_dataset.empty() ? c.data_dir : eval_data;
      auto test_set = open_dataset(ds, dir, false, c.image_size);
      data::DataLoader loader(*test_set, {.batch_size = eval_batch},
                              data::transforms::standard(*test_set, false));
      EvalResult r = evaluate(model, loader);
      std::fprintf(out, "%s on %s test (%lld images): accuracy %.2f%%, loss %.4f\n\n%s",
                   checkpoint.c_str(), ds.c_str(), static_cast<long long>(r.samples),
                   100 * r.accuracy, r.loss, r.confusion.table(test_set->classes()).c_str());
      return 0;
    };
  });

  // -------------------------------------------------------------- summary
  std::string sum_model = "resnet20", sum_attention = "none", sum_input = "1,28,28";
  int64_t sum_classes = 10, sum_width = 1;
  CLI::App* summary =
      app.add_subcommand("summary", "print a model's layers, output shapes, parameters and MACs");
  summary->add_option("--model", sum_model, "network")->capture_default_str();
  summary->add_option("--attention", sum_attention, "attention placement")->capture_default_str();
  summary->add_option("--input", sum_input, "input C,H,W")->capture_default_str();
  summary->add_option("--classes", sum_classes, "number of classes")->capture_default_str();
  summary->add_option("--width", sum_width, "resnet channel multiplier")->capture_default_str();
  summary->callback([&] {
    action = [&] {
      check_model_and_attention(sum_model, sum_attention);
      std::vector<int64_t> chw;
      for (const std::string& s : CLI::detail::split(sum_input, ',')) {
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        HEED_CHECK(!s.empty() && *end == '\0' && v > 0,
                   "--input must be C,H,W (positive "
                   "integers), got '",
                   sum_input, "'");
        chw.push_back(v);
      }
      HEED_CHECK(chw.size() == 3, "--input must be C,H,W, got '", sum_input, "'");
      nn::AnyModule model = create_model({.name = sum_model,
                                          .in_channels = chw[0],
                                          .num_classes = sum_classes,
                                          .image_size = chw[1],
                                          .attention = sum_attention,
                                          .width = sum_width});
      nn::Summary s = nn::summary(model, {1, chw[0], chw[1], chw[2]});
      std::string table = s.table();
      if (!table.empty() && table.back() != '\n') table += '\n';
      std::fprintf(out, "%s", table.c_str());
      return 0;
    };
  });

  // ----------------------------------------------------------- experiment
  RunConfig exp_cfg;
  exp_cfg.attention = "none";
  exp_cfg.out = "runs/experiment";
  exp_cfg.progress = "lines";
  std::string grid;
  int64_t seeds = 1;
  CLI::App* exp =
      app.add_subcommand("experiment",
                         "train a grid of settings x seeds one after another (resumable) and write "
                         "results.csv, results.md and SVG charts to --out");
  exp->add_option("--grid", grid,
                  "e.g. \"attention=none,se,cbam,eca,coord; pos=standard,post\" (keys: train "
                  "settings, pos, stages, blocks)")
      ->required();
  exp->add_option("--seeds", seeds, "seeds per grid point")->capture_default_str();
  add_train_flags(exp, exp_cfg);
  exp->add_option("--out", exp_cfg.out, "output folder")->capture_default_str();
  exp->callback([&] {
    action = [&] {
      choose_threads(exp_cfg.threads, out);
      apply_model_defaults(exp, exp_cfg);
      check_model_and_attention(exp_cfg.model, exp_cfg.attention);
      (void)run_experiment(exp_cfg, grid, seeds, exp_cfg.out, out);
      return 0;
    };
  });

  // ------------------------------------------------------------ gradcheck
  std::string gc_module, gc_op;
  bool gc_all = false, gc_ops = false, gc_modules = false;
  CLI::App* gc = app.add_subcommand(
      "gradcheck", "float64 finite-difference check of every op and attention module's gradients");
  gc->add_option("--module", gc_module, "check one registered attention module");
  gc->add_option("--op", gc_op, "check one op of the op table");
  gc->add_flag("--all", gc_all, "every op and every module (the default)");
  gc->add_flag("--ops", gc_ops, "every op");
  gc->add_flag("--modules", gc_modules, "every registered attention module");
  gc->callback([&] {
    action = [&] {
      GradcheckSuiteOptions o;
      if (!gc_module.empty()) {
        (void)attention::info(gc_module);  // unknown names list the valid ones
        o = {.ops = false, .modules = true, .only = gc_module};
      } else if (!gc_op.empty()) {
        bool known = false;
        for (const auto& c : op_gradcheck_cases()) known = known || c.name == gc_op;
        HEED_CHECK(known, "gradcheck: no case for op '", gc_op, "' (see 'heed gradcheck --ops')");
        o = {.ops = true, .modules = false, .only = gc_op};
      } else if (gc_ops != gc_modules) {
        o = {.ops = gc_ops, .modules = gc_modules};
      }
      auto rows = run_gradcheck_suite(o, [&](const GradcheckRow& r) {
        if (isatty(fileno(err)))
          std::fprintf(err, "\r\033[K%s %s: %s", r.kind.c_str(), r.name.c_str(),
                       r.ok ? "ok" : "FAIL");
      });
      if (isatty(fileno(err))) std::fprintf(err, "\r\033[K");
      std::fprintf(out, "%s", gradcheck_table(rows).c_str());
      const std::vector<std::string> missing = ops_without_gradcheck_case();
      if (o.ops && o.only.empty() && !missing.empty())
        std::fprintf(out, "ops without a case: %s\n", join(missing).c_str());
      for (const auto& r : rows)
        if (!r.ok) return 1;
      return 0;
    };
  });

  // -------------------------------------------------------- attention-map
  std::string am_ckpt, am_image, am_dataset, am_data, am_out = "attention_maps";
  int64_t am_index = 0, am_scale = 8;
  CLI::App* am = app.add_subcommand(
      "attention-map", "draw a trained model's attention maps over an input image (PNG heatmaps)");
  am->add_option("--checkpoint", am_ckpt, "a .safetensors file written by heed train")->required();
  CLI::Option* img_opt = am->add_option("--image", am_image, "a PNG/JPEG/BMP image");
  am->add_option("--dataset", am_dataset,
                 "take the image from this test set (default: the "
                 "checkpoint's)")
      ->excludes(img_opt)
      ->check(CLI::IsMember(dataset_names()));
  am->add_option("--data", am_data, "dataset folder")->excludes(img_opt);
  am->add_option("--index", am_index, "test image index")->capture_default_str()->excludes(img_opt);
  am->add_option("--scale", am_scale, "enlarge the picture this many times")->capture_default_str();
  am->add_option("--out", am_out, "output folder")->capture_default_str();
  am->callback([&] {
    action = [&] {
      AttentionMapResult r =
          attention_map(am_ckpt, am_image, am_dataset, am_data, am_index, am_out, am_scale);
      auto cls = [&](int64_t k) {
        return k >= 0 && size_t(k) < r.classes.size() ? r.classes[size_t(k)] : std::to_string(k);
      };
      std::fprintf(out, "predicted %s (p = %.3f)", cls(r.predicted).c_str(), r.confidence);
      if (r.label >= 0) std::fprintf(out, ", true class %s", cls(r.label).c_str());
      std::fprintf(out, "\n%zu maps:\n", r.maps.size());
      for (const auto& f : r.files) std::fprintf(out, "  %s\n", f.c_str());
      return 0;
    };
  });

  // ---------------------------------------------------------------- bench
  BenchOptions bo;
  bool bench_line = false;
  CLI::App* bench = app.add_subcommand(
      "bench",
      "training and inference throughput of a model on random data (img/s, peak RSS), measured "
      "as bench/torch/bench_torch.py measures PyTorch");
  bench->add_option("--model", bo.model, "network")->capture_default_str();
  bench->add_option("--attention", bo.attention, "attention placement")->capture_default_str();
  bench->add_option("--input", bo.input, "input C,H,W")->capture_default_str();
  bench->add_option("--mode", bo.mode, "train, infer or both")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "infer", "both"}));
  bench->add_option("--batch-size", bo.batch_size, "images per step")->capture_default_str();
  bench->add_option("--warmup", bo.warmup, "untimed steps first")->capture_default_str();
  bench->add_option("--reps", bo.reps, "timed repetitions wanted undisturbed by other processes")
      ->capture_default_str();
  bench->add_option("--steps", bo.steps, "steps per repetition (0: 5 train, 10 infer)")
      ->capture_default_str();
  bench
      ->add_option("--threads", bo.threads,
                   "compute threads (0: HEED_NUM_THREADS, else the cores not busy now)")
      ->capture_default_str();
  bench->add_flag("--profile", bo.profile,
                  "then profile training steps: time per op, forward and backward (also "
                  "HEED_PROFILE=1)");
  bench->add_flag("--line", bench_line, "one line of key=value pairs per mode (for scripts)");
  bench->callback([&] {
    action = [&] {
      choose_threads(bo.threads, nullptr);
      check_model_and_attention(bo.model, bo.attention);
      BenchResult r = bench_model(bo);
      const std::string text = bench_line ? r.lines() : r.str() + "\n";
      std::fputs(text.c_str(), out);
      return 0;
    };
  });

  // ---------------------------------------------------------------- parse
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    std::fprintf(
        out, "%s",
        (app.get_subcommands().empty() ? app.help() : app.get_subcommands()[0]->help()).c_str());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fprintf(out, "%s", app.help("", CLI::AppFormatMode::All).c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string sub =
        app.get_subcommands().empty() ? "" : " " + app.get_subcommands()[0]->get_name();
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    for (char& ch : msg)
      if (ch == '\n') ch = ' ';
    std::fprintf(err, "heed%s: error: %s (see 'heed%s --help')\n", sub.c_str(), msg.c_str(),
                 sub.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(err, "heed: error: %s\n", e.what());
    return 2;
  }
  try {
    return action ? action() : 0;
  } catch (const NonFiniteError& e) {
    std::string last = (fs::path(cfg.out) / "last.safetensors").string();
    std::fprintf(err, "heed: %s; %s\n", e.what(),
                 fs::exists(last) ? ("the last good checkpoint is " + last).c_str()
                                  : "no checkpoint was written yet");
    return 1;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (char& ch : msg)
      if (ch == '\n') ch = ' ';
    std::fprintf(err, "heed: error: %s\n", msg.c_str());
    return 1;
  }
}

}  // namespace heed::train

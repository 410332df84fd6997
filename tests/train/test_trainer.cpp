// Trainer: exact resume from a checkpoint, non-finite stops, EMA,
// callbacks and evaluation metrics.
#include <cmath>
#include <fstream>

#include "core/generator.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "optim/lr_scheduler.h"
#include "optim/sgd.h"
#include "train/callbacks.h"
#include "train/trainer.h"
#include "train_test_util.h"

using namespace heed;
using namespace heed::train;
using heed::testing::tiny_dataset;
using heed::testing::TrainTempDir;

namespace {

// conv-BN-ReLU-pool-dropout-linear: BN buffers, dropout draws from the
// default generator, so resuming needs every piece of state.
class TinyNetImpl : public nn::Module {
 public:
  TinyNetImpl() {
    conv = register_module("conv", nn::Conv2d(1, 4, 3, {.padding = 1}));
    bn = register_module("bn", nn::BatchNorm2d(4));
    drop = register_module("drop", nn::Dropout(0.2));
    fc = register_module("fc", nn::Linear(4 * 4 * 4, 2));
  }
  Tensor forward(const Tensor& x) {
    Tensor h = max_pool2d(relu(bn(conv(x))), {.kernel_size = {2, 2}, .stride = std::nullopt});
    return fc(drop(flatten(h, 1)));
  }
  nn::Conv2d conv{nullptr};
  nn::BatchNorm2d bn{nullptr};
  nn::Dropout drop{nullptr};
  nn::Linear fc{nullptr};
};
HEED_MODULE(TinyNet);

data::transforms::Compose augment() {
  using namespace data::transforms;
  return Compose{RandomCrop(8, 1), RandomHorizontalFlip(), ToFloat()};
}

// Everything a run needs, built the same way each time.
struct Setup {
  TinyNet model;
  optim::SGD opt;
  optim::OneCycleLR schedule;
  Trainer trainer;
  Setup(uint64_t init_seed, int64_t epochs, int64_t steps_per_epoch, double ema)
      : model((manual_seed(init_seed), TinyNet())),
        opt(model->named_parameters(),
            {.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4}),
        schedule(opt, 0.1, {.total_steps = epochs * steps_per_epoch}),
        trainer(model, opt, &schedule,
                {.label_smoothing = 0.1, .clip_grad_norm = 1.0, .ema_decay = ema}) {}
};

void require_bit_identical(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    const Tensor& u = b.at(name);
    REQUIRE(t.shape() == u.shape());
    REQUIRE(t.dtype() == u.dtype());
    if (t.is_floating_point())
      CHECK(t.to_vector<double>() == u.to_vector<double>());
    else
      CHECK(t.to_vector<int64_t>() == u.to_vector<int64_t>());
  }
}

}  // namespace

TEST_CASE("A run resumed from a checkpoint is bit-identical to an uninterrupted one",
          "[train][trainer][checkpoint]") {
  TrainTempDir dir;
  auto train_set = tiny_dataset(64, 1);
  auto val_set = tiny_dataset(32, 2);
  const int64_t epochs = 3;
  for (double ema : {0.0, 0.9}) {
    INFO("ema " << ema);
    data::DataLoader loader(
        train_set, {.batch_size = 16, .shuffle = true, .num_workers = 2, .seed = 11}, augment());
    data::DataLoader val(val_set, {.batch_size = 32},
                         data::transforms::Compose{data::transforms::ToFloat()});
    const int64_t steps = loader.size();

    // Uninterrupted.
    Setup a(5, epochs, steps, ema);
    a.trainer.fit(loader, &val, epochs);
    const Generator ga = default_generator();

    // Interrupted after epoch 1, then resumed in fresh objects built from
    // another seed, with the default generator disturbed in between.
    Setup b(5, epochs, steps, ema);
    b.trainer.fit(loader, &val, 1);
    const std::string ckpt = dir / "last.safetensors";
    b.trainer.save_checkpoint(ckpt, {{"note", "test"}});
    (void)randn({100});
    Setup c(99, epochs, steps, ema);
    nn::Metadata md = c.trainer.load_checkpoint(ckpt);
    CHECK(md.at("note") == "test");
    CHECK(c.trainer.epoch() == 1);
    CHECK(c.trainer.step() == steps);
    c.trainer.fit(loader, &val, epochs);

    require_bit_identical(a.model->state_dict(), c.model->state_dict());
    CHECK(default_generator().counter() == ga.counter());
    CHECK(c.schedule.last_epoch() == a.schedule.last_epoch());
    CHECK(c.opt.param_groups()[0].options.lr == a.opt.param_groups()[0].options.lr);
    REQUIRE(c.trainer.history().size() == 3);
    CHECK(c.trainer.history()[2].train_loss == a.trainer.history()[2].train_loss);
    CHECK(c.trainer.history()[2].val_accuracy == a.trainer.history()[2].val_accuracy);
    if (ema > 0) {
      a.trainer.swap_ema();
      c.trainer.swap_ema();
      require_bit_identical(a.model->state_dict(), c.model->state_dict());
    }
  }
}

TEST_CASE("Checkpoints that do not fit the trainer are clear errors",
          "[train][trainer][checkpoint]") {
  TrainTempDir dir;
  Setup a(1, 1, 4, 0.0);
  a.trainer.save_checkpoint(dir / "a.safetensors");
  Setup with_ema(1, 1, 4, 0.9);
  CHECK_THROWS_WITH(with_ema.trainer.load_checkpoint(dir / "a.safetensors"),
                    Catch::Contains("has no EMA weights"));
  // A plain weights file is not a training checkpoint.
  nn::save(*a.model, dir / "weights.safetensors");
  CHECK_THROWS_WITH(a.trainer.load_checkpoint(dir / "weights.safetensors"),
                    Catch::Contains("is not a heed training checkpoint"));
  CHECK_THROWS_WITH(a.trainer.load_checkpoint(dir / "missing.safetensors"),
                    Catch::Contains("missing.safetensors"));
  {
    std::ofstream f(dir / "junk.safetensors");
    f << "not a safetensors file";
  }
  CHECK_THROWS(a.trainer.load_checkpoint(dir / "junk.safetensors"));
}

namespace {
// logits = fc(x) + 0 * sqrt(p) with p = 0: the loss is finite, but
// d/dp = 0 * 0.5 / sqrt(0) = NaN.
class BadGradImpl : public nn::Module {
 public:
  BadGradImpl() {
    fc = register_module("fc", nn::Linear(64, 2));
    p = register_parameter("p", zeros({1}));
  }
  Tensor forward(const Tensor& x) { return fc(flatten(x, 1)) + sqrt(p) * 0.0; }
  nn::Linear fc{nullptr};
  Tensor p;
};
HEED_MODULE(BadGrad);
}  // namespace

TEST_CASE("A non-finite loss or gradient stops the run naming the step and parameter",
          "[train][trainer][nonfinite]") {
  TrainTempDir dir;
  auto set = tiny_dataset(32);
  data::DataLoader loader(set, {.batch_size = 8},
                          data::transforms::Compose{data::transforms::ToFloat()});
  SECTION("gradient") {
    BadGrad model;
    optim::SGD opt(model->named_parameters(), {.lr = 0.1});
    Trainer t(model, opt, nullptr);
    auto ck = std::make_shared<Checkpointer>(dir.path().string());
    t.add_callback(ck);
    CHECK_THROWS_AS(t.fit(loader, nullptr, 2), NonFiniteError);
    CHECK_THROWS_WITH(t.fit(loader, nullptr, 2),
                      Catch::StartsWith("training stopped at epoch 1, step 1: the gradient of "
                                        "'p' [1] at flat index 0 is not finite (loss "));
    CHECK(t.step() == 0);
    CHECK(!std::filesystem::exists(ck->last_path()));  // nothing good to keep yet
  }
  SECTION("loss") {
    TinyNet model;
    optim::SGD opt(model->named_parameters(), {.lr = 1e30});
    Trainer t(model, opt, nullptr);
    auto ck = std::make_shared<Checkpointer>(dir.path().string());
    t.add_callback(ck);
    // The first epoch is fine with a sane lr; then an absurd one blows up.
    opt.param_groups()[0].options.lr = 0.01;
    t.fit(loader, nullptr, 1);
    REQUIRE(std::filesystem::exists(ck->last_path()));
    opt.param_groups()[0].options.lr = 1e30;
    try {
      t.fit(loader, nullptr, 3);
      FAIL("expected NonFiniteError");
    } catch (const NonFiniteError& e) {
      std::string msg = e.what();
      CHECK_THAT(msg, Catch::Contains("training stopped at epoch 2, step "));
      CHECK_THAT(msg, Catch::Contains("not finite") || Catch::Contains("the loss is"));
    }
    CHECK(t.epoch() == 1);  // the failing epoch does not count
    // The last good checkpoint is still the one after epoch 1.
    TinyNet m2;
    optim::SGD o2(m2->named_parameters(), {.lr = 0.1});
    Trainer t2(m2, o2, nullptr);
    t2.load_checkpoint(ck->last_path());
    CHECK(t2.epoch() == 1);
    for (const auto& [name, p] : m2->named_parameters()) {
      INFO(name);
      for (float v : p.to_vector<float>()) CHECK(std::isfinite(v));
    }
  }
}

TEST_CASE("fit() learns a simple task and the callbacks see every epoch", "[train][trainer]") {
  TrainTempDir dir;
  auto train_set = tiny_dataset(128, 3);
  auto val_set = tiny_dataset(64, 4);
  // (No flips here: they would swap the two classes.)
  data::DataLoader loader(
      train_set, {.batch_size = 16, .shuffle = true, .seed = 1},
      data::transforms::Compose{data::transforms::RandomCrop(8, 1), data::transforms::ToFloat()});
  data::DataLoader val(val_set, {.batch_size = 64},
                       data::transforms::Compose{data::transforms::ToFloat()});
  manual_seed(0);
  TinyNet model;
  optim::SGD opt(model->named_parameters(), {.lr = 0.05, .momentum = 0.9});
  auto csv = std::make_shared<CSVLogger>(dir / "m.csv");
  auto plot = std::make_shared<CurvesPlot>(dir / "c.svg");
  auto history = fit(model, loader, &val, opt, nullptr, 4, {}, {csv, plot});
  REQUIRE(history.size() == 4);
  CHECK(history.back().val_accuracy >= 0.95);
  CHECK(history.back().train_loss < history.front().train_loss);
  CHECK(history.back().step == 4 * loader.size());
  CHECK(history.back().cpu_seconds > 0);
  std::ifstream f(dir / "m.csv");
  std::string header, line;
  std::getline(f, header);
  CHECK_THAT(header, Catch::StartsWith("epoch,step,train_loss"));
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  CHECK(rows == 4);
  CHECK(std::filesystem::exists(dir / "c.svg"));
}

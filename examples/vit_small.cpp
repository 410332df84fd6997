// A small Vision Transformer (patch 4 -> 7×7 tokens + cls, dim 96, depth 4,
// 3 heads) on Fashion-MNIST with AdamW, linear warm-up then cosine decay,
// label smoothing and gradient clipping, through the Trainer. Pass the
// number of epochs (default 1) as the first argument.
#include <cstdio>
#include <cstdlib>

#include "data/data.h"
#include "optim/optim.h"
#include "train/train.h"

using namespace heed;

int main(int argc, char** argv) {
  const int64_t epochs = argc > 1 ? std::atoll(argv[1]) : 1;
  manual_seed(0);
  data::FashionMNIST train_set(true), test_set(false);
  data::DataLoader train_loader(train_set, {.batch_size = 128, .shuffle = true, .num_workers = 1},
                                data::transforms::standard(train_set, true));
  data::DataLoader test_loader(test_set, {.batch_size = 500},
                               data::transforms::standard(test_set, false));

  train::ViT vit({.image_size = 28,
                  .patch_size = 4,
                  .in_channels = 1,
                  .num_classes = 10,
                  .dim = 96,
                  .depth = 4,
                  .heads = 3,
                  .mlp_ratio = 2.0});
  optim::AdamW opt(optim::param_groups_no_decay(vit->named_parameters(), 0.05), {.lr = 2e-3});
  const int64_t steps = epochs * train_loader.size(), warmup = std::max<int64_t>(1, steps / 10);
  optim::LinearWarmup schedule(std::make_unique<optim::CosineAnnealingLR>(opt, steps - warmup),
                               warmup, 0.01);
  train::Trainer trainer(vit, opt, &schedule, {.label_smoothing = 0.1, .clip_grad_norm = 1.0});
  trainer.add_callback(std::make_shared<train::ProgressBar>());
  trainer.add_callback(std::make_shared<train::CurvesPlot>("runs/vit_small/curves.svg", "ViT"));
  trainer.fit(train_loader, &test_loader, epochs);
  std::printf("%s\ntest accuracy %.2f%%\n",
              trainer.last_eval().confusion.table(train_set.classes()).c_str(),
              100 * trainer.last_eval().accuracy);
}

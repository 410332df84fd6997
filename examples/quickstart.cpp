// Quickstart: a small CNN with Squeeze-and-Excitation after each conv,
// trained for one epoch on Fashion-MNIST (Debian's files, no download) with
// a plain loop, then evaluated on the test set. About a minute on 2 cores.
#include <cstdio>

#include <heed.h>

#include "attention/attention.h"
#include "data/data.h"
#include "train/train.h"

using namespace heed;

int main() {
  data::FashionMNIST train_set(/*train=*/true), test_set(/*train=*/false);
  data::DataLoader train_loader(train_set, {.batch_size = 128, .shuffle = true, .num_workers = 1},
                                data::transforms::standard(train_set, /*augment=*/true));
  data::DataLoader test_loader(test_set, {.batch_size = 500},
                               data::transforms::standard(test_set, /*augment=*/false));

  // conv-BN-ReLU-SE-pool twice, then a linear classifier.
  auto model = train::SimpleCNN({.in_channels = 1, .attention = attention::Placement::parse("se")});
  optim::SGD opt(model->named_parameters(),
                 {.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 5e-4});

  int step = 0;
  for (auto& [x, y] : train_loader) {  // x (128, 1, 28, 28), y (128)
    Tensor loss = cross_entropy(model(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (++step % 100 == 0) std::printf("step %d  loss %.4f\n", step, loss.item());
  }

  model->eval();  // BatchNorm uses its running statistics from here on
  NoGradGuard no_grad;
  train::ConfusionMatrix cm(10);
  for (auto& [x, y] : test_loader) cm.add(model(x), y);
  std::printf("test accuracy %.2f%%\n", 100 * cm.accuracy());
}

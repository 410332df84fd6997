// Placement study: the same SE module wired into ResNet-8's residual blocks
// in the four ways of the SE paper (standard, pre, post, identity), each
// trained on a 10,000-image slice of Fashion-MNIST for one epoch. Prints
// parameters, MACs and test accuracy per position. (The command-line
// equivalent over full data: heed experiment --grid "pos=standard,pre,post,identity"
// --attention se --model resnet8.)
#include <cstdio>
#include <string>

#include "train/train.h"

using namespace heed;

int main(int argc, char** argv) {
  const int64_t images = argc > 1 ? std::atoll(argv[1]) : 10000;
  std::printf("%-10s %9s %9s %9s %9s\n", "position", "params", "M MACs", "img/s", "accuracy");
  for (const char* pos : {"standard", "pre", "post", "identity"}) {
    train::RunConfig cfg;  // SGD + one-cycle, batch 128, augmentation
    cfg.model = "resnet8";
    cfg.attention = std::string("se:pos=") + pos;
    cfg.epochs = 1;
    cfg.train_limit = images;
    cfg.out = std::string("runs/placement_study/") + pos;
    cfg.progress = "quiet";
    train::RunResult r = train::run_training(cfg, /*resume=*/false, /*log=*/nullptr);
    std::printf("%-10s %9lld %9.2f %9.0f %8.2f%%\n", pos, static_cast<long long>(r.params),
                double(r.macs) / 1e6, r.images_per_second, 100 * r.test_accuracy);
  }
}

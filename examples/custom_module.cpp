// Your own attention module: define it, check its gradients the way heed's
// tests do, and train a network that uses it.
//
// "GateSA" is a minimal spatial gate: a 3×3 conv over the channel mean and
// max gives one (B, 1, H, W) map, and the input is scaled by its sigmoid.
#include <cstdio>

#include <heed.h>

#include "attention/attention_module.h"
#include "data/data.h"
#include "train/train.h"

using namespace heed;

class GateSAImpl : public attention::AttentionModuleImpl {
 public:
  explicit GateSAImpl(int64_t kernel_size = 3) {
    conv = register_module("conv", nn::Conv2d(2, 1, kernel_size, {.padding = kernel_size / 2}));
  }
  Tensor forward(const Tensor& x) override {                           // x (B, C, H, W)
    Tensor pooled = cat({mean(x, {1}, true), amax(x, {1}, true)}, 1);  // (B, 2, H, W)
    Tensor gate = sigmoid(conv(pooled));                               // (B, 1, H, W)
    keep_map("spatial", gate);  // for `heed attention-map`-style pictures
    return x * gate;
  }
  nn::Conv2d conv{nullptr};
};
HEED_MODULE(GateSA);

int main() {
  // 1. Gradients against finite differences, in float64.
  GateSA gate;
  gate->to(kFloat64);
  Tensor x = randn({2, 4, 5, 5}, kFloat64).requires_grad_();
  std::vector<Tensor> inputs{x, gate->conv->weight, gate->conv->bias};
  GradcheckReport report =
      gradcheck([&](const std::vector<Tensor>& in) { return gate->forward(in[0]); }, inputs);
  std::printf("%s\n", report.message.c_str());
  if (!report.ok) return 1;

  // 2. A network with the gate after each conv block, trained with the Trainer.
  manual_seed(0);
  nn::Sequential net(nn::Conv2d(1, 32, 3, {.padding = 1}), nn::BatchNorm2d(32), nn::ReLU(),
                     GateSA(), nn::MaxPool2d(2),  // (B, 32, 14, 14)
                     nn::Conv2d(32, 64, 3, {.padding = 1}), nn::BatchNorm2d(64), nn::ReLU(),
                     GateSA(), nn::AdaptiveAvgPool2d(1), nn::Flatten(), nn::Linear(64, 10));
  data::FashionMNIST train_set(true), test_set(false);
  data::DataLoader train_loader(train_set, {.batch_size = 128, .shuffle = true, .num_workers = 1},
                                data::transforms::standard(train_set, true));
  data::DataLoader test_loader(test_set, {.batch_size = 500},
                               data::transforms::standard(test_set, false));
  optim::SGD opt(net->named_parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4});
  optim::OneCycleLR schedule(opt, 0.05, {.total_steps = train_loader.size()});
  train::Trainer trainer(net, opt, &schedule);
  trainer.add_callback(std::make_shared<train::ProgressBar>());
  trainer.fit(train_loader, &test_loader, /*epochs=*/1);
  std::printf("test accuracy %.2f%%\n", 100 * trainer.last_eval().accuracy);
}

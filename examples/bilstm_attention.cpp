// Sequential Fashion-MNIST: each image's 28 rows are 28 time steps of 28
// pixels, read by a bidirectional LSTM whose outputs are pooled with
// softmax attention (c = Σ_t α_t h_t). After training, the attention over
// rows of one test image is printed as a bar per row. Pass the number of
// epochs (default 1) as the first argument.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/data.h"
#include "optim/optim.h"
#include "train/train.h"

using namespace heed;

int main(int argc, char** argv) {
  const int64_t epochs = argc > 1 ? std::atoll(argv[1]) : 1;
  manual_seed(0);
  data::FashionMNIST train_set(true), test_set(false);
  data::DataLoader train_loader(train_set, {.batch_size = 128, .shuffle = true, .num_workers = 1},
                                data::transforms::standard(train_set, false));
  data::DataLoader test_loader(test_set, {.batch_size = 500},
                               data::transforms::standard(test_set, false));

  train::BiLSTMAttention model(
      {.input_size = 28, .hidden_size = 128, .num_classes = 10, .attn_dim = 64});
  optim::Adam opt(model->named_parameters(), {.lr = 2e-3});
  optim::OneCycleLR schedule(opt, 2e-3, {.total_steps = epochs * train_loader.size()});
  train::Trainer trainer(model, opt, &schedule, {.clip_grad_norm = 1.0});
  trainer.add_callback(std::make_shared<train::ProgressBar>());
  trainer.fit(train_loader, &test_loader, epochs);
  std::printf("test accuracy %.2f%%\n", 100 * trainer.last_eval().accuracy);

  // Where does the model look? Attention weights over the rows of one image.
  model->eval();
  model->attention->set_keep_maps(true);
  NoGradGuard no_grad;
  data::Batch b = test_loader.batch(0, 0);
  Tensor logits = model(narrow(b.x, 0, 0, 1));
  Tensor alpha = model->attention->maps().at("weights");  // (1, 28)
  std::vector<float> a = alpha.to_vector<float>();
  std::printf("image 0 (%s), predicted %s; attention per row:\n",
              train_set.classes()[size_t(b.y.to_vector<int64_t>()[0])].c_str(),
              train_set.classes()[size_t(argmax(logits, 1).item())].c_str());
  for (size_t t = 0; t < a.size(); ++t)
    std::printf("  row %2zu %5.3f %s\n", t, a[t], std::string(size_t(a[t] * 200), '#').c_str());
}

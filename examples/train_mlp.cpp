// The smallest end-to-end run: a 2-layer MLP learns to classify points from
// three Gaussian blobs, with plain ops and a hand-written SGD step. It prints
// the loss falling and the final accuracy.
#include <cmath>
#include <cstdio>

#include <heed.h>

using namespace heed;

int main() {
  manual_seed(0);
  const int64_t n = 600, classes = 3, hidden = 32;

  // Data: three blobs around (2, 0), (-1, 1.7), (-1, -1.7).
  Tensor centers = tensor({2, 0, -1, 1.7, -1, -1.7}).reshape({classes, 2});
  std::vector<int64_t> label_values(n);
  for (int64_t i = 0; i < n; ++i) label_values[size_t(i)] = i % classes;
  Tensor labels = from_vector(label_values);                          // (n) int64
  Tensor x = index_select(centers, 0, labels) + randn({n, 2}) * 0.6;  // (n, 2)

  // Parameters, initialised like PyTorch's Linear (uniform ±1/sqrt(fan_in)).
  auto param = [](Shape shape, int64_t fan_in) {
    Tensor t = rand(shape) * (2.0 / std::sqrt(double(fan_in))) - 1.0 / std::sqrt(double(fan_in));
    return t.requires_grad_();
  };
  Tensor w1 = param({hidden, 2}, 2), b1 = param({hidden}, 2);
  Tensor w2 = param({classes, hidden}, hidden), b2 = param({classes}, hidden);
  std::vector<Tensor> params = {w1, b1, w2, b2};

  const double lr = 0.5;
  for (int step = 0; step <= 200; ++step) {
    Tensor logits = linear(relu(linear(x, w1, b1)), w2, b2);  // (n, classes)
    Tensor loss = cross_entropy(logits, labels);
    for (Tensor& p : params) p.set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard no_grad;
      for (Tensor& p : params) p.add_(p.grad(), -lr);
    }
    if (step % 25 == 0) {
      NoGradGuard no_grad;
      double acc = mean(eq(argmax(logits, 1), labels).to(kFloat32)).item();
      std::printf("step %3d  loss %.4f  accuracy %.1f%%\n", step, loss.item(), 100 * acc);
    }
  }
  return 0;
}

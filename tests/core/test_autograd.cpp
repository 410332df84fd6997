// The autograd engine: accumulation, retain_graph, no_grad, detach, deep
// chains, errors, and no leaks.
#include <catch2/catch.hpp>

#include "core/heed_core.h"

using namespace heed;

TEST_CASE("gradients accumulate through shared subexpressions", "[autograd]") {
  Tensor x = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor y = x * x;           // used twice below
  Tensor z = sum(y + y * x);  // d/dx (x^2 + x^3) = 2x + 3x^2
  z.backward();
  std::vector<double> g = x.grad().to_vector<double>();
  CHECK(g == std::vector<double>{2 + 3, 4 + 12, 6 + 27});
}

TEST_CASE("accumulating in place never writes into a gradient another buffer shares",
          "[autograd]") {
  // add's backward hands one tensor to both p's and q's buffers; more
  // gradient then reaches each of them (and x itself, through a view).
  Tensor x = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor p = x * 2.0, q = x * 3.0;
  Tensor out = (p + q) + p * 5.0 + q * 7.0 + x.reshape({3, 1}).squeeze(1) * 11.0;
  sum(out * tensor({1.0, 10.0, 100.0}, kFloat64)).backward();
  // d/dx = 2·(1 + 5) + 3·(1 + 7) + 11 = 47, times the weights.
  CHECK(x.grad().to_vector<double>() == std::vector<double>{47, 470, 4700});
}

TEST_CASE("leaf gradients accumulate across backward calls", "[autograd]") {
  Tensor x = tensor({1.0, -2.0}, kFloat64).requires_grad_();
  sum(x * 3.0).backward();
  sum(x * 2.0).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{5, 5});
}

TEST_CASE("backward twice needs retain_graph", "[autograd]") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  std::vector<double> g = x.grad().to_vector<double>();
  CHECK(g[0] == Approx(2 * std::exp(1.0)));
  Tensor w = sum(exp(x));
  w.backward();
  CHECK_THROWS_WITH(w.backward(), Catch::Contains("second time"));
}

TEST_CASE("backward errors name the problem", "[autograd]") {
  Tensor x = tensor({1.0, 2.0});
  CHECK_THROWS_WITH(sum(x).backward(), Catch::Contains("does not require grad"));
  Tensor y = tensor({1.0, 2.0}).requires_grad_();
  Tensor z = y * 2.0;
  CHECK_THROWS_WITH(z.backward(), Catch::Contains("only for one-element outputs"));
  CHECK_THROWS_WITH(z.backward(ones({3})), Catch::Contains("gradient has shape [3]"));
}

TEST_CASE("no_grad and detach stop recording", "[autograd]") {
  Tensor x = tensor({1.0}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
  }
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("a 10,000-op chain neither overflows the stack nor leaks", "[autograd]") {
  int64_t before = live_tensor_count();
  {
    Tensor x = tensor({0.5}, kFloat64).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 10000; ++i) y = y * 1.0001 + 0.0;
    y.backward();
    CHECK(x.grad().item() == Approx(std::pow(1.0001, 10000)));
  }
  // A graph that is never backpropagated is freed iteratively too.
  {
    Tensor x = tensor({0.5}).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0;
  }
  CHECK(live_tensor_count() == before);
}

TEST_CASE("a training loop keeps the live-tensor count constant", "[autograd]") {
  Tensor w = randn({4, 3}, kFloat64).requires_grad_();
  Tensor x = randn({8, 4}, kFloat64);
  int64_t count_at_step_1 = 0, count_at_last = 0;
  for (int step = 0; step < 1000; ++step) {
    Tensor loss = mean(pow(sum(x.reshape({8, 4, 1}) * w, {1}), 2.0));
    w.set_grad(Tensor());
    loss.backward();
    {
      NoGradGuard g;
      w.add_(w.grad(), -0.01);
    }
    if (step == 1) count_at_step_1 = live_tensor_count();
    if (step == 999) count_at_last = live_tensor_count();
  }
  CHECK(count_at_step_1 > 0);
  CHECK(count_at_last == count_at_step_1);
}

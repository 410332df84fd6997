// nn::init: gains and fans as PyTorch, bounds and moments of each
// initialiser, seeded generators, and errors.
#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;
using Catch::Contains;
namespace init = heed::nn::init;

namespace {
struct Moments {
  double mean = 0, std = 0, min = 1e300, max = -1e300;
};
Moments moments(const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  Moments m;
  for (double x : v) {
    m.mean += x / double(v.size());
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  for (double x : v) m.std += (x - m.mean) * (x - m.mean) / double(v.size());
  m.std = std::sqrt(m.std);
  return m;
}
}  // namespace

TEST_CASE("calculate_gain and fans follow torch.nn.init", "[nn][init]") {
  CHECK(init::calculate_gain("linear") == 1.0);
  CHECK(init::calculate_gain("conv2d") == 1.0);
  CHECK(init::calculate_gain("sigmoid") == 1.0);
  CHECK(init::calculate_gain("tanh") == Approx(5.0 / 3));
  CHECK(init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("leaky_relu") == Approx(std::sqrt(2.0 / (1 + 0.01 * 0.01))));
  CHECK(init::calculate_gain("leaky_relu", 0.2) == Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3)));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK_THROWS_WITH(init::calculate_gain("swish"), Contains("unsupported nonlinearity \"swish\""));
  // (out, in, kh, kw) = (16, 8, 3, 3): fan_in 72, fan_out 144.
  auto [fi, fo] = init::calculate_fan_in_and_fan_out(empty({16, 8, 3, 3}));
  CHECK(fi == 72);
  CHECK(fo == 144);
  CHECK_THROWS_WITH(init::calculate_fan_in_and_fan_out(empty({5})),
                    Contains("fewer than 2 dimensions (shape [5])"));
}

TEST_CASE("initialisers draw from the documented distributions", "[nn][init]") {
  Generator gen(17);
  Tensor w = empty({200, 100});  // fan_in 100, fan_out 200
  // kaiming_uniform(a=0, fan_in, leaky_relu(0) = relu gain √2): bound √2·√(3/100).
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, "leaky_relu", &gen);
  Moments m = moments(w);
  double bound = std::sqrt(2.0) * std::sqrt(3.0 / 100);
  CHECK(m.max <= bound);
  CHECK(m.min >= -bound);
  CHECK(m.std == Approx(bound / std::sqrt(3.0)).epsilon(0.02));
  // kaiming_normal(fan_out, relu): std √2/√200.
  init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, "relu", &gen);
  CHECK(moments(w).std == Approx(std::sqrt(2.0 / 200)).epsilon(0.02));
  // xavier: std gain·√(2/(fan_in + fan_out)).
  init::xavier_uniform_(w, 2.0, &gen);
  m = moments(w);
  CHECK(m.max <= 2.0 * std::sqrt(6.0 / 300));
  CHECK(m.std == Approx(2.0 * std::sqrt(2.0 / 300)).epsilon(0.02));
  init::xavier_normal_(w, 1.0, &gen);
  CHECK(moments(w).std == Approx(std::sqrt(2.0 / 300)).epsilon(0.02));
  // trunc_normal(0, 1, -2, 2): within bounds; its std is √(1 − 4φ(2)/(Φ(2) − Φ(−2))) ≈ 0.8796.
  init::trunc_normal_(w, 0.0, 1.0, -2.0, 2.0, &gen);
  m = moments(w);
  CHECK(m.min >= -2.0);
  CHECK(m.max <= 2.0);
  CHECK(m.mean == Approx(0).margin(0.01));
  CHECK(m.std == Approx(0.8796).epsilon(0.01));
  // A one-sided window: N(1, 0.5) on [1.2, 5].
  init::trunc_normal_(w, 1.0, 0.5, 1.2, 5.0, &gen);
  m = moments(w);
  CHECK(m.min >= 1.2);
  CHECK(m.max <= 5.0);
  init::uniform_(w, -3, -1, &gen);
  m = moments(w);
  CHECK(m.min >= -3);
  CHECK(m.max < -1);
  CHECK(m.mean == Approx(-2).margin(0.01));
  init::normal_(w, 5, 0.1, &gen);
  CHECK(moments(w).mean == Approx(5).margin(0.002));
  init::constant_(w, 0.5);
  CHECK(moments(w).min == 0.5);
  init::ones_(w);
  CHECK(moments(w).max == 1.0);
  init::zeros_(w);
  CHECK(moments(w).max == 0.0);
}

TEST_CASE("initialisers are reproducible and work on parameters and views", "[nn][init]") {
  Generator g1(5), g2(5);
  Tensor a = empty({10, 10}), b = empty({10, 10});
  init::kaiming_uniform_(a, 0, init::FanMode::FanIn, "relu", &g1);
  init::kaiming_uniform_(b, 0, init::FanMode::FanIn, "relu", &g2);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  // A parameter that requires grad, and a strided view of it.
  nn::Linear fc(4, 3);
  init::trunc_normal_(fc->weight, 0.0, 0.02);
  CHECK(fc->weight.requires_grad());
  init::zeros_(fc->weight.detach().t());
  CHECK(moments(fc->weight).max == 0.0);
  CHECK_THROWS_WITH(init::uniform_(empty({2}, kInt64)), Contains("needs a floating tensor"));
  CHECK_NOTHROW(init::kaiming_uniform_(empty({0, 3})));  // a no-op, as PyTorch
}

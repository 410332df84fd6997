// Every layer against PyTorch (tests/fixtures/nn/layers.safetensors from
// tools/gen_nn_fixtures.py): repr, forward, input gradient, every parameter
// gradient, and the state after the forward (BatchNorm running stats after
// three training steps).
#include "nn_test_util.h"
#include "support/fixtures.h"

using namespace heed;
using namespace heed::nn_test;

namespace {

// Loads the fixture's parameters into m, replays earlier training steps, then
// checks m(x) and the gradients of sum(m(x) · gy) against PyTorch.
template <typename H>
void check_golden(const std::string& c, const H& m, double rtol = 1e-4, double atol = 1e-5) {
  const Fixtures& fx = fixtures();
  INFO("case " << c);
  auto repr = fx.metadata.find(c + "/repr");
  REQUIRE(repr != fx.metadata.end());
  CHECK(m->repr() == repr->second);
  m->load_state_dict(fx.under(c + "/param/"));
  for (int i = 0; fx.has(c + "/x" + std::to_string(i)); ++i) {
    NoGradGuard no_grad;
    m(fx(c + "/x" + std::to_string(i)));
  }
  Tensor x = fx(c + "/x").detach();
  if (x.is_floating_point()) x.requires_grad_();
  m->zero_grad();
  Tensor y = m(x);
  check_close(y, fx(c + "/y"), c + "/y", rtol, atol);
  sum(y * fx(c + "/gy")).backward();
  if (fx.has(c + "/gx")) check_close(x.grad(), fx(c + "/gx"), c + "/gx", rtol, atol);
  for (const auto& [k, p] : m->named_parameters()) {
    REQUIRE(fx.has(c + "/grad/" + k));
    check_close(p.grad(), fx(c + "/grad/" + k), c + "/grad/" + k, rtol, atol);
  }
  nn::StateDict state = m->state_dict();
  for (const auto& [k, t] : fx.under(c + "/state/"))
    check_close(state.at(k), t, c + "/state/" + k, rtol, atol);
}

}  // namespace

TEST_CASE("Linear matches PyTorch", "[nn][golden]") {
  check_golden("linear", nn::Linear(5, 3));
  check_golden("linear_nobias", nn::Linear(5, 3, {.bias = false}));
}

TEST_CASE("Conv1d and Conv2d match PyTorch", "[nn][golden]") {
  check_golden("conv1d", nn::Conv1d(3, 4, 3, {.stride = 2, .padding = 1}));
  check_golden("conv1d_groups", nn::Conv1d(4, 6, 2, {.dilation = 2, .groups = 2, .bias = false}));
  check_golden("conv2d", nn::Conv2d(4, 6, 3, {.stride = 2, .padding = 1, .groups = 2}));
  check_golden("conv2d_rect",
               nn::Conv2d(3, 4, nn::Size2{3, 2},
                          {.stride = {1, 2}, .padding = {2, 1}, .dilation = 2, .bias = false}));
}

TEST_CASE("BatchNorm matches PyTorch, running stats after three steps included", "[nn][golden]") {
  nn::BatchNorm2d bn(3);
  check_golden("bn2d", bn);
  CHECK(bn->num_batches_tracked.item() == 3);
  bn->eval();
  check_close(bn(fixtures()("bn2d/x_eval")), fixtures()("bn2d/y_eval"), "bn2d/y_eval");
  check_golden("bn1d_cma", nn::BatchNorm1d(4, {.momentum = std::nullopt}));
  check_golden("bn1d_2d", nn::BatchNorm1d(5, {.eps = 1e-3, .momentum = 0.3}));
  nn::BatchNorm2d plain(3, {.affine = false, .track_running_stats = false});
  CHECK(plain->state_dict().empty());
  check_golden("bn2d_notrack", plain);
}

TEST_CASE("BatchNorm2d with fuse_relu is relu(BatchNorm2d), state included", "[nn][layers]") {
  Generator gen(5);
  nn::BatchNorm2d fused(4, {.fuse_relu = true}), plain(4);
  {
    NoGradGuard no_grad;
    plain->weight.copy_(rand({4}, kFloat32, &gen) + 0.5);
    plain->bias.copy_(randn({4}, kFloat32, &gen) * 0.5);
  }
  fused->load_state_dict(plain->state_dict());  // same keys
  CHECK(fused->repr() ==
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, "
        "fuse_relu=True)");
  for (bool training : {true, true, false}) {
    fused->train(training);
    plain->train(training);
    Tensor x = randn({3, 4, 5, 5}, kFloat32, &gen) * 2.0 + 1.0;
    Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    fused->zero_grad();
    plain->zero_grad();
    Tensor y1 = fused(x1), y2 = relu(plain(x2));
    CHECK(testing::max_abs_diff(y1, y2) == 0);  // the same arithmetic, then the same clamp
    Tensor gy = randn(y1.shape(), kFloat32, &gen);
    sum(y1 * gy).backward();
    sum(y2 * gy).backward();
    check_close(x1.grad(), x2.grad(), "grad x", 1e-5, 1e-6);
    check_close(fused->weight.grad(), plain->weight.grad(), "grad weight", 1e-5, 1e-6);
    check_close(fused->bias.grad(), plain->bias.grad(), "grad bias", 1e-5, 1e-6);
  }
  SECTION("forward(x, residual): relu(bn(x) + residual) fused, bn(x) + residual plain") {
    fused->train();
    plain->train();
    Tensor x = randn({3, 4, 5, 5}, kFloat32, &gen), r = randn({3, 4, 5, 5}, kFloat32, &gen);
    Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    Tensor r1 = r.clone().requires_grad_(), r2 = r.clone().requires_grad_();
    Tensor y1 = fused(x1, r1), y2 = relu(plain(x2, r2));
    CHECK(testing::max_abs_diff(y1, y2) == 0);
    Tensor gy = randn(y1.shape(), kFloat32, &gen);
    sum(y1 * gy).backward();
    sum(y2 * gy).backward();
    check_close(x1.grad(), x2.grad(), "grad x", 1e-5, 1e-6);
    CHECK(testing::max_abs_diff(r1.grad(), r2.grad()) == 0);
  }
  CHECK(testing::max_abs_diff(fused->running_mean, plain->running_mean) == 0);
  CHECK(testing::max_abs_diff(fused->running_var, plain->running_var) == 0);
}

TEST_CASE("LayerNorm and GroupNorm match PyTorch", "[nn][golden]") {
  check_golden("layernorm", nn::LayerNorm(Shape{4, 5}));
  check_golden("groupnorm", nn::GroupNorm(2, 6));
  check_golden("groupnorm_noaffine", nn::GroupNorm(3, 3, {.eps = 1e-3, .affine = false}));
}

TEST_CASE("activation modules match PyTorch", "[nn][golden]") {
  check_golden("relu", nn::ReLU());
  check_golden("relu6", nn::ReLU6());
  check_golden("gelu", nn::GELU());
  check_golden("gelu_tanh", nn::GELU("tanh"));
  check_golden("silu", nn::SiLU());
  check_golden("sigmoid", nn::Sigmoid());
  check_golden("tanh", nn::Tanh());
  check_golden("hardswish", nn::Hardswish());
  check_golden("hardsigmoid", nn::Hardsigmoid());
  check_golden("leaky_relu", nn::LeakyReLU(0.2));
  check_golden("softplus", nn::Softplus(2.0, 5.0));
}

TEST_CASE("pooling modules match PyTorch", "[nn][golden]") {
  check_golden("maxpool", nn::MaxPool2d(3, {.stride = 2, .padding = 1}));
  check_golden("maxpool_ceil",
               nn::MaxPool2d(nn::Size2{2, 3},
                             {.stride = 2, .dilation = nn::Size2{2, 1}, .ceil_mode = true}));
  check_golden("avgpool",
               nn::AvgPool2d(3, {.stride = 2, .padding = 1, .count_include_pad = false}));
  check_golden("avgpool2", nn::AvgPool2d(2));
  check_golden("adaptive_avg", nn::AdaptiveAvgPool2d(nn::Size2{3, 2}));
  check_golden("adaptive_avg1", nn::AdaptiveAvgPool2d(1));
  check_golden("adaptive_max", nn::AdaptiveMaxPool2d(nn::Size2{2, 3}));
}

TEST_CASE("Flatten, Embedding and Sequential match PyTorch", "[nn][golden]") {
  check_golden("flatten", nn::Flatten());
  check_golden("embedding", nn::Embedding(10, 4, {.padding_idx = 0}));
  check_golden("sequential", nn::Sequential(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)));
}

TEST_CASE("a ResNet basic block matches PyTorch in training", "[nn][golden]") {
  check_golden("block", BasicBlock(3, 4, 2), 1e-4, 1e-4);
}

TEST_CASE("Dropout zeroes with probability p and scales the rest", "[nn][layers]") {
  nn::Dropout drop(0.25);
  Generator gen(11);
  drop->generator = &gen;
  Tensor x = ones({4000}).requires_grad_();
  Tensor y = drop(x);
  std::vector<float> v = y.to_vector<float>();
  int64_t zeros_seen = 0;
  for (float e : v) {
    if (e == 0)
      ++zeros_seen;
    else
      CHECK(e == Approx(1 / 0.75));
  }
  CHECK(zeros_seen == Approx(1000).margin(120));  // 4000·0.25 ± ~4.4σ
  y.sum().backward();
  CHECK(x.grad().to_vector<float>() == v);  // d(sum(mask·x/0.75))/dx = mask/0.75
  drop->eval();
  CHECK(drop(x).to_vector<float>() == std::vector<float>(4000, 1.0f));
  CHECK_THROWS_WITH(nn::Dropout(1.5), Catch::Contains("between 0 and 1, but got 1.5"));
}

TEST_CASE("Identity returns its input", "[nn][layers]") {
  Tensor x = tensor({1, 2});
  CHECK(nn::Identity()(x).impl() == x.impl());
}

TEST_CASE("layers reject wrong inputs with clear messages", "[nn][layers]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::Linear(4, 2)(zeros({3, 5})),
                    Contains("Linear: input of shape [3, 5] has last dim 5, expected 4"));
  CHECK_THROWS_WITH(nn::Conv2d(3, 4, 3, {.groups = 2}),
                    Contains("in_channels (3) must be divisible by groups (2)"));
  CHECK_THROWS_WITH(nn::BatchNorm2d(3)(zeros({2, 3, 4})),
                    Contains("BatchNorm2d: expected 4D input (got 3D input"));
  CHECK_THROWS_WITH(nn::BatchNorm1d(3)(zeros({2, 4})),
                    Contains("has 4 channels, expected 3 (num_features)"));
  CHECK_THROWS_WITH(nn::GroupNorm(4, 6),
                    Contains("num_channels (6) must be divisible by num_groups (4)"));
  CHECK_THROWS_WITH(nn::Embedding(5, 2, {.padding_idx = 5}), Contains("padding_idx 5"));
  CHECK_THROWS_WITH(nn::GELU("fast"), Contains("approximate must be"));
  CHECK_THROWS_WITH(nn::MaxPool2d(2, {.padding = 2}),
                    Contains("pad should be at most half of kernel size"));
}

TEST_CASE("default inits follow PyTorch's formulas", "[nn][layers]") {
  manual_seed(3);
  nn::Linear fc(400, 50);
  // kaiming_uniform(a=√5) on (50, 400) is U(±1/√400) = U(±0.05); bias U(±0.05).
  auto w = fc->weight.to_vector<float>();
  CHECK(*std::max_element(w.begin(), w.end()) <= 0.05f);
  CHECK(*std::min_element(w.begin(), w.end()) >= -0.05f);
  CHECK(*std::max_element(w.begin(), w.end()) > 0.049f);
  auto b = fc->bias.to_vector<float>();
  CHECK(*std::max_element(b.begin(), b.end()) <= 0.05f);
  nn::Conv2d conv(8, 4, 3);  // fan_in 8·3·3 = 72: bound 1/√72
  auto cw = conv->weight.to_vector<float>();
  CHECK(*std::max_element(cw.begin(), cw.end()) <= float(1 / std::sqrt(72.0)));
  nn::Embedding emb(1000, 10, {.padding_idx = -1});
  CHECK(emb->padding_idx == 999);
  CHECK(emb->weight.select(0, 999).to_vector<float>() == std::vector<float>(10, 0.0f));
  auto e = emb->weight.to_vector<double>();
  double mean = 0, sq = 0;
  for (double v : e) mean += v / double(e.size());
  for (double v : e) sq += (v - mean) * (v - mean) / double(e.size());
  CHECK(mean == Approx(0).margin(0.05));  // N(0, 1) over 9990 draws
  CHECK(sq == Approx(1).epsilon(0.05));
  nn::LSTM lstm(3, 16);  // U(±1/√16) = U(±0.25)
  for (const Tensor& p : lstm->parameters())
    for (float v : p.to_vector<float>()) REQUIRE(std::abs(v) <= 0.25f);
  nn::BatchNorm2d bn(2);
  CHECK(bn->weight.to_vector<float>() == std::vector<float>{1, 1});
  CHECK(bn->running_var.to_vector<float>() == std::vector<float>{1, 1});
}

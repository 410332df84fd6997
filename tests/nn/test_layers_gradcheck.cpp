// Every layer's gradients against finite differences: the module converted
// with to(kFloat64), gradcheck over the input and every parameter. (LSTM and
// the losses are in their own files.)
#include "nn_test_util.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::nn_test;

namespace {

// gradcheck of m(x) over x and the module's parameters, in float64.
template <typename H>
void check_module(const std::string& what, const H& m, const Tensor& x) {
  INFO(what);
  m->to(kFloat64);
  for (const Tensor& p : m->parameters()) {
    REQUIRE(p.dtype() == kFloat64);
    REQUIRE(p.is_leaf());
  }
  auto r = gradcheck_module(
      *m, [&](const Tensor& in) { return m(in); }, x);
  INFO(r.message);
  CHECK(r.ok);
}

// Inputs in [lo, hi) away from the kinks of relu-like functions.
Tensor away(const Shape& shape, std::vector<double> kinks, double lo = -2, double hi = 2) {
  return testing::gc_input_away_from(shape, std::move(kinks), 0.05, lo, hi);
}

}  // namespace

TEST_CASE("Linear, Conv1d and Conv2d pass gradcheck", "[nn][gradcheck]") {
  check_module("linear", nn::Linear(4, 3), input64({2, 5, 4}));
  check_module("linear no bias", nn::Linear(3, 2, {.bias = false}), input64({4, 3}));
  check_module("conv1d",
               nn::Conv1d(2, 4, 3, {.stride = 2, .padding = 1, .dilation = 1, .groups = 2}),
               input64({2, 2, 7}));
  check_module("conv2d", nn::Conv2d(4, 2, 3, {.stride = 2, .padding = 1, .groups = 2}),
               input64({1, 4, 5, 5}));
  check_module("conv2d dilated rect",
               nn::Conv2d(2, 3, nn::Size2{2, 3},
                          {.stride = {1, 2}, .padding = {1, 0}, .dilation = 2, .bias = false}),
               input64({2, 2, 5, 6}));
}

TEST_CASE("norm layers pass gradcheck in training and eval", "[nn][gradcheck]") {
  nn::BatchNorm2d bn(3);
  check_module("batchnorm2d train", bn, input64({3, 3, 2, 2}));
  bn->eval();
  check_module("batchnorm2d eval", bn, input64({2, 3, 2, 2}));
  check_module("batchnorm1d (B, C)", nn::BatchNorm1d(4, {.momentum = std::nullopt}),
               input64({5, 4}));
  check_module("batchnorm1d no affine", nn::BatchNorm1d(2, {.affine = false}), input64({3, 2, 4}));
  check_module("layernorm", nn::LayerNorm(Shape{3, 2}), input64({2, 3, 3, 2}));
  check_module("groupnorm", nn::GroupNorm(2, 4), input64({2, 4, 3}));
  check_module("groupnorm 4-D", nn::GroupNorm(3, 6), input64({1, 6, 2, 2}));
}

TEST_CASE("activation modules pass gradcheck", "[nn][gradcheck]") {
  check_module("relu", nn::ReLU(), away({3, 4}, {0}));
  check_module("relu6", nn::ReLU6(), away({3, 4}, {0, 6}, -8, 8));
  check_module("leaky_relu", nn::LeakyReLU(0.1), away({3, 4}, {0}));
  check_module("gelu", nn::GELU(), input64({3, 4}));
  check_module("gelu tanh", nn::GELU("tanh"), input64({3, 4}));
  check_module("silu", nn::SiLU(), input64({3, 4}));
  check_module("sigmoid", nn::Sigmoid(), input64({3, 4}));
  check_module("tanh", nn::Tanh(), input64({3, 4}));
  check_module("hardswish", nn::Hardswish(), away({3, 4}, {-3, 3}, -5, 5));
  check_module("hardsigmoid", nn::Hardsigmoid(), away({3, 4}, {-3, 3}, -5, 5));
  check_module("softplus", nn::Softplus(2.0, 3.0), away({3, 4}, {1.5}));
}

TEST_CASE("pooling modules pass gradcheck", "[nn][gradcheck]") {
  // Distinct values so no max is tied.
  check_module("maxpool", nn::MaxPool2d(2, {.stride = 1, .padding = 1}), input64({1, 2, 4, 4}));
  check_module("avgpool", nn::AvgPool2d(3, {.stride = 2, .padding = 1, .count_include_pad = false}),
               input64({1, 2, 5, 5}));
  check_module("adaptive avg", nn::AdaptiveAvgPool2d(nn::Size2{2, 3}), input64({2, 2, 5, 4}));
  check_module("adaptive max", nn::AdaptiveMaxPool2d(nn::Size2{2, 1}), input64({1, 2, 4, 3}));
}

TEST_CASE("Embedding, Flatten, Dropout, Sequential and a ResNet block pass gradcheck",
          "[nn][gradcheck]") {
  nn::Embedding emb(5, 3, {.padding_idx = 1});
  emb->to(kFloat64);
  // The padding row gets no gradient by design (the golden test checks it), so
  // finite differences are taken over lookups of the other rows.
  Tensor idx = tensor({0, 3, 4, 4, 2, 0}, kInt64).reshape({2, 3});
  auto r = gradcheck([&](const std::vector<Tensor>&) { return emb(idx); }, {emb->weight});
  INFO(r.message);
  CHECK(r.ok);

  check_module("flatten", nn::Flatten(1, 2), input64({2, 3, 2, 2}));
  nn::Dropout drop(0.3);
  Generator gen(3);
  drop->generator = &gen;
  drop->to(kFloat64);
  Tensor x = input64({4, 5});
  auto rd = gradcheck(
      [&](const std::vector<Tensor>& in) {
        gen.manual_seed(9);  // the same mask on every evaluation
        return drop(in[0]);
      },
      {x});
  INFO(rd.message);
  CHECK(rd.ok);
  check_module("sequential", nn::Sequential(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 2)),
               input64({2, 3}));
  check_module("basic block", BasicBlock(2, 3, 2), input64({2, 2, 4, 4}));
}

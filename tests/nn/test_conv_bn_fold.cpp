// Eval-mode conv + batch norm folding (nn/conv_bn_fold.h): the folded
// convolution gives what conv then batch norm give (with and without
// ReLU, residual, conv bias, affine, groups), its gradients pass gradcheck
// and reach both modules, and it is refused whenever the two modules must
// be seen running (training, hooks, an observer such as summary()).
#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;

namespace {

// A conv and a batch norm in eval mode whose running statistics and affine
// parameters are not the defaults (so every term of the fold matters).
struct ConvBn {
  nn::Conv2d conv;
  nn::BatchNorm2d bn;
  ConvBn(const nn::Conv2dOptions& co, const nn::BatchNormOptions& bo, int64_t c = 4, int64_t o = 6)
      : conv(c, o, 3, co), bn(o, bo) {
    NoGradGuard no_grad;
    if (bn->running_mean.defined()) {
      bn->running_mean.copy_(randn({o}) * 0.5);
      bn->running_var.copy_(rand({o}) + 0.5);
    }
    if (bn->weight.defined()) {
      bn->weight.copy_(randn({o}));
      bn->bias.copy_(randn({o}));
    }
    bn->eval();
  }
  // bn(conv(x), residual) through the unfused modules.
  Tensor unfolded(const Tensor& x, const Tensor& r) {
    return r.defined() ? bn->forward(conv->forward(x), r) : bn->forward(conv->forward(x));
  }
};

}  // namespace

TEST_CASE("a folded conv + batch norm gives what the two modules give", "[nn][fold]") {
  manual_seed(5);
  struct Case {
    const char* what;
    nn::Conv2dOptions conv;
    nn::BatchNormOptions bn;
  };
  const std::vector<Case> cases = {
      {"relu", {.padding = 1, .bias = false}, {.fuse_relu = true}},
      {"no relu, conv bias", {.padding = 1, .bias = true}, {}},
      {"stride 2, groups 2, relu", {.stride = 2, .padding = 1, .groups = 2}, {.fuse_relu = true}},
      {"not affine", {.padding = 1, .bias = false}, {.affine = false, .fuse_relu = true}},
  };
  for (const Case& c : cases)
    for (bool with_residual : {false, true}) {
      INFO(c.what << ", residual " << with_residual);
      ConvBn m(c.conv, c.bn);
      Tensor x = randn({3, 4, 8, 8});
      Tensor r = with_residual ? randn(m.conv(x).shape()) : Tensor();
      REQUIRE(nn::conv_bn_foldable(*m.conv, *m.bn));
      Tensor want = m.unfolded(x, r), got = nn::conv_bn_folded(*m.conv, *m.bn, x, r);
      REQUIRE(got.shape() == want.shape());
      // w·s rounds differently from normalising conv's output: float32 ulps
      // of O(10) values.
      CHECK(max(abs(got - want)).item() <= 1e-5 * (1.0 + max(abs(want)).item()));
    }
}

TEST_CASE("the folded conv + batch norm passes gradcheck over both modules", "[nn][fold]") {
  for (bool relu_fused : {false, true}) {
    INFO("fuse_relu " << relu_fused);
    ConvBn m({.stride = 2, .padding = 1, .bias = true}, {.fuse_relu = relu_fused}, 2, 3);
    nn::Sequential both(m.conv, m.bn);
    both->to(kFloat64);
    Tensor r = input64({2, 3, 3, 3}, 7);
    auto report = gradcheck_module(
        *both, [&](const Tensor& in) { return nn::conv_bn_folded(*m.conv, *m.bn, in, r); },
        input64({2, 2, 5, 5}));
    INFO(report.message);
    CHECK(report.ok);
  }
}

TEST_CASE("conv + batch norm fold only when nothing must see the modules run", "[nn][fold]") {
  ConvBn m({.padding = 1, .bias = false}, {.fuse_relu = true});
  CHECK(nn::conv_bn_foldable(*m.conv, *m.bn));

  m.bn->train();  // batch statistics: nothing to fold
  CHECK_FALSE(nn::conv_bn_foldable(*m.conv, *m.bn));
  CHECK_THROWS_WITH(nn::conv_bn_folded(*m.conv, *m.bn, randn({1, 4, 8, 8})),
                    Catch::Contains("conv_bn_folded: this conv and batch norm cannot be folded"));
  m.bn->eval();

  const int64_t id = m.conv->register_forward_hook([](nn::Module&, auto&, auto&) {});
  CHECK_FALSE(nn::conv_bn_foldable(*m.conv, *m.bn));
  m.conv->remove_forward_hook(id);
  CHECK(nn::conv_bn_foldable(*m.conv, *m.bn));

  // summary() and attention-map recording run the model under an observer.
  struct Observer : nn::detail::ForwardObserver {
    void before(nn::Module&, const std::vector<Tensor>&) override {}
    void after(nn::Module&, const std::vector<Tensor>&, const std::vector<Tensor>&) override {}
  } observer;
  nn::detail::forward_observer() = &observer;
  const bool foldable_while_observed = nn::conv_bn_foldable(*m.conv, *m.bn);
  nn::detail::forward_observer() = nullptr;
  CHECK_FALSE(foldable_while_observed);

  ConvBn untracked({.padding = 1}, {.track_running_stats = false});
  CHECK_FALSE(nn::conv_bn_foldable(*untracked.conv, *untracked.bn));

  ConvBn mismatched({.padding = 1}, {}, 4, 6);
  nn::BatchNorm2d other(5);
  other->eval();
  CHECK_FALSE(nn::conv_bn_foldable(*mismatched.conv, *other));
}

TEST_CASE("nn::conv_bn runs the modules in training and folds in eval", "[nn][fold]") {
  manual_seed(9);
  ConvBn m({.padding = 1, .bias = false}, {.fuse_relu = true});
  Tensor x = randn({2, 4, 8, 8}), r = randn({2, 6, 8, 8});
  m.bn->train();
  {
    // Training: exactly the two modules (same ops, same running-stat update).
    nn::BatchNorm2d twin(6, {.fuse_relu = true});
    twin->load_state_dict(m.bn->state_dict());
    twin->train();
    Tensor want = twin(m.conv(x), r);
    CHECK(nn::conv_bn(m.conv, m.bn, x, r).to_vector<float>() == want.to_vector<float>());
    CHECK(m.bn->running_mean.to_vector<float>() == twin->running_mean.to_vector<float>());
  }
  m.bn->eval();
  CHECK(nn::conv_bn(m.conv, m.bn, x, r).to_vector<float>() ==
        nn::conv_bn_folded(*m.conv, *m.bn, x, r).to_vector<float>());
  CHECK(nn::conv_bn(m.conv, m.bn, x).to_vector<float>() ==
        nn::conv_bn_folded(*m.conv, *m.bn, x).to_vector<float>());
}

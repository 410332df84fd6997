// Loss modules and nn::functional against PyTorch (fixtures from
// tools/gen_nn_fixtures.py), and gradchecks of the loss modules.
#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;
namespace F = heed::nn::functional;

namespace {

template <typename H>
void check_loss(const std::string& c, const H& loss) {
  const Fixtures& fx = fixtures();
  INFO("case " << c);
  Tensor x = fx(c + "/x").detach().requires_grad_();
  Tensor y = loss(x, fx(c + "/target"));
  check_close(y, fx(c + "/y"), c + "/y");
  sum(y * fx(c + "/gy")).backward();
  check_close(x.grad(), fx(c + "/gx"), c + "/gx");
}

}  // namespace

TEST_CASE("loss modules match PyTorch", "[nn][golden][loss]") {
  check_loss("ce", nn::CrossEntropyLoss());
  check_loss("ce_smooth_ignore", nn::CrossEntropyLoss({.ignore_index = 2, .label_smoothing = 0.1}));
  check_loss("ce_sum", nn::CrossEntropyLoss({.reduction = Reduction::Sum}));
  check_loss("ce_none_2d",
             nn::CrossEntropyLoss({.reduction = Reduction::None, .label_smoothing = 0.2}));
  check_loss("nll", nn::NLLLoss({.ignore_index = 4}));
  check_loss("mse", nn::MSELoss());
  check_loss("mse_none", nn::MSELoss({.reduction = Reduction::None}));
  nn::BCEWithLogitsLoss bce({.pos_weight = fixtures()("bce_pw/pos_weight")});
  CHECK(bce->state_dict().keys() == std::vector<std::string>{"pos_weight"});
  check_loss("bce_pw", bce);
  check_loss("bce_sum", nn::BCEWithLogitsLoss({.reduction = Reduction::Sum}));
}

TEST_CASE("functional names forward to the core ops", "[nn][functional]") {
  const Fixtures& fx = fixtures();
  Tensor logits = fx("ce/x"), target = fx("ce/target");
  check_close(F::cross_entropy(logits, target), fx("ce/y"), "F::cross_entropy");
  check_close(F::relu(fx("relu/x")), fx("relu/y"), "F::relu");
  check_close(F::gelu(fx("gelu_tanh/x"), "tanh"), fx("gelu_tanh/y"), "F::gelu tanh");
  check_close(F::linear(fx("linear/x"), fx("linear/param/weight"), fx("linear/param/bias")),
              fx("linear/y"), "F::linear");
  check_close(F::max_pool2d(fx("maxpool/x"),
                            {.kernel_size = {3, 3}, .stride = {{2, 2}}, .padding = {1, 1}}),
              fx("maxpool/y"), "F::max_pool2d");
  check_close(
      F::group_norm(fx("groupnorm/x"), 2, fx("groupnorm/param/weight"), fx("groupnorm/param/bias")),
      fx("groupnorm/y"), "F::group_norm");
  CHECK_THROWS_WITH(F::group_norm(zeros({2, 6, 3}), 4),
                    Catch::Contains("group_norm: 6 channels (input [2, 6, 3]) are not divisible "
                                    "by num_groups=4"));
}

TEST_CASE("group_norm's gradient passes gradcheck", "[nn][functional][gradcheck]") {
  Tensor x = input64({2, 6, 3}, 1, 2.0), w = input64({6}, 2), b = input64({6}, 3);
  auto r =
      gradcheck([](const std::vector<Tensor>& in) { return F::group_norm(in[0], 3, in[1], in[2]); },
                {x, w, b});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("loss modules pass gradcheck in float64", "[nn][loss][gradcheck]") {
  Tensor logits = input64({4, 5}, 1, 2.0);
  Tensor labels = tensor({0, 2, 4, 1}, kInt64);
  auto check = [&](const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x});
    INFO(r.message);
    CHECK(r.ok);
  };
  nn::CrossEntropyLoss ce({.ignore_index = 2, .label_smoothing = 0.1});
  check([&](const Tensor& x) { return ce(x, labels); }, logits);
  nn::NLLLoss nll({.reduction = Reduction::Sum});
  check([&](const Tensor& x) { return nll(x, labels); }, logits);
  nn::MSELoss mse;
  Tensor target = input64({4, 5}, 9).detach();
  check([&](const Tensor& x) { return mse(x, target); }, logits);
  nn::BCEWithLogitsLoss bce({.pos_weight = tensor({0.5, 2, 1, 1, 3}, kFloat64)});
  Tensor probs = rand({4, 5}, kFloat64);
  check([&](const Tensor& x) { return bce(x, probs); }, logits);
}

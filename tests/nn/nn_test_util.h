// Helpers shared by the nn tests: the PyTorch fixtures, closeness checks and
// module gradchecks.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>

#include "heed.h"

namespace heed::nn_test {

inline std::string fixture_path(const std::string& file) {
  return std::string(HEED_FIXTURES_DIR) + "/nn/" + file;
}

// tests/fixtures/nn/layers.safetensors (from tools/gen_nn_fixtures.py), loaded once.
struct Fixtures {
  nn::StateDict tensors;
  nn::Metadata metadata;
  const Tensor& operator()(const std::string& name) const { return tensors.at(name); }
  bool has(const std::string& name) const { return tensors.contains(name); }
  // Entries under "<prefix>" with the prefix removed.
  nn::StateDict under(const std::string& prefix) const {
    nn::StateDict out;
    for (const auto& [k, v] : tensors)
      if (k.rfind(prefix, 0) == 0) out.insert(k.substr(prefix.size()), v);
    return out;
  }
};

inline const Fixtures& fixtures() {
  static const Fixtures f = [] {
    Fixtures x;
    x.tensors = nn::load(fixture_path("layers.safetensors"), &x.metadata);
    return x;
  }();
  return f;
}

// |a - b| <= atol + rtol·|b| everywhere, same shape; names the worst element.
inline void check_close(const Tensor& actual, const Tensor& expected, const std::string& what,
                        double rtol = 1e-4, double atol = 1e-5) {
  INFO(what);
  REQUIRE(actual.defined());
  REQUIRE(actual.shape() == expected.shape());
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double diff = std::abs(a[i] - e[i]);  // exact equality passes even with zero tolerances
    double score = diff == 0 ? 0.0 : diff / (atol + rtol * std::abs(e[i]));
    if (!(score <= worst)) {
      worst = score;
      worst_i = i;
    }
  }
  std::ostringstream os;
  if (!a.empty())
    os << what << ": worst element " << worst_i << " is " << a[worst_i] << ", expected "
       << e[worst_i] << " (score " << worst << ")";
  INFO(os.str());
  CHECK(worst <= 1.0);
}

// gradcheck of f(x) with respect to x and every parameter of the module
// (already converted to float64).
inline GradcheckReport gradcheck_module(nn::Module& m,
                                        const std::function<Tensor(const Tensor&)>& f,
                                        const Tensor& x, const GradcheckOptions& options = {}) {
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  return gradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, inputs, options);
}

// Random float64 input requiring grad.
inline Tensor input64(const Shape& shape, uint64_t seed = 1, double scale = 1.0) {
  Generator gen(seed);
  Tensor t = randn(shape, kFloat64, &gen);
  if (scale != 1.0) {
    NoGradGuard g;
    t = t * scale;
  }
  return t.requires_grad_();
}

}  // namespace heed::nn_test

namespace heed::nn_test {

// The ResNet-CIFAR basic block with a projection shortcut, as in
// tools/gen_nn_fixtures.py (BasicBlock).
class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t cin, int64_t cout, int64_t stride) {
    conv1 = register_module(
        "conv1", nn::Conv2d(cin, cout, 3, {.stride = stride, .padding = 1, .bias = false}));
    bn1 = register_module("bn1", nn::BatchNorm2d(cout));
    conv2 = register_module("conv2", nn::Conv2d(cout, cout, 3, {.padding = 1, .bias = false}));
    bn2 = register_module("bn2", nn::BatchNorm2d(cout));
    shortcut = register_module(
        "shortcut", nn::Sequential(nn::Conv2d(cin, cout, 1, {.stride = stride, .bias = false}),
                                   nn::BatchNorm2d(cout)));
  }
  Tensor forward(const Tensor& x) {
    Tensor out = relu(bn1(conv1(x)));
    out = bn2(conv2(out));
    return relu(out + shortcut(x));
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::Sequential shortcut{nullptr};
};
HEED_MODULE(BasicBlock);

}  // namespace heed::nn_test

// Helpers shared by the attention tests: the PyTorch fixtures
// (tests/fixtures/attention/modules.safetensors from
// tools/gen_attention_fixtures.py), closeness checks and module gradchecks.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "attention/attention.h"
#include "heed.h"

namespace heed::attention_test {

struct Fixtures {
  nn::StateDict tensors;
  nn::Metadata metadata;
  const Tensor& operator()(const std::string& name) const { return tensors.at(name); }
  bool has(const std::string& name) const { return tensors.contains(name); }
  // Entries under "<prefix>" with the prefix removed, in file order.
  nn::StateDict under(const std::string& prefix) const {
    nn::StateDict out;
    for (const auto& [k, v] : tensors)
      if (k.rfind(prefix, 0) == 0) out.insert(k.substr(prefix.size()), v);
    return out;
  }
  std::string meta(const std::string& key) const {
    auto it = metadata.find(key);
    REQUIRE(it != metadata.end());
    return it->second;
  }
};

inline const Fixtures& fixtures() {
  static const Fixtures f = [] {
    Fixtures x;
    x.tensors =
        nn::load(std::string(HEED_FIXTURES_DIR) + "/attention/modules.safetensors", &x.metadata);
    return x;
  }();
  return f;
}

// |a - b| <= atol + rtol·|b| everywhere, same shape; names the worst element.
inline void check_close(const Tensor& actual, const Tensor& expected, const std::string& what,
                        double rtol = 1e-4, double atol = 1e-5) {
  INFO(what);
  REQUIRE(actual.defined());
  REQUIRE(shape_str(actual.shape()) == shape_str(expected.shape()));
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double score = std::abs(a[i] - e[i]) / (atol + rtol * std::abs(e[i]));
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

using Inputs = std::map<std::string, Tensor>;
using Call = std::function<std::vector<Tensor>(const Inputs&)>;

// The inputs of `prefix` (e.g. "sdpa/in/"), floating ones requiring grad.
inline Inputs fixture_inputs(const std::string& prefix, bool with_grad) {
  Inputs in;
  for (const auto& [name, t] : fixtures().under(prefix)) {
    Tensor x = t.detach().clone();
    if (with_grad && x.is_floating_point()) x.requires_grad_();
    in[name] = x;
  }
  return in;
}

// Loads case c's parameters into m, replays its earlier training steps, then
// checks every output, input gradient and parameter gradient of
// Σ_i sum(out_i · gout_i), the state afterwards and the state_dict keys.
inline void check_golden(const std::string& c, nn::Module& m, const Call& call, double rtol = 1e-4,
                         double atol = 1e-5) {
  const Fixtures& fx = fixtures();
  INFO("case " << c);
  std::vector<std::string> keys = nlohmann::json::parse(fx.meta(c + "/keys"));
  CHECK(m.state_dict().keys() == keys);
  m.train(fx.meta(c + "/mode") == "train");
  m.load_state_dict(fx.under(c + "/param/"));
  for (int i = 0; !fx.under(c + "/step" + std::to_string(i) + "/").empty(); ++i) {
    NoGradGuard no_grad;
    call(fixture_inputs(c + "/step" + std::to_string(i) + "/", false));
  }
  Inputs in = fixture_inputs(c + "/in/", true);
  m.zero_grad();
  std::vector<Tensor> outs = call(in);
  Tensor loss;
  int checked = 0;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string name = c + "/out/" + std::to_string(i);
    if (!fx.has(name)) {
      CHECK(!outs[i].defined());
      continue;
    }
    check_close(outs[i], fx(name), name, rtol, atol);
    Tensor term = sum(outs[i] * fx(c + "/gout/" + std::to_string(i)));
    loss = loss.defined() ? loss + term : term;
    ++checked;
  }
  REQUIRE(checked > 0);
  loss.backward();
  for (const auto& [name, x] : in)
    if (x.is_floating_point()) {
      REQUIRE(fx.has(c + "/grad_in/" + name));
      check_close(x.grad(), fx(c + "/grad_in/" + name), c + "/grad_in/" + name, rtol, atol);
    }
  for (const auto& [k, p] : m.named_parameters()) {
    REQUIRE(fx.has(c + "/grad/" + k));
    Tensor g = p.grad().defined() ? p.grad() : zeros_like(p);
    check_close(g, fx(c + "/grad/" + k), c + "/grad/" + k, rtol, atol);
  }
  nn::StateDict state = m.state_dict();
  for (const auto& [k, t] : fx.under(c + "/state/"))
    check_close(state.at(k), t, c + "/state/" + k, rtol, atol);
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

// Moves every parameter away from its init (zero-initialised gates included),
// so gradients flow everywhere: 1-D tensors (biases, norm scales, gamma) to
// base + N(0, scale²), others by N(0, scale² / fan_in).
inline void perturb(nn::Module& m, uint64_t seed = 7, double scale = 0.3) {
  NoGradGuard g;
  Generator gen(seed);
  for (const auto& [name, p] : m.named_parameters()) {
    Tensor noise = randn(p.shape(), p.dtype(), &gen);
    if (p.dim() <= 1) {
      bool is_scale = name.size() >= 6 && name.substr(name.size() - 6) == "weight";
      Tensor v = noise * scale + (is_scale ? 1.0 : 0.0);
      Tensor(p).copy_(v);
    } else {
      Tensor(p).add_(noise * (scale / std::sqrt(double(p.numel() / p.size(0)))));
    }
  }
}

}  // namespace heed::attention_test

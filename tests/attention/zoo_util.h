// Helpers shared by the attention zoo tests (tests/attention/test_zoo_*.cpp):
// the PyTorch fixtures of tools/gen_attention_zoo_fixtures.py, golden
// forward/backward checks, float64 gradchecks and summary checks.
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "heed.h"
#include "nn/nn_test_util.h"

namespace heed::zoo_test {

using nn_test::check_close;

// tests/fixtures/attention_zoo/<module>.safetensors, each loaded once.
struct ZooFixture {
  nn::StateDict tensors;
  nn::Metadata metadata;
  const Tensor& operator()(const std::string& name) const { return tensors.at(name); }
  // Entries under "<prefix>" with the prefix removed.
  nn::StateDict under(const std::string& prefix) const {
    nn::StateDict out;
    for (const auto& [k, v] : tensors)
      if (k.rfind(prefix, 0) == 0) out.insert(k.substr(prefix.size()), v);
    return out;
  }
  std::vector<std::string> keys(const std::string& c) const {
    return nlohmann::json::parse(metadata.at(c + "/keys")).get<std::vector<std::string>>();
  }
};

inline const ZooFixture& zoo_fixture(const std::string& module) {
  static std::map<std::string, ZooFixture> cache;
  auto it = cache.find(module);
  if (it == cache.end()) {
    ZooFixture f;
    f.tensors = nn::load(
        std::string(HEED_FIXTURES_DIR) + "/attention_zoo/" + module + ".safetensors", &f.metadata);
    it = cache.emplace(module, std::move(f)).first;
  }
  return it->second;
}

// Golden check of case `c` of fixture file `file`: loads the PyTorch
// state_dict into `m` (strict, so the keys must match) and checks the key
// order, then forward in the case's mode (train unless the name ends in
// "_eval"), output, input gradient, every parameter gradient and the state
// after the forward (running statistics). The fixtures hold float64
// results rounded to float32, so the tolerance covers heed's float32 rounding.
inline void check_golden(nn::Module& m, const std::function<Tensor(const Tensor&)>& forward,
                         const std::string& file, const std::string& c, double rtol = 1e-4,
                         double atol = 1e-5) {
  INFO("fixture " << file << " case " << c);
  const ZooFixture& f = zoo_fixture(file);
  CHECK(m.state_dict().keys() == f.keys(c));
  m.load_state_dict(f.under(c + "/param/"));
  const bool eval = c.size() > 5 && c.compare(c.size() - 5, 5, "_eval") == 0;
  m.train(!eval);
  m.zero_grad();
  Tensor x = f(c + "/x").clone().requires_grad_();
  Tensor y = forward(x);
  check_close(y, f(c + "/y"), c + " output", rtol, atol);
  (y * f(c + "/gy")).sum().backward();
  check_close(x.grad(), f(c + "/gx"), c + " input gradient", rtol, atol);
  nn::StateDict grads = f.under(c + "/grad/");
  for (const auto& [name, p] : m.named_parameters()) {
    const Tensor* g = grads.find(name);
    INFO("parameter " << name);
    REQUIRE(g != nullptr);  // every parameter gets a gradient in PyTorch too
    check_close(p.grad(), *g, c + " gradient of " + name, rtol, atol);
  }
  CHECK(grads.size() == m.named_parameters().size());
  nn::StateDict state = f.under(c + "/state/");  // train mode with buffers only
  if (state.empty()) {
    CHECK((eval || m.buffers().empty()));
    return;
  }
  for (const auto& [name, t] : m.state_dict()) {
    if (!t.is_floating_point()) {  // num_batches_tracked
      CHECK(t.item() == state.at(name).item());
      continue;
    }
    check_close(t, state.at(name), c + " state " + name, rtol, atol);
  }
}

// The same for a holder (forward through it, so hooks and summary see the call).
template <typename Holder>
void check_golden(const Holder& h, const std::string& file, const std::string& c,
                  double rtol = 1e-4, double atol = 1e-5) {
  check_golden(
      *h, [&](const Tensor& x) { return Tensor(h(x)); }, file, c, rtol, atol);
}

// float64 gradcheck of h(x) with respect to x and every parameter; converts h.
template <typename Holder>
GradcheckReport gradcheck_holder(const Holder& h, const Shape& shape, uint64_t seed = 1,
                                 const GradcheckOptions& options = {}) {
  h->to(kFloat64);
  Tensor x = nn_test::input64(shape, seed);
  return nn_test::gradcheck_module(
      *h, [&](const Tensor& in) { return Tensor(h(in)); }, x, options);
}

// Moves every floating parameter away from its init (N(0, scale²) added), so
// zero-initialised parts carry gradients.
inline void perturb(nn::Module& m, uint64_t seed = 7, double scale = 0.5) {
  Generator gen(seed);
  NoGradGuard g;
  for (Tensor& p : m.parameters()) p.add_(randn(p.shape(), p.dtype(), &gen) * scale);
}

struct Counts {
  int64_t params, macs;
};

// Parameters and MACs nn::summary reports for input `shape`.
template <typename Holder>
Counts summary_counts(const Holder& h, const Shape& shape) {
  nn::Summary s = nn::summary(h, shape);
  return {s.total_params, s.total_macs};
}

}  // namespace heed::zoo_test

// Normalisation and dropout: the fused batch_norm / layer_norm kernels
// against references composed from mean/var/sub/mul (forward and backward,
// float64, 1e-10), PyTorch fixtures (BatchNorm running stats over 3 training
// steps, eval mode, LayerNorm), float32 accuracy, dropout's mask, errors and
// gradcheck cases.
// Fixtures: tools/gen_pool_norm_fixtures.py -> tests/fixtures/pool_norm/*.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/fused_vs_composed.h"
#include "support/gradcheck_cases.h"
#include "support/isa_sweep.h"

using namespace heed;
using namespace heed::testing;
using nlohmann::json;

namespace {

using In = std::vector<Tensor>;
using V = std::vector<double>;

json load_fixture(const std::string& name) {
  return load_json_fixture("pool_norm/" + name);
}

Tensor from_json(const json& j) {
  return tensor_from_json(j);
}

Tensor opt_json(const json& c, const char* key) {
  return c.contains(key) && !c.at(key).is_null() ? from_json(c.at(key)) : Tensor();
}

// --- slow, readable references composed from primitive ops (autograd gives
// their gradients); the fused kernels must match them.

// (1, C, 1, ...) so a (C) vector broadcasts over (B, C, *).
Shape channel_shape(const Tensor& x) {
  Shape s(size_t(x.dim()), 1);
  s[1] = x.size(1);
  return s;
}

Tensor batch_norm_reference(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                            const Tensor& weight, const Tensor& bias, bool training, double eps) {
  Shape dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  Shape cs = channel_shape(x);
  Tensor mu = training ? mean(x, dims, true) : running_mean.reshape(cs);
  Tensor v = training ? var(x, dims, /*unbiased=*/false, true) : running_var.reshape(cs);
  Tensor y = (x - mu) * rsqrt(v + eps);
  if (weight.defined()) y = y * weight.reshape(cs);
  if (bias.defined()) y = y + bias.reshape(cs);
  return y;
}

Tensor layer_norm_reference(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                            const Tensor& bias, double eps) {
  Shape dims;
  for (int64_t i = 0; i < int64_t(normalized_shape.size()); ++i)
    dims.push_back(x.dim() - int64_t(normalized_shape.size()) + i);
  Tensor y = (x - mean(x, dims, true)) * rsqrt(var(x, dims, /*unbiased=*/false, true) + eps);
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

// Output and gradients of sum(f(inputs) * g) for fresh leaf copies of inputs
// (undefined inputs stay undefined and get undefined gradients).
std::pair<Tensor, std::vector<Tensor>> value_and_grads(const std::function<Tensor(const In&)>& f,
                                                       const In& inputs, const Tensor& g) {
  In leaves;
  for (const Tensor& t : inputs)
    leaves.push_back(t.defined() ? t.detach().clone().requires_grad_() : Tensor());
  Tensor out = f(leaves);
  out.backward(g);
  std::vector<Tensor> grads;
  for (const Tensor& l : leaves) grads.push_back(l.defined() ? l.grad() : Tensor());
  return {out.detach(), grads};
}

void check_fused_matches_reference(const std::function<Tensor(const In&)>& fused,
                                   const std::function<Tensor(const In&)>& reference,
                                   const In& inputs, uint64_t seed) {
  Generator gen(seed);
  Tensor probe = fused(inputs);
  Tensor g = randn(probe.shape(), kFloat64, &gen);
  auto [out_f, grads_f] = value_and_grads(fused, inputs, g);
  auto [out_r, grads_r] = value_and_grads(reference, inputs, g);
  CHECK(max_abs_diff(out_f, out_r) < 1e-10);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    INFO("gradient of input " << i);
    CHECK(max_abs_diff(grads_f[i], grads_r[i]) < 1e-10);
  }
}

}  // namespace

TEST_CASE("batch_norm fused kernels match the composed reference (float64)", "[norm]") {
  Generator gen(11);
  // Offset and scaled so mean and variance matter.
  Tensor x = randn({5, 6, 4, 7}, kFloat64, &gen) * 3.0 + 20.0;
  Tensor w = rand({6}, kFloat64, &gen) + 0.5, b = randn({6}, kFloat64, &gen);
  Tensor rm = randn({6}, kFloat64, &gen), rv = rand({6}, kFloat64, &gen) + 0.5;
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      DYNAMIC_SECTION("training=" << training << " affine=" << affine) {
        In inputs{x, affine ? w : Tensor(), affine ? b : Tensor()};
        // Copies of the running stats per call: training updates them in place.
        auto fused = [&](const In& i) {
          return batch_norm(i[0], rm.clone(), rv.clone(), i[1], i[2], training, 0.1, 1e-5);
        };
        auto reference = [&](const In& i) {
          return batch_norm_reference(i[0], rm, rv, i[1], i[2], training, 1e-5);
        };
        check_fused_matches_reference(fused, reference, inputs, 1);
      }
    }
  }
  SECTION("(B, C) input, as BatchNorm1d") {
    Tensor x2 = randn({9, 4}, kFloat64, &gen) * 2.0 - 5.0;
    In inputs{x2, rand({4}, kFloat64, &gen) + 0.5, randn({4}, kFloat64, &gen)};
    check_fused_matches_reference(
        [](const In& i) { return batch_norm(i[0], Tensor(), Tensor(), i[1], i[2], true); },
        [](const In& i) { return batch_norm_reference(i[0], {}, {}, i[1], i[2], true, 1e-5); },
        inputs, 2);
  }
}

TEST_CASE("batch_norm_relu matches relu(batch_norm) composed (float64)", "[norm]") {
  Generator gen(12);
  // Bias around 0 so about half the outputs are clamped.
  Tensor x = randn({5, 6, 4, 7}, kFloat64, &gen) * 3.0 + 20.0;
  Tensor w = rand({6}, kFloat64, &gen) + 0.5, b = randn({6}, kFloat64, &gen) * 0.5;
  Tensor rm = randn({6}, kFloat64, &gen) + 20.0, rv = rand({6}, kFloat64, &gen) * 4.0 + 6.0;
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      DYNAMIC_SECTION("training=" << training << " affine=" << affine) {
        In inputs{x, affine ? w : Tensor(), affine ? b : Tensor()};
        auto fused = [&](const In& i) {
          return batch_norm_relu(i[0], rm.clone(), rv.clone(), i[1], i[2], training, 0.1, 1e-5);
        };
        auto reference = [&](const In& i) {
          return relu(batch_norm(i[0], rm.clone(), rv.clone(), i[1], i[2], training, 0.1, 1e-5));
        };
        check_fused_matches_reference(fused, reference, inputs, 3);
        // Both halves of the ReLU are exercised.
        const double clamped = mean(eq(fused(inputs), zeros({1}, kFloat64)).to(kFloat64)).item();
        CHECK(clamped > 0.2);
        CHECK(clamped < 0.8);
      }
    }
  }
  SECTION("with a residual: relu(batch_norm(x) + r), r's gradient included") {
    Tensor r = randn({5, 6, 4, 7}, kFloat64, &gen);
    for (bool training : {true, false}) {
      INFO("training " << training);
      In inputs{x, w, b, r};
      auto fused = [&](const In& i) {
        return batch_norm_add_relu(i[0], i[3], rm.clone(), rv.clone(), i[1], i[2], training, 0.1,
                                   1e-5);
      };
      auto reference = [&](const In& i) {
        return relu(batch_norm(i[0], rm.clone(), rv.clone(), i[1], i[2], training, 0.1, 1e-5) +
                    i[3]);
      };
      check_fused_matches_reference(fused, reference, inputs, 4);
    }
  }
  SECTION("running stats are updated as batch_norm's") {
    Tensor rm1 = rm.clone(), rv1 = rv.clone(), rm2 = rm.clone(), rv2 = rv.clone();
    batch_norm_relu(x, rm1, rv1, w, b, true, 0.1, 1e-5);
    batch_norm(x, rm2, rv2, w, b, true, 0.1, 1e-5);
    CHECK(max_abs_diff(rm1, rm2) == 0);
    CHECK(max_abs_diff(rv1, rv2) == 0);
  }
  SECTION("NaN stays NaN forward and blocks the gradient, as relu") {
    Tensor xn = x.clone();
    xn.data_ptr<double>()[0] = std::numeric_limits<double>::quiet_NaN();
    Tensor leaf = xn.detach().requires_grad_();
    Tensor y = batch_norm_relu(leaf, rm.clone(), rv.clone(), w, b, /*training=*/false);
    CHECK(std::isnan(y.data_ptr<double>()[0]));
    CHECK(y.data_ptr<double>()[1] ==
          relu(batch_norm(x, rm, rv, w, b, false)).data_ptr<double>()[1]);
    y.sum().backward();
    CHECK(leaf.grad().data_ptr<double>()[0] == 0);
  }
}

// The residual's gradient (the masked one) is written by the pass that sums
// it for batch norm, and read back by the input-gradient pass; in eval mode
// without affine gradients no sums are needed and a mask pass writes it.
TEST_CASE("batch_norm_add_relu backward matches the composed ops under every ISA (float32)",
          "[norm]") {
  Generator gen(21);
  const Tensor x0 = randn({6, 5, 9, 7}, kFloat32, &gen) * 2.0 + 1.0;
  const Tensor r0 = randn({6, 5, 9, 7}, kFloat32, &gen);
  const Tensor w = rand({5}, kFloat32, &gen) * 2.0 - 0.5, b = randn({5}, kFloat32, &gen);
  const Tensor rm = randn({5}, kFloat32, &gen), rv = rand({5}, kFloat32, &gen) + 0.5;
  for (bool training : {true, false})
    for (bool affine_grads : {true, false}) {
      INFO("training " << training << ", affine grads " << affine_grads);
      for_each_isa_and_thread_count([&] {
        auto [x, xr] = twin_leaves(x0, kFloat32);
        auto [r, rr] = twin_leaves(r0, kFloat32);
        std::pair<Tensor, Tensor> wt{w.clone(), w.clone()}, bt{b.clone(), b.clone()};
        if (affine_grads) {
          wt = twin_leaves(w, kFloat32);
          bt = twin_leaves(b, kFloat32);
        }
        Tensor out =
            batch_norm_add_relu(x, r, rm.clone(), rv.clone(), wt.first, bt.first, training);
        Tensor ref =
            relu(batch_norm(xr, rm.clone(), rv.clone(), wt.second, bt.second, training) + rr);
        check_fused_matches_composed(out, ref, kFloat32,
                                     {{x, xr},
                                      {r, rr},
                                      affine_grads ? wt : std::pair<Tensor, Tensor>{},
                                      affine_grads ? bt : std::pair<Tensor, Tensor>{}});
      });
    }
}

TEST_CASE("layer_norm fused kernels match the composed reference (float64)", "[norm]") {
  Generator gen(12);
  Tensor x = randn({3, 5, 4, 6}, kFloat64, &gen) * 2.0 + 7.0;
  for (Shape ns : {Shape{6}, Shape{4, 6}, Shape{5, 4, 6}}) {
    for (bool affine : {true, false}) {
      DYNAMIC_SECTION("normalized_shape=" << shape_str(ns) << " affine=" << affine) {
        In inputs{x, affine ? rand(ns, kFloat64, &gen) + 0.5 : Tensor(),
                  affine ? randn(ns, kFloat64, &gen) : Tensor()};
        check_fused_matches_reference(
            [ns](const In& i) { return layer_norm(i[0], ns, i[1], i[2]); },
            [ns](const In& i) { return layer_norm_reference(i[0], ns, i[1], i[2], 1e-5); }, inputs,
            3);
      }
    }
  }
  SECTION("many rows (chunked weight/bias sums)") {
    In inputs{randn({700, 40}, kFloat64, &gen), rand({40}, kFloat64, &gen),
              randn({40}, kFloat64, &gen)};
    check_fused_matches_reference(
        [](const In& i) { return layer_norm(i[0], {40}, i[1], i[2]); },
        [](const In& i) { return layer_norm_reference(i[0], {40}, i[1], i[2], 1e-5); }, inputs, 4);
  }
}

TEST_CASE("BatchNorm over 3 training steps and eval matches PyTorch (fixtures)", "[norm]") {
  json fx = load_fixture("batch_norm.json");
  REQUIRE(fx.at("cases").size() == 3);
  for (const json& c : fx.at("cases")) {
    DYNAMIC_SECTION(c.at("name").get<std::string>()) {
      const int64_t C = from_json(c.at("steps")[0].at("input")).size(1);
      double momentum = c.at("momentum"), eps = c.at("eps");
      // PyTorch's buffers start at mean 0, var 1.
      Tensor rm = zeros({C}, kFloat64), rv = ones({C}, kFloat64);
      Tensor rm32 = zeros({C}, kFloat32), rv32 = ones({C}, kFloat32);
      Tensor w = opt_json(c, "weight"), b = opt_json(c, "bias");
      auto run = [&](const json& s, bool training) {
        Tensor x = from_json(s.at("input")).requires_grad_();
        Tensor wl = w.defined() ? w.clone().requires_grad_() : Tensor();
        Tensor bl = b.defined() ? b.clone().requires_grad_() : Tensor();
        Tensor out = batch_norm(x, rm, rv, wl, bl, training, momentum, eps);
        CHECK(max_abs_diff(out, from_json(s.at("output"))) < 1e-10);
        out.backward(from_json(s.at("grad_out")));
        CHECK(max_abs_diff(x.grad(), from_json(s.at("grad_input"))) < 1e-10);
        if (wl.defined()) {
          CHECK(max_abs_diff(wl.grad(), from_json(s.at("grad_weight"))) < 1e-10);
          CHECK(max_abs_diff(bl.grad(), from_json(s.at("grad_bias"))) < 1e-10);
        }
        // The float32 path, with its own running stats.
        Tensor out32 = batch_norm(from_json(s.at("input")).to(kFloat32), rm32, rv32,
                                  w.defined() ? w.to(kFloat32) : Tensor(),
                                  b.defined() ? b.to(kFloat32) : Tensor(), training, momentum, eps);
        CHECK(max_abs_diff(out32.to(kFloat64), from_json(s.at("output"))) < 1e-4);
      };
      for (const json& s : c.at("steps")) {
        run(s, true);
        // Running var uses the unbiased batch variance.
        CHECK(max_abs_diff(rm, from_json(s.at("running_mean"))) < 1e-12);
        CHECK(max_abs_diff(rv, from_json(s.at("running_var"))) < 1e-12);
        CHECK(max_abs_diff(rm32.to(kFloat64), from_json(s.at("running_mean"))) < 1e-5);
        CHECK(max_abs_diff(rv32.to(kFloat64), from_json(s.at("running_var"))) < 1e-5);
      }
      Tensor rm_before = rm.clone(), rv_before = rv.clone();
      run(c.at("eval"), false);
      // Eval leaves the running stats alone.
      CHECK(max_abs_diff(rm, rm_before) == 0);
      CHECK(max_abs_diff(rv, rv_before) == 0);
    }
  }
}

TEST_CASE("batch_norm running stats by hand", "[norm]") {
  // One channel, x = {1, 2, 3, 6}: mean 3, biased var (4+1+0+9)/4 = 3.5,
  // unbiased 14/3. With momentum 0.5 from (0, 1): mean 1.5, var (1 + 14/3)/2 = 17/6.
  Tensor x = tensor({1, 2, 3, 6}, kFloat64).reshape({4, 1});
  Tensor rm = zeros({1}, kFloat64), rv = ones({1}, kFloat64);
  Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.5, 0.0);
  CHECK(rm.item() == Approx(1.5));
  CHECK(rv.item() == Approx(17.0 / 6.0));
  // Normalised with the biased variance: (1 - 3) / sqrt(3.5).
  CHECK(y.to_vector<double>()[0] == Approx(-2.0 / std::sqrt(3.5)));
  // Eval uses the running stats: (1 - 1.5) / sqrt(17/6).
  Tensor e = batch_norm(x, rm, rv, Tensor(), Tensor(), false, 0.5, 0.0);
  CHECK(e.to_vector<double>()[0] == Approx(-0.5 / std::sqrt(17.0 / 6.0)));
  CHECK(rm.item() == Approx(1.5));
  // Strided running stats (column views of one buffer) are updated in place.
  // Channel 1 is 10x channel 0: mean 30 -> 15, unbiased var 1400/3 -> (1 + 1400/3) / 2.
  Tensor x2 = tensor({1, 10, 2, 20, 3, 30, 6, 60}, kFloat64).reshape({4, 2});
  Tensor both = zeros({2, 2}, kFloat64);  // (C, 2): column 0 = mean, column 1 = var
  both.select(1, 1).fill_(1.0);
  batch_norm(x2, both.select(1, 0), both.select(1, 1), Tensor(), Tensor(), true, 0.5, 0.0);
  std::vector<double> v = both.to_vector<double>();
  CHECK(v[0] == Approx(1.5));
  CHECK(v[1] == Approx(17.0 / 6.0));
  CHECK(v[2] == Approx(15.0));
  CHECK(v[3] == Approx((1.0 + 1400.0 / 3.0) / 2.0));
}

TEST_CASE("LayerNorm matches PyTorch (fixtures)", "[norm]") {
  json fx = load_fixture("layer_norm.json");
  REQUIRE(fx.at("cases").size() == 4);
  for (const json& c : fx.at("cases")) {
    DYNAMIC_SECTION(c.at("name").get<std::string>()) {
      Shape ns = c.at("normalized_shape").get<Shape>();
      double eps = c.at("eps");
      Tensor x = from_json(c.at("input")).requires_grad_();
      Tensor w = opt_json(c, "weight"), b = opt_json(c, "bias");
      if (w.defined()) w.requires_grad_();
      if (b.defined()) b.requires_grad_();
      Tensor out = layer_norm(x, ns, w, b, eps);
      CHECK(max_abs_diff(out, from_json(c.at("output"))) < 1e-10);
      out.backward(from_json(c.at("grad_out")));
      CHECK(max_abs_diff(x.grad(), from_json(c.at("grad_input"))) < 1e-10);
      if (w.defined()) {
        CHECK(max_abs_diff(w.grad(), from_json(c.at("grad_weight"))) < 1e-10);
        CHECK(max_abs_diff(b.grad(), from_json(c.at("grad_bias"))) < 1e-10);
      }
      Tensor out32 =
          layer_norm(x.detach().to(kFloat32), ns, w.defined() ? w.detach().to(kFloat32) : Tensor(),
                     b.defined() ? b.detach().to(kFloat32) : Tensor(), eps);
      CHECK(max_abs_diff(out32.to(kFloat64), from_json(c.at("output"))) < 1e-5);
    }
  }
}

TEST_CASE("float32 statistics stay accurate with a large mean", "[norm]") {
  // 1e4 + small noise: E[x²] - E[x]² in float32 would lose every digit of the
  // variance; the two-pass double accumulation keeps it.
  Generator gen(13);
  Tensor x32 = (randn({8, 3, 16, 16}, kFloat64, &gen) * 0.05 + 1e4).to(kFloat32);
  Tensor x64 = x32.to(kFloat64);  // the same values, computed in float64
  Tensor bn32 = batch_norm(x32, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor bn64 = batch_norm(x64, Tensor(), Tensor(), Tensor(), Tensor(), true);
  // float32 resolves 1e4 to ~1e-3, i.e. ~0.02 standard deviations here.
  CHECK(max_abs_diff(bn32.to(kFloat64), bn64) < 0.05);
  Tensor ln32 = layer_norm(x32, {16, 16});
  Tensor ln64 = layer_norm(x64, {16, 16});
  CHECK(max_abs_diff(ln32.to(kFloat64), ln64) < 0.05);
  // Each row has variance v / (v + eps) with v ≈ 0.05² = 0.0025: just under 1.
  Tensor row_var = var(ln32.to(kFloat64), {2, 3}, false);
  CHECK(max(row_var).item() < 1.0);
  CHECK(min(row_var).item() > 0.99);
}

TEST_CASE("norm results do not depend on the thread count", "[norm]") {
  Generator gen(14);
  Tensor x = randn({64, 96}, kFloat32, &gen).requires_grad_();
  Tensor w = ones({96}).requires_grad_(), b = zeros({96}).requires_grad_();
  Tensor g = randn({64, 96}, kFloat32, &gen);
  auto run = [&](int threads) {
    set_num_threads(threads);
    x.set_grad(Tensor());
    w.set_grad(Tensor());
    layer_norm(x, {96}, w, b).backward(g);
    Tensor y = batch_norm(x.detach(), Tensor(), Tensor(), Tensor(), Tensor(), true);
    return std::vector<Tensor>{x.grad().clone(), w.grad().clone(), y};
  };
  int threads = get_num_threads();
  auto a = run(1), c = run(4);
  set_num_threads(threads);
  for (size_t i = 0; i < a.size(); ++i) CHECK(max_abs_diff(a[i], c[i]) == 0);
}

TEST_CASE("dropout: mask, scaling, identity cases and reproducibility", "[norm][dropout]") {
  Tensor x = ones({200, 500}, kFloat64).requires_grad_();
  SECTION("eval and p = 0 are the identity") {
    CHECK(dropout(x, 0.5, false).impl() == x.impl());
    CHECK(dropout(x, 0.0, true).impl() == x.impl());
  }
  SECTION("p = 1 gives zeros and zero gradients") {
    Tensor y = dropout(x, 1.0, true);
    CHECK(max(abs(y)).item() == 0);
    y.sum().backward();
    CHECK(max(abs(x.grad())).item() == 0);
  }
  SECTION("kept elements are scaled by 1/(1-p); about 1-p are kept") {
    Generator gen(21);
    Tensor y = dropout(x, 0.3, true, &gen);
    std::vector<double> v = y.to_vector<double>();
    int64_t kept = 0;
    bool values_ok = true;
    for (double e : v) {
      if (e != 0) {
        ++kept;
        values_ok = values_ok && std::abs(e - 1.0 / 0.7) < 1e-12;
      }
    }
    CHECK(values_ok);
    // 100,000 Bernoulli(0.7): sd ≈ 145, so ±1% is > 6 sd.
    CHECK(double(kept) / double(v.size()) == Approx(0.7).margin(0.01));
    // The backward multiplies by the same mask.
    Tensor g = full({200, 500}, 2.0, kFloat64);
    y.backward(g);
    CHECK(max_abs_diff(x.grad(), y.detach() * 2.0) == 0);
    // The generator moved by one draw per element.
    CHECK(gen.counter() == 100000);
  }
  SECTION("same seed, same mask, whatever the thread count") {
    int threads = get_num_threads();
    set_num_threads(1);
    Generator g1(7);
    Tensor a = dropout(x.detach(), 0.5, true, &g1);
    set_num_threads(4);
    Generator g2(7);
    Tensor b = dropout(x.detach(), 0.5, true, &g2);
    set_num_threads(threads);
    CHECK(max_abs_diff(a, b) == 0);
    Tensor c = dropout(x.detach(), 0.5, true, &g2);  // the next draw differs
    CHECK(max_abs_diff(a, c) > 0);
  }
  SECTION("float32 and strided inputs") {
    Generator gen(22);
    Tensor xs = ones({50, 40}).transpose(0, 1);
    Tensor y = dropout(xs, 0.5, true, &gen);
    CHECK(y.dtype() == kFloat32);
    CHECK(y.shape() == Shape{40, 50});
  }
}

TEST_CASE("normalisation errors name the op and the shapes", "[norm]") {
  Tensor x = zeros({2, 4, 3});
  CHECK_THROWS_WITH(
      batch_norm(zeros({5}), Tensor(), Tensor(), Tensor(), Tensor(), true),
      Catch::Contains("batch_norm: expected input of shape (B, C, *)") && Catch::Contains("[5]"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({3}), ones({3}), Tensor(), Tensor(), true),
                    Catch::Contains("batch_norm: running_mean has shape [3] but input has 4 "
                                    "channels"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({4}), ones({5}), Tensor(), Tensor(), false),
                    Catch::Contains("batch_norm: running_var has shape [5]"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), ones({3}), Tensor(), true),
                    Catch::Contains("batch_norm: weight has shape [3] but input has 4 channels"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({4}, kFloat64), ones({4}), Tensor(), Tensor(), true),
                    Catch::Contains("batch_norm: running_mean is float64 but input is float32"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                    Catch::Contains("eval mode (training=false) needs running_mean"));
  CHECK_THROWS_WITH(batch_norm(zeros({1, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                    Catch::Contains("more than 1 value per channel"));
  CHECK_THROWS_WITH(layer_norm(x, {4}),
                    Catch::Contains("layer_norm: normalized_shape [4] does not match the "
                                    "trailing dims of the input of shape [2, 4, 3]"));
  CHECK_THROWS_WITH(layer_norm(x, {2, 4, 3, 1}), Catch::Contains("does not match"));
  CHECK_THROWS_WITH(layer_norm(x, {}), Catch::Contains("at least one dim"));
  CHECK_THROWS_WITH(layer_norm(x, {4, 3}, ones({12})),
                    Catch::Contains("layer_norm: weight has shape [12]"));
  CHECK_THROWS_WITH(dropout(x, 1.5, true),
                    Catch::Contains("dropout: probability must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(dropout(x, -0.1, false), Catch::Contains("dropout: probability"));
  CHECK_THROWS_WITH(layer_norm(zeros({2, 3}, kInt64), {3}),
                    Catch::Contains("layer_norm: expected a floating-point tensor"));
}

// --- gradcheck cases
namespace {
// Fixed running stats, made inside the fn so every call sees the same values.
Tensor eval_bn(const Tensor& x, const Tensor& w, const Tensor& b) {
  Tensor rm = tensor({0.3, -0.2, 0.1}, kFloat64), rv = tensor({0.8, 1.5, 0.6}, kFloat64);
  return batch_norm(x, rm, rv, w, b, false, 0.1, 1e-5);
}
}  // namespace

HEED_GRADCHECK_CASE(
    {"batch_norm_relu", "training affine, no running stats",
     [] {
       return In{gc_input({4, 3, 2, 2}), gc_input({3}, 0.5, 1.5, 2), gc_input({3}, -0.5, 0.5, 3)};
     },
     [](const In& i) { return batch_norm_relu(i[0], {}, {}, i[1], i[2], /*training=*/true); }});
HEED_GRADCHECK_CASE({"batch_norm_add_relu", "eval affine, residual",
                     [] {
                       return In{gc_input({2, 3, 2, 2}), gc_input({2, 3, 2, 2}, -1, 1, 4),
                                 gc_input({3}, 0.5, 1.5, 2), gc_input({3}, -0.5, 0.5, 3)};
                     },
                     [](const In& i) {
                       Tensor rm = tensor({0.3, -0.2, 0.1}, kFloat64);
                       Tensor rv = tensor({0.8, 1.5, 0.6}, kFloat64);
                       return batch_norm_add_relu(i[0], i[1], rm, rv, i[2], i[3], false);
                     }});
HEED_GRADCHECK_CASE(
    {"batch_norm", "training affine (B, C, H, W)",
     [] {
       return In{gc_input({3, 3, 2, 3}), gc_input({3}, 0.5, 1.5, 2), gc_input({3}, -1, 1, 3)};
     },
     [](const In& i) {
       // Fresh running stats per call: they are updated in place.
       Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
       return batch_norm(i[0], rm, rv, i[1], i[2], true);
     }});
HEED_GRADCHECK_CASE({"batch_norm", "training no affine (B, C), strided",
                     [] {
                       return In{gc_strided_input({5, 4}, -1, 1, 4)};
                     },
                     [](const In& i) { return batch_norm(i[0], {}, {}, {}, {}, true); }});
HEED_GRADCHECK_CASE(
    {"batch_norm", "eval affine",
     [] {
       return In{gc_input({2, 3, 4}), gc_input({3}, 0.5, 1.5, 2), gc_input({3}, -1, 1, 3)};
     },
     [](const In& i) { return eval_bn(i[0], i[1], i[2]); }});
HEED_GRADCHECK_CASE({"batch_norm", "eval no affine",
                     [] {
                       return In{gc_input({4, 3})};
                     },
                     [](const In& i) { return eval_bn(i[0], {}, {}); }});
HEED_GRADCHECK_CASE(
    {"layer_norm", "affine over the last dim",
     [] {
       return In{gc_input({3, 5}), gc_input({5}, 0.5, 1.5, 2), gc_input({5}, -1, 1, 3)};
     },
     [](const In& i) { return layer_norm(i[0], {5}, i[1], i[2]); }});
HEED_GRADCHECK_CASE({"layer_norm", "no affine over 2 dims, strided",
                     [] {
                       return In{gc_strided_input({2, 3, 4}, -1, 1, 4)};
                     },
                     [](const In& i) {
                       return layer_norm(i[0], {3, 4});
                     }});
HEED_GRADCHECK_CASE({"layer_norm", "weight only",
                     [] {
                       return In{gc_input({4, 6}), gc_input({6}, 0.5, 1.5, 5)};
                     },
                     [](const In& i) { return layer_norm(i[0], {6}, i[1]); }});
HEED_GRADCHECK_CASE({"dropout", "p=0.4, fixed generator",
                     [] {
                       return In{gc_input({6, 7})};
                     },
                     [](const In& i) {
                       Generator g(7);
                       return dropout(i[0], 0.4, true, &g);
                     }});

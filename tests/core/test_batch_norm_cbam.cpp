// batch_norm_cbam_add_relu: its output and every gradient (input, affine,
// residual, both gates' parameters) against the composed path batch_norm ->
// global_mean_max_pool2d -> channel gate -> channel_mean_max -> spatial gate
// -> gates_add_relu (float32 and float64, training and eval, with and
// without affine, both descriptor orders), running stats, errors, gradcheck.
#include <catch2/catch.hpp>

#include <limits>

#include "core/cpu/norm_runs.h"
#include "support/fused_vs_composed.h"
#include "support/gradcheck_cases.h"
#include "support/isa_sweep.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// CBAM-like gates: a shared two-layer MLP on the mean and the max (summed),
// a K × K conv (padding K/2) on the descriptor; weights w1 (h, C), w2 (C, h),
// k (1, 2, K, K).
CbamGateFns cbam_like(const Tensor& w1, const Tensor& w2, const Tensor& k, bool max_first) {
  auto mlp = [=](const Tensor& z) { return matmul(relu(matmul(z, w1.t())), w2.t()); };
  const int64_t p = k.size(3) / 2;
  return {[=](const Tensor& mean, const Tensor& max) { return sigmoid(mlp(mean) + mlp(max)); },
          [=](const Tensor& d) {
            return sigmoid(conv2d(d, k, Tensor(), {1, 1}, {p, p}));
          },
          max_first};
}

// The reference: the same gates on the stored batch norm output.
Tensor composed(const Tensor& y, const CbamGateFns& gates, const Tensor& residual) {
  const int64_t B = y.size(0), C = y.size(1);
  Tensor gc = gates.channel(mean(y, {2, 3}), amax(y, {2, 3})).reshape({B, C, 1, 1});
  Tensor u = y * gc;
  Tensor avg = mean(u, {1}, true), mx = amax(u, {1}, true);
  Tensor d = gates.max_first ? cat({mx, avg}, 1) : cat({avg, mx}, 1);
  Tensor gs = gates.spatial(d).reshape({B, 1, y.size(2), y.size(3)});
  return relu(u * gs + residual);
}

}  // namespace

TEST_CASE("batch_norm_cbam_add_relu equals batch_norm then CBAM's gates and the join",
          "[norm][cbam]") {
  for (DType dt : {kFloat32, kFloat64})
    for (bool training : {true, false})
      for (bool affine : {true, false})
        for (bool max_first : {false, true})
          for (const Shape& shape : {Shape{4, 6, 9, 11}, Shape{8, 16, 16, 16}}) {
            INFO(dt << (training ? " training " : " eval ") << (affine ? "affine " : "")
                    << (max_first ? "max_first " : "") << shape_str(shape));
            const int64_t C = shape[1], hidden = 3;
            auto leaf = [&](const Tensor& t) { return twin_leaves(t, dt); };
            auto [x, xr] = leaf(randn(shape) * 2 + 3);
            auto [res, res_r] = leaf(randn(shape));
            auto [w1, w1r] = leaf(randn({hidden, C}) * 0.5);
            auto [w2, w2r] = leaf(randn({C, hidden}) * 0.5);
            auto [k, kr] = leaf(randn({1, 2, 3, 3}) * 0.3);
            Tensor w, wr, b, br;
            if (affine) {
              // Some negative scales: the max pool then picks x's minimum.
              std::tie(w, wr) = leaf(rand({C}) * 2 - 0.5);
              std::tie(b, br) = leaf(randn({C}) * 0.3);
            }
            Tensor rm = randn({C}).to(dt), rv = (rand({C}) + 0.5).to(dt);
            Tensor rm_r = rm.clone(), rv_r = rv.clone();

            Tensor out = batch_norm_cbam_add_relu(x, cbam_like(w1, w2, k, max_first), res, rm, rv,
                                                  w, b, training, 0.2, 1e-5);
            Tensor y = batch_norm(xr, rm_r, rv_r, wr, br, training, 0.2, 1e-5);
            Tensor ref = composed(y, cbam_like(w1r, w2r, kr, max_first), res_r);
            CHECK(max(abs(rm - rm_r)).item() == 0.0);
            CHECK(max(abs(rv - rv_r)).item() == 0.0);
            check_fused_matches_composed(
                out, ref, dt,
                {{x, xr}, {res, res_r}, {w1, w1r}, {w2, w2r}, {k, kr}, {w, wr}, {b, br}});
          }
}

TEST_CASE("first_extreme finds the first max or min under every ISA", "[norm][cbam]") {
  // Runs with the extreme planted twice (the first must win), lengths around
  // the vector widths and the 4-vector blocks of the max scan (64 under
  // AVX-512), runs of one repeated infinity, a lone extreme in the tail, and
  // signed zeros (equal as numbers: the first wins).
  std::vector<std::vector<float>> runs;
  for (int64_t n : {1, 5, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1024}) {
    std::vector<float> v = randn({n}).to_vector<float>();
    if (n > 3) v[size_t(n / 3)] = v[size_t(n - 1)] = 9.0f, v[size_t(n / 2)] = -9.0f;
    runs.push_back(v);
    v = randn({n}).to_vector<float>();
    v[size_t(n - 1)] = 9.0f;
    runs.push_back(v);
  }
  runs.push_back({-1.0f, -0.0f, 0.0f, -2.0f});
  runs.push_back({1.0f, 0.0f, -0.0f, 2.0f});
  runs.push_back(std::vector<float>(20, -std::numeric_limits<float>::infinity()));
  runs.push_back(std::vector<float>(20, std::numeric_limits<float>::infinity()));
  for_each_isa_and_thread_count([&] {
    for (const auto& v : runs)
      for (bool minimum : {false, true}) {
        INFO("n " << v.size() << (minimum ? " min" : " max"));
        size_t want = 0;
        for (size_t i = 1; i < v.size(); ++i)
          if (minimum ? v[i] < v[want] : v[i] > v[want]) want = i;
        CHECK(cpu::first_extreme(v.data(), int64_t(v.size()), minimum) == int64_t(want));
      }
  });
}

TEST_CASE("batch_norm_cbam_add_relu agrees with the composed path under every ISA",
          "[norm][cbam]") {
  // The output and every input's gradient, the spatial gate's conv at each
  // of the row stencils' kernel sizes (conv_stencil.h, AVX-512).
  const int64_t C = 12;
  const Tensor x = randn({6, C, 7, 9}) * 2 + 1, res = randn({6, C, 7, 9}), gout = randn(x.shape());
  const Tensor w = rand({C}) * 2 - 0.7, b = randn({C}), w1 = randn({3, C}), w2 = randn({C, 3});
  for (int64_t K : {3, 5, 7}) {
    INFO(K << "x" << K);
    const Tensor k = randn({1, 2, K, K}) * 0.3;
    // out, then the gradients of x, res, w, b, w1, w2, k.
    auto run = [&](bool fused) {
      std::vector<Tensor> in;
      for (const Tensor* t : {&x, &res, &w, &b, &w1, &w2, &k})
        in.push_back(t->clone().requires_grad_());
      const CbamGateFns gates = cbam_like(in[4], in[5], in[6], true);
      Tensor out = fused ? batch_norm_cbam_add_relu(in[0], gates, in[1], {}, {}, in[2], in[3], true)
                         : composed(batch_norm(in[0], {}, {}, in[2], in[3], true), gates, in[1]);
      sum(out * gout).backward();
      std::vector<Tensor> got{out.detach()};
      for (const Tensor& t : in) got.push_back(t.grad());
      return got;
    };
    const std::vector<Tensor> want = run(false);
    for_each_isa_and_thread_count([&] {
      const std::vector<Tensor> got = run(true);
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("output 0, then the inputs' gradients: " << i);
        CHECK(max(abs(got[i] - want[i])).item() <= 2e-4 * (1 + max(abs(want[i])).item()));
      }
    });
  }
}

TEST_CASE("batch_norm_cbam_add_relu: gradients reach only what requires them", "[norm][cbam]") {
  const int64_t B = 2, C = 4;
  Tensor x = randn({B, C, 5, 5}), res = randn({B, C, 5, 5});
  Tensor w1 = randn({2, C}).requires_grad_(), w2 = randn({C, 2}).requires_grad_();
  Tensor k = randn({1, 2, 3, 3}).requires_grad_();
  SECTION("only the gates' parameters") {
    sum(batch_norm_cbam_add_relu(x, cbam_like(w1, w2, k, false), res, {}, {}, {}, {}, true))
        .backward();
    CHECK(w1.grad().defined());
    CHECK(k.grad().defined());
    CHECK_FALSE(x.grad().defined());
  }
  SECTION("constant gates: the input's gradient is batch norm's, scaled") {
    Tensor xg = x.clone().requires_grad_(), xr = x.clone().requires_grad_();
    const CbamGateFns fixed{[&](const Tensor&, const Tensor&) {
                              return full({B, C}, 0.5);
                            },
                            [&](const Tensor&) {
                              return full({B, 1, 5, 5}, 2.0);
                            }};
    sum(batch_norm_cbam_add_relu(xg, fixed, res, {}, {}, {}, {}, true) * res).backward();
    sum(relu(batch_norm(xr, {}, {}, {}, {}, true) + res) * res).backward();
    CHECK(max(abs(xg.grad() - xr.grad())).item() <= 1e-5);
  }
}

TEST_CASE("batch_norm_cbam_add_relu errors name the op and the problem", "[norm][cbam]") {
  Tensor x = randn({2, 3, 4, 4}), res = randn({2, 3, 4, 4});
  const CbamGateFns ok{[](const Tensor& m, const Tensor&) { return sigmoid(m); },
                       [](const Tensor& d) { return sigmoid(d.narrow(1, 0, 1)); }};
  CHECK_THROWS_WITH(batch_norm_cbam_add_relu(x, ok, Tensor(), {}, {}, {}, {}, true),
                    Catch::Contains("batch_norm_cbam_add_relu: residual is undefined"));
  CHECK_THROWS_WITH(
      batch_norm_cbam_add_relu(randn({2, 3, 16}), ok, randn({2, 3, 16}), {}, {}, {}, {}, true),
      Catch::Contains("expected a non-empty (B, C, H, W) input, got shape [2, 3, 16]"));
  CHECK_THROWS_WITH(batch_norm_cbam_add_relu(x, CbamGateFns{}, res, {}, {}, {}, {}, true),
                    Catch::Contains("a gate function is empty"));
  const CbamGateFns bad_channel{[](const Tensor& m, const Tensor&) { return m.sum({1}); },
                                ok.spatial};
  CHECK_THROWS_WITH(batch_norm_cbam_add_relu(x, bad_channel, res, {}, {}, {}, {}, true),
                    Catch::Contains("the channel gate function returned shape [2] (expected 6 "
                                    "values, as [2, 3])"));
  const CbamGateFns bad_spatial{ok.channel, [](const Tensor& d) { return d; }};
  CHECK_THROWS_WITH(batch_norm_cbam_add_relu(x, bad_spatial, res, {}, {}, {}, {}, true),
                    Catch::Contains("the spatial gate function returned shape [2, 2, 4, 4] "
                                    "(expected 32 values, as [2, 16])"));
}

// Inputs: x, residual, weight, bias, the MLP's two matrices and the conv's kernel.
HEED_GRADCHECK_CASE({"batch_norm_cbam_add_relu", "training affine, MLP and conv gates",
                     [] {
                       return In{gc_input({3, 4, 3, 3}),
                                 gc_input({3, 4, 3, 3}, -1, 1, 2),
                                 gc_input({4}, -1.5, 1.5, 3),
                                 gc_input({4}, -1, 1, 4),
                                 gc_input({2, 4}, -1, 1, 5),
                                 gc_input({4, 2}, -1, 1, 6),
                                 gc_input({1, 2, 3, 3}, -0.5, 0.5, 7)};
                     },
                     [](const In& i) {
                       return batch_norm_cbam_add_relu(i[0], cbam_like(i[4], i[5], i[6], true),
                                                       i[1], Tensor(), Tensor(), i[2], i[3], true);
                     }});
HEED_GRADCHECK_CASE({"batch_norm_cbam_add_relu", "eval, no affine, [mean; max]",
                     [] {
                       return In{gc_input({2, 3, 4, 2}), gc_input({2, 3, 4, 2}, -1, 1, 2),
                                 gc_input({2, 3}, -1, 1, 3), gc_input({3, 2}, -1, 1, 4),
                                 gc_input({1, 2, 3, 3}, -0.5, 0.5, 5)};
                     },
                     [](const In& i) {
                       Tensor rm = tensor({0.3, -0.2, 0.1}, kFloat64);
                       Tensor rv = tensor({0.8, 1.5, 0.6}, kFloat64);
                       return batch_norm_cbam_add_relu(i[0], cbam_like(i[2], i[3], i[4], false),
                                                       i[1], rm, rv, Tensor(), Tensor(), false);
                     }});

// batch_norm_gate_add_relu: its output and every gradient (input, affine,
// residual, the gate's parameters) against the composed path
// batch_norm -> mean -> gate -> gate_add_relu (float32 and float64, training
// and eval, with and without affine, 3-D and 4-D inputs), running stats, the
// backend's composite defaults against the CPU kernels, errors, and gradcheck.
#include <catch2/catch.hpp>

#include "core/backend.h"
#include "support/fused_vs_composed.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// A small SE-style gate: sigmoid(relu(m · w1ᵀ) · w2ᵀ), (B, C) -> (B, C, 1).
Tensor mlp_gate(const Tensor& m, const Tensor& w1, const Tensor& w2) {
  return sigmoid(matmul(relu(matmul(m, w1.t())), w2.t())).unsqueeze(2);
}

}  // namespace

TEST_CASE("batch_norm_gate_add_relu equals batch_norm, mean, gate and gate_add_relu",
          "[norm][gate]") {
  for (DType dt : {kFloat32, kFloat64})
    for (bool training : {true, false})
      for (bool affine : {true, false})
        for (const Shape& shape : {Shape{4, 6, 9, 11}, Shape{3, 5, 40}, Shape{8, 16, 32, 32}}) {
          INFO(dt << (training ? " training " : " eval ") << (affine ? "affine " : "")
                  << shape_str(shape));
          const int64_t B = shape[0], C = shape[1], hidden = 3;
          // Two copies of every leaf: one for the fused op, one for the reference.
          auto leaf = [&](const Tensor& t) { return twin_leaves(t, dt); };
          auto [x, xr] = leaf(randn(shape) * 2 + 3);
          auto [res, res_r] = leaf(randn(shape));
          auto [w1, w1r] = leaf(randn({hidden, C}) * 0.5);
          auto [w2, w2r] = leaf(randn({C, hidden}) * 0.5);
          Tensor w, wr, b, br;
          if (affine) {
            std::tie(w, wr) = leaf(rand({C}) + 0.5);
            std::tie(b, br) = leaf(randn({C}) * 0.3);
          }
          Tensor rm = randn({C}).to(dt), rv = (rand({C}) + 0.5).to(dt);
          Tensor rm_r = rm.clone(), rv_r = rv.clone();

          const ChannelGateFn gate = [&](const Tensor& m) { return mlp_gate(m, w1, w2); };
          Tensor out = batch_norm_gate_add_relu(x, gate, res, rm, rv, w, b, training, 0.2, 1e-5);
          Tensor y = batch_norm(xr, rm_r, rv_r, wr, br, training, 0.2, 1e-5);
          Tensor g = mlp_gate(mean(y, spatial_dims(xr)), w1r, w2r);
          Shape gate_shape{B, C};  // broadcast over the trailing dims
          for (size_t d = 2; d < shape.size(); ++d) gate_shape.push_back(1);
          Tensor ref = add_relu(y * g.reshape(gate_shape), res_r);
          CHECK(max(abs(rm - rm_r)).item() == 0.0);
          CHECK(max(abs(rv - rv_r)).item() == 0.0);
          check_fused_matches_composed(
              out, ref, dt, {{x, xr}, {res, res_r}, {w1, w1r}, {w2, w2r}, {w, wr}, {b, br}});
        }
}

TEST_CASE("batch_norm_gate_add_relu: gradients reach only what requires them", "[norm][gate]") {
  const int64_t B = 2, C = 4;
  Tensor x = randn({B, C, 5, 5});
  Tensor res = randn({B, C, 5, 5});
  Tensor w1 = randn({2, C}).requires_grad_(), w2 = randn({C, 2}).requires_grad_();
  const ChannelGateFn gate = [&](const Tensor& m) { return mlp_gate(m, w1, w2); };
  SECTION("only the gate's parameters: no statistics node, no input gradient") {
    Tensor out = batch_norm_gate_add_relu(x, gate, res, {}, {}, {}, {}, true);
    sum(out).backward();
    CHECK(w1.grad().defined());
    CHECK(w2.grad().defined());
    CHECK_FALSE(x.grad().defined());
  }
  SECTION("a constant gate: the input still gets its gradient") {
    Tensor xg = x.clone().requires_grad_(), xr = x.clone().requires_grad_();
    const ChannelGateFn fixed = [&](const Tensor&) { return full({B, C}, 0.5); };
    sum(batch_norm_gate_add_relu(xg, fixed, res, {}, {}, {}, {}, true) * res).backward();
    sum(add_relu(batch_norm(xr, {}, {}, {}, {}, true) * 0.5, res) * res).backward();
    CHECK(max(abs(xg.grad() - xr.grad())).item() <= 1e-5);
  }
  SECTION("no grad mode records nothing") {
    NoGradGuard no_grad;
    Tensor xg = x.clone().requires_grad_();
    Tensor out = batch_norm_gate_add_relu(xg, gate, res, {}, {}, {}, {}, true);
    CHECK_FALSE(out.requires_grad());
  }
}

TEST_CASE("batch_norm_gate_add_relu: the composite defaults agree with the CPU kernels",
          "[norm][gate]") {
  // The defaults (y formed in temporaries, the backward through
  // batch_norm_spatial_mean_backward) are what CUDA runs.
  const int64_t B = 4, C = 8;
  Backend& be = backend(kCPU);
  Tensor x = randn({B, C, 12, 12}) + 1, w = rand({C}) + 0.5, b = randn({C});
  Tensor res = randn(x.shape()), gate = rand({B, C}) + 0.2;
  for (bool training : {true, false}) {
    INFO((training ? "training" : "eval"));
    Tensor rm = randn({C}), rv = rand({C}) + 0.5;
    Tensor m1 = empty({B, C}), m2 = empty({B, C}), d1 = empty({B, C}), d2 = empty({B, C});
    Tensor sm = empty({C}), si = empty({C}), sm2 = empty({C}), si2 = empty({C});
    // Statistics only (undefined out), against the default.
    be.batch_norm_spatial_mean(Tensor(), m1, d1, sm, si, x, w, b, rm.clone(), rv.clone(), training,
                               0.1, 1e-5);
    be.Backend::batch_norm_spatial_mean(Tensor(), m2, d2, sm2, si2, x, w, b, rm.clone(), rv.clone(),
                                        training, 0.1, 1e-5);
    CHECK(max(abs(m1 - m2)).item() <= 1e-5);
    CHECK(max(abs(d1 - d2)).item() <= 1e-5);
    CHECK(max(abs(sm - sm2)).item() <= 1e-6);
    CHECK(max(abs(si - si2)).item() <= 1e-6);

    Tensor o1 = empty(x.shape()), o2 = empty(x.shape());
    be.batch_norm_gate_add_relu(o1, x, w, b, sm, si, gate, res);
    be.Backend::batch_norm_gate_add_relu(o2, x, w, b, sm, si, gate, res);
    CHECK(max(abs(o1 - o2)).item() <= 1e-5);

    Tensor gout = randn(x.shape());
    Tensor gm1 = empty(x.shape()), gm2 = empty(x.shape());
    Tensor r1 = empty({B, C}), r2 = empty({B, C}), rd1 = empty({B, C}), rd2 = empty({B, C});
    Tensor gg1 = empty({B, C}), gg2 = empty({B, C});
    be.batch_norm_gate_add_relu_backward_gate(gm1, r1, rd1, gg1, gout, o1, x, w, b, sm, si);
    be.Backend::batch_norm_gate_add_relu_backward_gate(gm2, r2, rd2, gg2, gout, o1, x, w, b, sm,
                                                       si);
    CHECK(gm1.to_vector<float>() == gm2.to_vector<float>());
    CHECK(max(abs(r1 - r2)).item() <= 1e-3);
    CHECK(max(abs(rd1 - rd2)).item() <= 1e-3);
    CHECK(max(abs(gg1 - gg2)).item() <= 1e-3);

    Tensor gsm = randn({B, C});
    Tensor gx1 = empty(x.shape()), gx2 = empty(x.shape());
    Tensor gw1 = empty({C}), gw2 = empty({C}), gb1 = empty({C}), gb2 = empty({C});
    be.batch_norm_gate_backward(gx1, gw1, gb1, gm1, gate, gsm, r1, rd1, d1, x, w, sm, si, training);
    be.Backend::batch_norm_gate_backward(gx2, gw2, gb2, gm1, gate, gsm, r1, rd1, d1, x, w, sm, si,
                                         training);
    CHECK(max(abs(gx1 - gx2)).item() <= 1e-5);
    CHECK(max(abs(gw1 - gw2)).item() <= 1e-3);
    CHECK(max(abs(gb1 - gb2)).item() <= 1e-3);
  }
}

TEST_CASE("batch_norm_gate_add_relu errors name the op and the problem", "[norm][gate]") {
  Tensor x = randn({2, 3, 4, 4}), res = randn({2, 3, 4, 4});
  const ChannelGateFn ident = [](const Tensor& m) { return m; };
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, ident, Tensor(), {}, {}, {}, {}, true),
                    Catch::Contains("batch_norm_gate_add_relu: residual is undefined"));
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, ident, randn({2, 3, 4}), {}, {}, {}, {}, true),
                    Catch::Contains("batch_norm_gate_add_relu: residual has shape [2, 3, 4]"));
  CHECK_THROWS_WITH(
      batch_norm_gate_add_relu(randn({2, 3}), ident, randn({2, 3}), {}, {}, {}, {}, true),
      Catch::Contains("expected a non-empty input of shape (B, C, *spatial)"));
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, ChannelGateFn(), res, {}, {}, {}, {}, true),
                    Catch::Contains("the gate function is empty"));
  const ChannelGateFn wrong = [](const Tensor& m) { return m.sum({1}); };
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, wrong, res, {}, {}, {}, {}, true),
                    Catch::Contains("the channel gate function returned shape [2] (expected 6 "
                                    "values, as [2, 3])"));
  const ChannelGateFn dbl = [](const Tensor& m) { return m.to(kFloat64); };
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, dbl, res, {}, {}, {}, {}, true),
                    Catch::Contains("the channel gate is float64"));
  CHECK_THROWS_WITH(batch_norm_gate_add_relu(x, ident, res, {}, {}, ones({4}), {}, true),
                    Catch::Contains("batch_norm_gate_add_relu: weight has shape [4]"));
}

// Inputs: x, residual, weight, bias and the gate's two weight matrices.
HEED_GRADCHECK_CASE({"batch_norm_gate_add_relu", "training affine, MLP gate (B, C, H, W)",
                     [] {
                       return In{gc_input({3, 4, 2, 3}),     gc_input({3, 4, 2, 3}, -1, 1, 2),
                                 gc_input({4}, 0.5, 1.5, 3), gc_input({4}, -1, 1, 4),
                                 gc_input({2, 4}, -1, 1, 5), gc_input({4, 2}, -1, 1, 6)};
                     },
                     [](const In& i) {
                       const ChannelGateFn gate = [&](const Tensor& m) {
                         return mlp_gate(m, i[4], i[5]).unsqueeze(3);
                       };
                       return batch_norm_gate_add_relu(i[0], gate, i[1], Tensor(), Tensor(), i[2],
                                                       i[3], true);
                     }});
HEED_GRADCHECK_CASE({"batch_norm_gate_add_relu", "eval, no affine, sigmoid gate (B, C, L)",
                     [] {
                       return In{gc_input({2, 3, 5}), gc_input({2, 3, 5}, -1, 1, 2)};
                     },
                     [](const In& i) {
                       Tensor rm = tensor({0.3, -0.2, 0.1}, kFloat64);
                       Tensor rv = tensor({0.8, 1.5, 0.6}, kFloat64);
                       const ChannelGateFn gate = [](const Tensor& m) { return sigmoid(m * 3); };
                       return batch_norm_gate_add_relu(i[0], gate, i[1], rm, rv, Tensor(), Tensor(),
                                                       false);
                     }});

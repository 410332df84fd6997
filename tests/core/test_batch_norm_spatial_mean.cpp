// batch_norm_with_spatial_mean: its two outputs and their gradients against
// batch_norm followed by mean over the trailing dims (float32 and float64,
// training and eval, with and without affine, 3-D and 4-D inputs), the
// running-stat updates, the backend's composite default against the CPU
// kernels, errors, and gradcheck cases.
#include <catch2/catch.hpp>

#include "core/backend.h"
#include "support/fused_vs_composed.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

}  // namespace

TEST_CASE("batch_norm_with_spatial_mean equals batch_norm then mean, values and gradients",
          "[norm][spatial_mean]") {
  for (DType dt : {kFloat32, kFloat64})
    for (bool training : {true, false})
      for (bool affine : {true, false})
        for (const Shape& shape : {Shape{4, 6, 9, 11}, Shape{3, 5, 40}, Shape{8, 16, 32, 32}}) {
          INFO(dt << (training ? " training " : " eval ") << (affine ? "affine " : "")
                  << shape_str(shape));
          const int64_t B = shape[0], C = shape[1];
          // An offset and a scale per channel, so the statistics matter.
          Tensor x = (randn(shape) * 2 + 3).to(dt).requires_grad_();
          Tensor xr = x.detach().requires_grad_();
          Tensor w = affine ? (rand({C}) + 0.5).to(dt).requires_grad_() : Tensor();
          Tensor b = affine ? randn({C}).to(dt).requires_grad_() : Tensor();
          Tensor wr = affine ? w.detach().requires_grad_() : Tensor();
          Tensor br = affine ? b.detach().requires_grad_() : Tensor();
          Tensor rm = randn({C}).to(dt), rv = (rand({C}) + 0.5).to(dt);
          Tensor rm_r = rm.clone(), rv_r = rv.clone();

          auto [y, m] = batch_norm_with_spatial_mean(x, rm, rv, w, b, training, 0.2, 1e-5);
          Tensor yr = batch_norm(xr, rm_r, rv_r, wr, br, training, 0.2, 1e-5);
          Tensor mr = mean(yr, spatial_dims(xr));
          REQUIRE(m.shape() == Shape{B, C});
          const double tol = dt == kFloat32 ? 2e-5 : 1e-12;
          CHECK(max(abs(y - yr)).item() == 0.0);  // the same kernel writes y
          CHECK(max(abs(m - mr)).item() <= tol);
          CHECK(max(abs(rm - rm_r)).item() == 0.0);
          CHECK(max(abs(rv - rv_r)).item() == 0.0);

          // Gradients reaching both outputs, and each output alone.
          Tensor gy = randn(shape).to(dt), gm = randn({B, C}).to(dt);
          for (int which = 0; which < 3; ++which) {
            INFO("gradient into " << (which == 0 ? "both" : which == 1 ? "y" : "the mean"));
            for (Tensor* t : {&x, &xr, &w, &b, &wr, &br})
              if (t->defined()) t->set_grad(Tensor());
            auto [y1, m1] = batch_norm_with_spatial_mean(x, rm.clone(), rv.clone(), w, b, training);
            Tensor y2 = batch_norm(xr, rm.clone(), rv.clone(), wr, br, training);
            Tensor m2 = mean(y2, spatial_dims(xr));
            Tensor l1 = which == 2 ? sum(m1 * gm) : sum(y1 * gy);
            Tensor l2 = which == 2 ? sum(m2 * gm) : sum(y2 * gy);
            if (which == 0) {
              l1 = l1 + sum(m1 * gm);
              l2 = l2 + sum(m2 * gm);
            }
            l1.backward();
            l2.backward();
            const double gtol = dt == kFloat32 ? 1e-4 : 1e-10;
            CHECK(max(abs(x.grad() - xr.grad())).item() <= gtol);
            if (affine) {
              CHECK(max(abs(w.grad() - wr.grad())).item() <= gtol * 10);
              CHECK(max(abs(b.grad() - br.grad())).item() <= gtol * 10);
            }
          }
        }
}

TEST_CASE("batch_norm_with_spatial_mean in eval mode passes the mean's gradient through",
          "[norm][spatial_mean]") {
  // Eval: y = (x - rm)·w/√(rv + eps) + b, so d(mean(y))/dx = w/(√(rv + eps)·S)
  // on every value of the plane, and nothing couples planes.
  Tensor x = randn({2, 3, 4, 5}, kFloat64).requires_grad_();
  Tensor rm = tensor({0.5, -1.0, 2.0}, kFloat64), rv = tensor({4.0, 0.25, 1.0}, kFloat64);
  Tensor w = tensor({2.0, 1.0, -3.0}, kFloat64);
  auto [y, m] = batch_norm_with_spatial_mean(x, rm, rv, w, Tensor(), false, 0.1, 0.0);
  sum(m).backward();
  std::vector<double> g = x.grad().to_vector<double>();
  const double per_channel[3] = {2.0 / 2.0 / 20, 1.0 / 0.5 / 20, -3.0 / 1.0 / 20};
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(per_channel[(i / 20) % 3]));
  // Running stats are read, not updated, in eval.
  CHECK(rm.to_vector<double>() == std::vector<double>{0.5, -1.0, 2.0});
}

TEST_CASE("batch_norm_with_spatial_mean: the composite default agrees with the CPU kernels",
          "[norm][spatial_mean]") {
  // The default (batch_norm, then two reductions; the backward spreading the
  // mean's gradient into a temporary) is what CUDA runs.
  for (bool training : {true, false}) {
    INFO((training ? "training" : "eval"));
    const int64_t B = 4, C = 8;
    Tensor x = randn({B, C, 12, 12}) + 1, w = rand({C}) + 0.5, b = randn({C});
    Tensor rm1 = randn({C}), rv1 = rand({C}) + 0.5, rm2 = rm1.clone(), rv2 = rv1.clone();
    Backend& be = backend(kCPU);
    Tensor y1 = empty(x.shape()), y2 = empty(x.shape());
    Tensor m1 = empty({B, C}), m2 = empty({B, C}), d1 = empty({B, C}), d2 = empty({B, C});
    Tensor sm1 = empty({C}), sm2 = empty({C}), si1 = empty({C}), si2 = empty({C});
    be.batch_norm_spatial_mean(y1, m1, d1, sm1, si1, x, w, b, rm1, rv1, training, 0.1, 1e-5);
    be.Backend::batch_norm_spatial_mean(y2, m2, d2, sm2, si2, x, w, b, rm2, rv2, training, 0.1,
                                        1e-5);
    CHECK(y1.to_vector<float>() == y2.to_vector<float>());
    CHECK(max(abs(m1 - m2)).item() <= 1e-5);
    CHECK(max(abs(d1 - d2)).item() <= 1e-5);
    CHECK(rm1.to_vector<float>() == rm2.to_vector<float>());
    CHECK(rv1.to_vector<float>() == rv2.to_vector<float>());
    Tensor gy = randn(x.shape()), gm = randn({B, C});
    Tensor gx1 = empty(x.shape()), gx2 = empty(x.shape());
    Tensor gw1 = empty({C}), gw2 = empty({C}), gb1 = empty({C}), gb2 = empty({C});
    be.batch_norm_spatial_mean_backward(gx1, gw1, gb1, gy, gm, x, w, sm1, si1, d1, training);
    be.Backend::batch_norm_spatial_mean_backward(gx2, gw2, gb2, gy, gm, x, w, sm1, si1, d1,
                                                 training);
    CHECK(max(abs(gx1 - gx2)).item() <= 1e-5);
    CHECK(max(abs(gw1 - gw2)).item() <= 1e-3);
    CHECK(max(abs(gb1 - gb2)).item() <= 1e-3);
  }
}

TEST_CASE("batch_norm_with_spatial_mean errors name the op", "[norm][spatial_mean]") {
  Tensor x = randn({2, 3, 4, 4});
  CHECK_THROWS_WITH(batch_norm_with_spatial_mean(zeros({2, 3, 4}, kInt64), {}, {}, {}, {}, true),
                    Catch::Contains("batch_norm_with_spatial_mean"));
  CHECK_THROWS_WITH(batch_norm_with_spatial_mean(x, {}, {}, ones({4}), {}, true),
                    Catch::Contains("batch_norm_with_spatial_mean: weight has shape [4]"));
  CHECK_THROWS_WITH(batch_norm_with_spatial_mean(x, {}, {}, {}, {}, false),
                    Catch::Contains("eval mode (training=false) needs running_mean"));
  CHECK_THROWS_WITH(
      batch_norm_with_spatial_mean(zeros({2, 3, 0, 4}), zeros({3}), ones({3}), {}, {}, false),
      Catch::Contains("batch_norm_with_spatial_mean: input of shape [2, 3, 0, 4] "
                      "has no spatial values to average"));
}

// Both outputs, flattened into one, so the check covers each one's gradient.
HEED_GRADCHECK_CASE(
    {"batch_norm_with_spatial_mean", "training affine (B, C, H, W)",
     [] {
       return In{gc_input({3, 3, 2, 3}), gc_input({3}, 0.5, 1.5, 2), gc_input({3}, -1, 1, 3)};
     },
     [](const In& i) {
       Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
       auto [y, m] = batch_norm_with_spatial_mean(i[0], rm, rv, i[1], i[2], true);
       return cat({y.flatten(), m.flatten()});
     }});
HEED_GRADCHECK_CASE({"batch_norm_with_spatial_mean", "eval, no affine, (B, C, L)",
                     [] {
                       return In{gc_input({2, 3, 5})};
                     },
                     [](const In& i) {
                       Tensor rm = tensor({0.3, -0.2, 0.1}, kFloat64);
                       Tensor rv = tensor({0.8, 1.5, 0.6}, kFloat64);
                       auto [y, m] =
                           batch_norm_with_spatial_mean(i[0], rm, rv, Tensor(), Tensor(), false);
                       return cat({y.flatten(), m.flatten()});
                     }});

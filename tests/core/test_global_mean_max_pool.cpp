// global_mean_max_pool2d: by hand, against adaptive_avg_pool2d and
// adaptive_max_pool2d (values, indices, gradients, NaN and ties) in
// float32 and float64, the backend's composite default against the CPU
// kernels, errors, and a gradcheck case.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/backend.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// [adaptive_avg_pool2d(x, 1); adaptive_max_pool2d(x, 1)] from the two ops.
Tensor composed(const Tensor& x) {
  return cat({adaptive_avg_pool2d(x, {1, 1}), adaptive_max_pool2d(x, {1, 1})}, 0);
}

}  // namespace

TEST_CASE("global_mean_max_pool2d of a 2x2 plane by hand", "[pool]") {
  // Planes [[1, 4], [2, 3]] and [[-1, -2], [-3, -4]]: means 2.5 and -2.5,
  // maxima 4 (index 1) and -1 (index 0).
  Tensor x = tensor({1.0f, 4.0f, 2.0f, 3.0f, -1.0f, -2.0f, -3.0f, -4.0f}).reshape({1, 2, 2, 2});
  x.requires_grad_();
  Tensor y = global_mean_max_pool2d(x);
  CHECK(y.shape() == Shape{2, 2, 1, 1});
  CHECK(y.to_vector<float>() == std::vector<float>{2.5f, -2.5f, 4.0f, -1.0f});
  // d/dx of 10·mean_0 + 20·mean_1 + 100·max_0 + 200·max_1.
  (y * tensor({10.0f, 20.0f, 100.0f, 200.0f}).reshape({2, 2, 1, 1})).sum().backward();
  CHECK(x.grad().to_vector<float>() ==
        std::vector<float>{2.5f, 102.5f, 2.5f, 2.5f, 205.0f, 5.0f, 5.0f, 5.0f});
}

TEST_CASE("global_mean_max_pool2d equals the two adaptive pools", "[pool]") {
  for (DType dt : {kFloat32, kFloat64})
    for (const Shape& shape : {Shape{4, 6, 9, 11}, Shape{3, 5, 1, 1}, Shape{2, 17, 32, 32}}) {
      INFO(dt << " " << shape_str(shape));
      Tensor x = randn(shape).to(dt).requires_grad_();
      Tensor xr = x.detach().requires_grad_();
      Tensor got = global_mean_max_pool2d(x), want = composed(xr);
      CHECK(max(abs(got - want)).item() <= 1e-6);
      Tensor w = randn(got.shape()).to(dt);
      (got * w).sum().backward();
      (want * w).sum().backward();
      CHECK(max(abs(x.grad() - xr.grad())).item() <= 1e-6);
    }
}

TEST_CASE("global_mean_max_pool2d keeps the max pool's NaN and tie rules", "[pool]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Plane 0: a tie (first index wins); plane 1: NaN (propagates, gets the gradient).
  Tensor x = tensor({3.0f, 1.0f, 3.0f, 2.0f, 1.0f, nan, 5.0f, 0.0f}).reshape({1, 2, 2, 2});
  x.requires_grad_();
  Tensor xr = x.detach().requires_grad_();
  Tensor y = global_mean_max_pool2d(x), want = composed(xr);
  std::vector<float> v = y.to_vector<float>();
  CHECK(v[2] == 3.0f);
  CHECK(std::isnan(v[3]));
  CHECK(std::isnan(v[1]));  // the mean of a plane with a NaN
  y.narrow(0, 1, 1).sum().backward();
  want.narrow(0, 1, 1).sum().backward();
  CHECK(x.grad().to_vector<float>() == xr.grad().to_vector<float>());
  CHECK(x.grad().to_vector<float>()[0] == 1.0f);
}

TEST_CASE("global_mean_max_pool2d: the composite default agrees with the CPU kernels", "[pool]") {
  // The default (adaptive pools into the halves, two backwards added) is
  // what CUDA runs; its float32 results are the CPU kernels' bits.
  Tensor x = randn({3, 8, 16, 16});
  Backend& be = backend(kCPU);
  Tensor fast = empty({6, 8, 1, 1}), slow = empty({6, 8, 1, 1});
  Tensor ifast = empty({3, 8, 1, 1}, kInt64), islow = empty({3, 8, 1, 1}, kInt64);
  be.global_mean_max_pool2d(fast, ifast, x);
  be.Backend::global_mean_max_pool2d(slow, islow, x);
  CHECK(max(abs(fast - slow)).item() <= 1e-6);
  CHECK(ifast.to_vector<int64_t>() == islow.to_vector<int64_t>());
  Tensor g = randn({6, 8, 1, 1});
  Tensor gfast = empty(x.shape()), gslow = empty(x.shape());
  be.global_mean_max_pool2d_backward(gfast, g, ifast);
  be.Backend::global_mean_max_pool2d_backward(gslow, g, ifast);
  CHECK(gfast.to_vector<float>() == gslow.to_vector<float>());
}

TEST_CASE("global_mean_max_pool2d errors name the problem", "[pool]") {
  CHECK_THROWS_WITH(global_mean_max_pool2d(zeros({3, 4, 4})),
                    Catch::Contains("global_mean_max_pool2d: expected a 4-D (B, C, H, W) input"));
  CHECK_THROWS_WITH(global_mean_max_pool2d(zeros({2, 3, 0, 4})),
                    Catch::Contains("global_mean_max_pool2d: input has an empty spatial dim"));
  CHECK_THROWS_WITH(global_mean_max_pool2d(zeros({2, 3, 4, 4}, kInt64)),
                    Catch::Contains("global_mean_max_pool2d"));
}

HEED_GRADCHECK_CASE({"global_mean_max_pool2d", "3x5 planes",
                     [] {
                       return In{gc_input({2, 3, 3, 5})};
                     },
                     [](const In& i) { return global_mean_max_pool2d(i[0]); }});

// conv2d_relu and conv2d_add_relu: the fused epilogue gives the bits of
// relu(conv2d(...) + residual) composed from separate ops on every path
// (output-channel, shifted-tap direct and gapped, row stencil, generic, float64, every
// ISA), the backend's composite default agrees with the CPU override,
// errors, and gradcheck cases.
#include <catch2/catch.hpp>

#include "core/backend.h"
#include "support/gradcheck_cases.h"
#include "support/isa_sweep.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

struct FusedCase {
  const char* what;
  Shape x, w;
  int64_t stride, pad, groups;
};

// Every forward path of the CPU backend: see core/cpu/conv.cpp.
const std::vector<FusedCase> kCases = {
    {"output-channel tiles (8x8, 16 -> 17)", {3, 16, 8, 8}, {17, 16, 3, 3}, 1, 1, 1},
    {"output-channel tiles, stride 2", {5, 16, 16, 16}, {32, 16, 3, 3}, 2, 1, 1},
    {"shifted-tap direct (rows of 16)", {3, 9, 16, 16}, {10, 9, 3, 3}, 1, 1, 1},
    {"shifted-tap direct, wide rows", {2, 6, 9, 30}, {10, 6, 3, 3}, 1, 1, 1},
    {"shifted-tap gapped (few outputs)", {13, 6, 5, 4}, {5, 6, 3, 3}, 1, 1, 1},
    {"ResNet stem (3 -> 16 at 32x32)", {2, 3, 32, 32}, {16, 3, 3, 3}, 1, 1, 1},
    {"row stencil (2 -> 1, 7x7)", {3, 2, 13, 21}, {1, 2, 7, 7}, 1, 3, 1},
    {"generic (groups 2)", {3, 4, 9, 8}, {6, 2, 3, 3}, 2, 1, 2},
};

// relu(conv2d(x, w, b) + r), from separate ops.
Tensor composed(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r,
                const FusedCase& c) {
  Tensor y = conv2d(x, w, b, {c.stride, c.stride}, {c.pad, c.pad}, {1, 1}, c.groups);
  return relu(r.defined() ? y + r : y);
}

Tensor fused(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r,
             const FusedCase& c) {
  const std::pair<int64_t, int64_t> s{c.stride, c.stride}, p{c.pad, c.pad};
  return r.defined() ? conv2d_add_relu(x, w, b, r, s, p, {1, 1}, c.groups)
                     : conv2d_relu(x, w, b, s, p, {1, 1}, c.groups);
}

void check_case(const FusedCase& c, DType dt) {
  INFO(c.what << ", " << dt);
  Tensor x = randn(c.x).to(dt), w = randn(c.w).to(dt), b = randn({c.w[0]}).to(dt);
  Tensor y0 = conv2d(x, w, b, {c.stride, c.stride}, {c.pad, c.pad}, {1, 1}, c.groups);
  Tensor r = randn(y0.shape()).to(dt);
  for (bool with_bias : {false, true})
    for (bool with_residual : {false, true}) {
      INFO("bias " << with_bias << ", residual " << with_residual);
      const Tensor bb = with_bias ? b : Tensor(), rr = with_residual ? r : Tensor();
      Tensor want = composed(x, w, bb, rr, c), got = fused(x, w, bb, rr, c);
      REQUIRE(got.shape() == want.shape());
      if (dt == kFloat32)
        CHECK(got.to_vector<float>() == want.to_vector<float>());
      else
        CHECK(got.to_vector<double>() == want.to_vector<double>());
    }
}

}  // namespace

TEST_CASE("conv2d_relu and conv2d_add_relu by hand", "[conv]") {
  // x = [[1, 2], [3, 4]], w = [[1, -1], [0, 1]] (2×2, one output): the
  // single output is 1 - 2 + 4 = 3; bias -5 gives -2, relu 0; residual 4
  // gives relu(-2 + 4) = 2.
  Tensor x = tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({1, 1, 2, 2});
  Tensor w = tensor({1.0f, -1.0f, 0.0f, 1.0f}).reshape({1, 1, 2, 2});
  Tensor b = tensor({-5.0f});
  CHECK(conv2d_relu(x, w).item() == 3.0);
  CHECK(conv2d_relu(x, w, b).item() == 0.0);
  CHECK(conv2d_add_relu(x, w, b, tensor({4.0f}).reshape({1, 1, 1, 1})).item() == 2.0);
}

TEST_CASE("conv2d_relu and conv2d_add_relu match the composed ops on every path", "[conv]") {
  for_each_isa_and_thread_count([] {
    for (const FusedCase& c : kCases) check_case(c, kFloat32);
  });
  for (const FusedCase& c : kCases) check_case(c, kFloat64);
}

TEST_CASE("conv2d_add_relu: the composite default agrees with the CPU backend", "[conv]") {
  // The default (conv2d, then AddRelu in place) is what CUDA runs.
  Tensor x = randn({4, 16, 8, 8}), w = randn({24, 16, 3, 3}), b = randn({24});
  Tensor r = randn({4, 24, 8, 8});
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  Backend& be = backend(kCPU);
  for (bool with_residual : {false, true}) {
    const Tensor rr = with_residual ? r : Tensor();
    Tensor fast = empty({4, 24, 8, 8}), slow = empty({4, 24, 8, 8});
    be.conv2d_add_relu(fast, x, w, b, rr, p);
    be.Backend::conv2d_add_relu(slow, x, w, b, rr, p);
    CHECK(fast.to_vector<float>() == slow.to_vector<float>());
  }
}

TEST_CASE("conv2d_add_relu keeps a NaN of the residual", "[conv]") {
  Tensor x = randn({1, 8, 4, 4}), w = randn({8, 8, 3, 3});
  std::vector<float> r(8 * 16, -1e30f);
  r[5] = std::numeric_limits<float>::quiet_NaN();
  Tensor y = conv2d_add_relu(x, w, Tensor(), from_vector(r, {1, 8, 4, 4}), {1, 1}, {1, 1});
  std::vector<float> v = y.to_vector<float>();
  CHECK(std::isnan(v[5]));
  CHECK(v[6] == 0.0f);
}

TEST_CASE("conv2d_relu and conv2d_add_relu errors name the problem", "[conv]") {
  Tensor x = zeros({2, 3, 5, 5}), w = zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH(conv2d_add_relu(x, w, Tensor(), Tensor()),
                    Catch::Contains("conv2d_add_relu: residual is undefined"));
  CHECK_THROWS_WITH(conv2d_add_relu(x, w, Tensor(), zeros({2, 4, 5, 5})),
                    Catch::Contains("conv2d_add_relu: residual of shape [2, 4, 5, 5] does not "
                                    "match the convolution's output [2, 4, 3, 3]"));
  CHECK_THROWS_WITH(conv2d_add_relu(x, w, Tensor(), zeros({2, 4, 3, 3}, kFloat64)),
                    Catch::Contains("conv2d_add_relu: expected the same dtype for input and "
                                    "residual"));
  CHECK_THROWS_WITH(conv2d_relu(zeros({3, 5, 5}), w),
                    Catch::Contains("conv2d_relu: expected a 4-D input"));
  CHECK_THROWS_WITH(conv2d_relu(x, zeros({4, 2, 3, 3})),
                    Catch::Contains("conv2d_relu: input has 3 channels but weight"));
}

// --- gradcheck cases (inputs away from the ReLU's kink come from random
// values: an output within the finite-difference step of 0 is improbable)
HEED_GRADCHECK_CASE(
    {"conv2d_relu", "stride 2, padding 1, bias",
     [] {
       return In{gc_input({2, 2, 5, 5}), gc_input({3, 2, 3, 3}, -1, 1, 2), gc_input({3}, -1, 1, 3)};
     },
     [](const In& i) {
       return conv2d_relu(i[0], i[1], i[2], {2, 2}, {1, 1});
     }});
HEED_GRADCHECK_CASE({"conv2d_add_relu", "residual, bias, groups 2",
                     [] {
                       return In{gc_input({2, 4, 4, 4}), gc_input({4, 2, 3, 3}, -1, 1, 2),
                                 gc_input({4}, -1, 1, 3), gc_input({2, 4, 4, 4}, -1, 1, 4)};
                     },
                     [](const In& i) {
                       return conv2d_add_relu(i[0], i[1], i[2], i[3], {1, 1}, {1, 1}, {1, 1}, 2);
                     }});

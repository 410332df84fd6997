// Pooling: hand-computed values, PyTorch fixtures for every variant (ceil
// mode, padding, dilation, count_include_pad, non-divisible adaptive sizes,
// (H, 1), (1, W), unbatched), ties, NaN, errors, and gradcheck cases.
// Fixtures: tools/gen_pool_norm_fixtures.py -> tests/fixtures/pool_norm/pool.json.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

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

// Largest |a - b|; infinity when the shapes differ.

std::pair<int64_t, int64_t> pair_of(const json& c, const char* key,
                                    std::pair<int64_t, int64_t> dflt) {
  if (!c.contains(key)) return dflt;
  auto v = c.at(key).get<std::vector<int64_t>>();
  return {v.at(0), v.at(1)};
}

// Runs the fixture's op on x (any dtype) with the fixture's parameters.
Tensor run_case(const json& c, const Tensor& x) {
  std::string op = c.at("op");
  if (op == "adaptive_avg_pool2d") return adaptive_avg_pool2d(x, pair_of(c, "output_size", {}));
  if (op == "adaptive_max_pool2d") return adaptive_max_pool2d(x, pair_of(c, "output_size", {}));
  Pool2dOptions o;
  o.kernel_size = pair_of(c, "kernel_size", {});
  if (c.contains("stride")) o.stride = pair_of(c, "stride", {});
  o.padding = pair_of(c, "padding", {0, 0});
  o.dilation = pair_of(c, "dilation", {1, 1});
  o.ceil_mode = c.value("ceil_mode", false);
  o.count_include_pad = c.value("count_include_pad", true);
  return op == "max_pool2d" ? max_pool2d(x, o) : avg_pool2d(x, o);
}

Pool2dOptions opts(std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> s = {0, 0},
                   std::pair<int64_t, int64_t> pad = {0, 0}, bool ceil = false) {
  Pool2dOptions o;
  o.kernel_size = k;
  if (s.first > 0) o.stride = s;
  o.padding = pad;
  o.ceil_mode = ceil;
  return o;
}

}  // namespace

TEST_CASE("max and avg pooling of a 4x4 ramp (hand-computed)", "[pool]") {
  // x = 0..15 as 4x4:  0  1  2  3 /  4  5  6  7 /  8  9 10 11 / 12 13 14 15
  Tensor x = arange(16.0, kFloat64).reshape({1, 1, 4, 4});
  // 2x2 windows: max = bottom-right of each window.
  CHECK(max_pool2d(x, opts({2, 2})).to_vector<double>() == V{5, 7, 13, 15});
  // means: (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, (8+9+12+13)/4 = 10.5, 12.5
  CHECK(avg_pool2d(x, opts({2, 2})).to_vector<double>() == V{2.5, 4.5, 10.5, 12.5});
  // k3 s2 p1: windows rows {-1,0,1}, {1,2,3}. Top-left = (0+1+4+5)/9 with the
  // padding counted = 10/9, or /4 = 2.5 without.
  Pool2dOptions o = opts({3, 3}, {2, 2}, {1, 1});
  CHECK(avg_pool2d(x, o).to_vector<double>()[0] == Approx(10.0 / 9.0));
  o.count_include_pad = false;
  CHECK(avg_pool2d(x, o).to_vector<double>()[0] == 2.5);
  // Global pools: mean 7.5, max 15; (H, 1) gives row means 1.5, 5.5, 9.5, 13.5.
  CHECK(adaptive_avg_pool2d(x, {1, 1}).item() == 7.5);
  CHECK(adaptive_max_pool2d(x, {1, 1}).item() == 15);
  CHECK(adaptive_avg_pool2d(x, {4, 1}).to_vector<double>() == V{1.5, 5.5, 9.5, 13.5});
  // (1, W): column means 6, 7, 8, 9.
  CHECK(adaptive_avg_pool2d(x, {1, 4}).to_vector<double>() == V{6, 7, 8, 9});
  // 4 -> 3 windows: [0, 2), [1, 3), [2, 4) in each dim; top-left max = 5.
  CHECK(adaptive_max_pool2d(x, {3, 3}).to_vector<double>() == V{5, 6, 7, 9, 10, 11, 13, 14, 15});
}

TEST_CASE("ceil_mode drops a last window that would start in the right padding", "[pool]") {
  // H = 5, k2 s2 p1: floor -> 3 windows; ceil -> (5 + 2 - 2 + 1) / 2 + 1 = 4, but
  // window 4 starts at 3·2 - 1 = 5 >= H, so PyTorch keeps 3.
  Tensor x = zeros({1, 1, 5, 5});
  CHECK(max_pool2d(x, opts({2, 2}, {2, 2}, {1, 1}, true)).shape() == Shape{1, 1, 3, 3});
  // H = 8, k3 s2: floor (8-3)/2 + 1 = 3; ceil 4 (the last window starts at 6 < 8).
  Tensor y = zeros({1, 1, 8, 8});
  CHECK(max_pool2d(y, opts({3, 3}, {2, 2})).shape() == Shape{1, 1, 3, 3});
  CHECK(max_pool2d(y, opts({3, 3}, {2, 2}, {0, 0}, true)).shape() == Shape{1, 1, 4, 4});
  CHECK(avg_pool2d(y, opts({3, 3}, {2, 2}, {0, 0}, true)).shape() == Shape{1, 1, 4, 4});
}

TEST_CASE("a dilated window that misses the input gives -inf and no gradient", "[pool]") {
  // H = W = 2, k2 d3 p1: one window with taps at -1 and 2, both outside the
  // input. PyTorch returns -inf (with an out-of-range index); heed returns -inf
  // and its backward sends the gradient nowhere.
  Pool2dOptions o = opts({2, 2}, {1, 1}, {1, 1});
  o.dilation = {3, 3};
  Tensor x = ones({1, 1, 2, 2}, kFloat64).requires_grad_();
  Tensor y = max_pool2d(x, o);
  REQUIRE(y.shape() == Shape{1, 1, 1, 1});
  CHECK(y.item() == -INFINITY);
  y.backward(ones_like(y));
  CHECK(x.grad().to_vector<double>() == V{0, 0, 0, 0});
}

TEST_CASE("pooling matches PyTorch (fixtures)", "[pool]") {
  json fx = load_fixture("pool.json");
  REQUIRE(fx.at("cases").size() >= 35);
  for (const json& c : fx.at("cases")) {
    std::string label = c.at("op").get<std::string>() + " / " + c.at("name").get<std::string>();
    DYNAMIC_SECTION(label) {
      Tensor x = from_json(c.at("input")).requires_grad_();
      Tensor out = run_case(c, x);
      CHECK(max_abs_diff(out, from_json(c.at("output"))) < 1e-12);
      out.backward(from_json(c.at("grad_out")));
      CHECK(max_abs_diff(x.grad(), from_json(c.at("grad_input"))) < 1e-12);
      // float32 takes the same path within float rounding.
      Tensor out32 = run_case(c, from_json(c.at("input")).to(kFloat32));
      CHECK(out32.dtype() == kFloat32);
      CHECK(max_abs_diff(out32.to(kFloat64), from_json(c.at("output"))) < 1e-5);
    }
  }
}

TEST_CASE("max pooling ties: the first index wins; NaN propagates", "[pool]") {
  // float32 global max pooling has its own vectorised path.
  for (DType dt : {kFloat64, kFloat32}) {
    INFO(dtype_name(dt));
    // All-equal 2x2 window: the gradient goes to element (0, 0) only.
    Tensor x = ones({1, 1, 2, 2}, dt).requires_grad_();
    max_pool2d(x, opts({2, 2})).sum().backward();
    CHECK(x.grad().to_vector<double>() == V{1, 0, 0, 0});
    Tensor y = ones({1, 1, 2, 3}, dt).requires_grad_();
    adaptive_max_pool2d(y, {1, 1}).sum().backward();
    CHECK(y.grad().to_vector<double>() == V{1, 0, 0, 0, 0, 0});
    // Large windows (the two-pass path) too: 8x8 of ones, first element wins.
    Tensor big = ones({1, 1, 8, 8}, dt).requires_grad_();
    adaptive_max_pool2d(big, {1, 1}).sum().backward();
    CHECK(big.grad().sum().item() == 1);
    CHECK(big.grad().to_vector<double>()[0] == 1);
    // With NaNs the output is NaN and the gradient goes to the last NaN in
    // row-major order, as PyTorch: NaNs at (0, 1) and (n-1, 0) -> index (n-1)·n,
    // on the small-window (n = 2) and the dense (n = 8) path.
    for (int64_t n : {2, 8}) {
      Tensor xn = ones({1, 1, n, n}, dt);
      xn.select(2, n - 1).select(2, 0).fill_(NAN);  // (n-1, 0)
      xn.select(2, 0).select(2, 1).fill_(NAN);      // (0, 1)
      xn.requires_grad_();
      Tensor y = adaptive_max_pool2d(xn, {1, 1});
      CHECK(std::isnan(y.item()));
      y.sum().backward();
      CHECK(xn.grad().to_vector<double>()[size_t((n - 1) * n)] == 1);
      CHECK(xn.grad().sum().item() == 1);
    }
    // A zero max keeps its sign: max(-0, 0, ...) is the first one, -0.
    Tensor zs = zeros({1, 1, 8, 8}, dt);
    zs.select(2, 0).select(2, 0).fill_(-0.0);
    CHECK(std::signbit(adaptive_max_pool2d(zs, {1, 1}).item()));
    // A NaN anywhere in the window is the max.
    Tensor z = tensor({1, NAN, 3, 2}, dt).reshape({1, 1, 2, 2});
    CHECK(std::isnan(max_pool2d(z, opts({2, 2})).item()));
    CHECK(std::isnan(adaptive_max_pool2d(z, {1, 1}).item()));
    CHECK(std::isnan(avg_pool2d(z, opts({2, 2})).item()));
  }
}

TEST_CASE("pooling of unbatched and strided inputs", "[pool]") {
  Generator gen(3);
  Tensor x = randn({2, 3, 7, 6}, kFloat64, &gen);
  Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);  // same values, strided
  REQUIRE_FALSE(xt.is_contiguous());
  Pool2dOptions o = opts({3, 3}, {2, 2}, {1, 1});
  CHECK(max_abs_diff(max_pool2d(xt, o), max_pool2d(x, o)) == 0);
  CHECK(max_abs_diff(avg_pool2d(xt, o), avg_pool2d(x, o)) == 0);
  CHECK(max_abs_diff(adaptive_avg_pool2d(xt, {3, 2}), adaptive_avg_pool2d(x, {3, 2})) == 0);
  CHECK(max_abs_diff(adaptive_max_pool2d(xt, {3, 2}), adaptive_max_pool2d(x, {3, 2})) == 0);
  Tensor x0 = x.select(0, 1);  // (C, H, W)
  CHECK(max_pool2d(x0, o).shape() == Shape{3, 4, 3});
  CHECK(max_abs_diff(max_pool2d(x0, o), max_pool2d(x, o).select(0, 1)) == 0);
  CHECK(max_abs_diff(adaptive_avg_pool2d(x0, {1, 1}),
                     adaptive_avg_pool2d(x, {1, 1}).select(0, 1)) == 0);
}

TEST_CASE("pooling results do not depend on the thread count", "[pool]") {
  Generator gen(5);
  Tensor x = randn({4, 16, 9, 11}, kFloat32, &gen);
  int threads = get_num_threads();
  set_num_threads(1);
  Tensor a = adaptive_avg_pool2d(x, {4, 3}), b = max_pool2d(x, opts({3, 3}, {2, 2}, {1, 1}));
  set_num_threads(4);
  Tensor c = adaptive_avg_pool2d(x, {4, 3}), d = max_pool2d(x, opts({3, 3}, {2, 2}, {1, 1}));
  set_num_threads(threads);
  CHECK(max_abs_diff(a, c) == 0);
  CHECK(max_abs_diff(b, d) == 0);
}

TEST_CASE("pooling errors name the op and the shapes", "[pool]") {
  Tensor x = zeros({1, 1, 4, 4});
  CHECK_THROWS_WITH(
      max_pool2d(zeros({4, 4}), opts({2, 2})),
      Catch::Contains("max_pool2d: expected a 3-D (C, H, W) or 4-D") && Catch::Contains("[4, 4]"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(zeros({1, 1, 1, 4, 4}), {1, 1}),
                    Catch::Contains("adaptive_avg_pool2d: expected a 3-D"));
  CHECK_THROWS_WITH(max_pool2d(zeros({1, 1, 2, 2}), opts({3, 3})),
                    Catch::Contains("max_pool2d: kernel (3, 3)") &&
                        Catch::Contains("does not fit the input of shape [1, 1, 2, 2]"));
  CHECK_THROWS_WITH(avg_pool2d(zeros({1, 1, 2, 5}), opts({3, 3})),
                    Catch::Contains("avg_pool2d: kernel (3, 3)"));
  CHECK_THROWS_WITH(max_pool2d(x, opts({2, 2}, {1, 1}, {2, 2})),
                    Catch::Contains("padding should be at most half of the kernel size"));
  Pool2dOptions zero_stride = opts({2, 2});
  zero_stride.stride = std::pair<int64_t, int64_t>{0, 1};
  CHECK_THROWS_WITH(max_pool2d(x, zero_stride), Catch::Contains("stride must be positive"));
  Pool2dOptions dil = opts({2, 2});
  dil.dilation = {2, 2};
  CHECK_THROWS_WITH(avg_pool2d(x, dil), Catch::Contains("avg_pool2d: dilation is not supported"));
  CHECK_THROWS_WITH(max_pool2d(zeros({1, 1, 4, 4}, kInt64), opts({2, 2})),
                    Catch::Contains("max_pool2d: expected a floating-point tensor, got int64"));
  CHECK_THROWS_WITH(adaptive_max_pool2d(x, {-1, 2}),
                    Catch::Contains("adaptive_max_pool2d: output_size must be >= 0"));
}

// --- gradcheck cases (random inputs: no ties within a window)
HEED_GRADCHECK_CASE({"max_pool2d", "k3 s2 p1",
                     [] {
                       return In{gc_input({2, 2, 7, 6})};
                     },
                     [](const In& i) {
                       return max_pool2d(i[0], opts({3, 3}, {2, 2}, {1, 1}));
                     }});
HEED_GRADCHECK_CASE({"max_pool2d", "dilation 2, ceil, strided",
                     [] {
                       return In{gc_strided_input({2, 3, 8, 7}, -1, 1, 4)};
                     },
                     [](const In& i) {
                       Pool2dOptions o = opts({3, 2}, {2, 2}, {1, 1}, true);
                       o.dilation = {2, 2};
                       return max_pool2d(i[0], o);
                     }});
HEED_GRADCHECK_CASE({"max_pool2d", "overlapping s1 unbatched",
                     [] {
                       return In{gc_input({2, 5, 5}, -1, 1, 6)};
                     },
                     [](const In& i) {
                       return max_pool2d(i[0], opts({3, 3}, {1, 1}));
                     }});
HEED_GRADCHECK_CASE({"avg_pool2d", "k3 s2 p1 ceil include pad",
                     [] {
                       return In{gc_input({2, 2, 8, 7})};
                     },
                     [](const In& i) {
                       return avg_pool2d(i[0], opts({3, 3}, {2, 2}, {1, 1}, true));
                     }});
HEED_GRADCHECK_CASE({"avg_pool2d", "exclude pad, strided",
                     [] {
                       return In{gc_strided_input({2, 3, 7, 7}, -1, 1, 2)};
                     },
                     [](const In& i) {
                       Pool2dOptions o = opts({3, 2}, {2, 1}, {1, 1}, true);
                       o.count_include_pad = false;
                       return avg_pool2d(i[0], o);
                     }});
HEED_GRADCHECK_CASE({"adaptive_avg_pool2d", "7x5 -> 3x2",
                     [] {
                       return In{gc_input({2, 2, 7, 5})};
                     },
                     [](const In& i) {
                       return adaptive_avg_pool2d(i[0], {3, 2});
                     }});
HEED_GRADCHECK_CASE({"adaptive_avg_pool2d", "(H, 1) and (1, W), strided",
                     [] {
                       return In{gc_strided_input({2, 3, 6, 5}, -1, 1, 3)};
                     },
                     [](const In& i) {
                       return adaptive_avg_pool2d(i[0], {6, 1}) * adaptive_avg_pool2d(i[0], {1, 5});
                     }});
HEED_GRADCHECK_CASE({"adaptive_max_pool2d", "7x5 -> 3x2",
                     [] {
                       return In{gc_input({2, 2, 7, 5})};
                     },
                     [](const In& i) {
                       return adaptive_max_pool2d(i[0], {3, 2});
                     }});
HEED_GRADCHECK_CASE({"adaptive_max_pool2d", "3x3 -> 5x4 and (1, 1)",
                     [] {
                       return In{gc_input({1, 2, 3, 3}, -1, 1, 5)};
                     },
                     [](const In& i) {
                       return adaptive_max_pool2d(i[0], {5, 4}) + adaptive_max_pool2d(i[0], {1, 1});
                     }});

TEST_CASE("float32 global max pooling equals the float64 path, values and indices", "[pool]") {
  for (const Shape& shape : {Shape{4, 6, 9, 11}, Shape{2, 3, 1, 1}, Shape{1, 17, 32, 32}}) {
    INFO(shape_str(shape));
    Tensor x32 = randn(shape).requires_grad_();
    Tensor x64 = x32.detach().to(kFloat64).requires_grad_();
    Tensor y32 = adaptive_max_pool2d(x32, {1, 1});
    Tensor y64 = adaptive_max_pool2d(x64, {1, 1});
    CHECK(y32.to(kFloat64).to_vector<double>() == y64.to_vector<double>());
    y32.sum().backward();
    y64.sum().backward();
    CHECK(x32.grad().to(kFloat64).to_vector<double>() == x64.grad().to_vector<double>());
  }
}

TEST_CASE("2x2 stride-2 max pooling (its own row kernel) matches a plain scan", "[pool]") {
  // Values from {-1, 0, 1} (ties everywhere), ±0, and NaNs (one, two, or a
  // whole window), on odd sizes whose last row and column no window covers.
  Generator gen(11);
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    const int64_t P = 6, H = 7, W = 9, OH = 3, OW = 4;
    std::vector<double> x =
        (randint(0, 3, {P * H * W}, &gen).to(kFloat64) - 1.0).to_vector<double>();
    x[5] = -0.0;
    x[20] = NAN;                            // one NaN in a window
    x[H * W + 0] = x[H * W + W + 1] = NAN;  // two: the last one wins
    for (int64_t i : {2, 3}) x[2 * H * W + i] = x[2 * H * W + W + i] = NAN;  // a whole window
    Tensor xt = from_vector(x, {2, 3, H, W}).to(dt);
    Tensor y = max_pool2d(xt, opts({2, 2}));
    std::vector<double> got = y.to_vector<double>();
    // The reference: taps in row-major order, take if greater or NaN.
    for (int64_t pl = 0; pl < P; ++pl)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double best = -INFINITY;
          for (int64_t dh = 0; dh < 2; ++dh)
            for (int64_t dw = 0; dw < 2; ++dw) {
              const double v = x[size_t(pl * H * W + (2 * oh + dh) * W + 2 * ow + dw)];
              if (v > best || std::isnan(v)) best = v;
            }
          const double g = got[size_t((pl * OH + oh) * OW + ow)];
          INFO("plane " << pl << ", output (" << oh << ", " << ow << ")");
          if (std::isnan(best))
            CHECK(std::isnan(g));
          else
            CHECK(g == best);
        }
    // Each window's gradient goes to exactly the element the reference
    // picks (its saved index).
    Tensor xg = xt.detach().requires_grad_();
    max_pool2d(xg, opts({2, 2})).sum().backward();
    std::vector<double> gx = xg.grad().to_vector<double>();
    for (int64_t pl = 0; pl < P; ++pl)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double best = -INFINITY;
          int64_t arg = 0, hits = 0;
          for (int64_t dh = 0; dh < 2; ++dh)
            for (int64_t dw = 0; dw < 2; ++dw) {
              const int64_t i = pl * H * W + (2 * oh + dh) * W + 2 * ow + dw;
              const double v = x[size_t(i)];
              if (v > best || std::isnan(v)) best = v, arg = i;
              hits += gx[size_t(i)] != 0;
            }
          INFO("plane " << pl << ", output (" << oh << ", " << ow << ")");
          CHECK(hits == 1);
          CHECK(gx[size_t(arg)] == 1);
        }
  }
}

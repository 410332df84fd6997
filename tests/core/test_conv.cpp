// conv2d and conv1d: hand-computed tiny cases, the fast kernels (im2col +
// GEMM, chunked, direct 1×1, groups, depthwise) against a slow direct
// reference on random shapes in float64 and float32, errors, and gradcheck
// cases.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "core/backend.h"
#include "support/gradcheck_cases.h"
#include "support/isa_sweep.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// --------------------------------------------------- the direct reference
// The definition, written for reading: seven nested loops over
// (b, o, oh, ow, c, ki, kj), out-of-range input positions being padding.
// Shapes: x (B, C, H, W), w (O, C/G, KH, KW), y (B, O, OH, OW).
struct RefConv {
  int64_t B, C, H, W, O, KH, KW;
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, G = 1;
  int64_t OH() const { return (H + 2 * ph - dh * (KH - 1) - 1) / sh + 1; }
  int64_t OW() const { return (W + 2 * pw - dw * (KW - 1) - 1) / sw + 1; }

  // Calls f(x index, w index, y index) for every multiply-add of the convolution.
  template <typename F>
  void for_each_tap(F f) const {
    const int64_t Cg = C / G, Og = O / G, oh_n = OH(), ow_n = OW();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < oh_n; ++oh)
          for (int64_t ow = 0; ow < ow_n; ++ow)
            for (int64_t cl = 0; cl < Cg; ++cl)  // input channel within o's group
              for (int64_t ki = 0; ki < KH; ++ki)
                for (int64_t kj = 0; kj < KW; ++kj) {
                  const int64_t c = (o / Og) * Cg + cl;
                  const int64_t ih = oh * sh - ph + ki * dh, iw = ow * sw - pw + kj * dw;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;  // padding
                  f(((b * C + c) * H + ih) * W + iw, ((o * Cg + cl) * KH + ki) * KW + kj,
                    ((b * O + o) * oh_n + oh) * ow_n + ow);
                }
  }
  std::vector<double> forward(const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>& bias) const {
    std::vector<double> y(size_t(B * O * OH() * OW()), 0.0);
    for_each_tap([&](int64_t xi, int64_t wi, int64_t yi) {
      y[size_t(yi)] += x[size_t(xi)] * w[size_t(wi)];
    });
    if (!bias.empty())
      for (size_t i = 0; i < y.size(); ++i) y[i] += bias[(i / size_t(OH() * OW())) % size_t(O)];
    return y;
  }
  // The adjoints: each tap y += x·w sends gy·w to x and gy·x to w.
  std::vector<double> backward_input(const std::vector<double>& gy,
                                     const std::vector<double>& w) const {
    std::vector<double> gx(size_t(B * C * H * W), 0.0);
    for_each_tap([&](int64_t xi, int64_t wi, int64_t yi) {
      gx[size_t(xi)] += gy[size_t(yi)] * w[size_t(wi)];
    });
    return gx;
  }
  std::vector<double> backward_weight(const std::vector<double>& gy,
                                      const std::vector<double>& x) const {
    std::vector<double> gw(size_t(O * (C / G) * KH * KW), 0.0);
    for_each_tap([&](int64_t xi, int64_t wi, int64_t yi) {
      gw[size_t(wi)] += gy[size_t(yi)] * x[size_t(xi)];
    });
    return gw;
  }
};

std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

void check_close(const char* what, const std::vector<double>& got, const std::vector<double>& want,
                 double tol) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i]));
    if (err > worst) worst = err, worst_i = i;
  }
  INFO("worst element " << worst_i << ": got " << got[worst_i] << ", want " << want[worst_i]);
  CHECK(worst <= tol);
}

// conv2d forward and all three gradients (through autograd) against the reference.
void check_against_reference(const RefConv& r, DType dt, bool with_bias) {
  INFO("B=" << r.B << " C=" << r.C << " H=" << r.H << " W=" << r.W << " O=" << r.O << " k=" << r.KH
            << "x" << r.KW << " stride=" << r.sh << "," << r.sw << " pad=" << r.ph << "," << r.pw
            << " dil=" << r.dh << "," << r.dw << " groups=" << r.G << " bias=" << with_bias << " "
            << dtype_name(dt));
  Tensor x = randn({r.B, r.C, r.H, r.W}, dt).requires_grad_();
  Tensor w = randn({r.O, r.C / r.G, r.KH, r.KW}, dt).requires_grad_();
  Tensor b = with_bias ? randn({r.O}, dt).requires_grad_() : Tensor();
  Tensor y = conv2d(x, w, b, {r.sh, r.sw}, {r.ph, r.pw}, {r.dh, r.dw}, r.G);
  REQUIRE(y.shape() == Shape{r.B, r.O, r.OH(), r.OW()});
  const double tol = dt == kFloat64 ? 1e-12 : 1e-4;
  check_close("forward", values(y),
              r.forward(values(x), values(w), with_bias ? values(b) : std::vector<double>{}), tol);

  Tensor gy = randn(y.shape(), dt);
  y.backward(gy);
  check_close("input gradient", values(x.grad()), r.backward_input(values(gy), values(w)), tol);
  check_close("weight gradient", values(w.grad()), r.backward_weight(values(gy), values(x)), tol);
  if (with_bias) check_close("bias gradient", values(b.grad()), values(gy.sum({0, 2, 3})), tol);
}

}  // namespace

TEST_CASE("conv2d of a tiny image by hand", "[conv]") {
  // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 0], [0, 1]]: each output
  // is x[i, j] + x[i+1, j+1] (+ bias 0.5):
  //   [[1 + 5, 2 + 6], [4 + 8, 5 + 9]] + 0.5 = [[6.5, 8.5], [12.5, 14.5]]
  Tensor x = arange(1, 10).reshape({1, 1, 3, 3});
  Tensor w = tensor({1, 0, 0, 1}).reshape({1, 1, 2, 2});
  CHECK(conv2d(x, w, tensor({0.5})).to_vector<float>() == std::vector<float>{6.5, 8.5, 12.5, 14.5});
  // padding 1, stride 2: outputs (i, j) in {0, 1}² read x_pad[2i, 2j] + x_pad[2i+1, 2j+1]
  // of the zero-padded 5×5 input (x_pad[r, c] = x[r-1, c-1]):
  //   (0,0): 0 + x[0,0] = 1    (0,1): 0 + x[0,2] = 3
  //   (1,0): 0 + x[2,0] = 7    (1,1): x[1,1] + x[2,2] = 5 + 9 = 14
  CHECK(conv2d(x, w, Tensor(), {2, 2}, {1, 1}).to_vector<float>() ==
        std::vector<float>{1, 3, 7, 14});
  // dilation 2 on a 3×3 input: one output, x[0,0] + x[2,2] = 1 + 9 = 10.
  CHECK(conv2d(x, w, Tensor(), {1, 1}, {0, 0}, {2, 2}).to_vector<float>() ==
        std::vector<float>{10});
  // groups 2: channel 0 scaled by 2, channel 1 by 3 (1×1 kernels).
  Tensor x2 = tensor({1, 2, 10, 20}).reshape({1, 2, 1, 2});
  Tensor w2 = tensor({2, 3}).reshape({2, 1, 1, 1});
  CHECK(conv2d(x2, w2, Tensor(), {1, 1}, {0, 0}, {1, 1}, 2).to_vector<float>() ==
        std::vector<float>{2, 4, 30, 60});
  // Unbatched (C, H, W) input gives (O, OH, OW).
  CHECK(conv2d(x.reshape({1, 3, 3}), w).shape() == Shape{1, 2, 2});
}

TEST_CASE("conv1d of a tiny sequence by hand", "[conv]") {
  // x = [1, 2, 3, 4, 5], w = [1, -1] (a difference), padding 1, stride 2:
  // padded [0, 1, 2, 3, 4, 5, 0] read at 0, 2, 4: [0 - 1, 2 - 3, 4 - 5] = [-1, -1, -1]
  Tensor x = arange(1, 6).reshape({1, 1, 5});
  Tensor w = tensor({1, -1}).reshape({1, 1, 2});
  CHECK(conv1d(x, w, Tensor(), 2, 1).to_vector<float>() == std::vector<float>{-1, -1, -1});
  // dilation 2, bias 1: x[i] - x[i+2] + 1 = -2 + 1 = -1 for i = 0, 1, 2
  CHECK(conv1d(x, w, tensor({1}), 1, 0, 2).to_vector<float>() == std::vector<float>{-1, -1, -1});
  CHECK(conv1d(x, w).shape() == Shape{1, 1, 4});
  CHECK(conv1d(x.reshape({1, 5}), w).shape() == Shape{1, 4});  // unbatched
  // Against conv2d with H = 1 on random data.
  Tensor xr = randn({3, 4, 9}, kFloat64), wr = randn({6, 2, 3}, kFloat64);
  Tensor br = randn({6}, kFloat64);
  check_close("conv1d", values(conv1d(xr, wr, br, 2, 1, 2, 2)),
              values(conv2d(xr.unsqueeze(2), wr.unsqueeze(2), br, {1, 2}, {0, 1}, {1, 2}, 2)),
              1e-14);
}

TEST_CASE("conv2d kernels match the direct reference", "[conv]") {
  // {B, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, G}
  std::vector<RefConv> shapes = {
      {1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // plain 3×3 same-padding
      {3, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // batch 3 (one chunk of 3)
      {3, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2},    // stride 2, groups 2
      {3, 2, 10, 9, 3, 3, 2, 1, 2, 2, 0, 2, 1, 1},   // dilation, non-square everything
      {1, 6, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6},    // depthwise
      {3, 4, 5, 5, 8, 3, 3, 1, 1, 0, 2, 1, 2, 4},    // depthwise × 2 (O = 2·C)
      {3, 5, 6, 6, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1},    // 1×1 on small images (chunked copy)
      {3, 6, 32, 33, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2},  // 1×1 direct (P ≥ 1024), groups 2
      {2, 3, 6, 6, 4, 1, 1, 2, 2, 1, 1, 1, 1, 1},    // 1×1 with stride and padding
      {3, 2, 5, 5, 3, 5, 5, 3, 1, 2, 2, 1, 1, 1},    // kernel = padded input - 4
      {2, 1, 1, 12, 2, 1, 3, 1, 2, 0, 1, 1, 3, 1},   // H = 1 (conv1d's layout)
  };
  // The kernels pick per-image or per-chunk GEMMs by pixels per thread: run
  // with 1 and 2 threads so both paths see large and small images.
  const int threads = get_num_threads();
  for (int t : {1, 2}) {
    set_num_threads(t);
    for (DType dt : {kFloat64, kFloat32})
      for (const RefConv& r : shapes)
        for (bool bias : {false, true}) check_against_reference(r, dt, bias);
  }
  set_num_threads(threads);
}

TEST_CASE("conv2d float32 shifted-tap kernels match the reference on every ISA", "[conv]") {
  // float32 without groups runs on core/cpu/conv_shifted.cpp; each ISA's
  // micro-kernels (and their row / tap / position tails) are checked here.
  // Tolerance: the reference sums in double from the same float32 inputs;
  // the kernels sum at most ~4·10^3 products of N(0, 1) values in float32,
  // whose rounding error (~√n · 2^-24 · |partial sums|) stays far below
  // 1e-4 · (1 + |result|).
  // {B, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, G}
  const std::vector<RefConv> shapes = {
      {2, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},   // ResNet stem, 3 input channels
      {3, 16, 8, 8, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // 17 outputs: row tails of every tile
      {1, 17, 11, 13, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},   // odd sizes, batch 1, 17 inputs
      {5, 5, 15, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1},     // stride 2, odd image sizes
      {3, 16, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1},  // ResNet downsampling 3×3
      {3, 8, 9, 9, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1},     // ResNet 1×1 stride-2 shortcut, odd size
      {3, 2, 16, 16, 1, 7, 7, 1, 1, 3, 3, 1, 1, 1},    // CBAM spatial attention 2→1 7×7
      {2, 3, 16, 16, 19, 4, 4, 4, 4, 0, 0, 1, 1, 1},   // ViT patch embedding
      {3, 1, 7, 6, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1},      // padding 0, one input channel
      {2, 4, 10, 9, 6, 3, 2, 1, 2, 2, 0, 2, 1, 1},     // dilation, mixed strides, non-square
      {3, 5, 6, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1},      // 1×1
      {1, 3, 5, 5, 4, 5, 5, 3, 2, 3, 1, 1, 1, 1},      // padding 3 > stride, kernel 5
      {13, 6, 5, 4, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // many tiny images per chunk
      // Several chunks per thread with a shorter last one: chunks of one
      // layout reuse the zeroed gaps of their scratch buffers, the last one
      // does not.
      {29, 33, 8, 8, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {23, 17, 16, 16, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1},
      // Wide rows on the direct forward (whole vectors per output row):
      // 30 columns end in a partial vector, 31 output columns at stride 2.
      {2, 6, 9, 30, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {3, 4, 9, 62, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1},
      // 16 columns at stride 1: the direct forward and the output-channel
      // weight gradient together.
      {3, 9, 16, 16, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      // Row stencils (conv_stencil.h; AVX-512): 8-row tiles, then 4, 2, 1
      // rows; 16-column vectors with partial last ones; every kernel size,
      // channel counts up to 4, asymmetric padding and padding K - 1.
      {3, 2, 32, 32, 1, 7, 7, 1, 1, 3, 3, 1, 1, 1},  // CBAM @32
      {2, 2, 15, 21, 1, 7, 7, 1, 1, 3, 3, 1, 1, 1},  // 15 rows = 8 + 4 + 2 + 1
      {2, 3, 11, 9, 2, 5, 5, 1, 1, 2, 1, 1, 1, 1},   // 5×5, 7 output columns
      {3, 4, 6, 18, 4, 3, 3, 1, 1, 0, 2, 1, 1, 1},   // 3×3, 4 → 4, 20 output columns
      {2, 1, 7, 7, 3, 7, 7, 1, 1, 6, 6, 1, 1, 1},    // padding 6: 13 × 13 outputs
      {1, 2, 2, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // a 2 × 3 image
  };
  for_each_isa_and_thread_count([&] {
    for (const RefConv& r : shapes)
      for (bool bias : {false, true}) check_against_reference(r, kFloat32, bias);
  });
}

TEST_CASE("conv2d float32 weight gradient does not depend on scheduling", "[conv]") {
  // Per-thread partial sums are added in a fixed order: two runs with two
  // threads give the same bits.
  const int threads = get_num_threads();
  set_num_threads(2);
  Tensor x = randn({9, 16, 12, 12}), w = randn({8, 16, 3, 3}), gy = randn({9, 8, 12, 12});
  Tensor gw1 = empty({8, 16, 3, 3}), gw2 = empty({8, 16, 3, 3});
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  backend(kCPU).conv2d_backward_weight(gw1, Tensor(), gy, x, p);
  backend(kCPU).conv2d_backward_weight(gw2, Tensor(), gy, x, p);
  CHECK(gw1.to_vector<float>() == gw2.to_vector<float>());
  set_num_threads(threads);
}

TEST_CASE("conv2d with one image per chunk (large images)", "[conv]") {
  // 16 channels × 3×3 × 180² pixels is an 18 MB float32 col per image: one
  // image per chunk, the GEMM writes straight into the output.
  RefConv r{2, 16, 180, 180, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  check_against_reference(r, kFloat32, true);
}

TEST_CASE("conv2d with zero-size batch", "[conv]") {
  Tensor x = zeros({0, 3, 5, 5}).requires_grad_();
  Tensor w = randn({4, 3, 3, 3}).requires_grad_();
  Tensor y = conv2d(x, w, randn({4}), {1, 1}, {1, 1});
  CHECK(y.shape() == Shape{0, 4, 5, 5});
  y.sum().backward();
  CHECK(w.grad().to_vector<float>() == std::vector<float>(4 * 3 * 9, 0.0f));
}

TEST_CASE("conv errors name the problem", "[conv]") {
  Tensor x = zeros({2, 3, 8, 8});
  CHECK_THROWS_WITH(conv2d(x, zeros({5, 4, 3, 3})),
                    Catch::Contains("conv2d: input has 3 channels but weight [5, 4, 3, 3] "
                                    "expects 4 (groups=1)"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2),
                    Catch::Contains("conv2d: input channels (3) are not divisible by groups (2)"));
  CHECK_THROWS_WITH(
      conv2d(zeros({2, 4, 8, 8}), zeros({3, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2),
      Catch::Contains("has 3 output channels, not divisible by groups (2)"));
  CHECK_THROWS_WITH(conv2d(zeros({24, 8}), zeros({4, 3, 3, 3})),
                    Catch::Contains("conv2d: expected a 4-D input (B, C, H, W)"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3})), Catch::Contains("conv2d: expected a 4-D weight"));
  CHECK_THROWS_WITH(conv2d(zeros({1, 3, 4, 4}), zeros({2, 3, 7, 7}), Tensor(), {1, 1}, {1, 1}),
                    Catch::Contains("conv2d: kernel size 7x7 is larger than the padded input "
                                    "6x6"));
  CHECK_THROWS_WITH(
      conv2d(zeros({1, 3, 4, 4}), zeros({2, 3, 3, 3}), Tensor(), {1, 1}, {0, 0}, {3, 3}),
      Catch::Contains("kernel size 3x3 (dilated 7x7) is larger than the padded "
                      "input 4x4"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), zeros({3})),
                    Catch::Contains("conv2d: bias must have shape [4] (one per output channel), "
                                    "got [3]"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {0, 1}),
                    Catch::Contains("conv2d: stride must be positive"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {1, 1}, {-1, 0}),
                    Catch::Contains("conv2d: padding must be non-negative"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}, kFloat64)),
                    Catch::Contains("conv2d: expected the same dtype for input and weight, got "
                                    "float32 and float64"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 0),
                    Catch::Contains("conv2d: groups must be positive"));
  CHECK_THROWS_WITH(conv1d(zeros({2, 3, 4}), zeros({2, 3, 6})),
                    Catch::Contains("conv1d: kernel size 6 is larger than the padded input 4"));
  CHECK_THROWS_WITH(
      conv1d(zeros({2, 3, 4}), zeros({2, 2, 3})),
      Catch::Contains("conv1d: input has 3 channels but weight [2, 2, 3] expects 2 (groups=1)"));
  CHECK_THROWS_WITH(conv1d(x, zeros({2, 3, 3})), Catch::Contains("conv1d: expected a 3-D input"));
}

namespace {
// Reads tests/fixtures/conv/golden.txt (see tools/gen_conv_fixtures.py): a
// header line "<case>.<name> <ndim> <dims...>" then a line of values, per tensor.
std::map<std::string, Tensor> load_golden() {
  const std::string path = std::string(HEED_FIXTURES_DIR) + "/conv/golden.txt";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::map<std::string, Tensor> out;
  std::string header, data;
  while (std::getline(in, header)) {
    if (header.empty() || header[0] == '#') continue;
    REQUIRE(std::getline(in, data));
    std::istringstream hs(header), ds(data);
    std::string name;
    int64_t ndim = 0;
    hs >> name >> ndim;
    Shape shape(size_t(ndim), 0);
    for (int64_t& d : shape) hs >> d;
    std::vector<double> v;
    for (double x; ds >> x;) v.push_back(x);
    REQUIRE(int64_t(v.size()) == numel_of(shape));
    out[name] = from_vector(v, shape);
  }
  return out;
}
}  // namespace

TEST_CASE("conv, matmul and linear match PyTorch (golden fixtures)", "[conv][matmul]") {
  const std::map<std::string, Tensor> golden = load_golden();
  auto get = [&](const std::string& name) {
    INFO("fixture " << name);
    REQUIRE(golden.count(name) == 1);
    return golden.at(name);
  };
  using Fn = std::function<Tensor(const In&)>;
  const std::vector<std::pair<std::string, Fn>> cases = {
      {"conv2d_mixed",
       [](const In& i) {
         return conv2d(i[0], i[1], i[2], {2, 1}, {1, 2}, {1, 2}, 2);
       }},
      {"conv2d_depthwise",
       [](const In& i) {
         return conv2d(i[0], i[1], Tensor(), {1, 1}, {1, 1}, {1, 1}, 3);
       }},
      {"conv1d_mixed", [](const In& i) { return conv1d(i[0], i[1], i[2], 2, 2, 2, 3); }},
      {"matmul_broadcast", [](const In& i) { return matmul(i[0], i[1]); }},
      {"linear_3d", [](const In& i) { return linear(i[0], i[1], i[2]); }},
  };
  for (const auto& [name, fn] : cases) {
    INFO("case " << name);
    In inputs;
    for (int k = 0; golden.count(name + ".in" + std::to_string(k)); ++k)
      inputs.push_back(get(name + ".in" + std::to_string(k)).requires_grad_());
    Tensor y = fn(inputs);
    check_close("output", values(y), values(get(name + ".out")), 1e-12);
    y.backward(get(name + ".gout"));
    for (size_t k = 0; k < inputs.size(); ++k)
      check_close("gradient", values(inputs[k].grad()),
                  values(get(name + ".grad" + std::to_string(k))), 1e-12);
  }
}

// --- gradcheck cases
namespace {
Tensor conv_case(const In& i, std::pair<int64_t, int64_t> s, std::pair<int64_t, int64_t> p,
                 std::pair<int64_t, int64_t> d, int64_t g) {
  return conv2d(i[0], i[1], i.size() > 2 ? i[2] : Tensor(), s, p, d, g);
}
}  // namespace

HEED_GRADCHECK_CASE(
    {"conv2d", "stride 2, padding 1, bias",
     [] {
       return In{gc_input({2, 2, 5, 5}), gc_input({3, 2, 3, 3}, -1, 1, 2), gc_input({3}, -1, 1, 3)};
     },
     [](const In& i) {
       return conv_case(i, {2, 2}, {1, 1}, {1, 1}, 1);
     }});
HEED_GRADCHECK_CASE({"conv2d", "dilation 2, non-square",
                     [] {
                       return In{gc_input({1, 2, 6, 5}), gc_input({2, 2, 2, 3}, -1, 1, 2)};
                     },
                     [](const In& i) {
                       return conv_case(i, {1, 1}, {1, 0}, {2, 2}, 1);
                     }});
HEED_GRADCHECK_CASE(
    {"conv2d", "groups 2, bias",
     [] {
       return In{gc_input({2, 4, 4, 4}), gc_input({4, 2, 3, 3}, -1, 1, 2), gc_input({4}, -1, 1, 3)};
     },
     [](const In& i) {
       return conv_case(i, {1, 1}, {1, 1}, {1, 1}, 2);
     }});
HEED_GRADCHECK_CASE({"conv2d", "depthwise, strided input",
                     [] {
                       // (C, B, H, W) transposed to (B, C, H, W): non-contiguous.
                       return In{gc_strided_input({2, 3, 4, 4}), gc_input({3, 1, 3, 3}, -1, 1, 2)};
                     },
                     [](const In& i) {
                       return conv_case(i, {1, 2}, {1, 1}, {1, 1}, 3);
                     }});
HEED_GRADCHECK_CASE(
    {"conv2d", "1x1",
     [] {
       return In{gc_input({2, 3, 3, 3}), gc_input({2, 3, 1, 1}, -1, 1, 2), gc_input({2}, -1, 1, 3)};
     },
     [](const In& i) {
       return conv_case(i, {1, 1}, {0, 0}, {1, 1}, 1);
     }});
HEED_GRADCHECK_CASE(
    {"conv1d", "stride 2, padding, dilation, groups 2, bias",
     [] {
       return In{gc_input({2, 4, 9}), gc_input({4, 2, 3}, -1, 1, 2), gc_input({4}, -1, 1, 3)};
     },
     [](const In& i) { return conv1d(i[0], i[1], i[2], 2, 1, 2, 2); }});

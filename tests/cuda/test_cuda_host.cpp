// The CUDA backend's per-element code, run on the host: the element-wise
// functors, the strided geometry (offsets and the 32-bit split), the pooling
// and im2col/col2im index math, the conv GEMM plan, the row-major ->
// column-major GEMM mapping and the max/min-with-index combine are all
// host+device functions, so they are checked here against the CPU backend on
// machines without a GPU (tag [cuda_host]; the [cuda] tests need a device).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include "core/backend.h"
#include "core/cuda/conv_plan.h"
#include "core/cuda/elementwise_ops.h"
#include "core/cuda/gemm_map.h"
#include "core/cuda/reduce_ops.h"
#include "core/cuda/strided.h"
#include "core/cuda/window.h"
#include "core/heed_core.h"

using namespace heed;
using namespace heed::cuda;

namespace {

Backend& cpu_be() {
  return backend(kCPU);
}

// Same value, bit for bit, or both NaN.
template <typename T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a && b != b) return true;
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  } else {
    return a == b;
  }
}

// The op results: float64 bit for bit; float32 within 5e-7 relative + 1e-6
// absolute, since the CPU's float32 kernels are vectorised approximations
// (core/cpu/vec_math_impl.inc: <= 3 ulp; GELU's tail from erfc, more accurate
// than 1 + erf) while the functors call the C library. Non-finite: same.
template <typename T>
bool same_result(T a, T b) {
  if constexpr (std::is_same_v<T, float>) {
    if (!std::isfinite(a) || !std::isfinite(b)) return same(a, b);
    return std::abs(double(a) - double(b)) <=
           1e-6 + 5e-7 * std::max(std::abs(double(a)), std::abs(double(b)));
  } else {
    return same(a, b);
  }
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  return t.to_vector<T>();
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Random values in [lo, hi) plus the edge cases the CPU lambdas branch on.
std::vector<double> sample(double lo, double hi, bool specials, uint64_t seed = 3) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(u(rng));
  if (specials)
    for (double s : {0.0, -0.0, 3.0, -3.0, 6.0, -6.0, 20.0, kNaN, kInf, -kInf}) v.push_back(s);
  return v;
}

struct UnaryCase {
  double a = 0, b = 0, lo = -5, hi = 5;
  bool specials = true;
};

UnaryCase unary_case(UnaryOp op) {
  switch (op) {
    case UnaryOp::Log:
    case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal:
    case UnaryOp::RDivScalar:
      return {1.3, 0, 0.05, 4, false};
    case UnaryOp::PowScalar:
      return {2.5, 0, 0.05, 4, false};
    case UnaryOp::RPowScalar:
      return {1.7, 0, -3, 3, true};
    case UnaryOp::LeakyRelu:
      return {0.1, 0};
    case UnaryOp::Softplus:
      return {1.5, 3};
    case UnaryOp::Clamp:
      return {-0.5, 0.7};
    case UnaryOp::AddScalar:
    case UnaryOp::MulScalar:
    case UnaryOp::RSubScalar:
      return {1.3, 0};
    default:
      return {};
  }
}

template <typename T, typename F>
void check_unary(UnaryOp op, const char* name, F f) {
  const UnaryCase c = unary_case(op);
  std::vector<double> v = sample(c.lo, c.hi, c.specials);
  Tensor x = from_vector(v).to(dtype_of<T>());
  Tensor out = empty_like(x);
  cpu_be().unary(op, out, x, {c.a, c.b});
  std::vector<T> xs = values_of<T>(x), want = values_of<T>(out);
  int bad = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    if (!same_result(T(f(xs[i])), T(want[i])) && bad++ < 3)
      FAIL_CHECK(name << "(" << xs[i] << "): functor " << f(xs[i]) << ", cpu " << want[i]);
  CHECK(bad == 0);
}

template <typename T>
void check_all_unary() {
#define HEED_CASE(Name, ...)                                                  \
  {                                                                           \
    const UnaryCase c = unary_case(UnaryOp::Name);                            \
    check_unary<T>(UnaryOp::Name, #Name, ew::Unary##Name<T>{T(c.a), T(c.b)}); \
  }
  HEED_CUDA_UNARY_FLOAT_OPS(HEED_CASE)
#undef HEED_CASE
}

struct BinaryCase {
  double a = 1, b = 0, xlo = -5, xhi = 5, ylo = -5, yhi = 5;
};

BinaryCase binary_case(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return {1.5, 0};
    case BinaryOp::Div:
      return {1, 0, -5, 5, 0.1, 3};
    case BinaryOp::Pow:
      return {1, 0, 0.05, 4, -3, 3};
    case BinaryOp::LeakyReluBackward:
      return {0.1, 0};
    case BinaryOp::SoftplusBackward:
      return {1.5, 3};
    case BinaryOp::ClampBackward:
      return {-0.5, 0.7};
    case BinaryOp::SigmoidBackward:
      return {1, 0, -5, 5, 0, 1};
    case BinaryOp::TanhBackward:
      return {1, 0, -5, 5, -1, 1};
    default:
      return {};
  }
}

template <typename T, typename O, typename F>
void check_binary(BinaryOp op, const char* name, F f, const std::vector<double>& xv,
                  const std::vector<double>& yv, OpParams p) {
  Tensor x = from_vector(xv).to(dtype_of<T>()), y = from_vector(yv).to(dtype_of<T>());
  Tensor out = empty(x.shape(), dtype_of<O>());
  cpu_be().binary(op, out, x, y, p);
  std::vector<T> xs = values_of<T>(x), ys = values_of<T>(y);
  std::vector<O> want = values_of<O>(out);
  int bad = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    if (!same_result(O(f(xs[i], ys[i])), O(want[i])) && bad++ < 3)
      FAIL_CHECK(name << "(" << xs[i] << ", " << ys[i] << "): functor " << f(xs[i], ys[i])
                      << ", cpu " << want[i]);
  CHECK(bad == 0);
}

template <typename T>
void check_all_binary_floating() {
  // Equal pairs too, for the comparisons and ties.
  auto values = [](const BinaryCase& c, bool second) {
    std::vector<double> v =
        sample(second ? c.ylo : c.xlo, second ? c.yhi : c.xhi, false, second ? 5 : 7);
    for (double s : {1.0, 2.0, -3.0, 3.0, 0.0, 6.0}) v.push_back(s);
    return v;
  };
#define HEED_CASE(Name, ...)                                                       \
  {                                                                                \
    const BinaryCase c = binary_case(BinaryOp::Name);                              \
    check_binary<T, T>(BinaryOp::Name, #Name, ew::Binary##Name<T>{T(c.a), T(c.b)}, \
                       values(c, false), values(c, true), {c.a, c.b});             \
  }
  HEED_CUDA_BINARY_FLOAT_OPS(HEED_CASE)
#undef HEED_CASE
#define HEED_CASE(Name, ...)                                                                       \
  {                                                                                                \
    const BinaryCase c;                                                                            \
    check_binary<T, bool>(BinaryOp::Name, #Name, ew::Compare##Name<T>{}, values(c, false),         \
                          values(c, false), {});                                                   \
    std::vector<double> y = values(c, false);                                                      \
    std::reverse(y.begin(), y.end());                                                              \
    check_binary<T, bool>(BinaryOp::Name, #Name, ew::Compare##Name<T>{}, values(c, false), y, {}); \
  }
  HEED_CUDA_COMPARE_OPS(HEED_CASE)
#undef HEED_CASE
}

template <typename T>
void check_all_binary_integral() {
  std::vector<double> x, y;
  for (int i = -4; i <= 4; ++i)
    for (int j = -4; j <= 4; ++j) {
      x.push_back(std::is_same_v<T, bool> ? double(i > 0) : double(i));
      y.push_back(std::is_same_v<T, bool> ? double(j % 2 != 0) : double(j));
    }
  for (double alpha : {1.0, 3.0}) {
#define HEED_CASE(Name, ...)                                                              \
  check_binary<T, T>(BinaryOp::Name, #Name, ew::BinaryInt##Name<T>{T(alpha), T(0)}, x, y, \
                     {alpha, 0});
    HEED_CUDA_BINARY_INT_OPS(HEED_CASE)
#undef HEED_CASE
  }
#define HEED_CASE(Name, ...) \
  check_binary<T, bool>(BinaryOp::Name, #Name, ew::Compare##Name<T>{}, x, y, {});
  HEED_CUDA_COMPARE_OPS(HEED_CASE)
#undef HEED_CASE
}

}  // namespace

TEST_CASE("cuda functors: unary ops equal the CPU kernels", "[cuda_host]") {
  check_all_unary<float>();
  check_all_unary<double>();
  // int64
  std::vector<double> v;
  for (int i = -9; i <= 9; ++i) v.push_back(i);
  Tensor x = from_vector(v).to(kInt64);
  std::vector<int64_t> xs = values_of<int64_t>(x);
#define HEED_CASE(Name, ...)                                           \
  {                                                                    \
    Tensor out = empty_like(x);                                        \
    cpu_be().unary(UnaryOp::Name, out, x, {-2, 5});                    \
    std::vector<int64_t> want = values_of<int64_t>(out);               \
    ew::UnaryInt##Name<int64_t> f{-2, 5};                              \
    for (size_t i = 0; i < xs.size(); ++i) CHECK(f(xs[i]) == want[i]); \
  }
  HEED_CUDA_UNARY_INT_OPS(HEED_CASE)
#undef HEED_CASE
}

TEST_CASE("cuda functors: binary ops and comparisons equal the CPU kernels", "[cuda_host]") {
  check_all_binary_floating<float>();
  check_all_binary_floating<double>();
  check_all_binary_integral<int64_t>();
  check_all_binary_integral<bool>();
}

TEST_CASE("cuda functors: casts and where equal the CPU kernels", "[cuda_host]") {
  const std::vector<double> v = {0.0, -0.0, 1.0, 2.7, -3.2, 1e6, -7.5, 0.25};
  auto check_cast = [&]<typename O, typename I>() {
    Tensor x = from_vector(v).to(dtype_of<I>());
    Tensor out = empty(x.shape(), dtype_of<O>());
    cpu_be().copy(out, x);
    std::vector<I> xs = values_of<I>(x);
    std::vector<O> want = values_of<O>(out);
    for (size_t i = 0; i < xs.size(); ++i) CHECK(same(ew::Cast<O, I>{}(xs[i]), O(want[i])));
  };
  auto for_inputs = [&]<typename O>() {
    check_cast.template operator()<O, float>();
    check_cast.template operator()<O, double>();
    check_cast.template operator()<O, int64_t>();
    check_cast.template operator()<O, bool>();
  };
  for_inputs.template operator()<float>();
  for_inputs.template operator()<double>();
  for_inputs.template operator()<int64_t>();
  for_inputs.template operator()<bool>();

  Tensor c = from_vector(std::vector<bool>{true, false, true, false});
  Tensor a = tensor({1, 2, 3, 4}), b = tensor({-1, -2, -3, -4});
  Tensor out = empty({4});
  cpu_be().where(out, c, a, b);
  std::vector<float> want = out.to_vector<float>();
  ew::Where<float> f;
  for (size_t i = 0; i < 4; ++i) CHECK(f(i % 2 == 0, float(i + 1), -float(i + 1)) == want[i]);
}

// ------------------------------------------------------------ strided geometry

namespace {

// Visits every element of a geometry as the strided kernel would, piece by
// piece; returns (offsets of operand 0) -> (offsets of the others), and
// counts visits.
template <int N>
void emulate(const HostGeom<N>& g, int64_t limit, std::map<int64_t, std::array<int64_t, N>>& seen,
             int64_t& visits) {
  for_each_32bit_piece<N>(
      g,
      [&](const StridedGeom<N>& s, uint32_t n) {
        for (uint32_t i = 0; i < n; ++i) {
          int64_t off[N];
          s.offsets(i, off);
          std::array<int64_t, N> abs{};
          for (int k = 0; k < N; ++k) abs[size_t(k)] = (s.base[k] - g.base[size_t(k)]) + off[k];
          seen[abs[0]] = abs;
          ++visits;
        }
      },
      limit);
}

}  // namespace

TEST_CASE("cuda strided geometry: offsets and 32-bit pieces cover every element once",
          "[cuda_host]") {
  std::mt19937 rng(11);
  char* base0 = reinterpret_cast<char*>(0x10000);
  char* base1 = reinterpret_cast<char*>(0x900000);
  char* base2 = reinterpret_cast<char*>(0x4000000);
  for (int trial = 0; trial < 300; ++trial) {
    const int nd = 1 + int(rng() % 5);
    Shape shape;
    for (int d = 0; d < nd; ++d) shape.push_back(1 + int64_t(rng() % 5));
    // op0: contiguous output (4-byte elements); op1: a permuted, stepped
    // layout (8-byte); op2: broadcast in some dims (1-byte).
    Shape st0 = contiguous_strides(shape);
    std::vector<int64_t> perm(static_cast<size_t>(nd));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    Shape pshape(static_cast<size_t>(nd)), st1(static_cast<size_t>(nd));
    for (int d = 0; d < nd; ++d) pshape[size_t(d)] = shape[size_t(perm[size_t(d)])];
    Shape pst = contiguous_strides(pshape);
    const int64_t step = 1 + int64_t(rng() % 2);
    for (int d = 0; d < nd; ++d) st1[size_t(perm[size_t(d)])] = pst[size_t(d)] * step;
    Shape st2 = contiguous_strides(shape);
    for (int d = 0; d < nd; ++d)
      if (rng() % 2) st2[size_t(d)] = 0;
    HostGeom<3> g = make_host_geom<3>(
        shape,
        {OperandDesc{base0, 4, st0}, OperandDesc{base1, 8, st1}, OperandDesc{base2, 1, st2}});
    const int64_t numel = numel_of(shape);
    // Expected: element with multi-index idx at Σ idx·stride·esize.
    std::map<int64_t, std::array<int64_t, 3>> want;
    std::vector<int64_t> idx(size_t(nd), 0);
    for (int64_t e = 0; e < numel; ++e) {
      std::array<int64_t, 3> o{0, 0, 0};
      for (int d = 0; d < nd; ++d) {
        o[0] += idx[size_t(d)] * st0[size_t(d)] * 4;
        o[1] += idx[size_t(d)] * st1[size_t(d)] * 8;
        o[2] += idx[size_t(d)] * st2[size_t(d)] * 1;
      }
      want[o[0]] = o;
      for (int d = nd - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < shape[size_t(d)]) break;
        idx[size_t(d)] = 0;
      }
    }
    for (int64_t limit : {kMaxIndex32, int64_t(1), int64_t(3), int64_t(7), int64_t(50)}) {
      std::map<int64_t, std::array<int64_t, 3>> seen;
      int64_t visits = 0;
      emulate<3>(g, limit, seen, visits);
      INFO("shape " << shape_str(shape) << " limit " << limit);
      CHECK(visits == numel);
      CHECK(seen == want);
    }
  }
}

TEST_CASE("cuda strided geometry: coalescing finds the dense case", "[cuda_host]") {
  char* p = reinterpret_cast<char*>(0x1000);
  auto g =
      make_host_geom<2>({2, 3, 4}, {OperandDesc{p, 4, {12, 4, 1}}, OperandDesc{p, 8, {12, 4, 1}}});
  CHECK(g.contiguous());
  CHECK(g.sizes == std::vector<int64_t>{24});
  auto t =
      make_host_geom<2>({2, 3, 4}, {OperandDesc{p, 4, {12, 4, 1}}, OperandDesc{p, 4, {1, 8, 2}}});
  CHECK_FALSE(t.contiguous());
  auto b = make_host_geom<2>({2, 3}, {OperandDesc{p, 4, {3, 1}}, OperandDesc{p, 4, {0, 1}}});
  CHECK_FALSE(b.contiguous());
  CHECK(b.sizes.size() == 2);
  // All size-1 dims: one element.
  auto one = make_host_geom<1>({1, 1}, {OperandDesc{p, 4, {5, 7}}});
  CHECK(one.contiguous());
  CHECK(one.numel == 1);
}

// ------------------------------------------------------------ pooling

namespace {

struct PoolCase {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil, include_pad;
};

Pool2dOptions options_of(const PoolCase& c) {
  Pool2dOptions o;
  o.kernel_size = {c.kh, c.kw};
  o.stride = std::pair<int64_t, int64_t>{c.sh, c.sw};
  o.padding = {c.ph, c.pw};
  o.dilation = {c.dh, c.dw};
  o.ceil_mode = c.ceil;
  o.count_include_pad = c.include_pad;
  return o;
}

Pool2dParams params_of(const PoolCase& c) {
  Pool2dParams p;
  p.kernel_h = c.kh, p.kernel_w = c.kw, p.stride_h = c.sh, p.stride_w = c.sw;
  p.pad_h = c.ph, p.pad_w = c.pw, p.dilation_h = c.dh, p.dilation_w = c.dw;
  p.ceil_mode = c.ceil;
  p.count_include_pad = c.include_pad;
  return p;
}

win::Pool win_of(const PoolCase& c) {
  return {c.kh, c.kw, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.include_pad};
}

// (2, 3, 7, 9) with ties (values on a 0.5 grid) and, when asked, NaNs.
Tensor pool_input(DType dt, bool nans) {
  Generator gen(21);
  Tensor x = rand({2, 3, 7, 9}, kFloat64, &gen);
  std::vector<double> v = x.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = std::round(v[i] * 6) / 2 - 1.5;
    if (nans && i % 17 == 5) v[i] = kNaN;
  }
  return from_vector(v, {2, 3, 7, 9}).to(dt);
}

template <typename T>
void check_pool_case(const PoolCase& c, bool nans) {
  Tensor x = pool_input(dtype_of<T>(), nans);
  const int64_t H = 7, W = 9, planes = 6;
  Tensor shape_ref = max_pool2d(x, options_of(c));  // output shape from the op
  const int64_t OH = shape_ref.size(2), OW = shape_ref.size(3);
  Tensor out = empty({2, 3, OH, OW}, dtype_of<T>()), ix = empty({2, 3, OH, OW}, kInt64);
  cpu_be().max_pool2d(out, ix, x, params_of(c));
  std::vector<T> xs = values_of<T>(x), want = values_of<T>(out);
  std::vector<int64_t> want_ix = values_of<int64_t>(ix);
  const win::Pool wp = win_of(c);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T v;
        int64_t k;
        win::max_pool_at(xs.data() + pl * H * W, H, W, oh, ow, wp, &v, &k);
        const size_t o = size_t((pl * OH + oh) * OW + ow);
        CHECK(same(v, want[o]));
        CHECK(k == want_ix[o]);
      }
  if (c.dh != 1 || c.dw != 1) return;  // avg pooling has no dilation
  Tensor a_ref = avg_pool2d(x, options_of(c));
  const int64_t AOH = a_ref.size(2), AOW = a_ref.size(3);
  Tensor aout = empty({2, 3, AOH, AOW}, dtype_of<T>());
  cpu_be().avg_pool2d(aout, x, params_of(c));
  std::vector<T> awant = values_of<T>(aout);
  Generator gen(9);
  Tensor gout = randn({2, 3, AOH, AOW}, dtype_of<T>(), &gen);
  Tensor gin = empty_like(x);
  cpu_be().avg_pool2d_backward(gin, gout, params_of(c));
  std::vector<T> gos = values_of<T>(gout), gwant = values_of<T>(gin);
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t oh = 0; oh < AOH; ++oh)
      for (int64_t ow = 0; ow < AOW; ++ow)
        CHECK(same(win::avg_pool_at(xs.data() + pl * H * W, H, W, oh, ow, wp),
                   awant[size_t((pl * AOH + oh) * AOW + ow)]));
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        CHECK(same(win::avg_pool_backward_at(gos.data() + pl * AOH * AOW, H, W, AOH, AOW, h, w, wp),
                   gwant[size_t((pl * H + h) * W + w)]));
  }
}

template <typename T>
void check_adaptive(int64_t OH, int64_t OW) {
  Tensor x = pool_input(dtype_of<T>(), false);
  const int64_t H = 7, W = 9, planes = 6;
  Tensor out = empty({2, 3, OH, OW}, dtype_of<T>()), ix = empty({2, 3, OH, OW}, kInt64);
  cpu_be().adaptive_max_pool2d(out, ix, x);
  Tensor aout = empty({2, 3, OH, OW}, dtype_of<T>());
  cpu_be().adaptive_avg_pool2d(aout, x);
  Generator gen(4);
  Tensor gout = rand({2, 3, OH, OW}, dtype_of<T>(), &gen);
  Tensor gin = empty_like(x);
  cpu_be().adaptive_avg_pool2d_backward(gin, gout);
  std::vector<T> xs = values_of<T>(x), want = values_of<T>(out), awant = values_of<T>(aout);
  std::vector<T> gos = values_of<T>(gout), gwant = values_of<T>(gin);
  std::vector<int64_t> want_ix = values_of<int64_t>(ix);
  INFO("adaptive to (" << OH << ", " << OW << ")");
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        const size_t o = size_t((pl * OH + oh) * OW + ow);
        T v;
        int64_t k;
        win::adaptive_max_at(xs.data() + pl * H * W, H, W, OH, OW, oh, ow, &v, &k);
        CHECK(same(v, want[o]));
        CHECK(k == want_ix[o]);
        CHECK(same(win::adaptive_avg_at(xs.data() + pl * H * W, H, W, OH, OW, oh, ow), awant[o]));
      }
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        CHECK(same(win::adaptive_avg_backward_at(gos.data() + pl * OH * OW, H, W, OH, OW, h, w),
                   gwant[size_t((pl * H + h) * W + w)]));
  }
}

}  // namespace

TEST_CASE("cuda pooling index math equals the CPU kernels", "[cuda_host]") {
  const std::vector<PoolCase> cases = {
      {2, 2, 2, 2, 0, 0, 1, 1, false, true},  {3, 3, 1, 1, 1, 1, 1, 1, false, true},
      {3, 3, 2, 2, 1, 1, 1, 1, false, false}, {3, 2, 2, 3, 1, 1, 1, 1, true, true},
      {3, 3, 2, 2, 1, 0, 1, 1, true, false},  {2, 3, 3, 2, 1, 1, 1, 1, true, true},
      {3, 3, 1, 2, 1, 1, 2, 2, false, true},  {2, 2, 1, 1, 1, 0, 3, 2, true, true},
      {1, 1, 2, 2, 0, 0, 1, 1, false, true},  {4, 5, 3, 4, 2, 2, 1, 1, true, false},
  };
  for (const PoolCase& c : cases)
    for (bool nans : {false, true}) {
      INFO("kernel " << c.kh << "x" << c.kw << " stride " << c.sh << "x" << c.sw << " pad " << c.ph
                     << "x" << c.pw << " dilation " << c.dh << "x" << c.dw << " ceil " << c.ceil
                     << " include_pad " << c.include_pad << " nans " << nans);
      check_pool_case<float>(c, nans);
      check_pool_case<double>(c, nans);
    }
  for (auto [oh, ow] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {7, 1}, {1, 9}, {3, 4}, {5, 6}, {7, 9}, {10, 13}, {2, 9}}) {
    check_adaptive<double>(oh, ow);
    check_adaptive<float>(oh, ow);
  }
}

// ------------------------------------------------------------ conv plan

namespace {

struct ConvCase {
  int64_t B, C, H, W, O, KH, KW, G;
  Conv2dParams p;
};

// Runs ConvPlan's passes the way nn.cu does, with the CPU's gemm on host
// memory and the host versions of the im2col/col2im kernels.
template <typename T>
void check_conv_plan(const ConvCase& cc, int64_t col_bytes) {
  const DType dt = dtype_of<T>();
  Generator gen(8);
  Tensor x = randn({cc.B, cc.C, cc.H, cc.W}, dt, &gen);
  Tensor w = randn({cc.O, cc.C / cc.G, cc.KH, cc.KW}, dt, &gen);
  Tensor y_ref = conv2d(x, w, Tensor(), {cc.p.stride_h, cc.p.stride_w}, {cc.p.pad_h, cc.p.pad_w},
                        {cc.p.dilation_h, cc.p.dilation_w}, cc.G);
  Tensor y = empty_like(y_ref);
  const ConvPlan g = make_conv_plan("test", x, w, y, cc.p);
  const int64_t P = g.P(), R = g.R(), nb_max = g.chunk_images(sizeof(T), col_bytes);
  Tensor gy = randn(y.shape(), dt, &gen);
  Tensor gx = empty_like(x), gw = empty_like(w);
  Tensor gx_ref = empty_like(x), gw_ref = empty_like(w);
  cpu_be().conv2d_backward_input(gx_ref, gy, w, cc.p);
  cpu_be().conv2d_backward_weight(gw_ref, Tensor(), gy, x, cc.p);
  const T* xp = x.data_ptr<T>();
  const T* gyp = gy.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  T* gxp = gx.data_ptr<T>();
  std::vector<T> col(size_t(R * nb_max * P)), buf(size_t(g.O * nb_max * P));
  auto run_im2col = [&](int64_t n0, int64_t nb) {
    const int64_t N = nb * P;
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < N; ++j)
        col[size_t(r * N + j)] = win::im2col_at(xp + n0 * g.C * g.H * g.W, g.win(), r, j);
  };
  // buf (O, N) <-> images (nb, O, P): element (nl, o, p) at o·N + nl·P + p.
  auto buf_to_y = [&](int64_t n0, int64_t nb) {
    const int64_t N = nb * P;
    for (int64_t nl = 0; nl < nb; ++nl)
      for (int64_t o = 0; o < g.O; ++o)
        for (int64_t q = 0; q < P; ++q)
          yp[((n0 + nl) * g.O + o) * P + q] = buf[size_t(o * N + nl * P + q)];
  };
  auto gy_to_buf = [&](int64_t n0, int64_t nb) {
    const int64_t N = nb * P;
    for (int64_t nl = 0; nl < nb; ++nl)
      for (int64_t o = 0; o < g.O; ++o)
        for (int64_t q = 0; q < P; ++q)
          buf[size_t(o * N + nl * P + q)] = gyp[((n0 + nl) * g.O + o) * P + q];
  };
  if (g.pointwise()) {
    for (int64_t gi = 0; gi < g.G; ++gi) {
      cpu_be().gemm(g.pointwise_forward(dt, gi, static_cast<const char*>(w.raw_data()),
                                        static_cast<const char*>(x.raw_data()),
                                        static_cast<char*>(y.raw_data())));
      cpu_be().gemm(g.pointwise_backward_input(dt, gi, static_cast<const char*>(w.raw_data()),
                                               static_cast<const char*>(gy.raw_data()),
                                               static_cast<char*>(gx.raw_data())));
    }
  } else {
    for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
      const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
      run_im2col(n0, nb);
      cpu_be().gemm(g.forward(dt, w.raw_data(), col.data(), buf.data(), N));
      buf_to_y(n0, nb);
      gy_to_buf(n0, nb);
      cpu_be().gemm(g.backward_input(dt, w.raw_data(), buf.data(), col.data(), N));
      for (int64_t nl = 0; nl < nb; ++nl)
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t ih = 0; ih < g.H; ++ih)
            for (int64_t iw = 0; iw < g.W; ++iw)
              gxp[(((n0 + nl) * g.C + c) * g.H + ih) * g.W + iw] =
                  win::col2im_at(col.data(), g.win(), N, nl, c, ih, iw);
    }
  }
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    run_im2col(n0, nb);
    gy_to_buf(n0, nb);
    cpu_be().gemm(g.backward_weight(dt, buf.data(), col.data(), gw.raw_data(), N, n0 > 0));
  }
  const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-4;
  CHECK(max(abs(y - y_ref)).item() < tol);
  CHECK(max(abs(gx - gx_ref)).item() < tol);
  CHECK(max(abs(gw - gw_ref)).item() < tol);
}

Conv2dParams conv_params(int64_t s, int64_t pad, int64_t dil, int64_t groups, int64_t sw = -1,
                         int64_t pw = -1) {
  Conv2dParams p;
  p.stride_h = s, p.stride_w = sw < 0 ? s : sw;
  p.pad_h = pad, p.pad_w = pw < 0 ? pad : pw;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  return p;
}

}  // namespace

TEST_CASE("cuda conv plan (im2col, GEMMs, col2im) equals the CPU conv", "[cuda_host]") {
  const std::vector<ConvCase> cases = {
      {2, 3, 7, 6, 4, 3, 3, 1, conv_params(1, 1, 1, 1)},
      {3, 4, 8, 8, 6, 3, 3, 2, conv_params(2, 1, 1, 2)},
      {2, 4, 9, 7, 4, 3, 2, 4, conv_params(1, 2, 2, 4, 2, 1)},
      {2, 6, 5, 5, 4, 1, 1, 2, conv_params(1, 0, 1, 2)},  // pointwise, grouped
      {2, 3, 6, 6, 5, 1, 1, 1, conv_params(2, 0, 1, 1)},  // 1x1 strided: im2col path
      {4, 2, 1, 9, 3, 1, 3, 1, conv_params(1, 1, 1, 1)},  // conv1d shape
      {3, 2, 5, 5, 2, 5, 5, 1, conv_params(1, 0, 1, 1)},  // kernel = input
  };
  for (const ConvCase& c : cases) {
    INFO("conv B" << c.B << " C" << c.C << " " << c.H << "x" << c.W << " O" << c.O << " k" << c.KH
                  << "x" << c.KW << " G" << c.G);
    for (int64_t col_bytes : {kConvColBytes, int64_t(1)}) {  // one chunk; one image per chunk
      check_conv_plan<double>(c, col_bytes);
      check_conv_plan<float>(c, col_bytes);
    }
  }
}

// ------------------------------------------------------------ gemm mapping

namespace {

// cuBLAS semantics on column-major storage: C (m×n) = alpha·op(A)·op(B) + beta·C.
void column_major_gemm(const ColumnMajorGemm& g, double alpha, double beta, int64_t batch) {
  for (int64_t bi = 0; bi < batch; ++bi) {
    const double* A = static_cast<const double*>(g.a) + bi * g.stride_a;
    const double* B = static_cast<const double*>(g.b) + bi * g.stride_b;
    double* C = static_cast<double*>(g.c) + bi * g.stride_c;
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        double s = 0;
        for (int64_t l = 0; l < g.k; ++l) {
          const double a = g.trans_a ? A[l + i * g.lda] : A[i + l * g.lda];  // op(A)(i, l)
          const double b = g.trans_b ? B[j + l * g.ldb] : B[l + j * g.ldb];  // op(B)(l, j)
          s += a * b;
        }
        C[i + j * g.ldc] = alpha * s + beta * C[i + j * g.ldc];
      }
  }
}

}  // namespace

TEST_CASE("cuda gemm mapping: the column-major call computes the row-major product",
          "[cuda_host]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    GemmArgs g;
    g.dtype = kFloat64;
    g.trans_a = rng() % 2, g.trans_b = rng() % 2;
    g.m = 1 + rng() % 5, g.n = 1 + rng() % 5, g.k = 1 + rng() % 5;
    g.alpha = 1.5, g.beta = trial % 3 == 0 ? 0.5 : 0.0;
    g.batch = 1 + rng() % 3;
    // Row-major storage with padded leading dims.
    const int64_t arows = g.trans_a ? g.k : g.m, acols = g.trans_a ? g.m : g.k;
    const int64_t brows = g.trans_b ? g.n : g.k, bcols = g.trans_b ? g.k : g.n;
    g.lda = acols + rng() % 2, g.ldb = bcols + rng() % 2, g.ldc = g.n + rng() % 2;
    g.stride_a = arows * g.lda, g.stride_b = rng() % 2 ? 0 : brows * g.ldb;  // 0: broadcast B
    g.stride_c = g.m * g.ldc;
    Generator gen{uint64_t(trial)};
    Tensor a = randn({g.batch * g.stride_a}, kFloat64, &gen);
    Tensor b = randn({std::max<int64_t>(g.batch * g.stride_b, brows * g.ldb)}, kFloat64, &gen);
    Tensor c0 = randn({g.batch * g.stride_c}, kFloat64, &gen);
    Tensor c_cpu = c0.clone(), c_map = c0.clone();
    g.a = a.raw_data(), g.b = b.raw_data(), g.c = c_cpu.raw_data();
    cpu_be().gemm(g);
    GemmArgs g2 = g;
    g2.c = c_map.raw_data();
    column_major_gemm(to_column_major(g2), g.alpha, g.beta, g.batch);
    INFO("trial " << trial << " ta " << g.trans_a << " tb " << g.trans_b << " m" << g.m << " n"
                  << g.n << " k" << g.k);
    CHECK(max(abs(c_cpu - c_map)).item() < 1e-12);
  }
}

// ------------------------------------------------------------ reductions

TEST_CASE("cuda max/min with index: any combine order gives the CPU's answer", "[cuda_host]") {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 500; ++trial) {
    const int n = 1 + int(rng() % 40);
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) {
      const int r = int(rng() % 10);
      x = r == 0 ? kNaN : double(int(rng() % 5) - 2);  // ties and NaNs
      if (r == 1) x = -0.0;
    }
    for (bool is_max : {true, false}) {
      // The CPU: sequential scan, first extreme, stop at the first NaN.
      Tensor x = from_vector(v);
      Tensor values = empty({1}, kFloat64), indices = empty({1}, kInt64);
      cpu_be().reduce_with_index(is_max ? ReduceOp::Max : ReduceOp::Min, values, indices,
                                 x.reshape({1, n}), 1);
      const double want_v = values.item();
      const int64_t want_i = int64_t(indices.item());
      // A tree over a random lane split, as the kernel: lanes scan strided
      // positions in order, then lanes combine pairwise.
      const int lanes = 1 + int(rng() % 8);
      std::vector<red::ArgBest<double>> part(size_t(lanes), {0.0, -1});
      for (int i = 0; i < n; ++i)
        part[size_t(i % lanes)] = red::arg_combine(
            part[size_t(i % lanes)], red::ArgBest<double>{v[size_t(i)], int64_t(i)}, is_max);
      while (part.size() > 1) {
        std::vector<red::ArgBest<double>> next;
        for (size_t i = 0; i < part.size(); i += 2)
          next.push_back(i + 1 < part.size() ? red::arg_combine(part[i + 1], part[i], is_max)
                                             : part[i]);
        part = next;
      }
      INFO("trial " << trial << " max " << is_max);
      CHECK(part[0].arg == want_i);
      CHECK(same(part[0].v, want_v));
    }
  }
}

TEST_CASE("cuda reduce combine: NaN wins from either side", "[cuda_host]") {
  red::MaxOp mx;
  red::MinOp mn;
  CHECK(std::isnan(mx(kNaN, 1.0)));
  CHECK(std::isnan(mx(1.0, kNaN)));
  CHECK(std::isnan(mn(kNaN, 1.0)));
  CHECK(std::isnan(mn(1.0, kNaN)));
  CHECK(mx(-kInf, 2.0) == 2.0);
  CHECK(mn(kInf, -2.0) == -2.0);
}

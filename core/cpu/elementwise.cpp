// CPU element-wise kernels: unary, binary, where (copy and fill: copy.cpp). The switch on
// the op is outside the loops; each loop body is a small lambda the compiler
// inlines and vectorizes on the contiguous fast path. float32 ops with a
// hand-vectorised row kernel (pointwise_f32.h) use it for every row.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/pointwise_f32.h"
#include "core/cpu/strided_loop.h"

namespace heed::cpu {
namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <typename T>
T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename O, typename I, typename F>
void map1(char* out, const char* in, int64_t n, int64_t so, int64_t si, F f) {
  O* o = reinterpret_cast<O*>(out);
  const I* x = reinterpret_cast<const I*>(in);
  if (so == 1 && si == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * si]);
  }
}

template <typename O, typename I, typename F>
void map2(char* out, const char* a, const char* b, int64_t n, int64_t so, int64_t sa, int64_t sb,
          F f) {
  O* o = reinterpret_cast<O*>(out);
  const I* x = reinterpret_cast<const I*>(a);
  const I* y = reinterpret_cast<const I*>(b);
  if (so == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
  } else if (so == 1 && sa == 1 && sb == 0) {
    const I yv = y[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
  } else if (so == 1 && sa == 0 && sb == 1) {
    const I xv = x[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sa], y[i * sb]);
  }
}

template <typename O, typename I, typename F>
void unary_map(const Tensor& out, const Tensor& in, F f) {
  strided_loop<2>(out.shape(), {&out, &in},
                  [&](int64_t n, auto p, auto s) { map1<O, I>(p[0], p[1], n, s[0], s[1], f); });
}

template <typename O, typename I, typename F>
void binary_map(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  strided_loop<3>(out.shape(), {&out, &a, &b}, [&](int64_t n, auto p, auto s) {
    map2<O, I>(p[0], p[1], p[2], n, s[0], s[1], s[2], f);
  });
}

// Strided rows go through a small stack buffer so every row, contiguous or
// not, runs the vectorised row kernel.
constexpr int64_t kGatherBlock = 256;

void unary_rows_f32(UnaryRowF32 row, const Tensor& out, const Tensor& in, const OpParams& p) {
  strided_loop<2>(out.shape(), {&out, &in}, [&](int64_t n, auto ptr, auto s) {
    float* o = reinterpret_cast<float*>(ptr[0]);
    const float* x = reinterpret_cast<const float*>(ptr[1]);
    if (s[0] == 1 && s[1] == 1) return row(o, x, n, p);
    float xb[kGatherBlock], ob[kGatherBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kGatherBlock) {
      const int64_t m = std::min(kGatherBlock, n - i0);
      for (int64_t i = 0; i < m; ++i) xb[i] = x[(i0 + i) * s[1]];
      row(ob, xb, m, p);
      for (int64_t i = 0; i < m; ++i) o[(i0 + i) * s[0]] = ob[i];
    }
  });
}

void binary_rows_f32(BinaryRowF32 row, const Tensor& out, const Tensor& a, const Tensor& b,
                     const OpParams& p) {
  strided_loop<3>(out.shape(), {&out, &a, &b}, [&](int64_t n, auto ptr, auto s) {
    float* o = reinterpret_cast<float*>(ptr[0]);
    const float* x = reinterpret_cast<const float*>(ptr[1]);
    const float* y = reinterpret_cast<const float*>(ptr[2]);
    auto unit = [](int64_t st) { return st == 0 || st == 1; };
    if (s[0] == 1 && unit(s[1]) && unit(s[2])) return row(o, x, s[1], y, s[2], n, p);
    float xb[kGatherBlock], yb[kGatherBlock], ob[kGatherBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kGatherBlock) {
      const int64_t m = std::min(kGatherBlock, n - i0);
      for (int64_t i = 0; i < m; ++i) xb[i] = x[(i0 + i) * s[1]];
      for (int64_t i = 0; i < m; ++i) yb[i] = y[(i0 + i) * s[2]];
      row(ob, xb, 1, yb, 1, m, p);
      for (int64_t i = 0; i < m; ++i) o[(i0 + i) * s[0]] = ob[i];
    }
  });
}

template <typename T>
void unary_floating(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  if constexpr (std::is_same_v<T, float>) {
    if (UnaryRowF32 row = unary_row_f32(op, p)) return unary_rows_f32(row, out, in, p);
  }
  const T a = T(p.a), b = T(p.b);
  auto go = [&](auto f) { unary_map<T, T>(out, in, f); };
  switch (op) {
    case UnaryOp::Neg:
      return go([](T x) { return -x; });
    case UnaryOp::Exp:
      return go([](T x) { return std::exp(x); });
    case UnaryOp::Log:
      return go([](T x) { return std::log(x); });
    case UnaryOp::Sqrt:
      return go([](T x) { return std::sqrt(x); });
    case UnaryOp::Rsqrt:
      return go([](T x) { return T(1) / std::sqrt(x); });
    case UnaryOp::Abs:
      return go([](T x) { return std::abs(x); });
    case UnaryOp::Sign:
      return go([](T x) { return T((x > T(0)) - (x < T(0))); });
    case UnaryOp::Reciprocal:
      return go([](T x) { return T(1) / x; });
    case UnaryOp::Square:
      return go([](T x) { return x * x; });
    case UnaryOp::Sin:
      return go([](T x) { return std::sin(x); });
    case UnaryOp::Cos:
      return go([](T x) { return std::cos(x); });
    case UnaryOp::Erf:
      return go([](T x) { return std::erf(x); });
    case UnaryOp::Relu:
      return go([](T x) { return x <= T(0) ? T(0) : x; });  // NaN stays NaN
    case UnaryOp::Relu6:
      return go([](T x) { return std::min(std::max(x, T(0)), T(6)); });
    case UnaryOp::LeakyRelu:
      return go([a](T x) { return x > T(0) ? x : x * a; });
    case UnaryOp::Sigmoid:
      return go([](T x) { return stable_sigmoid(x); });
    case UnaryOp::Tanh:
      return go([](T x) { return std::tanh(x); });
    case UnaryOp::GeluErf:
      return go([](T x) { return T(0.5) * x * (T(1) + std::erf(x / T(kSqrt2))); });
    case UnaryOp::GeluTanh:
      return go([](T x) {
        return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x)));
      });
    case UnaryOp::Silu:
      return go([](T x) { return x * stable_sigmoid(x); });
    case UnaryOp::Hardsigmoid:
      return go([](T x) { return std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
    case UnaryOp::Hardswish:
      return go([](T x) { return x * std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
    case UnaryOp::Softplus:
      return go([a, b](T x) { return x * a > b ? x : std::log1p(std::exp(x * a)) / a; });
    case UnaryOp::Clamp:
      return go([a, b](T x) { return std::min(std::max(x, a), b); });
    case UnaryOp::PowScalar:
      if (p.a == 2) return go([](T x) { return x * x; });
      return go([a](T x) { return std::pow(x, a); });
    case UnaryOp::AddScalar:
      return go([a](T x) { return x + a; });
    case UnaryOp::MulScalar:
      return go([a](T x) { return x * a; });
    case UnaryOp::RSubScalar:
      return go([a](T x) { return a - x; });
    case UnaryOp::RDivScalar:
      return go([a](T x) { return a / x; });
    case UnaryOp::RPowScalar:
      return go([a](T x) { return std::pow(a, x); });
    case UnaryOp::Count:
      break;
  }
  HEED_FAIL("unary: unknown op");
}

void unary_int64(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  using T = int64_t;
  const T a = T(p.a), b = T(p.b);
  auto go = [&](auto f) { unary_map<T, T>(out, in, f); };
  switch (op) {
    case UnaryOp::Neg:
      return go([](T x) { return -x; });
    case UnaryOp::Abs:
      return go([](T x) { return x < 0 ? -x : x; });
    case UnaryOp::Sign:
      return go([](T x) { return T((x > 0) - (x < 0)); });
    case UnaryOp::Square:
      return go([](T x) { return x * x; });
    case UnaryOp::Clamp:
      return go([a, b](T x) { return std::min(std::max(x, a), b); });
    case UnaryOp::AddScalar:
      return go([a](T x) { return x + a; });
    case UnaryOp::MulScalar:
      return go([a](T x) { return x * a; });
    case UnaryOp::RSubScalar:
      return go([a](T x) { return a - x; });
    default:
      break;
  }
  HEED_FAIL("unary: op ", int(op), " is not defined for int64 tensors");
}

template <typename T>
void binary_floating(BinaryOp op, const Tensor& out, const Tensor& a_, const Tensor& b_,
                     OpParams p) {
  if constexpr (std::is_same_v<T, float>) {
    if (out.dtype() == kFloat32) {
      if (BinaryRowF32 row = binary_row_f32(op, p)) return binary_rows_f32(row, out, a_, b_, p);
    }
  }
  const T pa = T(p.a), pb = T(p.b);
  auto go = [&](auto f) { binary_map<T, T>(out, a_, b_, f); };
  auto cmp = [&](auto f) { binary_map<bool, T>(out, a_, b_, f); };
  switch (op) {
    case BinaryOp::Add:
      if (p.a == 1) return go([](T x, T y) { return x + y; });
      return go([pa](T x, T y) { return x + pa * y; });
    case BinaryOp::Sub:
      if (p.a == 1) return go([](T x, T y) { return x - y; });
      return go([pa](T x, T y) { return x - pa * y; });
    case BinaryOp::Mul:
      return go([](T x, T y) { return x * y; });
    case BinaryOp::Div:
      return go([](T x, T y) { return x / y; });
    case BinaryOp::Pow:
      return go([](T x, T y) { return std::pow(x, y); });
    // NaN in either input propagates, like torch.maximum / minimum.
    case BinaryOp::Maximum:
      return go([](T x, T y) { return x > y || x != x ? x : y; });
    case BinaryOp::Minimum:
      return go([](T x, T y) { return x < y || x != x ? x : y; });
    case BinaryOp::Eq:
      return cmp([](T x, T y) { return x == y; });
    case BinaryOp::Ne:
      return cmp([](T x, T y) { return x != y; });
    case BinaryOp::Lt:
      return cmp([](T x, T y) { return x < y; });
    case BinaryOp::Le:
      return cmp([](T x, T y) { return x <= y; });
    case BinaryOp::Gt:
      return cmp([](T x, T y) { return x > y; });
    case BinaryOp::Ge:
      return cmp([](T x, T y) { return x >= y; });
    case BinaryOp::ReluBackward:
      return go([](T g, T x) { return x > T(0) ? g : T(0); });
    case BinaryOp::Relu6Backward:
      return go([](T g, T x) { return x > T(0) && x < T(6) ? g : T(0); });
    case BinaryOp::LeakyReluBackward:
      return go([pa](T g, T x) { return x > T(0) ? g : g * pa; });
    case BinaryOp::SigmoidBackward:
      return go([](T g, T y) { return g * y * (T(1) - y); });
    case BinaryOp::TanhBackward:
      return go([](T g, T y) { return g * (T(1) - y * y); });
    case BinaryOp::GeluErfBackward:
      return go([](T g, T x) {
        T cdf = T(0.5) * (T(1) + std::erf(x / T(kSqrt2)));
        T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
        return g * (cdf + x * pdf);
      });
    case BinaryOp::GeluTanhBackward:
      return go([](T g, T x) {
        const T k = T(kSqrt2OverPi), k1 = T(0.044715);
        T t = std::tanh(k * (x + k1 * x * x * x));
        T left_d = T(0.5) * (T(1) + t);
        T right_d = T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * k1 * x * x);
        return g * (left_d + right_d);
      });
    case BinaryOp::SiluBackward:
      return go([](T g, T x) {
        T s = stable_sigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
      });
    case BinaryOp::HardsigmoidBackward:
      return go([](T g, T x) { return x > T(-3) && x < T(3) ? g / T(6) : T(0); });
    case BinaryOp::HardswishBackward:
      return go([](T g, T x) {
        if (x < T(-3)) return T(0);
        if (x <= T(3)) return g * (x / T(3) + T(0.5));
        return g;
      });
    case BinaryOp::SoftplusBackward:
      return go([pa, pb](T g, T x) {
        if (x * pa > pb) return g;
        T z = std::exp(x * pa);
        return g * z / (z + T(1));
      });
    case BinaryOp::ClampBackward:
      return go([pa, pb](T g, T x) { return x >= pa && x <= pb ? g : T(0); });
    case BinaryOp::AddRelu:
      return go([](T x, T y) {
        const T v = x + y;
        return v <= T(0) ? T(0) : v;  // NaN stays NaN
      });
    case BinaryOp::Count:
      break;
  }
  HEED_FAIL("binary: unknown op");
}

template <typename T>
void binary_integral(BinaryOp op, const Tensor& out, const Tensor& a_, const Tensor& b_,
                     OpParams p) {
  const T pa = T(p.a);
  auto go = [&](auto f) { binary_map<T, T>(out, a_, b_, f); };
  auto cmp = [&](auto f) { binary_map<bool, T>(out, a_, b_, f); };
  switch (op) {
    case BinaryOp::Add:
      return go([pa](T x, T y) { return T(x + pa * y); });
    case BinaryOp::Sub:
      return go([pa](T x, T y) { return T(x - pa * y); });
    case BinaryOp::Mul:
      return go([](T x, T y) { return T(x * y); });
    case BinaryOp::Maximum:
      return go([](T x, T y) { return x > y ? x : y; });
    case BinaryOp::Minimum:
      return go([](T x, T y) { return x < y ? x : y; });
    case BinaryOp::Eq:
      return cmp([](T x, T y) { return x == y; });
    case BinaryOp::Ne:
      return cmp([](T x, T y) { return x != y; });
    case BinaryOp::Lt:
      return cmp([](T x, T y) { return x < y; });
    case BinaryOp::Le:
      return cmp([](T x, T y) { return x <= y; });
    case BinaryOp::Gt:
      return cmp([](T x, T y) { return x > y; });
    case BinaryOp::Ge:
      return cmp([](T x, T y) { return x >= y; });
    default:
      break;
  }
  HEED_FAIL("binary: op ", int(op), " is not defined for ", dtype_name(dtype_of<T>()), " tensors");
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  switch (in.dtype()) {
    case DType::Float32:
      return unary_floating<float>(op, out, in, p);
    case DType::Float64:
      return unary_floating<double>(op, out, in, p);
    case DType::Int64:
      return unary_int64(op, out, in, p);
    case DType::Bool:
      break;
  }
  HEED_FAIL("unary: not defined for bool tensors");
}

void CpuBackend::binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b,
                        OpParams p) {
  switch (a.dtype()) {
    case DType::Float32:
      return binary_floating<float>(op, out, a, b, p);
    case DType::Float64:
      return binary_floating<double>(op, out, a, b, p);
    case DType::Int64:
      return binary_integral<int64_t>(op, out, a, b, p);
    case DType::Bool:
      return binary_integral<bool>(op, out, a, b, p);
  }
}

namespace {

// where() over one row with contiguous out and cond; SX / SY (0 or 1) are the
// strides of the two choices as template constants, so the loop vectorizes
// (a mask times a broadcast zero is the common case: max / amax backward).
template <typename T, int SX, int SY>
void where_row(T* o, const bool* c, const T* x, const T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i * SX] : y[i * SY];
}

}  // namespace

void CpuBackend::where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), [&]<typename T>() {
    strided_loop<4>(out.shape(), {&out, &cond, &a, &b}, [&](int64_t n, auto p, auto s) {
      T* o = reinterpret_cast<T*>(p[0]);
      const bool* c = reinterpret_cast<const bool*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      if (s[0] == 1 && s[1] == 1) {
        if (s[2] == 1 && s[3] == 1) return where_row<T, 1, 1>(o, c, x, y, n);
        if (s[2] == 1 && s[3] == 0) return where_row<T, 1, 0>(o, c, x, y, n);
        if (s[2] == 0 && s[3] == 1) return where_row<T, 0, 1>(o, c, x, y, n);
      }
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = c[i * s[1]] ? x[i * s[2]] : y[i * s[3]];
    });
  });
}

}  // namespace heed::cpu

// The element-wise functions of the CUDA kernels, one functor per op, written
// from the CPU's lambdas in core/cpu/elementwise.cpp (same expressions, same
// order of operations). They are host+device (HEED_HD), so
// tests/cuda/test_cuda_host.cpp checks every one against the CPU backend on
// a machine without a GPU. Each X-macro row is (enum name, expression in x, or
// g and x / x and y for binary ops, with the parameters a and b).
#pragma once

#include <type_traits>

#include "core/cuda/hd_math.h"

namespace heed::cuda::ew {

inline constexpr double kSqrt2 = 1.41421356237309504880;
inline constexpr double kSqrt2OverPi = 0.79788456080286535588;
inline constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// Unary ops of floating T (UnaryOp names). PowScalar with a == 2 uses Square
// (x * x), as the CPU does.
#define HEED_CUDA_UNARY_FLOAT_OPS(X)                                                           \
  X(Neg, -x)                                                                                   \
  X(Exp, hd::exp(x))                                                                           \
  X(Log, hd::log(x))                                                                           \
  X(Sqrt, hd::sqrt(x))                                                                         \
  X(Rsqrt, T(1) / hd::sqrt(x))                                                                 \
  X(Abs, hd::abs(x))                                                                           \
  X(Sign, T((x > T(0)) - (x < T(0))))                                                          \
  X(Reciprocal, T(1) / x)                                                                      \
  X(Square, x* x)                                                                              \
  X(Sin, hd::sin(x))                                                                           \
  X(Cos, hd::cos(x))                                                                           \
  X(Erf, hd::erf(x))                                                                           \
  X(Relu, x <= T(0) ? T(0) : x)                                                                \
  X(Relu6, hd::min(hd::max(x, T(0)), T(6)))                                                    \
  X(LeakyRelu, x > T(0) ? x : x * a)                                                           \
  X(Sigmoid, hd::stable_sigmoid(x))                                                            \
  X(Tanh, hd::tanh(x))                                                                         \
  X(GeluErf, T(0.5) * x * (T(1) + hd::erf(x / T(kSqrt2))))                                     \
  X(GeluTanh, T(0.5) * x * (T(1) + hd::tanh(T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x)))) \
  X(Silu, x* hd::stable_sigmoid(x))                                                            \
  X(Hardsigmoid, hd::min(hd::max(x + T(3), T(0)), T(6)) / T(6))                                \
  X(Hardswish, x* hd::min(hd::max(x + T(3), T(0)), T(6)) / T(6))                               \
  X(Softplus, x* a > b ? x : hd::log1p(hd::exp(x * a)) / a)                                    \
  X(Clamp, hd::min(hd::max(x, a), b))                                                          \
  X(PowScalar, hd::pow(x, a))                                                                  \
  X(AddScalar, x + a)                                                                          \
  X(MulScalar, x* a)                                                                           \
  X(RSubScalar, a - x)                                                                         \
  X(RDivScalar, a / x)                                                                         \
  X(RPowScalar, hd::pow(a, x))

// Unary ops defined for int64 (a, b converted to int64 first).
#define HEED_CUDA_UNARY_INT_OPS(X)    \
  X(Neg, -x)                          \
  X(Abs, x < 0 ? -x : x)              \
  X(Sign, T((x > 0) - (x < 0)))       \
  X(Square, x* x)                     \
  X(Clamp, hd::min(hd::max(x, a), b)) \
  X(AddScalar, x + a)                 \
  X(MulScalar, x* a)                  \
  X(RSubScalar, a - x)

// Binary ops of floating T giving T; a, b are OpParams::a, b (Add/Sub: alpha).
// Maximum / Minimum (and Relu above) propagate NaN, like PyTorch and the CPU.
#define HEED_CUDA_BINARY_FLOAT_OPS(X)                             \
  X(Add, x + a * y)                                               \
  X(Sub, x - a * y)                                               \
  X(Mul, x* y)                                                    \
  X(Div, x / y)                                                   \
  X(Pow, hd::pow(x, y))                                           \
  X(Maximum, x > y || x != x ? x : y)                             \
  X(Minimum, x < y || x != x ? x : y)                             \
  X(ReluBackward, y > T(0) ? x : T(0))                            \
  X(Relu6Backward, y > T(0) && y < T(6) ? x : T(0))               \
  X(LeakyReluBackward, y > T(0) ? x : x * a)                      \
  X(SigmoidBackward, x* y*(T(1) - y))                             \
  X(TanhBackward, x*(T(1) - y * y))                               \
  X(GeluErfBackward, gelu_erf_backward(x, y))                     \
  X(GeluTanhBackward, gelu_tanh_backward(x, y))                   \
  X(SiluBackward, silu_backward(x, y))                            \
  X(HardsigmoidBackward, y > T(-3) && y < T(3) ? x / T(6) : T(0)) \
  X(HardswishBackward, hardswish_backward(x, y))                  \
  X(SoftplusBackward, softplus_backward(x, y, a, b))              \
  X(ClampBackward, y >= a && y <= b ? x : T(0))                   \
  X(AddRelu, x + y <= T(0) ? T(0) : x + y)

// Binary ops of int64 and bool giving T (x + a * y in int arithmetic, then T).
#define HEED_CUDA_BINARY_INT_OPS(X) \
  X(Add, T(x + a * y))              \
  X(Sub, T(x - a * y))              \
  X(Mul, T(x* y))                   \
  X(Maximum, x > y ? x : y)         \
  X(Minimum, x < y ? x : y)

// Comparisons of any dtype, giving bool.
#define HEED_CUDA_COMPARE_OPS(X) \
  X(Eq, x == y)                  \
  X(Ne, x != y)                  \
  X(Lt, x < y)                   \
  X(Le, x <= y)                  \
  X(Gt, x > y)                   \
  X(Ge, x >= y)

// The multi-line backward formulas (g = upstream gradient, x = input).
template <typename T>
HEED_HD T gelu_erf_backward(T g, T x) {
  T cdf = T(0.5) * (T(1) + hd::erf(x / T(kSqrt2)));
  T pdf = T(kInvSqrt2Pi) * hd::exp(T(-0.5) * x * x);
  return g * (cdf + x * pdf);
}
template <typename T>
HEED_HD T gelu_tanh_backward(T g, T x) {
  const T k = T(kSqrt2OverPi), k1 = T(0.044715);
  T t = hd::tanh(k * (x + k1 * x * x * x));
  T left_d = T(0.5) * (T(1) + t);
  T right_d = T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * k1 * x * x);
  return g * (left_d + right_d);
}
template <typename T>
HEED_HD T silu_backward(T g, T x) {
  T s = hd::stable_sigmoid(x);
  return g * s * (T(1) + x * (T(1) - s));
}
template <typename T>
HEED_HD T hardswish_backward(T g, T x) {
  if (x < T(-3)) return T(0);
  if (x <= T(3)) return g * (x / T(3) + T(0.5));
  return g;
}
template <typename T>
HEED_HD T softplus_backward(T g, T x, T beta, T threshold) {
  if (x * beta > threshold) return g;
  T z = hd::exp(x * beta);
  return g * z / (z + T(1));
}

#define HEED_CUDA_DEFINE_UNARY(Name, ...)                   \
  template <typename T>                                     \
  struct Unary##Name {                                      \
    T a, b;                                                 \
    HEED_HD T operator()(T x) const { return __VA_ARGS__; } \
  };
HEED_CUDA_UNARY_FLOAT_OPS(HEED_CUDA_DEFINE_UNARY)
#undef HEED_CUDA_DEFINE_UNARY

#define HEED_CUDA_DEFINE_UNARY_INT(Name, ...)               \
  template <typename T>                                     \
  struct UnaryInt##Name {                                   \
    T a, b;                                                 \
    HEED_HD T operator()(T x) const { return __VA_ARGS__; } \
  };
HEED_CUDA_UNARY_INT_OPS(HEED_CUDA_DEFINE_UNARY_INT)
#undef HEED_CUDA_DEFINE_UNARY_INT

#define HEED_CUDA_DEFINE_BINARY(Name, ...)                       \
  template <typename T>                                          \
  struct Binary##Name {                                          \
    T a, b;                                                      \
    HEED_HD T operator()(T x, T y) const { return __VA_ARGS__; } \
  };
HEED_CUDA_BINARY_FLOAT_OPS(HEED_CUDA_DEFINE_BINARY)
#undef HEED_CUDA_DEFINE_BINARY

#define HEED_CUDA_DEFINE_BINARY_INT(Name, ...)                   \
  template <typename T>                                          \
  struct BinaryInt##Name {                                       \
    T a, b;                                                      \
    HEED_HD T operator()(T x, T y) const { return __VA_ARGS__; } \
  };
HEED_CUDA_BINARY_INT_OPS(HEED_CUDA_DEFINE_BINARY_INT)
#undef HEED_CUDA_DEFINE_BINARY_INT

#define HEED_CUDA_DEFINE_COMPARE(Name, ...)                         \
  template <typename T>                                             \
  struct Compare##Name {                                            \
    HEED_HD bool operator()(T x, T y) const { return __VA_ARGS__; } \
  };
HEED_CUDA_COMPARE_OPS(HEED_CUDA_DEFINE_COMPARE)
#undef HEED_CUDA_DEFINE_COMPARE

// copy: static_cast, except that a bool destination tests x != 0.
template <typename O, typename I>
struct Cast {
  HEED_HD O operator()(I x) const {
    if constexpr (std::is_same_v<O, bool>) {
      return x != I(0);
    } else {
      return static_cast<O>(x);
    }
  }
};

template <typename T>
struct Fill {
  T v;
  HEED_HD T operator()() const { return v; }
};

template <typename T>
struct Where {
  HEED_HD T operator()(bool c, T x, T y) const { return c ? x : y; }
};

}  // namespace heed::cuda::ew

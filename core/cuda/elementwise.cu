// CUDA element-wise kernels: copy, fill, unary, binary, where (one generic
// kernel family from kernels.cuh, a functor per op from elementwise_ops.h, the
// switch on the op outside the kernels), counter-based random fills that give
// the CPU's numbers, and the fused optimizer updates. Mirrors
// core/cpu/elementwise.cpp, random.cpp and optim.cpp.
#include <cmath>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/elementwise_ops.h"
#include "core/cuda/kernels.cuh"

namespace heed::cuda {

using kern::map;

namespace {

template <typename T>
void unary_floating(const Ctx& c, UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  const T a = T(p.a), b = T(p.b);
  if (op == UnaryOp::PowScalar && p.a == 2)
    return map<T, T>(c, "unary PowScalar(2)", ew::UnarySquare<T>{a, b}, out, in);
  switch (op) {
#define HEED_CASE(Name, ...) \
  case UnaryOp::Name:        \
    return map<T, T>(c, "unary " #Name, ew::Unary##Name<T>{a, b}, out, in);
    HEED_CUDA_UNARY_FLOAT_OPS(HEED_CASE)
#undef HEED_CASE
    case UnaryOp::Count:
      break;
  }
  HEED_FAIL("unary: unknown op");
}

void unary_int64(const Ctx& c, UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  using T = int64_t;
  const T a = T(p.a), b = T(p.b);
  switch (op) {
#define HEED_CASE(Name, ...) \
  case UnaryOp::Name:        \
    return map<T, T>(c, "unary " #Name, ew::UnaryInt##Name<T>{a, b}, out, in);
    HEED_CUDA_UNARY_INT_OPS(HEED_CASE)
#undef HEED_CASE
    default:
      break;
  }
  HEED_FAIL("unary: op ", int(op), " is not defined for int64 tensors");
}

template <typename T>
void binary_floating(const Ctx& c, BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y,
                     OpParams p) {
  const T a = T(p.a), b = T(p.b);
  switch (op) {
#define HEED_CASE(Name, ...) \
  case BinaryOp::Name:       \
    return map<T, T, T>(c, "binary " #Name, ew::Binary##Name<T>{a, b}, out, x, y);
    HEED_CUDA_BINARY_FLOAT_OPS(HEED_CASE)
#undef HEED_CASE
#define HEED_CASE(Name, ...) \
  case BinaryOp::Name:       \
    return map<bool, T, T>(c, "binary " #Name, ew::Compare##Name<T>{}, out, x, y);
    HEED_CUDA_COMPARE_OPS(HEED_CASE)
#undef HEED_CASE
    case BinaryOp::Count:
      break;
  }
  HEED_FAIL("binary: unknown op");
}

template <typename T>
void binary_integral(const Ctx& c, BinaryOp op, const Tensor& out, const Tensor& x, const Tensor& y,
                     OpParams p) {
  const T a = T(p.a), b = T(p.b);
  switch (op) {
#define HEED_CASE(Name, ...) \
  case BinaryOp::Name:       \
    return map<T, T, T>(c, "binary " #Name, ew::BinaryInt##Name<T>{a, b}, out, x, y);
    HEED_CUDA_BINARY_INT_OPS(HEED_CASE)
#undef HEED_CASE
#define HEED_CASE(Name, ...) \
  case BinaryOp::Name:       \
    return map<bool, T, T>(c, "binary " #Name, ew::Compare##Name<T>{}, out, x, y);
    HEED_CUDA_COMPARE_OPS(HEED_CASE)
#undef HEED_CASE
    default:
      break;
  }
  HEED_FAIL("binary: op ", int(op), " is not defined for ", dtype_name(dtype_of<T>()), " tensors");
}

// ------------------------------------------------------------ random fills
// Element i uses counter + i (uniform) or counter + 2i, counter + 2i + 1
// (normal, Box-Muller), as core/cpu/random.cpp. The double arithmetic is
// rounded step by step (__dadd_rn, __dmul_rn: no fused multiply-add, which
// the CPU build does not use either), so uniform draws equal the CPU's bit
// for bit; normals go through log and cos, whose CUDA versions may differ
// from glibc's in the last bit of the double.

// 2.0 * M_PI as the CPU's constant-folded 2.0 * M_PI * u2 computes it.
constexpr double kTwoPi = 2.0 * 3.14159265358979323846;

template <typename T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t counter, double low,
                               double span) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = T(__dadd_rn(low, __dmul_rn(span, random_unit(seed, counter + uint64_t(i)))));
}

template <typename T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t counter, double mean,
                              double std) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const double u1 = __dsub_rn(1.0, random_unit(seed, counter + 2 * uint64_t(i)));  // (0, 1]
    const double u2 = random_unit(seed, counter + 2 * uint64_t(i) + 1);
    const double z = __dmul_rn(::sqrt(__dmul_rn(-2.0, ::log(u1))), ::cos(__dmul_rn(kTwoPi, u2)));
    out[i] = T(__dadd_rn(mean, __dmul_rn(std, z)));
  }
}

// ------------------------------------------------------------ optimizers
// In place over (param, grad[, buf]) or (param, grad, m, v[, vmax]); the
// arithmetic of core/cpu/optim.cpp in T.

template <typename T>
struct SgdOp {
  T neg_lr, wd, mom, keep;
  bool maximize, decay, nesterov, init, has_buf;
  __device__ void operator()(char* const* ptr) const {
    T& p = *reinterpret_cast<T*>(ptr[0]);
    T g = *reinterpret_cast<const T*>(ptr[1]);
    if (maximize) g = -g;
    if (decay) g = g + wd * p;
    if (has_buf) {
      T& b = *reinterpret_cast<T*>(ptr[2]);
      b = init ? g : b * mom + keep * g;
      g = nesterov ? g + mom * b : b;
    }
    p = p + neg_lr * g;
  }
};

template <typename T>
struct AdamOp {
  T neg_step_size, bias2_sqrt, b1, b2, one_b1, one_b2, eps, wd, shrink;
  bool maximize, decoupled, l2, amsgrad;
  __device__ void operator()(char* const* ptr) const {
    T& p = *reinterpret_cast<T*>(ptr[0]);
    T g = *reinterpret_cast<const T*>(ptr[1]);
    T& m = *reinterpret_cast<T*>(ptr[2]);
    T& v = *reinterpret_cast<T*>(ptr[3]);
    if (maximize) g = -g;
    if (decoupled) p = p * shrink;
    if (l2) g = g + wd * p;
    m = m * b1 + one_b1 * g;
    v = v * b2 + one_b2 * g * g;
    T vhat = v;
    if (amsgrad) {
      T& vmax = *reinterpret_cast<T*>(ptr[4]);
      if (v > vmax || v != v) vmax = v;  // torch.maximum propagates NaN
      vhat = vmax;
    }
    const T denom = hd::sqrt(vhat) / bias2_sqrt + eps;
    p = p + neg_step_size * m / denom;
  }
};

void check_operands(const char* op, const Tensor& param,
                    std::initializer_list<const Tensor*> others) {
  for (const Tensor* t : others) {
    HEED_CHECK(t->shape() == param.shape(), op, ": shape ", shape_str(t->shape()),
               " differs from the parameter's ", shape_str(param.shape()));
    HEED_CHECK(t->dtype() == param.dtype(), op, ": dtype ", t->dtype(),
               " differs from the parameter's ", param.dtype());
    HEED_CHECK(t->device() == param.device(), op, ": tensor on ", t->device(),
               " but the parameter is on ", param.device());
  }
}

}  // namespace

void CudaBackend::copy(const Tensor& dst, const Tensor& src) {
  const Ctx c = context(index_);
  dispatch_all(dst.dtype(), [&]<typename O>() {
    dispatch_all(src.dtype(),
                 [&]<typename I>() { map<O, I>(c, "copy", ew::Cast<O, I>{}, dst, src); });
  });
}

void CudaBackend::fill(const Tensor& dst, double value) {
  const Ctx c = context(index_);
  dispatch_all(dst.dtype(),
               [&]<typename T>() { map<T>(c, "fill", ew::Fill<T>{static_cast<T>(value)}, dst); });
}

void CudaBackend::unary(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) {
  const Ctx c = context(index_);
  switch (in.dtype()) {
    case DType::Float32:
      return unary_floating<float>(c, op, out, in, p);
    case DType::Float64:
      return unary_floating<double>(c, op, out, in, p);
    case DType::Int64:
      return unary_int64(c, op, out, in, p);
    case DType::Bool:
      break;
  }
  HEED_FAIL("unary: not defined for bool tensors");
}

void CudaBackend::binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b,
                         OpParams p) {
  const Ctx c = context(index_);
  switch (a.dtype()) {
    case DType::Float32:
      return binary_floating<float>(c, op, out, a, b, p);
    case DType::Float64:
      return binary_floating<double>(c, op, out, a, b, p);
    case DType::Int64:
      return binary_integral<int64_t>(c, op, out, a, b, p);
    case DType::Bool:
      return binary_integral<bool>(c, op, out, a, b, p);
  }
}

void CudaBackend::where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Ctx c = context(index_);
  dispatch_all(out.dtype(), [&]<typename T>() {
    map<T, bool, T, T>(c, "where", ew::Where<T>{}, out, cond, a, b);
  });
}

void CudaBackend::fill_uniform(const Tensor& out, uint64_t seed, uint64_t counter, double low,
                               double high) {
  HEED_CHECK(out.is_contiguous(), "fill_uniform: needs a contiguous tensor");
  const Ctx c = context(index_);
  const int64_t n = out.numel();
  if (n == 0) return;
  dispatch_floating(out.dtype(), "fill_uniform", [&]<typename T>() {
    uniform_kernel<T><<<grid_for(c, n, kern::kThreads), kern::kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), n, seed, counter, low, high - low);
    check_launch("fill_uniform", c);
  });
}

void CudaBackend::fill_normal(const Tensor& out, uint64_t seed, uint64_t counter, double mean,
                              double std) {
  HEED_CHECK(out.is_contiguous(), "fill_normal: needs a contiguous tensor");
  const Ctx c = context(index_);
  const int64_t n = out.numel();
  if (n == 0) return;
  dispatch_floating(out.dtype(), "fill_normal", [&]<typename T>() {
    normal_kernel<T><<<grid_for(c, n, kern::kThreads), kern::kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), n, seed, counter, mean, std);
    check_launch("fill_normal", c);
  });
}

void CudaBackend::sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                             const SgdUpdate& args) {
  check_operands("sgd_update", param, {&grad});
  if (momentum_buf.defined()) check_operands("sgd_update", param, {&momentum_buf});
  HEED_CHECK(momentum_buf.defined() || args.momentum == 0, "sgd_update: momentum ", args.momentum,
             " needs a momentum buffer");
  const Ctx c = context(index_);
  dispatch_floating(param.dtype(), "sgd_update", [&]<typename T>() {
    SgdOp<T> op{
        T(-args.lr),       T(args.weight_decay),   T(args.momentum), T(1.0 - args.dampening),
        args.maximize,     args.weight_decay != 0, args.nesterov,    args.init_buffer,
        args.momentum != 0};
    if (op.has_buf) {
      kern::apply<3>(c, "sgd_update",
                     make_host_geom<3>(param.shape(), {kern::desc(param), kern::desc(grad),
                                                       kern::desc(momentum_buf)}),
                     op);
    } else {
      kern::apply<2>(c, "sgd_update",
                     make_host_geom<2>(param.shape(), {kern::desc(param), kern::desc(grad)}), op);
    }
  });
}

void CudaBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                              const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                              const AdamUpdate& args) {
  check_operands("adam_update", param, {&grad, &exp_avg, &exp_avg_sq});
  HEED_CHECK(args.step >= 1, "adam_update: step must be >= 1, got ", args.step);
  if (args.amsgrad) {
    HEED_CHECK(max_exp_avg_sq.defined(), "adam_update: amsgrad needs max_exp_avg_sq");
    check_operands("adam_update", param, {&max_exp_avg_sq});
  }
  const Ctx c = context(index_);
  // Scalars as torch.optim computes them in Python (double), then used in T.
  const double bias1 = 1.0 - std::pow(args.beta1, double(args.step));
  const double bias2 = 1.0 - std::pow(args.beta2, double(args.step));
  dispatch_floating(param.dtype(), "adam_update", [&]<typename T>() {
    AdamOp<T> op{T(-(args.lr / bias1)),
                 T(std::sqrt(bias2)),
                 T(args.beta1),
                 T(args.beta2),
                 T(1.0 - args.beta1),
                 T(1.0 - args.beta2),
                 T(args.eps),
                 T(args.weight_decay),
                 T(1.0 - args.lr * args.weight_decay),
                 args.maximize,
                 args.decoupled_weight_decay,
                 !args.decoupled_weight_decay && args.weight_decay != 0,
                 args.amsgrad};
    if (args.amsgrad) {
      kern::apply<5>(c, "adam_update",
                     make_host_geom<5>(param.shape(),
                                       {kern::desc(param), kern::desc(grad), kern::desc(exp_avg),
                                        kern::desc(exp_avg_sq), kern::desc(max_exp_avg_sq)}),
                     op);
    } else {
      kern::apply<4>(
          c, "adam_update",
          make_host_geom<4>(param.shape(), {kern::desc(param), kern::desc(grad),
                                            kern::desc(exp_avg), kern::desc(exp_avg_sq)}),
          op);
    }
  });
}

}  // namespace heed::cuda

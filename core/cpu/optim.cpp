// CPU optimizer updates: one fused pass per parameter, in place, split across
// threads by strided_loop. The arithmetic is done in the tensors' dtype in
// PyTorch's order of operations (see SgdUpdate / AdamUpdate in core/backend.h),
// so float32 results match torch.optim to a few ulps.
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided_loop.h"

namespace heed::cpu {
namespace {

void check_operands(const char* op, const Tensor& param,
                    std::initializer_list<const Tensor*> others) {
  for (const Tensor* t : others) {
    HEED_CHECK(t->shape() == param.shape(), op, ": shape ", shape_str(t->shape()),
               " differs from the parameter's ", shape_str(param.shape()));
    HEED_CHECK(t->dtype() == param.dtype(), op, ": dtype ", t->dtype(),
               " differs from the parameter's ", param.dtype());
  }
}

template <typename T>
void sgd_typed(const Tensor& param, const Tensor& grad, const Tensor& buf, const SgdUpdate& a) {
  const T neg_lr = T(-a.lr), wd = T(a.weight_decay), mom = T(a.momentum);
  const T keep = T(1.0 - a.dampening);
  const bool maximize = a.maximize, decay = a.weight_decay != 0, nesterov = a.nesterov;
  const bool init = a.init_buffer;
  // PyTorch's d_p before momentum.
  auto direction = [=](T p, T g) {
    if (maximize) g = -g;
    if (decay) g = g + wd * p;
    return g;
  };
  if (!buf.defined()) {
    auto one = [=](T& p, T g) { p = p + neg_lr * direction(p, g); };
    strided_loop<2>(param.shape(), {&param, &grad}, [&](int64_t n, auto ptr, auto s) {
      T* P = reinterpret_cast<T*>(ptr[0]);
      const T* G = reinterpret_cast<const T*>(ptr[1]);
      if (s[0] == 1 && s[1] == 1) {
        for (int64_t i = 0; i < n; ++i) one(P[i], G[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) one(P[i * s[0]], G[i * s[1]]);
      }
    });
    return;
  }
  auto one = [=](T& p, T g, T& b) {
    T d = direction(p, g);
    b = init ? d : b * mom + keep * d;
    d = nesterov ? d + mom * b : b;
    p = p + neg_lr * d;
  };
  strided_loop<3>(param.shape(), {&param, &grad, &buf}, [&](int64_t n, auto ptr, auto s) {
    T* P = reinterpret_cast<T*>(ptr[0]);
    const T* G = reinterpret_cast<const T*>(ptr[1]);
    T* B = reinterpret_cast<T*>(ptr[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (int64_t i = 0; i < n; ++i) one(P[i], G[i], B[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) one(P[i * s[0]], G[i * s[1]], B[i * s[2]]);
    }
  });
}

template <typename T, bool kAmsgrad>
void adam_typed(const Tensor& param, const Tensor& grad, const Tensor& m_, const Tensor& v_,
                const Tensor& vmax_, const AdamUpdate& a) {
  // Scalars as torch.optim computes them in Python (double), then used in T.
  const double bias1 = 1.0 - std::pow(a.beta1, double(a.step));
  const double bias2 = 1.0 - std::pow(a.beta2, double(a.step));
  const T neg_step_size = T(-(a.lr / bias1));
  const T bias2_sqrt = T(std::sqrt(bias2));
  const T b1 = T(a.beta1), b2 = T(a.beta2), one_b1 = T(1.0 - a.beta1), one_b2 = T(1.0 - a.beta2);
  const T eps = T(a.eps), wd = T(a.weight_decay), shrink = T(1.0 - a.lr * a.weight_decay);
  const bool maximize = a.maximize, decoupled = a.decoupled_weight_decay;
  const bool l2 = !decoupled && a.weight_decay != 0;
  auto one = [=](T& p, T g, T& m, T& v, T* vmax) {
    if (maximize) g = -g;
    if (decoupled) p = p * shrink;
    if (l2) g = g + wd * p;
    m = m * b1 + one_b1 * g;
    v = v * b2 + one_b2 * g * g;
    T vhat = v;
    if constexpr (kAmsgrad) {
      if (v > *vmax || v != v) *vmax = v;  // torch.maximum propagates NaN
      vhat = *vmax;
    }
    const T denom = std::sqrt(vhat) / bias2_sqrt + eps;
    p = p + neg_step_size * m / denom;
  };
  constexpr size_t N = kAmsgrad ? 5 : 4;
  std::array<const Tensor*, N> ops;
  if constexpr (kAmsgrad) {
    ops = {&param, &grad, &m_, &v_, &vmax_};
  } else {
    ops = {&param, &grad, &m_, &v_};
  }
  strided_loop<N>(param.shape(), ops, [&](int64_t n, auto ptr, auto s) {
    T* P = reinterpret_cast<T*>(ptr[0]);
    const T* G = reinterpret_cast<const T*>(ptr[1]);
    T* M = reinterpret_cast<T*>(ptr[2]);
    T* V = reinterpret_cast<T*>(ptr[3]);
    T* X = kAmsgrad ? reinterpret_cast<T*>(ptr[N - 1]) : nullptr;
    bool contiguous = true;
    for (size_t k = 0; k < N; ++k) contiguous = contiguous && s[k] == 1;
    if (contiguous) {
      for (int64_t i = 0; i < n; ++i) one(P[i], G[i], M[i], V[i], kAmsgrad ? X + i : nullptr);
    } else {
      const int64_t sx = s[N - 1];
      for (int64_t i = 0; i < n; ++i)
        one(P[i * s[0]], G[i * s[1]], M[i * s[2]], V[i * s[3]], kAmsgrad ? X + i * sx : nullptr);
    }
  });
}

}  // namespace

void CpuBackend::sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                            const SgdUpdate& args) {
  check_operands("sgd_update", param, {&grad});
  if (momentum_buf.defined()) check_operands("sgd_update", param, {&momentum_buf});
  HEED_CHECK(momentum_buf.defined() || args.momentum == 0, "sgd_update: momentum ", args.momentum,
             " needs a momentum buffer");
  dispatch_floating(param.dtype(), "sgd_update", [&]<typename T>() {
    sgd_typed<T>(param, grad, args.momentum != 0 ? momentum_buf : Tensor(), args);
  });
}

void CpuBackend::adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                             const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                             const AdamUpdate& args) {
  check_operands("adam_update", param, {&grad, &exp_avg, &exp_avg_sq});
  HEED_CHECK(args.step >= 1, "adam_update: step must be >= 1, got ", args.step);
  if (args.amsgrad) {
    HEED_CHECK(max_exp_avg_sq.defined(), "adam_update: amsgrad needs max_exp_avg_sq");
    check_operands("adam_update", param, {&max_exp_avg_sq});
  }
  dispatch_floating(param.dtype(), "adam_update", [&]<typename T>() {
    if (args.amsgrad) {
      adam_typed<T, true>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, args);
    } else {
      adam_typed<T, false>(param, grad, exp_avg, exp_avg_sq, Tensor(), args);
    }
  });
}

}  // namespace heed::cpu

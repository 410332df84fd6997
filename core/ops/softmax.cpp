// softmax and log_softmax over one dim: a fused, max-shifted kernel forward
// and a fused backward from the saved output (no exp/sum graph to keep):
//   softmax:     dx = y * (g - sum_dim(g * y))
//   log_softmax: dx = g - exp(y) * sum_dim(g)
#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

Tensor softmax_impl(const Tensor& x, int64_t dim_in, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  ops::check_floating(name, x);
  // A 0-d tensor is one row of one element; dim must still be 0 or -1, as
  // in PyTorch (wrap_dim treats 0 dims as 1).
  const int64_t dim = wrap_dim(dim_in, x.dim(), name);
  Tensor xc = ops::contiguous_data(x);
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).softmax(out, xc, dim, log);
  if (any_requires_grad({&x})) {
    Tensor od = out.detach();
    record(name, {x}, out, [od, dim, log](const Tensor& g, const Needs&) {
      Tensor gx = empty(od.shape(), {od.dtype(), od.device()});
      backend_of(od).softmax_backward(gx, ops::contiguous_data(g), od, dim, log);
      return std::vector{gx};
    });
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, false);
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true);
}

}  // namespace heed

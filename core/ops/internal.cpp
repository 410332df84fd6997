#include "core/ops/internal.h"

#include <algorithm>

namespace heed::ops {

Tensor raw_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  return Tensor(
      std::make_shared<TensorImpl>(x.impl()->storage, shape, strides, offset, x.dtype()));
}

Tensor broadcast_view(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  size_t n = shape.size(), m = size_t(x.dim());
  HEED_CHECK(m <= n, "broadcast: cannot broadcast shape ", shape_str(x.shape()), " to ",
             shape_str(shape));
  Shape strides(n, 0);
  for (size_t i = 0; i < m; ++i) {
    int64_t d = x.shape()[m - 1 - i];
    int64_t target = shape[n - 1 - i];
    HEED_CHECK(d == target || d == 1, "broadcast: cannot broadcast shape ", shape_str(x.shape()),
               " to ", shape_str(shape));
    strides[n - 1 - i] = d == 1 ? 0 : x.strides()[m - 1 - i];
  }
  return raw_view(x, shape, strides, x.offset());
}

DType promote(DType a, DType b) {
  if (a == kFloat64 || b == kFloat64) return kFloat64;
  if (a == kFloat32 || b == kFloat32) return kFloat32;
  if (a == kInt64 || b == kInt64) return kInt64;
  return kBool;
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    HEED_CHECK(t->device() == first->device(), op, ": expected all tensors on the same device, "
               "got ", first->device(), " and ", t->device());
  }
}

void check_floating(const char* op, const Tensor& x) {
  HEED_CHECK(x.is_floating_point(), op, ": expected a floating-point tensor, got ", x.dtype(),
             " of shape ", shape_str(x.shape()));
}

Tensor contiguous_data(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).copy(out, x);
  return out;
}

std::vector<int64_t> reduction_dims(const Shape& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  HEED_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op,
             ": dim appears more than once in ", shape_str(dims));
  if (ndim == 0) out.clear();
  return out;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced)
      out.push_back(shape[size_t(d)]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

}  // namespace heed::ops

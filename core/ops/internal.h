// Helpers shared by the op files (not public API).
#pragma once

#include <string>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/backend.h"
#include "core/ops/ops.h"

namespace heed::ops {

// A view with the given geometry sharing x's storage, not recorded by
// autograd (for feeding kernels).
Tensor raw_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset);
// x broadcast to `shape` as a stride-0 view, not recorded.
Tensor broadcast_view(const Tensor& x, const Shape& shape);
// The common dtype of two operands (float64 > float32 > int64 > bool).
DType promote(DType a, DType b);
// Throws unless all defined tensors are on the same device.
void check_same_device(const char* op, std::initializer_list<const Tensor*> ts);
// Throws unless x is floating point.
void check_floating(const char* op, const Tensor& x);
// Returns x if contiguous, else a contiguous copy (not recorded).
Tensor contiguous_data(const Tensor& x);
// Normalises reduction dims: wraps negatives, sorts, rejects duplicates; empty = all.
std::vector<int64_t> reduction_dims(const Shape& dims, int64_t ndim, const char* op);
// The shape after reducing `dims` (kept as 1 when keepdim).
Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim);

}  // namespace heed::ops

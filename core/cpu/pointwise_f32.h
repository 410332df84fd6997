// Vectorised float32 rows for the element-wise ops, compiled for each ISA
// (pointwise_f32_impl.inc) and picked at run time from cpu_isa(). The
// element-wise kernels call these on each contiguous (or broadcast) row that
// strided_loop hands them; ops without a row kernel keep the generic loops.
#pragma once

#include <cstdint>

#include "core/backend.h"

namespace heed::cpu {

// out[i] = op(in[i]) for i < n, all contiguous.
using UnaryRowF32 = void (*)(float* out, const float* in, int64_t n, const OpParams& p);
// out[i] = op(a[i * sa], b[i * sb]) with sa, sb in {0, 1} (0: a broadcast
// scalar), out contiguous.
using BinaryRowF32 = void (*)(float* out, const float* a, int64_t sa, const float* b, int64_t sb,
                              int64_t n, const OpParams& p);

// The row kernel for `op` (with these params) on the current cpu_isa(), or
// nullptr when there is none.
UnaryRowF32 unary_row_f32(UnaryOp op, const OpParams& p);
BinaryRowF32 binary_row_f32(BinaryOp op, const OpParams& p);

}  // namespace heed::cpu

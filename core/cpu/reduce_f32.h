// Vectorised float32 reductions over contiguous memory, compiled per ISA
// (reduce_f32_impl.inc) and picked from cpu_isa(). Sums accumulate in float
// vector lanes over blocks of at most kSumBlock terms and add the block sums
// in double, so long reductions keep double-like accuracy. Max / min return
// NaN when any element is NaN (like PyTorch).
#pragma once

#include <cstdint>

#include "core/backend.h"

namespace heed::cpu {

struct ReduceF32Kernels {
  // out[r] = op(in[r * len + i] for i < len), r < rows. op: Sum, Max or Min.
  void (*rows)(ReduceOp op, const float* in, float* out, int64_t rows, int64_t len);
  // out[b] = op(in[r * stride + b] for r < R), b < n: a reduction over a
  // non-inner dim, done as vector accumulation over contiguous runs.
  void (*columns)(ReduceOp op, const float* in, float* out, int64_t R, int64_t n, int64_t stride);
  // Same shape, max (or min) with the index of its first occurrence; a NaN
  // wins at its first index.
  void (*columns_arg)(bool is_max, const float* in, float* values, int64_t* indices, int64_t R,
                      int64_t n, int64_t stride);
  // As rows / columns with op Sum, of the products a[i] · b[i] (a and b
  // laid out alike): the reductions of a gate's gradient, without the
  // product tensor.
  void (*dot_rows)(const float* a, const float* b, float* out, int64_t rows, int64_t len);
  void (*dot_columns)(const float* a, const float* b, float* out, int64_t R, int64_t n,
                      int64_t stride);
  // The index of the first occurrence of the maximum of x[0, len) (len ≥ 1;
  // +0 and -0 tie), or -1 when x holds a NaN; with `sum` not null, also
  // *sum = Σ x: one pass for global max (and mean) pooling.
  int64_t (*max_index)(const float* x, int64_t len, float* sum);
};

const ReduceF32Kernels& reduce_f32_kernels();

}  // namespace heed::cpu

// How a row-major GemmArgs call becomes a column-major (cuBLAS) call. A
// row-major matrix is the column-major view of its transpose, so row-major
// C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap
// places, m and n swap, and the trans flags and leading dimensions carry over
// unchanged. Free of CUDA headers: tests/cuda/test_cuda_host.cpp checks the
// mapping against the CPU's gemm with a column-major reference.
#pragma once

#include <cstdint>

#include "core/backend.h"

namespace heed::cuda {

// Arguments in cuBLAS's order: C (m × n, column-major) = op(A)·op(B).
struct ColumnMajorGemm {
  bool trans_a, trans_b;
  int64_t m, n, k;
  const void* a;
  int64_t lda, stride_a;
  const void* b;
  int64_t ldb, stride_b;
  void* c;
  int64_t ldc, stride_c;
};

inline ColumnMajorGemm to_column_major(const GemmArgs& g) {
  return {g.trans_b,  g.trans_a, g.n,   g.m,        g.k, g.b,   g.ldb,
          g.stride_b, g.a,       g.lda, g.stride_a, g.c, g.ldc, g.stride_c};
}

}  // namespace heed::cuda

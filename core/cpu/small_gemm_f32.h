// A float32 product for the small matrices of attention heads (tens of rows
// and columns): register tiles of rows × vectors, no packing, compiled per
// ISA (small_gemm_f32_impl.inc) and picked from cpu_isa(). OpenBLAS spends
// more on its per-call set-up and packing than on the arithmetic at these
// sizes (a 65×64·64×65 product ran at ~30 GFLOP/s per core through sgemm).
#pragma once

#include <cstdint>

namespace heed::cpu {

struct SmallGemmF32Kernels {
  // c (m × n, row stride ldc) = alpha · A · B, overwritten, where
  // A(i, p) = a[i · a_row + p · a_col] (any strides: A or Aᵀ of a stored
  // matrix) and B is row-major with row stride ldb (rows of n contiguous
  // floats). k ≥ 1. With b_padded, every row of B can be read (any
  // values) up to n rounded up to whole vectors of 16 floats; otherwise a
  // B whose n is not a multiple of the vector width is copied, padded.
  void (*gemm)(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t a_row,
               int64_t a_col, const float* b, int64_t ldb, bool b_padded, float* c, int64_t ldc);
};

const SmallGemmF32Kernels& small_gemm_f32_kernels();

}  // namespace heed::cpu

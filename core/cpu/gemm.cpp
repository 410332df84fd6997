// GEMMs through OpenBLAS. Batched products loop over the batch here; each
// call is multi-threaded by OpenBLAS itself, so this must never run inside
// one of our parallel_for regions.
#include <cblas.h>

#include <climits>

#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {

namespace {

// C = beta · C, for k == 0 (BLAS implementations differ on whether they
// touch C then; an empty sum must still give beta · C, i.e. zeros when beta == 0).
template <typename T>
void scale_c(const GemmArgs& g) {
  for (int64_t i = 0; i < g.batch; ++i) {
    T* c = static_cast<T*>(g.c) + i * g.stride_c;
    for (int64_t r = 0; r < g.m; ++r)
      for (int64_t j = 0; j < g.n; ++j)
        c[r * g.ldc + j] = g.beta == 0 ? T(0) : T(g.beta) * c[r * g.ldc + j];
  }
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  HEED_CHECK(!in_parallel_region(),
             "gemm: called inside parallel_for (OpenBLAS must not be "
             "called from our own parallel region)");
  HEED_CHECK(g.dtype == kFloat32 || g.dtype == kFloat64, "gemm: expected float32 or float64, got ",
             g.dtype);
  HEED_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0 && g.m <= INT_MAX && g.n <= INT_MAX &&
                 g.k <= INT_MAX && g.lda <= INT_MAX && g.ldb <= INT_MAX && g.ldc <= INT_MAX,
             "gemm: sizes m=", g.m, " n=", g.n, " k=", g.k, " out of the BLAS int range");
  if (g.m == 0 || g.n == 0 || g.batch <= 0) return;
  if (g.k == 0) {
    if (g.dtype == kFloat32)
      scale_c<float>(g);
    else
      scale_c<double>(g);
    return;
  }
  const CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < g.batch; ++i) {
    if (g.dtype == kFloat32) {
      const float* a = static_cast<const float*>(g.a) + i * g.stride_a;
      const float* b = static_cast<const float*>(g.b) + i * g.stride_b;
      float* c = static_cast<float*>(g.c) + i * g.stride_c;
      cblas_sgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), float(g.alpha), a,
                  int(g.lda), b, int(g.ldb), float(g.beta), c, int(g.ldc));
    } else {
      const double* a = static_cast<const double*>(g.a) + i * g.stride_a;
      const double* b = static_cast<const double*>(g.b) + i * g.stride_b;
      double* c = static_cast<double*>(g.c) + i * g.stride_c;
      cblas_dgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), g.alpha, a, int(g.lda), b,
                  int(g.ldb), g.beta, c, int(g.ldc));
    }
  }
}

}  // namespace heed::cpu

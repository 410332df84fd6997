// GEMMs through OpenBLAS. Batched products loop over the batch here; each
// call is multi-threaded by OpenBLAS itself, so this must never run inside
// one of our parallel_for regions.
#include <cblas.h>

#include "core/cpu/cpu_backend.h"
#include "core/parallel.h"

namespace heed::cpu {

void CpuBackend::gemm(const GemmArgs& g) {
  HEED_CHECK(!in_parallel_region(), "gemm: called inside parallel_for (OpenBLAS must not be "
             "called from our own parallel region)");
  if (g.m == 0 || g.n == 0) return;
  const CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  for (int64_t i = 0; i < g.batch; ++i) {
    if (g.dtype == kFloat32) {
      const float* a = static_cast<const float*>(g.a) + i * g.stride_a;
      const float* b = static_cast<const float*>(g.b) + i * g.stride_b;
      float* c = static_cast<float*>(g.c) + i * g.stride_c;
      cblas_sgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), float(g.alpha), a,
                  int(g.lda), b, int(g.ldb), float(g.beta), c, int(g.ldc));
    } else if (g.dtype == kFloat64) {
      const double* a = static_cast<const double*>(g.a) + i * g.stride_a;
      const double* b = static_cast<const double*>(g.b) + i * g.stride_b;
      double* c = static_cast<double*>(g.c) + i * g.stride_c;
      cblas_dgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), g.alpha, a, int(g.lda), b,
                  int(g.ldb), g.beta, c, int(g.ldc));
    } else {
      HEED_FAIL("gemm: expected float32 or float64, got ", g.dtype);
    }
  }
}

}  // namespace heed::cpu

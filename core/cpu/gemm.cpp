// GEMMs through OpenBLAS, never called inside one of our parallel_for
// regions. A single product (or a batch of large ones) is multi-threaded by
// OpenBLAS itself. A batch of small products (attention heads: 65×64 · 64×65)
// gains nothing from OpenBLAS's threads, which split each product with more
// synchronisation than work; there the batch is split over our pool instead,
// with OpenBLAS set to one thread so each product runs in the calling thread.
#include <cblas.h>

#include <climits>
#include <type_traits>

#include "core/cpu/blas_threads.h"
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

// Products below this many multiply-adds are batched over our pool.
constexpr double kSmallProductMacs = double(1 << 22);

template <typename T>
void gemm_one(const GemmArgs& g, int64_t i) {
  const CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const T* a = static_cast<const T*>(g.a) + i * g.stride_a;
  const T* b = static_cast<const T*>(g.b) + i * g.stride_b;
  T* c = static_cast<T*>(g.c) + i * g.stride_c;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), float(g.alpha), a, int(g.lda),
                b, int(g.ldb), float(g.beta), c, int(g.ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), g.alpha, a, int(g.lda), b,
                int(g.ldb), g.beta, c, int(g.ldc));
}

template <typename T>
void gemm_batch(const GemmArgs& g) {
  const int threads = get_num_threads();
  const double macs = double(g.m) * double(g.n) * double(g.k);
  if (g.batch == 1 || threads == 1 || macs >= kSmallProductMacs) {
    CoresLentScope openblas_threads;  // our idle workers sleep meanwhile
    for (int64_t i = 0; i < g.batch; ++i) gemm_one<T>(g, i);
    return;
  }
  OneBlasThreadScope one_blas_thread;
  parallel_for(0, g.batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) gemm_one<T>(g, i);
  });
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
  if (g.dtype == kFloat32)
    gemm_batch<float>(g);
  else
    gemm_batch<double>(g);
}

}  // namespace heed::cpu

// GEMMs through OpenBLAS held to one thread (set once in parallel.cpp), split
// over our own pool (so never asked for inside a parallel_for, where the
// split would run inline on one thread):
// - a batch of small products (attention heads: 65×64 · 64×65) is split over
//   the pool by product (a single small one runs in the calling thread);
// - a large product (a linear layer over every token of a batch) is split
//   into blocks of C's rows, or of its columns when C is wide, one
//   single-threaded OpenBLAS call per block.
// OpenBLAS's own threads, woken per call, spin and sched_yield for a long
// while after each product, taking the cores from our pool's kernels in
// between (a ViT's inference: 8 % of its samples in the kernel's scheduler);
// on the pool, ViT-tiny ran 1.09× faster in inference, 1.10× in training.
#include <cblas.h>

#include <climits>
#include <type_traits>

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

// Products from this many multiply-adds on are split into blocks; smaller
// ones run whole, a batch of them split over the pool by product.
constexpr double kSmallProductMacs = double(1 << 22);

// C (m × n) of product i, or the block of it from row r0 / column c0.
struct Block {
  int64_t r0 = 0, c0 = 0, m = 0, n = 0;
};

template <typename T>
void gemm_block(const GemmArgs& g, int64_t i, const Block& blk) {
  const CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  // Row r of op(A) is row r of A, or column r of Aᵀ; likewise columns of op(B).
  const T* a = static_cast<const T*>(g.a) + i * g.stride_a + (g.trans_a ? blk.r0 : blk.r0 * g.lda);
  const T* b = static_cast<const T*>(g.b) + i * g.stride_b + (g.trans_b ? blk.c0 * g.ldb : blk.c0);
  T* c = static_cast<T*>(g.c) + i * g.stride_c + blk.r0 * g.ldc + blk.c0;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, int(blk.m), int(blk.n), int(g.k), float(g.alpha), a,
                int(g.lda), b, int(g.ldb), float(g.beta), c, int(g.ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(blk.m), int(blk.n), int(g.k), g.alpha, a, int(g.lda), b,
                int(g.ldb), g.beta, c, int(g.ldc));
}

// The split's grain: a product is cut into at most extent / 64 blocks of
// rows (or columns), so that OpenBLAS's packing still pays off per block.
constexpr int64_t kBlockGrain = 64;

template <typename T>
void gemm_batch(const GemmArgs& g) {
  const double macs = double(g.m) * double(g.n) * double(g.k);
  const Block whole{0, 0, g.m, g.n};
  if (macs >= kSmallProductMacs) {
    const bool by_rows = g.m >= g.n;
    const int64_t extent = by_rows ? g.m : g.n;
    for (int64_t i = 0; i < g.batch; ++i)
      parallel_for(0, extent, kBlockGrain, [&](int64_t lo, int64_t hi) {
        gemm_block<T>(g, i, by_rows ? Block{lo, 0, hi - lo, g.n} : Block{0, lo, g.m, hi - lo});
      });
    return;
  }
  if (g.batch == 1 || get_num_threads() == 1) {  // small: not worth waking the pool
    for (int64_t i = 0; i < g.batch; ++i) gemm_block<T>(g, i, whole);
    return;
  }
  parallel_for(0, g.batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) gemm_block<T>(g, i, whole);
  });
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  HEED_CHECK(!in_parallel_region(),
             "gemm: called inside parallel_for (it splits the product over the pool itself)");
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

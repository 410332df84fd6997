// GEMMs through cuBLAS. heed's GemmArgs are row-major; cuBLAS is
// column-major: gemm_map.h swaps the operands (row-major C = op(A)·op(B) is
// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ). Batches use the strided
// batched call (a batch stride of 0 broadcasts an operand, which cuBLAS
// allows for A and B). Default math mode: full float32, no TF32, so results
// stay comparable with the CPU.
#include <climits>
#include <memory>

#include "core/cuda/cublas_api.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/gemm_map.h"
#include "core/cuda/runtime.h"

namespace heed::cuda {
namespace {

// A non-owning tensor over (batch, m, n) matrices of C, for the k == 0 case.
Tensor wrap_c(const GemmArgs& g, int device) {
  const int64_t batch = g.stride_c == 0 ? 1 : g.batch;  // a shared C is one matrix
  const Shape shape{batch, g.m, g.n}, strides{g.stride_c, g.ldc, 1};
  int64_t extent = 1;
  for (size_t i = 0; i < 3; ++i) extent += (shape[i] - 1) * strides[i];
  const size_t nbytes = size_t(extent) * element_size(g.dtype);
  auto storage = std::make_shared<Storage>(g.c, nbytes, Device::cuda(device), nullptr);
  return Tensor(std::make_shared<TensorImpl>(storage, shape, strides, 0, g.dtype));
}

template <typename T>
void call(cublasHandle_t h, const GemmArgs& g, int64_t batch) {
  const ColumnMajorGemm cm = to_column_major(g);
  const T alpha = T(g.alpha), beta = T(g.beta);
  const cublasOperation_t ta = cm.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = cm.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const T* A = static_cast<const T*>(cm.a);
  const T* B = static_cast<const T*>(cm.b);
  T* C = static_cast<T*>(cm.c);
  const int m = int(cm.m), n = int(cm.n), k = int(cm.k);
  const int lda = int(cm.lda), ldb = int(cm.ldb), ldc = int(cm.ldc);
  if constexpr (std::is_same_v<T, float>) {
    if (batch == 1)
      HEED_CUBLAS_CHECK(cublas().sgemm(h, ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc));
    else
      HEED_CUBLAS_CHECK(cublas().sgemm_strided_batched(h, ta, tb, m, n, k, &alpha, A, lda,
                                                       cm.stride_a, B, ldb, cm.stride_b, &beta, C,
                                                       ldc, cm.stride_c, int(batch)));
  } else {
    if (batch == 1)
      HEED_CUBLAS_CHECK(cublas().dgemm(h, ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc));
    else
      HEED_CUBLAS_CHECK(cublas().dgemm_strided_batched(h, ta, tb, m, n, k, &alpha, A, lda,
                                                       cm.stride_a, B, ldb, cm.stride_b, &beta, C,
                                                       ldc, cm.stride_c, int(batch)));
  }
}

}  // namespace

void CudaBackend::gemm(const GemmArgs& g) {
  HEED_CHECK(g.dtype == kFloat32 || g.dtype == kFloat64, "gemm: expected float32 or float64, got ",
             g.dtype);
  HEED_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0 && g.m <= INT_MAX && g.n <= INT_MAX &&
                 g.k <= INT_MAX && g.lda <= INT_MAX && g.ldb <= INT_MAX && g.ldc <= INT_MAX &&
                 g.batch <= INT_MAX,
             "gemm: sizes m=", g.m, " n=", g.n, " k=", g.k, " batch=", g.batch,
             " out of the cuBLAS int range");
  if (g.m == 0 || g.n == 0 || g.batch <= 0) return;
  if (g.k == 0) {
    // An empty sum: C = beta · C (zeros when beta == 0, whatever C held).
    Tensor c = wrap_c(g, index_);
    if (g.beta == 0)
      fill(c, 0.0);
    else
      unary(UnaryOp::MulScalar, c, c, {g.beta, 0});
    return;
  }
  cublasHandle_t h = cublas_handle(index_);
  const size_t es = element_size(g.dtype);
  // A shared C (stride 0) makes the batch sequential, as on the CPU.
  const bool sequential = g.batch > 1 && g.stride_c == 0;
  const int64_t calls = sequential ? g.batch : 1, per_call = sequential ? 1 : g.batch;
  for (int64_t i = 0; i < calls; ++i) {
    GemmArgs one = g;
    one.a = static_cast<const char*>(g.a) + size_t(i * g.stride_a) * es;
    one.b = static_cast<const char*>(g.b) + size_t(i * g.stride_b) * es;
    if (g.dtype == kFloat32)
      call<float>(h, one, per_call);
    else
      call<double>(h, one, per_call);
  }
}

}  // namespace heed::cuda

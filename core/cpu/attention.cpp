// Attention for short sequences, softmax(scale · q kᵀ) · v, one task per
// (batch, head): the scores, their softmax and the product with v stay in
// the core's cache between steps, where the composed ops (matmul, scale,
// softmax, matmul, and the copies between head layouts) each made a pass
// over all heads. Our pool splits the heads; float32 products run the
// small-matrix kernel, float64 ones OpenBLAS (held to one thread, see
// gemm.cpp).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/small_gemm_f32.h"
#include "core/cpu/softmax_f32.h"
#include "core/parallel.h"

namespace heed::cpu {

namespace {

// One head's matrix of a (B, h, n, d) tensor: its first element and row stride.
template <typename T>
struct HeadMatrix {
  T* data;
  int64_t ld;
};

template <typename T>
HeadMatrix<T> head(const Tensor& t, int64_t b, int64_t h) {
  T* base = static_cast<T*>(t.raw_data()) + b * t.stride(0) + h * t.stride(1);
  return {base, t.size(2) == 1 ? std::max<int64_t>(t.size(3), 1) : t.stride(2)};
}

// c (m × n) = alpha · A · B, overwritten, where A(i, p) = a[i · a_row + p · a_col]
// (a stored matrix or its transpose) and B is row-major; b_padded as in
// small_gemm_f32.h. float32 runs our small-matrix kernel; float64
// (gradcheck) goes to OpenBLAS.
template <typename T>
void product(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t a_row, int64_t a_col,
             HeadMatrix<const T> b, HeadMatrix<T> c, bool b_padded = false) {
  if constexpr (std::is_same_v<T, float>) {
    small_gemm_f32_kernels().gemm(m, n, k, alpha, a, a_row, a_col, b.data, b.ld, b_padded, c.data,
                                  c.ld);
  } else {
    const bool trans = a_col != 1;
    cblas_dgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans, int(m), int(n),
                int(k), alpha, a, int(trans ? a_col : a_row), b.data, int(b.ld), 0.0, c.data,
                int(c.ld));
  }
}

// The transpose of a rows × cols head matrix, into a thread's buffer
// (row-major, cols × rows): the B of a product with it. Its rows start on
// cache lines (ld a multiple of 16 floats), so no vector load of B splits,
// and every row is readable to ld: small_gemm's b_padded.
template <typename T>
HeadMatrix<const T> transposed(HeadMatrix<const T> x, int64_t rows, int64_t cols,
                               std::vector<T>& buffer) {
  const int64_t ld = (rows + 15) / 16 * 16;
  buffer.resize(size_t(cols * ld + 16));
  T* t = buffer.data();
  while (reinterpret_cast<uintptr_t>(t) % 64 != 0) ++t;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * ld + r] = x.data[r * x.ld + c];
  return {t, ld};
}

template <typename T>
HeadMatrix<const T> in(HeadMatrix<T> m) {
  return {m.data, m.ld};
}

// Softmax of each of `rows` rows of length D, in place.
template <typename T>
void softmax_rows(T* p, int64_t rows, int64_t D) {
  if constexpr (std::is_same_v<T, float>) {
    softmax_f32_kernels().forward(p, p, rows, D, false);
  } else {
    for (int64_t r = 0; r < rows; ++r, p += D) {
      const T mx = *std::max_element(p, p + D);
      T sum = 0;
      for (int64_t j = 0; j < D; ++j) sum += (p[j] = std::exp(p[j] - mx));
      for (int64_t j = 0; j < D; ++j) p[j] /= sum;
    }
  }
}

// g = y · (g - Σ g y) over each row, in place: the gradient of the scores.
template <typename T>
void softmax_backward_rows(T* g, const T* y, int64_t rows, int64_t D) {
  if constexpr (std::is_same_v<T, float>) {
    softmax_f32_kernels().backward(g, g, y, rows, D, false);
  } else {
    for (int64_t r = 0; r < rows; ++r, g += D, y += D) {
      T dot = 0;
      for (int64_t j = 0; j < D; ++j) dot += g[j] * y[j];
      for (int64_t j = 0; j < D; ++j) g[j] = y[j] * (g[j] - dot);
    }
  }
}

// Calls f(b, h) for every (batch, head), split over the pool.
template <typename T, typename F>
void for_each_head(int64_t B, int64_t H, F f) {
  parallel_for(0, B * H, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) f(i / H, i % H);
  });
}

template <typename T>
void attention_forward(const Tensor& out, const Tensor& probs, const Tensor& q, const Tensor& k,
                       const Tensor& v, double scale) {
  const int64_t B = q.size(0), H = q.size(1), nq = q.size(2), d = q.size(3);
  const int64_t nk = k.size(2), dv = v.size(3);
  for_each_head<T>(B, H, [&](int64_t b, int64_t h) {
    thread_local std::vector<T> k_t;
    HeadMatrix<T> p = head<T>(probs, b, h);
    HeadMatrix<const T> qh = in(head<T>(q, b, h));
    product<T>(nq, nk, d, T(scale), qh.data, qh.ld, 1, transposed(in(head<T>(k, b, h)), nk, d, k_t),
               p, true);
    softmax_rows(p.data, nq, nk);
    product<T>(nq, dv, nk, T(1), p.data, p.ld, 1, in(head<T>(v, b, h)), head<T>(out, b, h));
  });
}

template <typename T>
void attention_backward_impl(const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                             const Tensor& grad_out, const Tensor& probs, const Tensor& q,
                             const Tensor& k, const Tensor& v, double scale) {
  const int64_t B = q.size(0), H = q.size(1), nq = q.size(2), d = q.size(3);
  const int64_t nk = k.size(2), dv = v.size(3);
  const bool scores_needed = grad_q.defined() || grad_k.defined();
  for_each_head<T>(B, H, [&](int64_t b, int64_t h) {
    HeadMatrix<const T> p = in(head<T>(probs, b, h)), go = in(head<T>(grad_out, b, h));
    // grad_v = pᵀ · grad_out
    if (grad_v.defined()) product<T>(nk, dv, nq, T(1), p.data, 1, p.ld, go, head<T>(grad_v, b, h));
    if (!scores_needed) return;
    // The gradient of the probabilities, grad_out · vᵀ, then of the scores,
    // in one buffer.
    thread_local std::vector<T> v_t, scores;
    scores.resize(size_t(nq * nk));
    HeadMatrix<T> gs{scores.data(), nk};
    product<T>(nq, nk, dv, T(1), go.data, go.ld, 1, transposed(in(head<T>(v, b, h)), nk, dv, v_t),
               gs, true);
    softmax_backward_rows(gs.data, p.data, nq, nk);
    if (grad_q.defined())  // scale · gs · k
      product<T>(nq, d, nk, T(scale), gs.data, gs.ld, 1, in(head<T>(k, b, h)),
                 head<T>(grad_q, b, h));
    if (grad_k.defined())  // scale · gsᵀ · q
      product<T>(nk, d, nq, T(scale), gs.data, 1, gs.ld, in(head<T>(q, b, h)),
                 head<T>(grad_k, b, h));
  });
}

}  // namespace

void CpuBackend::attention(const Tensor& out, const Tensor& probs, const Tensor& q, const Tensor& k,
                           const Tensor& v, double scale) {
  if (q.dtype() == kFloat32)
    attention_forward<float>(out, probs, q, k, v, scale);
  else if (q.dtype() == kFloat64)
    attention_forward<double>(out, probs, q, k, v, scale);
  else
    Backend::attention(out, probs, q, k, v, scale);
}

void CpuBackend::attention_backward(const Tensor& grad_q, const Tensor& grad_k,
                                    const Tensor& grad_v, const Tensor& grad_out,
                                    const Tensor& probs, const Tensor& q, const Tensor& k,
                                    const Tensor& v, double scale) {
  if (q.dtype() == kFloat32)
    attention_backward_impl<float>(grad_q, grad_k, grad_v, grad_out, probs, q, k, v, scale);
  else if (q.dtype() == kFloat64)
    attention_backward_impl<double>(grad_q, grad_k, grad_v, grad_out, probs, q, k, v, scale);
  else
    Backend::attention_backward(grad_q, grad_k, grad_v, grad_out, probs, q, k, v, scale);
}

}  // namespace heed::cpu

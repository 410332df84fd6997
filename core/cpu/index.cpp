// CPU indexing kernels: index_select / index_add along one dim, gather /
// scatter_add with PyTorch semantics. Index tensors are int64 and contiguous,
// and their values are in range: the ops in core/ops/index.cpp check them
// (with the op's own message) before any kernel runs.
//
// The accumulating kernels (index_add, scatter_add) never split the index
// list across threads: repeated indices would race on one destination. They
// split the positions that are not indexed instead (index_add: the (outer,
// inner) columns; scatter_add: the lines along `dim`), so every destination
// element is written by exactly one thread.
#include <algorithm>
#include <array>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/ops/internal.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

constexpr int64_t kGrain = 32768;

// x seen as (outer, shape[dim], inner).
void outer_inner(const Shape& shape, int64_t dim, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[size_t(d)];
  for (size_t d = size_t(dim) + 1; d < shape.size(); ++d) inner *= shape[d];
}

// Calls line(offs) for every position of `shape` with coordinate 0 along
// `dim`, where offs[k] is that position's element offset in operand k (given
// by its strides). Lines are split across threads; the caller walks `dim`.
template <size_t N, typename Line>
void for_each_line(const Shape& shape, int64_t dim, const std::array<const Shape*, N>& strides,
                   Line line) {
  const int64_t len = shape[size_t(dim)];
  if (numel_of(shape) == 0) return;
  Shape sizes;
  std::array<Shape, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (int64_t(d) == dim || shape[d] == 1) continue;
    sizes.push_back(shape[d]);
    for (size_t k = 0; k < N; ++k) st[k].push_back((*strides[k])[d]);
  }
  const int64_t nd = int64_t(sizes.size());
  const int64_t lines = numel_of(sizes);
  parallel_for(0, lines, std::max<int64_t>(1, kGrain / std::max<int64_t>(len, 1)),
               [&](int64_t lo, int64_t hi) {
                 Shape idx(size_t(nd), 0);
                 int64_t r = lo;
                 for (int64_t d = nd - 1; d >= 0; --d) {
                   idx[size_t(d)] = r % sizes[size_t(d)];
                   r /= sizes[size_t(d)];
                 }
                 std::array<int64_t, N> offs;
                 for (int64_t l = lo; l < hi; ++l) {
                   for (size_t k = 0; k < N; ++k) {
                     int64_t off = 0;
                     for (int64_t d = 0; d < nd; ++d) off += idx[size_t(d)] * st[k][size_t(d)];
                     offs[k] = off;
                   }
                   line(offs);
                   for (int64_t d = nd - 1; d >= 0; --d) {
                     if (++idx[size_t(d)] < sizes[size_t(d)]) break;
                     idx[size_t(d)] = 0;
                   }
                 }
               });
}

template <typename Fn>
void dispatch_addable(DType t, const char* op, Fn&& fn) {
  HEED_CHECK(t != kBool, op, ": not defined for bool tensors");
  dispatch_all(t, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, bool>) fn.template operator()<T>();
  });
}

}  // namespace

void CpuBackend::index_select(const Tensor& out, const Tensor& in, int64_t dim,
                              const Tensor& index) {
  Tensor x = ops::contiguous_data(in);
  int64_t outer, inner;
  outer_inner(x.shape(), dim, outer, inner);
  const int64_t D = x.shape()[size_t(dim)], N = index.numel();
  const int64_t* idx = index.data_ptr<int64_t>();
  dispatch_all(x.dtype(), [&]<typename T>() {
    const T* src = x.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    // One task = one picked slice of `inner` elements: out[o, i, :] = x[o, idx[i], :].
    parallel_for(0, outer * N, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const int64_t o = r / N, i = r % N;
                     std::copy_n(src + (o * D + idx[i]) * inner, inner, dst + r * inner);
                   }
                 });
  });
}

void CpuBackend::index_add(const Tensor& out, int64_t dim, const Tensor& index,
                           const Tensor& src_in) {
  HEED_CHECK(out.is_contiguous(), "index_add: the cpu kernel expects a contiguous output");
  Tensor src = ops::contiguous_data(src_in);
  int64_t outer, inner;
  outer_inner(out.shape(), dim, outer, inner);
  const int64_t D = out.shape()[size_t(dim)], N = index.numel();
  if (N == 0 || out.numel() == 0) return;
  const int64_t* idx = index.data_ptr<int64_t>();
  dispatch_addable(out.dtype(), "index_add", [&]<typename T>() {
    const T* s = src.data_ptr<T>();
    T* o = out.data_ptr<T>();
    // Tasks own (outer, inner) columns and walk the whole index list, so a
    // repeated index only ever accumulates within one thread.
    parallel_for(0, outer * inner, std::max<int64_t>(1, kGrain / N), [&](int64_t lo, int64_t hi) {
      int64_t i = lo;
      while (i < hi) {
        const int64_t oo = i / inner, b0 = i % inner;
        const int64_t b1 = std::min(inner, b0 + (hi - i));
        for (int64_t n = 0; n < N; ++n) {
          T* dst = o + (oo * D + idx[n]) * inner;
          const T* sr = s + (oo * N + n) * inner;
          for (int64_t b = b0; b < b1; ++b) dst[b] += sr[b];
        }
        i += b1 - b0;
      }
    });
  });
}

void CpuBackend::gather(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) {
  HEED_CHECK(out.is_contiguous(), "gather: the cpu kernel expects a contiguous output");
  const Shape& ishape = index.shape();
  const int64_t len = ishape[size_t(dim)];
  const int64_t so = out.strides()[size_t(dim)], si = index.strides()[size_t(dim)];
  const int64_t sx = in.strides()[size_t(dim)];
  const int64_t* idx = index.data_ptr<int64_t>();
  dispatch_all(in.dtype(), [&]<typename T>() {
    const T* x = static_cast<const T*>(in.raw_data());
    T* o = out.data_ptr<T>();
    // out[.., j, ..] = in[.., idx[.., j, ..], ..]; `in` may be strided.
    for_each_line<3>(ishape, dim, {&out.strides(), &index.strides(), &in.strides()},
                     [&](const std::array<int64_t, 3>& off) {
                       for (int64_t j = 0; j < len; ++j)
                         o[off[0] + j * so] = x[off[2] + idx[off[1] + j * si] * sx];
                     });
  });
}

void CpuBackend::scatter_add(const Tensor& out, int64_t dim, const Tensor& index,
                             const Tensor& src) {
  const Shape& ishape = index.shape();
  const int64_t len = ishape[size_t(dim)];
  const int64_t so = out.strides()[size_t(dim)], si = index.strides()[size_t(dim)];
  const int64_t ss = src.strides()[size_t(dim)];
  const int64_t* idx = index.data_ptr<int64_t>();
  dispatch_addable(out.dtype(), "scatter_add", [&]<typename T>() {
    const T* s = static_cast<const T*>(src.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    // out[.., idx[.., j, ..], ..] += src[.., j, ..]. One thread walks a whole
    // line along `dim`; lines differ in the other coordinates, so two threads
    // never touch the same destination even with repeated indices.
    for_each_line<3>(ishape, dim, {&out.strides(), &index.strides(), &src.strides()},
                     [&](const std::array<int64_t, 3>& off) {
                       for (int64_t j = 0; j < len; ++j)
                         o[off[0] + idx[off[1] + j * si] * so] += s[off[2] + j * ss];
                     });
  });
}

}  // namespace heed::cpu

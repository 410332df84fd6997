// Iterates N same-shaped strided operands (operand 0 is usually the output):
// dims are coalesced where every operand is contiguous across them, then the
// rows of the innermost dim are split across parallel_for and handed to
// `inner(n, ptrs, inner_strides)` — one call per row, never per element.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"

namespace heed::cpu {

template <size_t N>
struct StridedOperands {
  std::array<char*, N> base;     // address of element 0
  std::array<int64_t, N> esize;  // element sizes in bytes
  std::array<Shape, N> strides;  // in elements
};

// Elements per parallel chunk for memory-bound loops.
inline constexpr int64_t kElementwiseGrain = 32768;

template <size_t N, typename Inner>
void strided_loop(const Shape& shape, const std::array<const Tensor*, N>& operands, Inner&& inner,
                  int64_t grain = kElementwiseGrain) {
  int64_t numel = numel_of(shape);
  if (numel == 0) return;
  // Coalesce dims: drop size-1 dims, merge i into i+1 when every operand has
  // stride[i] == stride[i+1] * shape[i+1].
  std::vector<int64_t> dims;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    dims.push_back(shape[d]);
    for (size_t k = 0; k < N; ++k) st[k].push_back(operands[k]->strides()[d]);
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (size_t k = 0; k < N; ++k) st[k].push_back(1);
  }
  for (size_t d = dims.size() - 1; d-- > 0;) {
    bool mergeable = true;
    for (size_t k = 0; k < N; ++k)
      if (st[k][d] != st[k][d + 1] * dims[d + 1]) mergeable = false;
    if (!mergeable) continue;
    dims[d] *= dims[d + 1];
    for (size_t k = 0; k < N; ++k) st[k][d] = st[k][d + 1];
    dims.erase(dims.begin() + int64_t(d) + 1);
    for (size_t k = 0; k < N; ++k) st[k].erase(st[k].begin() + int64_t(d) + 1);
  }
  const int64_t nd = int64_t(dims.size());
  const int64_t inner_n = dims[size_t(nd - 1)];
  const int64_t rows = numel / inner_n;
  std::array<char*, N> base;
  std::array<int64_t, N> es;
  std::array<int64_t, N> inner_stride;
  for (size_t k = 0; k < N; ++k) {
    base[k] = static_cast<char*>(operands[k]->raw_data());
    es[k] = int64_t(operands[k]->element_size());
    inner_stride[k] = st[k][size_t(nd - 1)];
  }
  if (nd == 1 && inner_n > grain) {
    // Every operand coalesced into one run (contiguous tensors): split it
    // into blocks of `grain` elements, or one thread would do it all.
    const int64_t blocks = (inner_n + grain - 1) / grain;
    parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        const int64_t start = b * grain;
        std::array<char*, N> ptr;
        for (size_t k = 0; k < N; ++k) ptr[k] = base[k] + start * inner_stride[k] * es[k];
        inner(std::min(grain, inner_n - start), ptr, inner_stride);
      }
    });
    return;
  }
  int64_t row_grain = std::max<int64_t>(1, grain / std::max<int64_t>(inner_n, 1));
  parallel_for(0, rows, row_grain, [&](int64_t lo, int64_t hi) {
    // Multi-index of row `lo` over dims [0, nd-1), and each operand's element
    // offset; both are then stepped row by row (an odometer), so a row costs
    // O(1) index work however many dims there are.
    std::vector<int64_t> idx(size_t(std::max<int64_t>(nd - 1, 0)), 0);
    int64_t r = lo;
    for (int64_t d = nd - 2; d >= 0; --d) {
      idx[size_t(d)] = r % dims[size_t(d)];
      r /= dims[size_t(d)];
    }
    std::array<int64_t, N> off{};
    for (size_t k = 0; k < N; ++k)
      for (int64_t d = 0; d < nd - 1; ++d) off[k] += idx[size_t(d)] * st[k][size_t(d)];
    std::array<char*, N> ptr;
    for (int64_t row = lo; row < hi; ++row) {
      for (size_t k = 0; k < N; ++k) ptr[k] = base[k] + off[k] * es[k];
      inner(inner_n, ptr, inner_stride);
      for (int64_t d = nd - 2; d >= 0; --d) {
        const size_t du = size_t(d);
        if (++idx[du] < dims[du]) {
          for (size_t k = 0; k < N; ++k) off[k] += st[k][du];
          break;
        }
        idx[du] = 0;
        for (size_t k = 0; k < N; ++k) off[k] -= (dims[du] - 1) * st[k][du];
      }
    }
  });
}

}  // namespace heed::cpu

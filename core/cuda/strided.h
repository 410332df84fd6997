// Geometry of N same-shaped strided operands for the CUDA element-wise
// kernels (the GPU twin of core/cpu/strided_loop.h). On the host, dims are
// coalesced exactly as strided_loop does (size-1 dims dropped, neighbours
// merged where every operand is contiguous across them); a launch then
// covers at most 2^31 - 1 elements, so the kernels index with 32-bit
// integers (cheap division) while byte offsets stay 64-bit. Larger tensors
// are split on the host along their outer dims.
//
// Host+device (HEED_HD) and free of CUDA headers: tests/cuda/test_cuda_host.cpp
// checks offsets and splits on a machine without a GPU.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/check.h"
#include "core/cuda/hd_math.h"

namespace heed::cuda {

inline constexpr int kMaxDims = 10;
inline constexpr int64_t kMaxIndex32 = (int64_t(1) << 31) - 1;

// One launch's geometry: dims innermost first, byte strides per operand.
template <int N>
struct StridedGeom {
  int ndim = 0;
  uint32_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims][N] = {};
  char* base[N] = {};

  // Byte offsets of element i (in [0, numel)) in each operand.
  HEED_HD void offsets(uint32_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      uint32_t r = i;
      if (d + 1 < ndim) {  // the outermost dim needs no division: i < its size
        const uint32_t q = i / sizes[d];
        r = i - q * sizes[d];
        i = q;
      }
      for (int k = 0; k < N; ++k) off[k] += int64_t(r) * strides[d][k];
    }
  }
};

// One operand as the host sees it: base address, element size, element strides.
struct OperandDesc {
  char* base = nullptr;
  int64_t esize = 1;
  std::vector<int64_t> strides;
};

// Coalesced dims, outermost first, in elements (before the 32-bit split).
template <int N>
struct HostGeom {
  std::vector<int64_t> sizes;
  std::array<std::vector<int64_t>, N> strides;  // in elements
  std::array<char*, N> base{};
  std::array<int64_t, N> esize{};
  int64_t numel = 0;

  // True when every operand is dense and in order (one dim, unit strides).
  bool contiguous() const {
    if (sizes.size() != 1) return false;
    for (int k = 0; k < N; ++k)
      if (strides[k][0] != 1) return false;
    return true;
  }
};

template <int N>
HostGeom<N> make_host_geom(const std::vector<int64_t>& shape,
                           const std::array<OperandDesc, N>& ops) {
  HostGeom<N> g;
  g.numel = 1;
  for (int64_t s : shape) g.numel *= s;
  for (int k = 0; k < N; ++k) {
    g.base[size_t(k)] = ops[size_t(k)].base;
    g.esize[size_t(k)] = ops[size_t(k)].esize;
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    g.sizes.push_back(shape[d]);
    for (int k = 0; k < N; ++k) g.strides[size_t(k)].push_back(ops[size_t(k)].strides[d]);
  }
  if (g.sizes.empty()) {
    g.sizes.push_back(1);
    for (int k = 0; k < N; ++k) g.strides[size_t(k)].push_back(1);
  }
  // Merge dim d into d + 1 when every operand has stride[d] == stride[d+1] * size[d+1].
  for (size_t d = g.sizes.size() - 1; d-- > 0;) {
    bool mergeable = true;
    for (int k = 0; k < N; ++k)
      if (g.strides[size_t(k)][d] != g.strides[size_t(k)][d + 1] * g.sizes[d + 1])
        mergeable = false;
    if (!mergeable) continue;
    g.sizes[d] *= g.sizes[d + 1];
    g.sizes.erase(g.sizes.begin() + int64_t(d) + 1);
    for (int k = 0; k < N; ++k) {
      g.strides[size_t(k)][d] = g.strides[size_t(k)][d + 1];
      g.strides[size_t(k)].erase(g.strides[size_t(k)].begin() + int64_t(d) + 1);
    }
  }
  return g;
}

// Calls launch(StridedGeom<N>, count) for pieces of at most kMaxIndex32
// elements that together cover the geometry (the outermost dim is cut into
// runs, or, when a single outer slice is itself too big, walked one index at
// a time with the next dim cut in turn).
template <int N, typename Launch>
void for_each_32bit_piece(const HostGeom<N>& g, Launch&& launch, int64_t limit = kMaxIndex32) {
  if (g.numel == 0) return;
  if (g.numel <= limit) {
    const int nd = int(g.sizes.size());
    HEED_CHECK(nd <= kMaxDims, "cuda: element-wise kernel over ", nd,
               " dims that cannot be merged; at most ", kMaxDims, " are supported");
    StridedGeom<N> s;
    s.ndim = nd;
    for (int d = 0; d < nd; ++d) {  // innermost first
      const size_t src = size_t(nd - 1 - d);
      s.sizes[d] = uint32_t(g.sizes[src]);
      for (int k = 0; k < N; ++k) s.strides[d][k] = g.strides[size_t(k)][src] * g.esize[size_t(k)];
    }
    for (int k = 0; k < N; ++k) s.base[k] = g.base[size_t(k)];
    launch(s, uint32_t(g.numel));
    return;
  }
  const int64_t outer = g.sizes[0];
  const int64_t inner = g.numel / outer;
  HostGeom<N> sub = g;
  if (inner <= limit) {
    // Runs of outer indices, `step` slices per piece.
    const int64_t step = limit / inner;
    for (int64_t start = 0; start < outer; start += step) {
      const int64_t len = outer - start < step ? outer - start : step;
      sub.sizes[0] = len;
      sub.numel = len * inner;
      for (int k = 0; k < N; ++k)
        sub.base[size_t(k)] =
            g.base[size_t(k)] + start * g.strides[size_t(k)][0] * g.esize[size_t(k)];
      for_each_32bit_piece<N>(sub, launch, limit);
    }
    return;
  }
  // One outer index at a time, without that dim.
  sub.sizes.erase(sub.sizes.begin());
  for (int k = 0; k < N; ++k) sub.strides[size_t(k)].erase(sub.strides[size_t(k)].begin());
  sub.numel = inner;
  for (int64_t j = 0; j < outer; ++j) {
    for (int k = 0; k < N; ++k)
      sub.base[size_t(k)] = g.base[size_t(k)] + j * g.strides[size_t(k)][0] * g.esize[size_t(k)];
    for_each_32bit_piece<N>(sub, launch, limit);
  }
}

}  // namespace heed::cuda

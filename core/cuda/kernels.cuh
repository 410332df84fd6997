// Device-side building blocks shared by the .cu files: the generic
// element-wise kernel family (a vectorized contiguous kernel and a strided
// kernel driven by StridedGeom), their host launchers, and warp/block
// reductions. Only .cu files include this.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/cuda/runtime.h"
#include "core/cuda/strided.h"
#include "core/tensor.h"

namespace heed::cuda::kern {

inline constexpr int kThreads = 256;
inline constexpr int kVec = 4;  // elements per thread on the vectorized path

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <int V, typename Out, typename F, typename... In>
__device__ __forceinline__ Vec<Out, V> vec_apply(const F& f, const Vec<In, V>&... x) {
  Vec<Out, V> r;
#pragma unroll
  for (int k = 0; k < V; ++k) r.v[k] = f(x.v[k]...);
  return r;
}

// out[i] = f(in[i]...) over dense operands whose addresses are aligned to a
// Vec: kVec elements per load/store, then the tail one by one.
template <typename Out, typename F, typename... In>
__global__ void map_contiguous_kernel(int64_t n, F f, Out* out, const In*... in) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t nvec = n / kVec;
  for (int64_t j = tid; j < nvec; j += stride)
    reinterpret_cast<Vec<Out, kVec>*>(out)[j] =
        vec_apply<kVec, Out>(f, reinterpret_cast<const Vec<In, kVec>*>(in)[j]...);
  for (int64_t i = nvec * kVec + tid; i < n; i += stride) out[i] = f(in[i]...);
}

// op(ptrs) for every element, ptrs[k] = operand k's address of that element.
template <int N, typename Op>
__global__ void strided_kernel(StridedGeom<N> g, uint32_t n, Op op) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    int64_t off[N];
    g.offsets(i, off);
    char* p[N];
#pragma unroll
    for (int k = 0; k < N; ++k) p[k] = g.base[k] + off[k];
    op(p);
  }
}

// *out = f(*in...) on element pointers: the strided kernel's map.
template <typename Out, typename F, typename... In>
struct MapOp {
  F f;
  __device__ __forceinline__ void operator()(char* const* p) const {
    call(p, std::index_sequence_for<In...>{});
  }
  template <size_t... I>
  __device__ __forceinline__ void call(char* const* p, std::index_sequence<I...>) const {
    *reinterpret_cast<Out*>(p[0]) = f(*reinterpret_cast<const In*>(p[I + 1])...);
  }
};

inline OperandDesc desc(const Tensor& t) {
  return {static_cast<char*>(t.raw_data()), int64_t(t.element_size()), t.strides()};
}

template <typename T>
bool vec_aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % alignof(Vec<T, kVec>) == 0;
}

// op over every element of a geometry (split into 32-bit pieces).
template <int N, typename Op>
void apply(const Ctx& ctx, const char* name, const HostGeom<N>& g, const Op& op) {
  for_each_32bit_piece<N>(g, [&](const StridedGeom<N>& s, uint32_t n) {
    strided_kernel<N, Op><<<grid_for(ctx, n, kThreads), kThreads, 0, ctx.stream>>>(s, n, op);
    check_launch(name, ctx);
  });
}

// out = f(ins...) element-wise; all operands have out's shape (broadcast ones
// with stride 0), any strides. Dense aligned operands take the vectorized kernel.
template <typename Out, typename... In, typename F, typename... Ts>
void map(const Ctx& ctx, const char* name, const F& f, const Tensor& out, const Ts&... ins) {
  static_assert(sizeof...(In) == sizeof...(Ts), "map: one C++ type per input tensor");
  constexpr int N = 1 + int(sizeof...(In));
  const int64_t n = out.numel();
  if (n == 0) return;
  const HostGeom<N> g = make_host_geom<N>(out.shape(), {desc(out), desc(ins)...});
  if (g.contiguous() && vec_aligned<Out>(out.raw_data()) &&
      (vec_aligned<In>(ins.raw_data()) && ...)) {
    map_contiguous_kernel<Out, F, In...>
        <<<grid_for(ctx, (n + kVec - 1) / kVec, kThreads), kThreads, 0, ctx.stream>>>(
            n, f, static_cast<Out*>(out.raw_data()), static_cast<const In*>(ins.raw_data())...);
    check_launch(name, ctx);
    return;
  }
  apply<N>(ctx, name, g, MapOp<Out, F, In...>{f});
}

// ------------------------------------------------------------ reductions

template <typename T>
__device__ __forceinline__ T shfl_down(T v, int offset) {
  if constexpr (sizeof(T) == 8 && !std::is_floating_point_v<T>) {
    return T(__shfl_down_sync(0xffffffffu, (long long)v, offset));
  } else {
    return __shfl_down_sync(0xffffffffu, v, offset);
  }
}

// Combines the values of a full warp; lane 0 gets the result.
template <typename T, typename Combine>
__device__ __forceinline__ T warp_reduce(T v, Combine combine) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = combine(v, shfl_down(v, off));
  return v;
}

// Combines one value per thread of the block (blockDim.x a multiple of 32,
// at most 1024); every thread gets the result. `smem` holds 32 T.
template <typename T, typename Combine>
__device__ __forceinline__ T block_reduce(T v, Combine combine, T* smem) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int warps = blockDim.x / 32;
  v = warp_reduce(v, combine);
  __syncthreads();  // smem may still be read by a previous call
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = smem[lane < warps ? lane : 0];
    // Lanes past the last warp repeat warp 0's value; only lanes < warps count.
    for (int off = 16; off > 0; off >>= 1) {
      T o = shfl_down(w, off);
      if (lane + off < warps) w = combine(w, o);
    }
    if (lane == 0) smem[0] = w;
  }
  __syncthreads();
  return smem[0];
}

}  // namespace heed::cuda::kern

// CUDA reductions, softmax and normalisation, mirroring core/cpu/reduce.cpp,
// softmax.cpp and norm.cpp.
//
// Reductions see the input as the CPU does: dims coalesced into (kept,
// reduced) runs, then one of three shapes: reduce the contiguous tail of each
// row (row kernels), reduce a middle block column-wise (column kernel), or
// copy to a (kept..., reduced...) layout first and reduce rows. Floats
// accumulate in double like the CPU. Long rows (or tall columns) with few
// outputs are split across blocks into partial results that a second pass
// combines in a fixed order, so results never depend on timing (no atomics).
//
// Glossary: rows × len (row reductions), (outer, R, inner) (column
// reductions, softmax's (outer, D, inner)), B, C, S = batch, channels,
// spatial size (batch norm), M rows of N (layer norm).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/elementwise_ops.h"
#include "core/cuda/hd_math.h"
#include "core/cuda/kernels.cuh"
#include "core/cuda/reduce_ops.h"
#include "core/ops/internal.h"

namespace heed::cuda {

using kern::block_reduce;
using kern::warp_reduce;

namespace red {

template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// ------------------------------------------------------------ row kernels
// in (rows, len) contiguous -> out (rows). Three widths: a thread, a warp or
// a block per row; the block kernel also reduces `chunks` segments of a row
// separately (out then holds (rows, chunks) partial results).

template <typename In, typename A, typename Out, typename Op>
__global__ void row_reduce_thread(const In* in, Out* out, int64_t rows, int64_t len, A init,
                                  Op op) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride) {
    const In* p = in + r * len;
    A acc = init;
    for (int64_t i = 0; i < len; ++i) acc = op(acc, A(p[i]));
    out[r] = Out(acc);
  }
}

template <typename In, typename A, typename Out, typename Op>
__global__ void row_reduce_warp(const In* in, Out* out, int64_t rows, int64_t len, A init, Op op) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * blockDim.x / 32;
  for (int64_t r = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; r < rows; r += warps) {
    const In* p = in + r * len;
    A acc = init;
    for (int64_t i = lane; i < len; i += 32) acc = op(acc, A(p[i]));
    acc = warp_reduce(acc, op);
    if (lane == 0) out[r] = Out(acc);
  }
}

template <typename In, typename A, typename Out, typename Op>
__global__ void row_reduce_block(const In* in, Out* out, int64_t segments, int64_t len,
                                 int64_t chunks, int64_t chunk, A init, Op op) {
  __shared__ A smem[32];
  for (int64_t s = blockIdx.x; s < segments; s += gridDim.x) {
    const int64_t r = s / chunks, c = s - r * chunks;
    const int64_t begin = c * chunk, end = begin + chunk < len ? begin + chunk : len;
    const In* p = in + r * len;
    A acc = init;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) acc = op(acc, A(p[i]));
    acc = block_reduce(acc, op, smem);
    if (threadIdx.x == 0) out[s] = Out(acc);
  }
}

// (outer, R, inner) contiguous, reduce R -> out (outer, inner). Block (32, 8):
// x over 32 columns (coalesced), y over rows; blockIdx.y takes rows
// [y·chunk_rows, (y+1)·chunk_rows), writing partials out (gridDim.y, outer, inner).
template <typename In, typename A, typename Out, typename Op>
__global__ void col_reduce(const In* in, Out* out, int64_t outer, int64_t R, int64_t inner,
                           int64_t chunk_rows, A init, Op op) {
  __shared__ A smem[8][33];
  const int64_t col_tiles = (inner + 31) / 32, tiles = outer * col_tiles;
  const int64_t r0 = int64_t(blockIdx.y) * chunk_rows;
  const int64_t r1 = r0 + chunk_rows < R ? r0 + chunk_rows : R;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t o = t / col_tiles, b = (t - o * col_tiles) * 32 + threadIdx.x;
    A acc = init;
    if (b < inner)
      for (int64_t r = r0 + threadIdx.y; r < r1; r += blockDim.y)
        acc = op(acc, A(in[(o * R + r) * inner + b]));
    smem[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && b < inner) {
      A s = smem[0][threadIdx.x];
      for (unsigned y = 1; y < blockDim.y; ++y) s = op(s, smem[y][threadIdx.x]);
      out[(int64_t(blockIdx.y) * outer + o) * inner + b] = Out(s);
    }
    __syncthreads();
  }
}

// Reduce rows of a contiguous buffer: picks the kernel by row length and
// splits long rows across blocks when there are few of them.
template <typename In, typename A, typename Out, typename Op>
void reduce_rows(const Ctx& c, const In* in, Out* out, int64_t rows, int64_t len, A init, Op op) {
  if (rows == 0) return;
  if (len <= 32) {
    row_reduce_thread<In, A, Out, Op>
        <<<grid_for(c, rows, 256), 256, 0, c.stream>>>(in, out, rows, len, init, op);
    check_launch("reduce (row per thread)", c);
    return;
  }
  if (len <= 1024) {
    row_reduce_warp<In, A, Out, Op>
        <<<grid_for(c, rows * 32, 256), 256, 0, c.stream>>>(in, out, rows, len, init, op);
    check_launch("reduce (row per warp)", c);
    return;
  }
  int64_t chunks = 1;
  if (rows < 512 && len > 65536)
    chunks = std::min<int64_t>((len + 32767) / 32768, std::max<int64_t>(1, 2048 / rows));
  const int64_t chunk = (len + chunks - 1) / chunks;
  chunks = (len + chunk - 1) / chunk;
  const int64_t segments = rows * chunks;
  const unsigned grid = unsigned(std::min<int64_t>(segments, int64_t(1) << 20));
  if (chunks == 1) {
    row_reduce_block<In, A, Out, Op>
        <<<grid, 512, 0, c.stream>>>(in, out, segments, len, 1, len, init, op);
    check_launch("reduce (row per block)", c);
    return;
  }
  Tensor partial = empty({segments}, {dtype_of<A>(), Device::cuda(c.device)});  // (rows, chunks)
  A* part = static_cast<A*>(partial.raw_data());
  row_reduce_block<In, A, A, Op>
      <<<grid, 512, 0, c.stream>>>(in, part, segments, len, chunks, chunk, init, op);
  check_launch("reduce (row segments)", c);
  reduce_rows<A, A, Out, Op>(c, part, out, rows, chunks, init, op);
}

template <typename In, typename A, typename Out, typename Op>
void reduce_columns(const Ctx& c, const In* in, Out* out, int64_t outer, int64_t R, int64_t inner,
                    A init, Op op) {
  if (outer * inner == 0) return;
  const int64_t tiles = outer * ((inner + 31) / 32);
  // Enough blocks to fill the device: split R when the columns are few.
  int64_t chunks =
      std::clamp<int64_t>((c.max_blocks / 4 + tiles - 1) / tiles, 1, std::max<int64_t>(1, R / 64));
  chunks = std::min<int64_t>(chunks, 65535);
  const int64_t chunk_rows = std::max<int64_t>(1, (R + chunks - 1) / chunks);
  chunks = std::max<int64_t>(1, (R + chunk_rows - 1) / chunk_rows);
  const dim3 block(32, 8);
  const dim3 grid(unsigned(std::min<int64_t>(tiles, int64_t(1) << 20)), unsigned(chunks));
  if (chunks == 1) {
    col_reduce<In, A, Out, Op>
        <<<grid, block, 0, c.stream>>>(in, out, outer, R, inner, std::max<int64_t>(R, 1), init, op);
    check_launch("reduce (columns)", c);
    return;
  }
  Tensor partial = empty({chunks * outer * inner}, {dtype_of<A>(), Device::cuda(c.device)});
  A* part = static_cast<A*>(partial.raw_data());  // (chunks, outer, inner)
  col_reduce<In, A, A, Op>
      <<<grid, block, 0, c.stream>>>(in, part, outer, R, inner, chunk_rows, init, op);
  check_launch("reduce (column chunks)", c);
  reduce_columns<A, A, Out, Op>(c, part, out, 1, chunks, outer * inner, init, op);
}

template <typename T, typename Op>
void reduce_typed(const Ctx& c, const Tensor& out, const Tensor& in,
                  const std::vector<int64_t>& dims, Acc<T> init, Op op) {
  const int64_t nd = in.dim();
  std::vector<bool> reduced(size_t(nd), false);
  for (int64_t d : dims) reduced[size_t(d)] = true;
  T* o = static_cast<T*>(out.raw_data());
  if (in.numel() == 0) {
    kern::map<T>(c, "reduce (empty input)", ew::Fill<T>{T(init)}, out);
    return;
  }
  if (in.is_contiguous()) {
    // Coalesce into runs of (size, reduced?) ignoring size-1 dims.
    std::vector<std::pair<int64_t, bool>> runs;
    for (int64_t d = 0; d < nd; ++d) {
      int64_t s = in.shape()[size_t(d)];
      if (s == 1) continue;
      if (!runs.empty() && runs.back().second == reduced[size_t(d)])
        runs.back().first *= s;
      else
        runs.push_back({s, reduced[size_t(d)]});
    }
    const T* p = static_cast<const T*>(in.raw_data());
    if (runs.empty()) return reduce_rows<T>(c, p, o, 1, 1, init, op);
    if (runs.size() == 1 && !runs[0].second)  // nothing reduced: f(init, x) each
      return reduce_rows<T>(c, p, o, in.numel(), 1, init, op);
    if (runs.back().second && runs.size() <= 2) {
      const int64_t len = runs.back().first;
      return reduce_rows<T>(c, p, o, in.numel() / len, len, init, op);
    }
    if (runs.size() <= 3 && !runs.back().second) {
      const int64_t inner = runs.back().first, R = runs[runs.size() - 2].first;
      const int64_t outer = runs.size() == 3 ? runs[0].first : 1;
      return reduce_columns<T>(c, p, o, outer, R, inner, init, op);
    }
  }
  // General case: copy to (kept..., reduced...) order, then reduce rows.
  Shape perm;
  int64_t len = 1;
  for (int64_t d = 0; d < nd; ++d)
    if (!reduced[size_t(d)]) perm.push_back(d);
  for (int64_t d : dims) {
    perm.push_back(d);
    len *= in.shape()[size_t(d)];
  }
  Shape pshape, pstrides;
  for (int64_t d : perm) {
    pshape.push_back(in.shape()[size_t(d)]);
    pstrides.push_back(in.strides()[size_t(d)]);
  }
  Tensor tmp = ops::contiguous_data(ops::raw_view(in, pshape, pstrides, in.offset()));
  reduce_rows<T>(c, static_cast<const T*>(tmp.raw_data()), o,
                 in.numel() / std::max<int64_t>(len, 1), len, init, op);
}

template <typename T>
Acc<T> reduce_init(ReduceOp op) {
  using A = Acc<T>;
  switch (op) {
    case ReduceOp::Sum:
      return A(0);
    case ReduceOp::Prod:
      return A(1);
    case ReduceOp::Max:
      return std::is_floating_point_v<T> ? -std::numeric_limits<A>::infinity()
                                         : std::numeric_limits<A>::lowest();
    case ReduceOp::Min:
      return std::is_floating_point_v<T> ? std::numeric_limits<A>::infinity()
                                         : std::numeric_limits<A>::max();
  }
  return A(0);
}

// ------------------------------------------------------------ max/min with index

// Columns (o, b) of (outer, R, inner), one thread each, the CPU's loop exactly.
template <typename T>
__global__ void arg_reduce_columns(const T* x, T* values, int64_t* indices, int64_t outer,
                                   int64_t R, int64_t inner, bool is_max) {
  const int64_t n = outer * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t o = i / inner, b = i - o * inner;
    const T* q = x + o * R * inner + b;
    T best = q[0];
    int64_t arg = 0;
    for (int64_t r = 1; r < R; ++r) {
      const T c = q[r * inner];
      if (best != best) break;  // NaN wins, like PyTorch
      if (c != c || (is_max ? c > best : c < best)) {
        best = c;
        arg = r;
      }
    }
    values[i] = best;
    indices[i] = arg;
  }
}

// Rows of length R (inner == 1), one block each.
template <typename T>
__global__ void arg_reduce_rows(const T* x, T* values, int64_t* indices, int64_t rows, int64_t R,
                                bool is_max) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* q = x + r * R;
    ArgBest<T> best{T(0), -1};
    for (int64_t i = threadIdx.x; i < R; i += blockDim.x)
      best = arg_combine(best, ArgBest<T>{q[i], i}, is_max);
    for (int off = 16; off > 0; off >>= 1) {
      ArgBest<T> o{kern::shfl_down(best.v, off), kern::shfl_down(best.arg, off)};
      best = arg_combine(best, o, is_max);
    }
    __syncthreads();
    if (lane == 0) {
      sv[warp] = best.v;
      si[warp] = best.arg;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      ArgBest<T> b{sv[0], si[0]};
      for (int w = 1; w < warps; ++w) b = arg_combine(b, ArgBest<T>{sv[w], si[w]}, is_max);
      values[r] = b.v;
      indices[r] = b.arg;
    }
  }
}

// ------------------------------------------------------------ softmax
// Rows (inner == 1): a warp per row up to 1024 entries, else a block; in T
// like the CPU (max, then the sum of exp(x - max), then scale or subtract
// the log). Columns (inner > 1): a thread per (o, b) column.

template <typename T, bool kBlock>
__device__ __forceinline__ T row_all_reduce(T v, T* smem, bool is_max) {
  if constexpr (kBlock) {
    return is_max ? block_reduce(v, StdMaxOp{}, smem) : block_reduce(v, SumOp{}, smem);
  } else {
    v = is_max ? warp_reduce(v, StdMaxOp{}) : warp_reduce(v, SumOp{});
    return __shfl_sync(0xffffffffu, v, 0);
  }
}

template <typename T, bool kBlock>
__global__ void softmax_rows(T* y, const T* x, int64_t rows, int64_t D, bool log) {
  __shared__ T smem[32];
  const int64_t width = kBlock ? blockDim.x : 32;
  const int64_t lane = kBlock ? threadIdx.x : threadIdx.x % 32;
  const int64_t first = kBlock ? blockIdx.x : (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int64_t step = kBlock ? gridDim.x : int64_t(gridDim.x) * blockDim.x / 32;
  for (int64_t r = first; r < rows; r += step) {
    const T* xr = x + r * D;
    T* yr = y + r * D;
    T mx = -hd::infinity<T>();
    for (int64_t i = lane; i < D; i += width) mx = hd::max(mx, xr[i]);
    mx = row_all_reduce<T, kBlock>(mx, smem, true);
    T sum = 0;
    for (int64_t i = lane; i < D; i += width) {
      const T e = hd::exp(xr[i] - mx);
      if (!log) yr[i] = e;
      sum += e;
    }
    sum = row_all_reduce<T, kBlock>(sum, smem, false);
    if (log) {
      const T lse = hd::log(sum);
      for (int64_t i = lane; i < D; i += width) yr[i] = (xr[i] - mx) - lse;
    } else {
      const T inv = T(1) / sum;
      for (int64_t i = lane; i < D; i += width) yr[i] *= inv;
    }
  }
}

template <typename T>
__global__ void softmax_columns(T* y, const T* x, int64_t outer, int64_t D, int64_t inner,
                                bool log) {
  const int64_t n = outer * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t o = i / inner, b = i - o * inner;
    const T* xc = x + o * D * inner + b;
    T* yc = y + o * D * inner + b;
    T mx = -hd::infinity<T>();
    for (int64_t d = 0; d < D; ++d) mx = hd::max(mx, xc[d * inner]);
    T sum = 0;
    for (int64_t d = 0; d < D; ++d) {
      const T e = hd::exp(xc[d * inner] - mx);
      if (!log) yc[d * inner] = e;
      sum += e;
    }
    if (log) {
      const T lse = hd::log(sum);
      for (int64_t d = 0; d < D; ++d) yc[d * inner] = (xc[d * inner] - mx) - lse;
    } else {
      const T inv = T(1) / sum;
      for (int64_t d = 0; d < D; ++d) yc[d * inner] *= inv;
    }
  }
}

// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g)
template <typename T, bool kBlock>
__global__ void softmax_backward_rows(T* gx, const T* g, const T* y, int64_t rows, int64_t D,
                                      bool log) {
  __shared__ T smem[32];
  const int64_t width = kBlock ? blockDim.x : 32;
  const int64_t lane = kBlock ? threadIdx.x : threadIdx.x % 32;
  const int64_t first = kBlock ? blockIdx.x : (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int64_t step = kBlock ? gridDim.x : int64_t(gridDim.x) * blockDim.x / 32;
  for (int64_t r = first; r < rows; r += step) {
    const T* gr = g + r * D;
    const T* yr = y + r * D;
    T* xr = gx + r * D;
    T s = 0;
    for (int64_t i = lane; i < D; i += width) s += log ? gr[i] : gr[i] * yr[i];
    s = row_all_reduce<T, kBlock>(s, smem, false);
    for (int64_t i = lane; i < D; i += width)
      xr[i] = log ? gr[i] - hd::exp(yr[i]) * s : yr[i] * (gr[i] - s);
  }
}

template <typename T>
__global__ void softmax_backward_columns(T* gx, const T* g, const T* y, int64_t outer, int64_t D,
                                         int64_t inner, bool log) {
  const int64_t n = outer * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t o = i / inner, b = i - o * inner;
    const int64_t base = o * D * inner + b;
    T s = 0;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t k = base + d * inner;
      s += log ? g[k] : g[k] * y[k];
    }
    for (int64_t d = 0; d < D; ++d) {
      const int64_t k = base + d * inner;
      gx[k] = log ? g[k] - hd::exp(y[k]) * s : y[k] * (g[k] - s);
    }
  }
}

struct Geometry {
  int64_t outer = 1, D = 1, inner = 1;
};

Geometry geometry_of(const Tensor& t, int64_t dim) {
  Geometry g;
  if (t.dim() == 0) return g;
  for (int64_t d = 0; d < dim; ++d) g.outer *= t.shape()[size_t(d)];
  g.D = t.shape()[size_t(dim)];
  for (int64_t d = dim + 1; d < t.dim(); ++d) g.inner *= t.shape()[size_t(d)];
  return g;
}

// ------------------------------------------------------------ batch norm
// One block per channel: two-pass statistics in double (mean, then the sum of
// squared deviations), running stats updated by thread 0, then y.

constexpr int kNormThreads = 512;

// Element j of channel c in (B, C, S): j = b·S + s.
__device__ __forceinline__ int64_t bn_index(int64_t j, int64_t c, int64_t C, int64_t S) {
  const int64_t b = j / S, s = j - b * S;
  return (b * C + c) * S + s;
}

template <typename T>
__global__ void batch_norm_kernel(T* y, T* save_mean, T* save_invstd, const T* x, const T* w,
                                  int64_t ws, const T* bias, int64_t bs, T* rm, int64_t rms, T* rv,
                                  int64_t rvs, int64_t B, int64_t C, int64_t S, bool training,
                                  double momentum, double eps) {
  __shared__ double smem[32];
  const int64_t N = B * S;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double mean, invstd;
    if (training) {
      double sum = 0;
      for (int64_t j = threadIdx.x; j < N; j += blockDim.x) sum += double(x[bn_index(j, c, C, S)]);
      sum = block_reduce(sum, SumOp{}, smem);
      mean = sum / double(N);
      double sq = 0;
      for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
        const double d = double(x[bn_index(j, c, C, S)]) - mean;
        sq += d * d;
      }
      sq = block_reduce(sq, SumOp{}, smem);
      const double var = sq / double(N);  // biased: what the batch is normalised with
      invstd = 1.0 / ::sqrt(var + eps);
      if (threadIdx.x == 0) {
        if (rm) rm[c * rms] = T((1 - momentum) * double(rm[c * rms]) + momentum * mean);
        if (rv) {
          const double unbiased = N > 1 ? sq / double(N - 1) : var;
          rv[c * rvs] = T((1 - momentum) * double(rv[c * rvs]) + momentum * unbiased);
        }
      }
    } else {
      mean = double(rm[c * rms]);
      invstd = 1.0 / ::sqrt(double(rv[c * rvs]) + eps);
    }
    if (threadIdx.x == 0) {
      save_mean[c] = T(mean);
      save_invstd[c] = T(invstd);
    }
    // y = (x - mean) · (invstd · w) + b
    const T m = T(mean), scale = T(invstd * double(w ? w[c * ws] : T(1)));
    const T shift = bias ? bias[c * bs] : T(0);
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      const int64_t k = bn_index(j, c, C, S);
      y[k] = (x[k] - m) * scale + shift;
    }
  }
}

template <typename T>
__global__ void batch_norm_backward_kernel(T* gx, T* gw, T* gb, const T* gy, const T* x, const T* w,
                                           int64_t ws, const T* save_mean, const T* save_invstd,
                                           int64_t B, int64_t C, int64_t S, bool training) {
  __shared__ double smem[32];
  const int64_t N = B * S;
  const bool need_sums = gw || gb || (gx && training);
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const double mean = double(save_mean[c]), invstd = double(save_invstd[c]);
    double sum_dy = 0, sum_dy_xmu = 0;  // Σ dy, Σ dy·(x - mean)
    if (need_sums) {
      for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
        const int64_t k = bn_index(j, c, C, S);
        sum_dy += double(gy[k]);
        sum_dy_xmu += double(gy[k]) * (double(x[k]) - mean);
      }
      sum_dy = block_reduce(sum_dy, SumOp{}, smem);
      sum_dy_xmu = block_reduce(sum_dy_xmu, SumOp{}, smem);
    }
    if (threadIdx.x == 0) {
      if (gw) gw[c] = T(sum_dy_xmu * invstd);
      if (gb) gb[c] = T(sum_dy);
    }
    if (!gx) continue;
    const double wc = double(w ? w[c * ws] : T(1));
    // Training: dx = w·invstd·(dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x - mean)));
    // eval: the statistics are constants, dx = w·invstd·dy.
    const T k2 = training ? T(sum_dy_xmu * invstd * invstd / double(N)) : T(0);
    const T dy_mean = training ? T(sum_dy / double(N)) : T(0);
    const T m = T(mean), scale = T(invstd * wc);
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      const int64_t k = bn_index(j, c, C, S);
      gx[k] = (gy[k] - dy_mean - (x[k] - m) * k2) * scale;
    }
  }
}

// ------------------------------------------------------------ layer norm
// One block per row of N (blockDim a multiple of 32 up to 256).

template <typename T>
__global__ void layer_norm_kernel(T* y, T* save_mean, T* save_rstd, const T* x, const T* w,
                                  const T* b, int64_t M, int64_t N, double eps) {
  __shared__ double smem[32];
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* p = x + r * N;
    T* q = y + r * N;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) sum += double(p[j]);
    sum = block_reduce(sum, SumOp{}, smem);
    const double mean = sum / double(N);
    double sq = 0;
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      const double d = double(p[j]) - mean;
      sq += d * d;
    }
    sq = block_reduce(sq, SumOp{}, smem);
    const double rstd = 1.0 / ::sqrt(sq / double(N) + eps);
    if (threadIdx.x == 0) {
      save_mean[r] = T(mean);
      save_rstd[r] = T(rstd);
    }
    const T m = T(mean), rs = T(rstd);
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      if (w && b) {
        q[j] = (p[j] - m) * rs * w[j] + b[j];
      } else {
        T v = (p[j] - m) * rs;
        if (w) v *= w[j];
        if (b) v += b[j];
        q[j] = v;
      }
    }
  }
}

// dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) with g = dy·w, per row.
template <typename T>
__global__ void layer_norm_backward_kernel(T* gx, const T* gy, const T* x, const T* w,
                                           const T* save_mean, const T* save_rstd, int64_t M,
                                           int64_t N) {
  __shared__ double smem[32];
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* p = x + r * N;
    const T* d = gy + r * N;
    const double mean = double(save_mean[r]), rstd = double(save_rstd[r]);
    double sum_g = 0, sum_g_xhat = 0;  // Σ dy·w, Σ dy·w·x̂
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      const double xh = (double(p[j]) - mean) * rstd;
      const double g = double(d[j]) * (w ? double(w[j]) : 1.0);
      sum_g += g;
      sum_g_xhat += g * xh;
    }
    sum_g = block_reduce(sum_g, SumOp{}, smem);
    sum_g_xhat = block_reduce(sum_g_xhat, SumOp{}, smem);
    const double a = sum_g / double(N), c = sum_g_xhat / double(N);
    T* q = gx + r * N;
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
      const double xh = (double(p[j]) - mean) * rstd;
      const double g = double(d[j]) * (w ? double(w[j]) : 1.0);
      q[j] = T(rstd * (g - a - xh * c));
    }
  }
}

// Σ over rows of dy·x̂ and dy per column j: blocks (32, 8) over column tiles,
// blockIdx.y over row chunks; partial (chunks, 2, N) in double.
template <typename T>
__global__ void layer_norm_param_partial(double* partial, const T* gy, const T* x,
                                         const T* save_mean, const T* save_rstd, int64_t M,
                                         int64_t N, int64_t chunk_rows) {
  __shared__ double sw[8][33], sb[8][33];
  const int64_t tiles = (N + 31) / 32;
  const int64_t r0 = int64_t(blockIdx.y) * chunk_rows;
  const int64_t r1 = r0 + chunk_rows < M ? r0 + chunk_rows : M;
  for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int64_t j = t * 32 + threadIdx.x;
    double aw = 0, ab = 0;
    if (j < N)
      for (int64_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) {
        const double dy = double(gy[r * N + j]);
        aw += dy * ((double(x[r * N + j]) - double(save_mean[r])) * double(save_rstd[r]));
        ab += dy;
      }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && j < N) {
      double s1 = sw[0][threadIdx.x], s2 = sb[0][threadIdx.x];
      for (unsigned y = 1; y < blockDim.y; ++y) {
        s1 += sw[y][threadIdx.x];
        s2 += sb[y][threadIdx.x];
      }
      partial[(int64_t(blockIdx.y) * 2) * N + j] = s1;
      partial[(int64_t(blockIdx.y) * 2 + 1) * N + j] = s2;
    }
    __syncthreads();
  }
}

template <typename T>
__global__ void layer_norm_param_final(T* gw, T* gb, const double* partial, int64_t chunks,
                                       int64_t N) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < N; j += stride) {
    double s1 = 0, s2 = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      s1 += partial[(k * 2) * N + j];
      s2 += partial[(k * 2 + 1) * N + j];
    }
    if (gw) gw[j] = T(s1);
    if (gb) gb[j] = T(s2);
  }
}

// A 1-D tensor that may be undefined (nullptr) or strided.
template <typename T>
struct Vec1 {
  T* p = nullptr;
  int64_t stride = 0;
  explicit Vec1(const Tensor& t) {
    if (t.defined()) {
      p = static_cast<T*>(t.raw_data());
      stride = t.dim() > 0 ? t.stride(0) : 1;
    }
  }
};

template <typename T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

int norm_threads(int64_t n) {
  return int(std::clamp<int64_t>((n + 31) / 32 * 32, 32, 256));
}

}  // namespace red

using namespace red;

void CudaBackend::reduce(ReduceOp op, const Tensor& out, const Tensor& in,
                         const std::vector<int64_t>& dims) {
  const Ctx c = context(index_);
  dispatch_all(in.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      HEED_FAIL("reduce: not defined for bool tensors; convert to int64 first");
    } else {
      const Acc<T> init = reduce_init<T>(op);
      switch (op) {
        case ReduceOp::Sum:
          return reduce_typed<T>(c, out, in, dims, init, SumOp{});
        case ReduceOp::Prod:
          return reduce_typed<T>(c, out, in, dims, init, ProdOp{});
        case ReduceOp::Max:
          return reduce_typed<T>(c, out, in, dims, init, MaxOp{});
        case ReduceOp::Min:
          return reduce_typed<T>(c, out, in, dims, init, MinOp{});
      }
    }
  });
}

void CudaBackend::reduce_with_index(ReduceOp op, const Tensor& values, const Tensor& indices,
                                    const Tensor& in, int64_t dim) {
  const Ctx c = context(index_);
  Tensor x = ops::contiguous_data(in);
  int64_t R = x.shape()[size_t(dim)];
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[size_t(d)];
  int64_t outer = x.numel() / std::max<int64_t>(R * inner, 1);
  const bool is_max = op == ReduceOp::Max;
  // Few long columns: move the reduced dim last, then a block per row.
  if (inner > 1 && outer * inner < 1024 && R > 1024) {
    Shape pshape{outer, inner, R}, pstrides{R * inner, 1, inner};
    x = ops::contiguous_data(ops::raw_view(x, pshape, pstrides, x.offset()));
    outer *= inner;
    inner = 1;
  }
  if (outer * inner == 0 || R == 0) return;
  dispatch_all(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      HEED_FAIL("max/min: not defined for bool tensors");
    } else {
      const T* p = static_cast<const T*>(x.raw_data());
      T* v = static_cast<T*>(values.raw_data());
      int64_t* ix = static_cast<int64_t*>(indices.raw_data());
      if (inner == 1 && R > 64) {
        const unsigned grid = unsigned(std::min<int64_t>(outer, int64_t(1) << 20));
        arg_reduce_rows<T><<<grid, 256, 0, c.stream>>>(p, v, ix, outer, R, is_max);
        check_launch("max/min with index (rows)", c);
      } else {
        arg_reduce_columns<T><<<grid_for(c, outer * inner, 256), 256, 0, c.stream>>>(
            p, v, ix, outer, R, inner, is_max);
        check_launch("max/min with index (columns)", c);
      }
    }
  });
}

void CudaBackend::softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) {
  HEED_CHECK(in.is_contiguous() && out.is_contiguous(),
             "softmax: the cuda kernel expects contiguous tensors");
  if (in.numel() == 0) return;
  const Ctx c = context(index_);
  const Geometry g = geometry_of(in, dim);
  dispatch_floating(in.dtype(), "softmax", [&]<typename T>() {
    const T* x = static_cast<const T*>(in.raw_data());
    T* y = static_cast<T*>(out.raw_data());
    if (g.inner == 1 && g.D <= 1024) {
      softmax_rows<T, false>
          <<<grid_for(c, g.outer * 32, 256), 256, 0, c.stream>>>(y, x, g.outer, g.D, log);
      check_launch("softmax (row per warp)", c);
    } else if (g.inner == 1) {
      const unsigned grid = unsigned(std::min<int64_t>(g.outer, int64_t(1) << 20));
      softmax_rows<T, true><<<grid, 512, 0, c.stream>>>(y, x, g.outer, g.D, log);
      check_launch("softmax (row per block)", c);
    } else {
      softmax_columns<T><<<grid_for(c, g.outer * g.inner, 256), 256, 0, c.stream>>>(
          y, x, g.outer, g.D, g.inner, log);
      check_launch("softmax (columns)", c);
    }
  });
}

void CudaBackend::softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                   int64_t dim, bool log) {
  HEED_CHECK(grad_in.is_contiguous() && grad_out.is_contiguous() && out.is_contiguous(),
             "softmax_backward: the cuda kernel expects contiguous tensors");
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  const Geometry g = geometry_of(out, dim);
  dispatch_floating(out.dtype(), "softmax_backward", [&]<typename T>() {
    const T* gy = static_cast<const T*>(grad_out.raw_data());
    const T* y = static_cast<const T*>(out.raw_data());
    T* gx = static_cast<T*>(grad_in.raw_data());
    if (g.inner == 1 && g.D <= 1024) {
      softmax_backward_rows<T, false>
          <<<grid_for(c, g.outer * 32, 256), 256, 0, c.stream>>>(gx, gy, y, g.outer, g.D, log);
      check_launch("softmax_backward (row per warp)", c);
    } else if (g.inner == 1) {
      const unsigned grid = unsigned(std::min<int64_t>(g.outer, int64_t(1) << 20));
      softmax_backward_rows<T, true><<<grid, 512, 0, c.stream>>>(gx, gy, y, g.outer, g.D, log);
      check_launch("softmax_backward (row per block)", c);
    } else {
      softmax_backward_columns<T><<<grid_for(c, g.outer * g.inner, 256), 256, 0, c.stream>>>(
          gx, gy, y, g.outer, g.D, g.inner, log);
      check_launch("softmax_backward (columns)", c);
    }
  });
}

void CudaBackend::batch_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                             const Tensor& input, const Tensor& weight, const Tensor& bias,
                             const Tensor& running_mean, const Tensor& running_var, bool training,
                             double momentum, double eps) {
  HEED_CHECK(training || (running_mean.defined() && running_var.defined()),
             "batch_norm: eval mode needs running_mean and running_var");
  HEED_CHECK(input.is_contiguous() && out.is_contiguous(),
             "batch_norm: the cuda kernel expects contiguous tensors");
  const Ctx c = context(index_);
  const int64_t B = input.shape()[0], C = input.shape()[1];
  int64_t S = 1;
  for (int64_t d = 2; d < input.dim(); ++d) S *= input.shape()[size_t(d)];
  if (C == 0) return;
  dispatch_floating(input.dtype(), "batch_norm", [&]<typename T>() {
    Vec1<T> w(weight), b(bias), rm(running_mean), rv(running_var);
    const unsigned grid = unsigned(std::min<int64_t>(C, int64_t(1) << 20));
    batch_norm_kernel<T><<<grid, kNormThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<T*>(save_mean.raw_data()),
        static_cast<T*>(save_invstd.raw_data()), static_cast<const T*>(input.raw_data()), w.p,
        w.stride, b.p, b.stride, rm.p, rm.stride, rv.p, rv.stride, B, C, S, training, momentum,
        eps);
    check_launch("batch_norm", c);
  });
}

void CudaBackend::batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                      const Tensor& grad_bias, const Tensor& grad_out,
                                      const Tensor& input, const Tensor& weight,
                                      const Tensor& save_mean, const Tensor& save_invstd,
                                      bool training) {
  HEED_CHECK(input.is_contiguous() && grad_out.is_contiguous(),
             "batch_norm_backward: the cuda kernel expects contiguous tensors");
  const Ctx c = context(index_);
  const int64_t B = input.shape()[0], C = input.shape()[1];
  int64_t S = 1;
  for (int64_t d = 2; d < input.dim(); ++d) S *= input.shape()[size_t(d)];
  if (C == 0) return;
  dispatch_floating(input.dtype(), "batch_norm_backward", [&]<typename T>() {
    Vec1<T> w(weight);
    const unsigned grid = unsigned(std::min<int64_t>(C, int64_t(1) << 20));
    batch_norm_backward_kernel<T><<<grid, kNormThreads, 0, c.stream>>>(
        ptr_or_null<T>(grad_input), ptr_or_null<T>(grad_weight), ptr_or_null<T>(grad_bias),
        static_cast<const T*>(grad_out.raw_data()), static_cast<const T*>(input.raw_data()), w.p,
        w.stride, static_cast<const T*>(save_mean.raw_data()),
        static_cast<const T*>(save_invstd.raw_data()), B, C, S, training);
    check_launch("batch_norm_backward", c);
  });
}

void CudaBackend::layer_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd,
                             const Tensor& input, const Tensor& weight, const Tensor& bias,
                             int64_t normalized, double eps) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  if (M == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "layer_norm", [&]<typename T>() {
    const unsigned grid = unsigned(std::min<int64_t>(M, int64_t(1) << 20));
    layer_norm_kernel<T><<<grid, norm_threads(N), 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<T*>(save_mean.raw_data()),
        static_cast<T*>(save_rstd.raw_data()), static_cast<const T*>(input.raw_data()),
        ptr_or_null<const T>(weight), ptr_or_null<const T>(bias), M, N, eps);
    check_launch("layer_norm", c);
  });
}

void CudaBackend::layer_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                      const Tensor& grad_bias, const Tensor& grad_out,
                                      const Tensor& input, const Tensor& weight,
                                      const Tensor& save_mean, const Tensor& save_rstd,
                                      int64_t normalized) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  const bool affine = grad_weight.defined() || grad_bias.defined();
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "layer_norm_backward", [&]<typename T>() {
    const T* gy = static_cast<const T*>(grad_out.raw_data());
    const T* x = static_cast<const T*>(input.raw_data());
    const T* mean = static_cast<const T*>(save_mean.raw_data());
    const T* rstd = static_cast<const T*>(save_rstd.raw_data());
    if (grad_input.defined() && M > 0) {
      const unsigned grid = unsigned(std::min<int64_t>(M, int64_t(1) << 20));
      layer_norm_backward_kernel<T>
          <<<grid, norm_threads(N), 0, c.stream>>>(static_cast<T*>(grad_input.raw_data()), gy, x,
                                                   ptr_or_null<const T>(weight), mean, rstd, M, N);
      check_launch("layer_norm_backward", c);
    }
    if (!affine || N == 0) return;
    T* gw = ptr_or_null<T>(grad_weight);
    T* gb = ptr_or_null<T>(grad_bias);
    const int64_t tiles = (N + 31) / 32;
    int64_t chunks = std::clamp<int64_t>((c.max_blocks / 4 + tiles - 1) / tiles, 1,
                                         std::max<int64_t>(1, M / 64));
    chunks = std::min<int64_t>(chunks, 65535);
    const int64_t chunk_rows = std::max<int64_t>(1, (M + chunks - 1) / chunks);
    chunks = M > 0 ? (M + chunk_rows - 1) / chunk_rows : 1;
    Tensor partial = zeros({chunks * 2 * N}, {kFloat64, Device::cuda(index_)});  // (chunks, 2, N)
    double* part = static_cast<double*>(partial.raw_data());
    if (M > 0) {
      const dim3 grid(unsigned(std::min<int64_t>(tiles, int64_t(1) << 20)), unsigned(chunks));
      layer_norm_param_partial<T>
          <<<grid, dim3(32, 8), 0, c.stream>>>(part, gy, x, mean, rstd, M, N, chunk_rows);
      check_launch("layer_norm_backward (weight/bias partial sums)", c);
    }
    layer_norm_param_final<T><<<grid_for(c, N, 256), 256, 0, c.stream>>>(gw, gb, part, chunks, N);
    check_launch("layer_norm_backward (weight/bias)", c);
  });
}

}  // namespace heed::cuda

// CPU reductions. A contiguous input's dims are coalesced into alternating
// kept / reduced runs, reduced from the last run inwards: a reduced tail is a
// row reduction, a reduced run before a kept tail a column reduction over
// contiguous runs (e.g. the channel dim of (B, C, H*W) or the batch dim of
// (N, D)); each step leaves a smaller contiguous tensor for the next. float32
// Sum / Max / Min use the vectorised kernels of reduce_f32.h. Non-contiguous
// inputs are first copied to a (kept..., reduced...) layout.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/reduce_f32.h"
#include "core/ops/internal.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

// Accumulate floats in double: reductions over 100k+ elements stay accurate.
template <typename T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

template <typename T>
struct ReduceTraits {
  static Acc<T> init(ReduceOp op) {
    switch (op) {
      case ReduceOp::Sum:
        return Acc<T>(0);
      case ReduceOp::Prod:
        return Acc<T>(1);
      case ReduceOp::Max:
        return std::is_floating_point_v<T> ? -std::numeric_limits<Acc<T>>::infinity()
                                           : std::numeric_limits<Acc<T>>::lowest();
      case ReduceOp::Min:
        return std::is_floating_point_v<T> ? std::numeric_limits<Acc<T>>::infinity()
                                           : std::numeric_limits<Acc<T>>::max();
    }
    return Acc<T>(0);
  }
};

template <typename T, typename F>
void row_reduce(const T* in, T* out, int64_t rows, int64_t len, Acc<T> init, F f) {
  parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(len, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   const T* p = in + r * len;
                   Acc<T> acc = init;
                   for (int64_t i = 0; i < len; ++i) acc = f(acc, Acc<T>(p[i]));
                   out[r] = T(acc);
                 }
               });
}

// (outer, R, inner) contiguous, reduce R: out (outer, inner).
template <typename T, typename F>
void column_reduce(const T* in, T* out, int64_t outer, int64_t R, int64_t inner, Acc<T> init, F f) {
  parallel_for(0, outer * inner, 4096, [&](int64_t lo, int64_t hi) {
    std::vector<Acc<T>> acc;
    int64_t i = lo;
    while (i < hi) {
      int64_t o = i / inner, b0 = i % inner;
      int64_t b1 = std::min(inner, b0 + (hi - i));
      acc.assign(size_t(b1 - b0), init);
      for (int64_t r = 0; r < R; ++r) {
        const T* p = in + (o * R + r) * inner;
        for (int64_t b = b0; b < b1; ++b)
          acc[size_t(b - b0)] = f(acc[size_t(b - b0)], Acc<T>(p[b]));
      }
      for (int64_t b = b0; b < b1; ++b) out[o * inner + b] = T(acc[size_t(b - b0)]);
      i += b1 - b0;
    }
  });
}

// Elements of work per parallel chunk.
constexpr int64_t kReduceGrain = 32768;

// fn(o, b0, nb) for the blocks of up to 256 columns [b0, b0 + nb) of every
// outer index o of an (outer, R, inner) reduction over R, in parallel: the
// column kernels' unit of work.
template <typename Fn>
void parallel_column_blocks(int64_t outer, int64_t R, int64_t inner, Fn&& fn) {
  const int64_t blocks = (inner + 255) / 256;
  const int64_t work = std::max<int64_t>(1, R * std::min<int64_t>(inner, 256));
  parallel_for(0, outer * blocks, std::max<int64_t>(1, kReduceGrain / work),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t i = lo; i < hi; ++i) {
                   const int64_t b0 = (i % blocks) * 256;
                   fn(i / blocks, b0, std::min<int64_t>(256, inner - b0));
                 }
               });
}

// float32 Sum / Max / Min run the vector kernels; `op` is unset otherwise.
struct FastOp {
  bool enabled = false;
  ReduceOp op = ReduceOp::Sum;
};

template <typename T, typename F>
void rows_step(const T* in, T* out, int64_t rows, int64_t len, Acc<T> init, F f, FastOp fast) {
  if constexpr (std::is_same_v<T, float>) {
    if (fast.enabled) {
      const ReduceF32Kernels& k = reduce_f32_kernels();
      parallel_for(
          0, rows, std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(len, 1)),
          [&](int64_t lo, int64_t hi) { k.rows(fast.op, in + lo * len, out + lo, hi - lo, len); });
      return;
    }
  }
  row_reduce<T>(in, out, rows, len, init, f);
}

// A column reduction with few outputs and many rows (the batch dim of
// (N, D)) is split into a fixed number of row ranges reduced in parallel and
// combined in order: the result does not depend on the thread count.
void columns_split_rows(ReduceOp op, const float* in, float* out, int64_t R, int64_t inner) {
  const ReduceF32Kernels& k = reduce_f32_kernels();
  const int64_t parts = std::min<int64_t>(8, R / 256);
  const int64_t per = (R + parts - 1) / parts;
  std::vector<float> partial(size_t(parts * inner));
  parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t r0 = q * per, r1 = std::min(R, r0 + per);
      k.columns(op, in + r0 * inner, partial.data() + q * inner, r1 - r0, inner, inner);
    }
  });
  k.columns(op, partial.data(), out, parts, inner, inner);
}

template <typename T, typename F>
void columns_step(const T* in, T* out, int64_t outer, int64_t R, int64_t inner, Acc<T> init, F f,
                  FastOp fast) {
  if constexpr (std::is_same_v<T, float>) {
    if (fast.enabled) {
      const ReduceF32Kernels& k = reduce_f32_kernels();
      if (outer * inner * 8 < kReduceGrain && R >= 512 && fast.op == ReduceOp::Sum) {
        for (int64_t o = 0; o < outer; ++o)
          columns_split_rows(fast.op, in + o * R * inner, out + o * inner, R, inner);
        return;
      }
      parallel_column_blocks(outer, R, inner, [&](int64_t o, int64_t b0, int64_t nb) {
        k.columns(fast.op, in + o * R * inner + b0, out + o * inner + b0, R, nb, inner);
      });
      return;
    }
  }
  column_reduce<T>(in, out, outer, R, inner, init, f);
}

struct Run {
  int64_t size;
  bool reduced;
};

// Reduces a contiguous tensor given as alternating runs, last run first.
template <typename T, typename F>
void reduce_runs(std::vector<Run> runs, const T* in, T* out, Acc<T> init, F f, FastOp fast) {
  std::vector<T> tmp;
  while (true) {
    int64_t reduced_runs = 0, numel = 1;
    for (const Run& r : runs) {
      reduced_runs += r.reduced;
      numel *= r.size;
    }
    if (reduced_runs == 0) {  // nothing (left) to reduce
      for (int64_t i = 0; i < numel; ++i) out[i] = T(f(init, Acc<T>(in[i])));
      return;
    }
    const Run last = runs.back();
    runs.pop_back();
    const bool final_step = reduced_runs == 1;
    std::vector<T> next;
    if (last.reduced) {
      const int64_t rows = numel / last.size;
      T* dst = out;
      if (!final_step) {
        next.resize(size_t(rows));
        dst = next.data();
      }
      rows_step<T>(in, dst, rows, last.size, init, f, fast);
      if (runs.empty()) return;
    } else {
      const Run red = runs.back();
      runs.pop_back();
      const int64_t inner = last.size, outer = numel / (inner * red.size);
      T* dst = out;
      if (!final_step) {
        next.resize(size_t(outer * inner));
        dst = next.data();
      }
      columns_step<T>(in, dst, outer, red.size, inner, init, f, fast);
      if (!runs.empty() && !runs.back().reduced)
        runs.back().size *= inner;
      else
        runs.push_back({inner, false});
    }
    if (final_step) return;
    tmp = std::move(next);
    in = tmp.data();
  }
}

template <typename T, typename F>
void reduce_typed(const Tensor& out, const Tensor& in, const std::vector<int64_t>& dims,
                  Acc<T> init, F f, FastOp fast) {
  const int64_t nd = in.dim();
  std::vector<bool> reduced(size_t(nd), false);
  for (int64_t d : dims) reduced[size_t(d)] = true;
  T* o = out.data_ptr<T>();
  if (in.numel() == 0) {
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = T(init);
    return;
  }
  if (in.is_contiguous()) {
    std::vector<Run> runs;
    for (int64_t d = 0; d < nd; ++d) {
      int64_t s = in.shape()[size_t(d)];
      if (s == 1) continue;
      if (!runs.empty() && runs.back().reduced == reduced[size_t(d)])
        runs.back().size *= s;
      else
        runs.push_back({s, reduced[size_t(d)]});
    }
    if (runs.empty()) runs.push_back({1, false});
    reduce_runs<T>(runs, static_cast<const T*>(in.raw_data()), o, init, f, fast);
    return;
  }
  // General case: copy to (kept..., reduced...) order, then reduce rows.
  Shape perm, shape;
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
  rows_step<T>(tmp.data_ptr<T>(), o, in.numel() / std::max<int64_t>(len, 1), len, init, f, fast);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& out, const Tensor& in,
                        const std::vector<int64_t>& dims) {
  dispatch_all(in.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      HEED_FAIL("reduce: not defined for bool tensors; convert to int64 first");
    } else {
      Acc<T> init = ReduceTraits<T>::init(op);
      using A = Acc<T>;
      const FastOp fast{std::is_same_v<T, float> && op != ReduceOp::Prod, op};
      switch (op) {
        case ReduceOp::Sum:
          return reduce_typed<T>(
              out, in, dims, init, [](A a, A x) { return a + x; }, fast);
        case ReduceOp::Prod:
          return reduce_typed<T>(
              out, in, dims, init, [](A a, A x) { return a * x; }, fast);
        case ReduceOp::Max:
          return reduce_typed<T>(
              out, in, dims, init, [](A a, A x) { return (x > a || x != x) ? x : a; }, fast);
        case ReduceOp::Min:
          return reduce_typed<T>(
              out, in, dims, init, [](A a, A x) { return (x < a || x != x) ? x : a; }, fast);
      }
    }
  });
}

void CpuBackend::reduce_with_index(ReduceOp op, const Tensor& values, const Tensor& indices,
                                   const Tensor& in, int64_t dim) {
  Tensor x = ops::contiguous_data(in);
  int64_t R = x.shape()[size_t(dim)];
  int64_t inner = 1;
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[size_t(d)];
  int64_t outer = x.numel() / std::max<int64_t>(R * inner, 1);
  bool is_max = op == ReduceOp::Max;
  dispatch_all(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      HEED_FAIL("max/min: not defined for bool tensors");
    } else {
      const T* p = x.data_ptr<T>();
      T* v = values.data_ptr<T>();
      int64_t* ix = indices.data_ptr<int64_t>();
      if constexpr (std::is_same_v<T, float>) {
        // A non-inner dim (channel max of (B, C, H, W)): vector compares over
        // contiguous runs of 256 columns instead of one strided walk per column.
        if (inner > 1 && R < (int64_t(1) << 24)) {
          const ReduceF32Kernels& k = reduce_f32_kernels();
          parallel_column_blocks(outer, R, inner, [&](int64_t o, int64_t b0, int64_t nb) {
            k.columns_arg(is_max, p + o * R * inner + b0, v + o * inner + b0, ix + o * inner + b0,
                          R, nb, inner);
          });
          return;
        }
      }
      parallel_for(0, outer * inner, 1024, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          int64_t o = i / inner, b = i % inner;
          const T* q = p + o * R * inner + b;
          T best = q[0];
          int64_t arg = 0;
          for (int64_t r = 1; r < R; ++r) {
            T c = q[r * inner];
            if (best != best) break;  // NaN wins, like PyTorch
            if (c != c || (is_max ? c > best : c < best)) {
              best = c;
              arg = r;
            }
          }
          v[i] = best;
          ix[i] = arg;
        }
      });
    }
  });
}

void CpuBackend::sum_of_products(const Tensor& out, const Tensor& a, const Tensor& b,
                                 const std::vector<int64_t>& dims) {
  // Fused for contiguous float32 when the reduced dims are one block:
  // (outer, R, inner) with out (outer, inner). Otherwise the default.
  const int64_t nd = a.dim();
  std::vector<bool> reduced(size_t(nd), false);
  for (int64_t d : dims) reduced[size_t(d)] = true;
  int64_t first = nd, last = -1;
  for (int64_t d = 0; d < nd; ++d)
    if (reduced[size_t(d)] && a.shape()[size_t(d)] != 1) first = std::min(first, d), last = d;
  bool block = true;
  for (int64_t d = first; d <= last; ++d) block = block && reduced[size_t(d)];
  if (a.dtype() != kFloat32 || !a.is_contiguous() || !b.is_contiguous() || !block ||
      a.numel() == 0 || last < 0) {
    Backend::sum_of_products(out, a, b, dims);
    return;
  }
  int64_t outer = 1, R = 1, inner = 1;
  for (int64_t d = 0; d < nd; ++d)
    (d < first ? outer : d <= last ? R : inner) *= a.shape()[size_t(d)];
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* po = out.data_ptr<float>();
  const ReduceF32Kernels& k = reduce_f32_kernels();
  if (inner == 1) {
    parallel_for(0, outer, std::max<int64_t>(1, kReduceGrain / R), [&](int64_t lo, int64_t hi) {
      k.dot_rows(pa + lo * R, pb + lo * R, po + lo, hi - lo, R);
    });
    return;
  }
  parallel_column_blocks(outer, R, inner, [&](int64_t o, int64_t b0, int64_t nb) {
    k.dot_columns(pa + o * R * inner + b0, pb + o * R * inner + b0, po + o * inner + b0, R, nb,
                  inner);
  });
}

}  // namespace heed::cpu

// CPU reductions. The input's dims are coalesced into (kept, reduced) runs;
// three loop shapes cover the cases: reduce the contiguous tail of each row,
// reduce a middle block of a contiguous tensor column-wise (e.g. the batch
// dim of (N, C)), or copy to a (kept..., reduced...) layout first.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
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
      case ReduceOp::Sum: return Acc<T>(0);
      case ReduceOp::Prod: return Acc<T>(1);
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
void column_reduce(const T* in, T* out, int64_t outer, int64_t R, int64_t inner, Acc<T> init,
                   F f) {
  parallel_for(0, outer * inner, 4096, [&](int64_t lo, int64_t hi) {
    std::vector<Acc<T>> acc;
    int64_t i = lo;
    while (i < hi) {
      int64_t o = i / inner, b0 = i % inner;
      int64_t b1 = std::min(inner, b0 + (hi - i));
      acc.assign(size_t(b1 - b0), init);
      for (int64_t r = 0; r < R; ++r) {
        const T* p = in + (o * R + r) * inner;
        for (int64_t b = b0; b < b1; ++b) acc[size_t(b - b0)] = f(acc[size_t(b - b0)], Acc<T>(p[b]));
      }
      for (int64_t b = b0; b < b1; ++b) out[o * inner + b] = T(acc[size_t(b - b0)]);
      i += b1 - b0;
    }
  });
}

template <typename T, typename F>
void reduce_typed(const Tensor& out, const Tensor& in, const std::vector<int64_t>& dims,
                  Acc<T> init, F f) {
  const int64_t nd = in.dim();
  std::vector<bool> reduced(size_t(nd), false);
  for (int64_t d : dims) reduced[size_t(d)] = true;
  T* o = out.data_ptr<T>();
  if (in.numel() == 0) {
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = T(init);
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
    if (runs.empty()) {
      o[0] = T(f(init, Acc<T>(p[0])));
      return;
    }
    if (runs.size() == 1 && !runs[0].second) {  // nothing reduced
      for (int64_t i = 0; i < in.numel(); ++i) o[i] = T(f(init, Acc<T>(p[i])));
      return;
    }
    if (runs.back().second && runs.size() <= 2) {
      int64_t len = runs.back().first;
      row_reduce<T>(p, o, in.numel() / len, len, init, f);
      return;
    }
    if (runs.size() <= 3 && !runs.back().second) {
      // (outer?, R, inner)
      int64_t inner = runs.back().first;
      int64_t R = runs[runs.size() - 2].first;
      int64_t outer = runs.size() == 3 ? runs[0].first : 1;
      column_reduce<T>(p, o, outer, R, inner, init, f);
      return;
    }
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
  row_reduce<T>(tmp.data_ptr<T>(), o, in.numel() / std::max<int64_t>(len, 1), len, init, f);
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
      switch (op) {
        case ReduceOp::Sum: return reduce_typed<T>(out, in, dims, init, [](A a, A x) { return a + x; });
        case ReduceOp::Prod: return reduce_typed<T>(out, in, dims, init, [](A a, A x) { return a * x; });
        case ReduceOp::Max:
          return reduce_typed<T>(out, in, dims, init, [](A a, A x) { return (x > a || x != x) ? x : a; });
        case ReduceOp::Min:
          return reduce_typed<T>(out, in, dims, init, [](A a, A x) { return (x < a || x != x) ? x : a; });
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

}  // namespace heed::cpu

// The combine functions of the CUDA reductions (host+device, so
// tests/cuda/test_cuda_host.cpp checks them on the host): the CPU's f(acc, x)
// for sum/prod/max/min, which also combines two partial results, and the
// (value, index) combine of max/min over a dim.
#pragma once

#include <cstdint>

#include "core/cuda/hd_math.h"

namespace heed::cuda::red {

struct SumOp {
  template <typename A>
  HEED_HD A operator()(A a, A x) const {
    return a + x;
  }
};
struct ProdOp {
  template <typename A>
  HEED_HD A operator()(A a, A x) const {
    return a * x;
  }
};
// NaN wins: once a partial result is NaN it stays NaN, whichever side it is on.
struct MaxOp {
  template <typename A>
  HEED_HD A operator()(A a, A x) const {
    return (x > a || x != x) ? x : a;
  }
};
struct MinOp {
  template <typename A>
  HEED_HD A operator()(A a, A x) const {
    return (x < a || x != x) ? x : a;
  }
};
// std::max as the CPU's softmax row max uses it (a NaN x is dropped).
struct StdMaxOp {
  template <typename A>
  HEED_HD A operator()(A a, A x) const {
    return hd::max(a, x);
  }
};

// Max/min over a dim with its index: the CPU scans in order, keeps the first
// extreme on ties and stops at the first NaN. The same answer from partial
// results combined in any order: a NaN beats a number, between two NaNs or
// two equal values the lower index wins. arg < 0 marks "no element yet".
template <typename T>
struct ArgBest {
  T v;
  int64_t arg;
};

template <typename T>
HEED_HD ArgBest<T> arg_combine(ArgBest<T> a, ArgBest<T> b, bool is_max) {
  if (a.arg < 0) return b;
  if (b.arg < 0) return a;
  const bool an = a.v != a.v, bn = b.v != b.v;
  if (an || bn) {
    if (an && bn) return a.arg < b.arg ? a : b;
    return an ? a : b;
  }
  if (is_max ? b.v > a.v : b.v < a.v) return b;
  if (is_max ? a.v > b.v : a.v < b.v) return a;
  return b.arg < a.arg ? b : a;  // equal values: the first index
}

}  // namespace heed::cuda::red

// One thread pool for every CPU kernel, and the single thread-count knob that
// also sets OpenBLAS's threads (so the two never oversubscribe the cores).
#pragma once

#include <cstdint>
#include <functional>

namespace heed {

// Threads used by CPU kernels and OpenBLAS. Defaults to HEED_NUM_THREADS or
// the number of cores.
int get_num_threads();
void set_num_threads(int n);

// Calls fn(lo, hi) over [begin, end) split into contiguous chunks of at least
// `grain` iterations, on the pool. Runs inline when the range is small, when
// one thread is set, or when already inside a parallel_for (no nesting). The
// first exception thrown by a chunk is rethrown here.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

bool in_parallel_region();

// The pool's idle workers spin for a short while before they sleep, so that
// back-to-back kernels start without a wake-up. While a CoresLentScope is
// alive they sleep at once instead, leaving the cores to another library's
// threads (OpenBLAS, in gemm.cpp). HEED_SPIN_US sets the spin (default 500 µs).
class CoresLentScope {
 public:
  CoresLentScope();
  ~CoresLentScope();
  CoresLentScope(const CoresLentScope&) = delete;
  CoresLentScope& operator=(const CoresLentScope&) = delete;
};

}  // namespace heed

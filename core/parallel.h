// One thread pool for every CPU kernel, GEMMs included: OpenBLAS is held to
// one thread and called from the pool's threads (core/cpu/gemm.cpp), so two
// thread pools never fight over the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace heed {

// Threads used by CPU kernels. Defaults to HEED_NUM_THREADS or the number of
// cores.
int get_num_threads();
void set_num_threads(int n);

// Calls fn(lo, hi) over [begin, end) split into contiguous chunks of at least
// `grain` iterations, on the pool. Runs inline when the range is small, when
// one thread is set, or when already inside a parallel_for (no nesting). The
// first exception thrown by a chunk is rethrown here.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

bool in_parallel_region();

}  // namespace heed

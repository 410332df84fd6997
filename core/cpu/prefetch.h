// Software prefetch for kernels that stream whole tensors run by run.
#pragma once

#include <algorithm>
#include <cstdint>

namespace heed::cpu {

// The convolutions' layout copies and batch norm's passes stream tensors that
// the previous op has pushed out of L2, in runs (channel planes) of a page or
// less (4 KiB at 32×32), at each of which the hardware prefetcher stops and
// restarts. Asking for the bytes this far ahead of what is being read keeps
// the loads in flight across those boundaries (ResNet-20 inference, 2
// threads: 1-16 % more images/s, most when the machine's memory is busy).
constexpr int64_t kPrefetchAheadBytes = 4096;

// Prefetches the n elements kPrefetchAheadBytes past src, a cache line at a
// time. Prefetches never fault, so the addresses may lie past the end of the
// tensor; they are formed as integers, since a pointer that far out of its
// array would be undefined behaviour.
template <typename T>
inline void prefetch_ahead(const T* src, int64_t n) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(src) + uintptr_t(kPrefetchAheadBytes);
  for (int64_t b = 0; b < n * int64_t(sizeof(T)); b += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(p + uintptr_t(b)));
}

// body(i0, i1) over [0, n) in blocks of kBlock elements, each block's part of
// every non-null stream prefetched ahead first (the body's own loop stays
// free of prefetches, and so vectorisable).
template <int64_t kBlock = 64, typename Body, typename... T>
inline void for_prefetched_blocks(int64_t n, Body&& body, const T*... streams) {
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    ((streams ? prefetch_ahead(streams + i0, i1 - i0) : void()), ...);
    body(i0, i1);
  }
}

}  // namespace heed::cpu

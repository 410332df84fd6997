// Software prefetch for kernels that copy whole tensors row by row.
#pragma once

#include <cstdint>

namespace heed::cpu {

// The convolutions copy their input into a padded layout first, streaming a
// tensor that the previous op has pushed out of L2, in planes of a page or
// less (4 KiB at 32×32) at which the hardware prefetcher stops and restarts.
// Asking for the floats this far ahead of each copied row keeps the loads in
// flight across those page boundaries (ResNet-20 inference, 2 threads:
// 1-16 % more images/s, most when the machine's memory is busy).
constexpr int64_t kPrefetchAheadFloats = 1024;

// Prefetches the n floats kPrefetchAheadFloats past src (a line at a time;
// prefetches never fault, so reading past the end of the tensor is fine).
inline void prefetch_ahead(const float* src, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) __builtin_prefetch(src + kPrefetchAheadFloats + j);
}

}  // namespace heed::cpu

// The counter-based hash behind every random draw, shared by the CPU and the
// CUDA kernels (HEED_HOST_DEVICE makes it callable from device code), so a
// seed gives the same numbers on every device.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define HEED_HOST_DEVICE __host__ __device__
#else
#define HEED_HOST_DEVICE
#endif

namespace heed {

// splitmix64's finaliser over a Weyl sequence keyed by the seed, twice.
HEED_HOST_DEVICE constexpr uint64_t random_bits(uint64_t seed, uint64_t counter) {
  uint64_t z =
      seed * 0x9E3779B97F4A7C15ULL + counter * 0xBF58476D1CE4E5B9ULL + 0x94D049BB133111EBULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  // A second round decorrelates neighbouring seeds.
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// 53 random bits as a double in [0, 1) (exact: an integer below 2^53 times 2^-53).
HEED_HOST_DEVICE constexpr double random_unit(uint64_t seed, uint64_t counter) {
  return double(random_bits(seed, counter) >> 11) * 0x1.0p-53;
}

}  // namespace heed

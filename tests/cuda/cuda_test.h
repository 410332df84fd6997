// Helpers for the [cuda] tests: they need a CUDA device and skip with a
// one-line reason (Catch2 v2 has no SKIP: a WARN and an early return) when
// heed was built without CUDA or no driver/device is present.
#pragma once

#include <catch2/catch.hpp>

#include "core/cuda/cuda.h"

#define HEED_REQUIRE_CUDA()                                                           \
  do {                                                                                \
    if (!::heed::cuda::is_available()) {                                              \
      WARN("skipped: no CUDA device (" << ::heed::cuda::unavailable_reason() << ")"); \
      return;                                                                         \
    }                                                                                 \
  } while (0)

namespace heed::testing {

// Guard mode for the allocator while in scope (see cuda::set_allocator_guards).
struct CudaGuards {
  CudaGuards() { cuda::set_allocator_guards(true); }
  ~CudaGuards() { cuda::set_allocator_guards(false); }
  CudaGuards(const CudaGuards&) = delete;
  CudaGuards& operator=(const CudaGuards&) = delete;
};

}  // namespace heed::testing

// What the AVX-512 convolution kernels share (conv_kernels_avx512.cpp,
// conv_cout_avx512.cpp, conv_stencil_avx512.cpp): <immintrin.h> without the
// warnings GCC 12 raises about its own headers, and vector rounding.
#pragma once

#include <cstdint>

#include "core/cpu/isa.h"

#if HEED_X86_KERNELS
// GCC 12's AVX-512 headers read "undefined" registers that
// -Wuninitialized flags once inlined (e.g. in _mm512_reduce_add_ps).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace heed::cpu::conv {

// a rounded up to whole 16-float vectors.
constexpr int64_t round_up16(int64_t a) {
  return (a + 15) / 16 * 16;
}

}  // namespace heed::cpu::conv

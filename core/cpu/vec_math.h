// Vectorised float32 exp, log, tanh, sigmoid, erf and the activations built on
// them (GELU exact and tanh, SiLU, with gradients), for each ISA namespace of
// simd.h: heed::cpu::simd::{scalar, avx2, avx512}::vexp(Vf) and so on. The
// bodies and their measured accuracy are in vec_math_impl.inc. Callers use
// them from code compiled in the same ISA region (see pointwise_f32.cpp).
#pragma once

#include "core/cpu/simd.h"

#define HEED_SIMD_KERNELS "core/cpu/vec_math_impl.inc"
#include "core/cpu/simd_per_isa.inc"

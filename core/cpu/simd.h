// Thin float32 SIMD wrappers, one namespace per ISA with the same names, so a
// kernel or a math function is written once (in an .inc file) and compiled
// per ISA by core/cpu/simd_per_isa.inc, which includes it inside each
// namespace and its target region:
//
//   #define HEED_SIMD_KERNELS "core/cpu/my_kernels_impl.inc"
//   #include "core/cpu/simd_per_isa.inc"
//
// Every function below is inline and lives inside a target region, so the
// AVX2 / AVX-512 bodies compile even though the library's default flags
// exclude AVX-512 (see isa.h); callers choose the namespace from cpu_isa().
//
//   Vf            a vector of kWidth floats       Mf   a lane mask
//   load/store    full vectors; load_n/store_n the first n < kWidth lanes
//   first_n(n)    the mask of the first n lanes
//   select(m,a,b) m ? a : b per lane
//   first_true(m) the lowest set lane of m, kWidth when none
//   vmin/vmax     x86 semantics: the second operand when either is NaN
//   round_int     round to nearest even, result still a float
//   pow2i(n)      2^n for integral n in [-126, 127] (built from exponent bits)
//   split_exp     x = m * 2^e with m in [0.5, 1) for normal positive x
//   reduce_*      horizontal sum / max of the lanes
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "core/cpu/isa.h"

#if HEED_X86_KERNELS
#include <immintrin.h>
#endif

#if HEED_X86_KERNELS && defined(__clang__)
#define HEED_SIMD_BEGIN_AVX2 \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define HEED_SIMD_BEGIN_AVX512                                                                \
  _Pragma(                                                                                    \
      "clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2," \
      "fma\"))), apply_to = function)")
#define HEED_SIMD_END _Pragma("clang attribute pop")
#elif HEED_X86_KERNELS
// GCC 12 reports its own _mm512_undefined_* placeholders as maybe
// uninitialized once they are inlined here; those warnings are off in the regions.
#define HEED_SIMD_BEGIN_AVX2                                                                     \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")") _Pragma("GCC diagnostic push") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")                                \
          _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define HEED_SIMD_BEGIN_AVX512                                               \
  _Pragma("GCC push_options")                                                \
      _Pragma("GCC target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma\")") \
          _Pragma("GCC diagnostic push")                                     \
              _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")    \
                  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define HEED_SIMD_END _Pragma("GCC diagnostic pop") _Pragma("GCC pop_options")
#endif

// `return simd::<isa>::call;` for the ISA cpu_isa() picks, where a kernel
// file compiled its .inc once per ISA into simd::scalar / avx2 / avx512.
#if HEED_X86_KERNELS
#define HEED_SIMD_DISPATCH(call)              \
  switch (::heed::cpu::cpu_isa()) {           \
    case ::heed::cpu::Isa::Avx512:            \
      return ::heed::cpu::simd::avx512::call; \
    case ::heed::cpu::Isa::Avx2:              \
      return ::heed::cpu::simd::avx2::call;   \
    default:                                  \
      return ::heed::cpu::simd::scalar::call; \
  }
#else
#define HEED_SIMD_DISPATCH(call) return ::heed::cpu::simd::scalar::call;
#endif

// ------------------------------------------------------------------ scalar
namespace heed::cpu::simd::scalar {

inline constexpr int kWidth = 1;
struct Vf {
  float v;
};
using Mf = bool;

inline Vf set1(float x) {
  return {x};
}
inline Vf load(const float* p) {
  return {*p};
}
inline void store(float* p, Vf a) {
  *p = a.v;
}
inline Vf load_n(const float* p, int n) {
  return {n > 0 ? *p : 0.0f};
}
inline Mf first_n(int n) {
  return n > 0;
}
inline void store_n(float* p, Vf a, int n) {
  if (n > 0) *p = a.v;
}
inline Vf operator+(Vf a, Vf b) {
  return {a.v + b.v};
}
inline Vf operator-(Vf a, Vf b) {
  return {a.v - b.v};
}
inline Vf operator*(Vf a, Vf b) {
  return {a.v * b.v};
}
inline Vf operator/(Vf a, Vf b) {
  return {a.v / b.v};
}
inline Vf operator-(Vf a) {
  return {-a.v};
}
inline Vf fma(Vf a, Vf b, Vf c) {
  return {std::fma(a.v, b.v, c.v)};
}
inline Vf vmin(Vf a, Vf b) {
  return {a.v < b.v ? a.v : b.v};
}
inline Vf vmax(Vf a, Vf b) {
  return {a.v > b.v ? a.v : b.v};
}
inline Vf vabs(Vf a) {
  return {std::fabs(a.v)};
}
inline Vf vsqrt(Vf a) {
  return {std::sqrt(a.v)};
}
inline Mf operator<(Vf a, Vf b) {
  return a.v < b.v;
}
inline Mf operator<=(Vf a, Vf b) {
  return a.v <= b.v;
}
inline Mf operator>(Vf a, Vf b) {
  return a.v > b.v;
}
inline Mf operator>=(Vf a, Vf b) {
  return a.v >= b.v;
}
inline Mf operator==(Vf a, Vf b) {
  return a.v == b.v;
}
inline Mf is_nan(Vf a) {
  return a.v != a.v;
}
inline Mf mask_and(Mf a, Mf b) {
  return a && b;
}
inline Mf mask_or(Mf a, Mf b) {
  return a || b;
}
inline bool any(Mf m) {
  return m;
}
inline int first_true(Mf m) {
  return m ? 0 : 1;
}
inline Vf select(Mf m, Vf a, Vf b) {
  return m ? a : b;
}
inline Vf copysign(Vf mag, Vf sgn) {
  return {std::copysign(mag.v, sgn.v)};
}
inline Vf round_int(Vf a) {
  return {std::nearbyint(a.v)};
}
inline Vf pow2i(Vf n) {
  return {std::bit_cast<float>(uint32_t(int32_t(n.v) + 127) << 23)};
}
inline Vf split_exp(Vf x, Vf& e) {
  const uint32_t b = std::bit_cast<uint32_t>(x.v);
  e = {float(int32_t(b >> 23) - 126)};
  return {std::bit_cast<float>((b & 0x007fffffu) | 0x3f000000u)};
}
inline float reduce_add(Vf a) {
  return a.v;
}
inline float reduce_max(Vf a) {
  return a.v;
}

}  // namespace heed::cpu::simd::scalar

#if HEED_X86_KERNELS
// -------------------------------------------------------------------- AVX2
HEED_SIMD_BEGIN_AVX2
namespace heed::cpu::simd::avx2 {

inline constexpr int kWidth = 8;
struct Vf {
  __m256 v;
};
struct Mf {
  __m256 m;
};

inline __m256i lanes_below(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline Vf set1(float x) {
  return {_mm256_set1_ps(x)};
}
inline Vf load(const float* p) {
  return {_mm256_loadu_ps(p)};
}
inline void store(float* p, Vf a) {
  _mm256_storeu_ps(p, a.v);
}
inline Vf load_n(const float* p, int n) {
  return {_mm256_maskload_ps(p, lanes_below(n))};
}
inline Mf first_n(int n) {
  return {_mm256_castsi256_ps(lanes_below(n))};
}
inline void store_n(float* p, Vf a, int n) {
  _mm256_maskstore_ps(p, lanes_below(n), a.v);
}
inline Vf operator+(Vf a, Vf b) {
  return {_mm256_add_ps(a.v, b.v)};
}
inline Vf operator-(Vf a, Vf b) {
  return {_mm256_sub_ps(a.v, b.v)};
}
inline Vf operator*(Vf a, Vf b) {
  return {_mm256_mul_ps(a.v, b.v)};
}
inline Vf operator/(Vf a, Vf b) {
  return {_mm256_div_ps(a.v, b.v)};
}
inline Vf operator-(Vf a) {
  return {_mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f))};
}
inline Vf fma(Vf a, Vf b, Vf c) {
  return {_mm256_fmadd_ps(a.v, b.v, c.v)};
}
inline Vf vmin(Vf a, Vf b) {
  return {_mm256_min_ps(a.v, b.v)};
}
inline Vf vmax(Vf a, Vf b) {
  return {_mm256_max_ps(a.v, b.v)};
}
inline Vf vabs(Vf a) {
  return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)};
}
inline Vf vsqrt(Vf a) {
  return {_mm256_sqrt_ps(a.v)};
}
inline Mf operator<(Vf a, Vf b) {
  return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)};
}
inline Mf operator<=(Vf a, Vf b) {
  return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)};
}
inline Mf operator>(Vf a, Vf b) {
  return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)};
}
inline Mf operator>=(Vf a, Vf b) {
  return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)};
}
inline Mf operator==(Vf a, Vf b) {
  return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)};
}
inline Mf is_nan(Vf a) {
  return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)};
}
inline Mf mask_and(Mf a, Mf b) {
  return {_mm256_and_ps(a.m, b.m)};
}
inline Mf mask_or(Mf a, Mf b) {
  return {_mm256_or_ps(a.m, b.m)};
}
inline bool any(Mf m) {
  return _mm256_movemask_ps(m.m) != 0;
}
inline int first_true(Mf m) {
  return std::countr_zero(unsigned(_mm256_movemask_ps(m.m)) | (1u << kWidth));
}
inline Vf select(Mf m, Vf a, Vf b) {
  return {_mm256_blendv_ps(b.v, a.v, m.m)};
}
inline Vf copysign(Vf mag, Vf sgn) {
  const __m256 s = _mm256_set1_ps(-0.0f);
  return {_mm256_or_ps(_mm256_andnot_ps(s, mag.v), _mm256_and_ps(s, sgn.v))};
}
inline Vf round_int(Vf a) {
  return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
inline Vf pow2i(Vf n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
}
inline Vf split_exp(Vf x, Vf& e) {
  const __m256i b = _mm256_castps_si256(x.v);
  e = {_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(126)))};
  const __m256i m = _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32(0x007fffff)),
                                    _mm256_set1_epi32(0x3f000000));
  return {_mm256_castsi256_ps(m)};
}
inline float reduce_add(Vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float reduce_max(Vf a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace heed::cpu::simd::avx2
HEED_SIMD_END

// ------------------------------------------------------------------ AVX-512
HEED_SIMD_BEGIN_AVX512
namespace heed::cpu::simd::avx512 {

inline constexpr int kWidth = 16;
struct Vf {
  __m512 v;
};
struct Mf {
  __mmask16 m;
};

inline __mmask16 lanes_below(int n) {
  return __mmask16((1u << n) - 1u);
}
inline Vf set1(float x) {
  return {_mm512_set1_ps(x)};
}
inline Vf load(const float* p) {
  return {_mm512_loadu_ps(p)};
}
inline void store(float* p, Vf a) {
  _mm512_storeu_ps(p, a.v);
}
inline Vf load_n(const float* p, int n) {
  return {_mm512_maskz_loadu_ps(lanes_below(n), p)};
}
inline Mf first_n(int n) {
  return {lanes_below(n)};
}
inline void store_n(float* p, Vf a, int n) {
  _mm512_mask_storeu_ps(p, lanes_below(n), a.v);
}
inline Vf operator+(Vf a, Vf b) {
  return {_mm512_add_ps(a.v, b.v)};
}
inline Vf operator-(Vf a, Vf b) {
  return {_mm512_sub_ps(a.v, b.v)};
}
inline Vf operator*(Vf a, Vf b) {
  return {_mm512_mul_ps(a.v, b.v)};
}
inline Vf operator/(Vf a, Vf b) {
  return {_mm512_div_ps(a.v, b.v)};
}
inline Vf operator-(Vf a) {
  return {_mm512_xor_ps(a.v, _mm512_set1_ps(-0.0f))};
}
inline Vf fma(Vf a, Vf b, Vf c) {
  return {_mm512_fmadd_ps(a.v, b.v, c.v)};
}
inline Vf vmin(Vf a, Vf b) {
  return {_mm512_min_ps(a.v, b.v)};
}
inline Vf vmax(Vf a, Vf b) {
  return {_mm512_max_ps(a.v, b.v)};
}
inline Vf vabs(Vf a) {
  return {_mm512_abs_ps(a.v)};
}
inline Vf vsqrt(Vf a) {
  return {_mm512_sqrt_ps(a.v)};
}
inline Mf operator<(Vf a, Vf b) {
  return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)};
}
inline Mf operator<=(Vf a, Vf b) {
  return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)};
}
inline Mf operator>(Vf a, Vf b) {
  return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)};
}
inline Mf operator>=(Vf a, Vf b) {
  return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)};
}
inline Mf operator==(Vf a, Vf b) {
  return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)};
}
inline Mf is_nan(Vf a) {
  return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)};
}
inline Mf mask_and(Mf a, Mf b) {
  return {__mmask16(a.m & b.m)};
}
inline Mf mask_or(Mf a, Mf b) {
  return {__mmask16(a.m | b.m)};
}
inline bool any(Mf m) {
  return m.m != 0;
}
inline int first_true(Mf m) {
  return std::countr_zero(unsigned(m.m) | (1u << kWidth));
}
inline Vf select(Mf m, Vf a, Vf b) {
  return {_mm512_mask_blend_ps(m.m, b.v, a.v)};
}
inline Vf copysign(Vf mag, Vf sgn) {
  // imm 0xAC: signmask ? sgn : mag, bitwise per lane.
  const __m512i s = _mm512_set1_epi32(int(0x80000000u));
  return {_mm512_castsi512_ps(
      _mm512_ternarylogic_epi32(s, _mm512_castps_si512(mag.v), _mm512_castps_si512(sgn.v), 0xAC))};
}
inline Vf round_int(Vf a) {
  return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
inline Vf pow2i(Vf n) {
  const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
  return {_mm512_castsi512_ps(_mm512_slli_epi32(e, 23))};
}
inline Vf split_exp(Vf x, Vf& e) {
  const __m512i b = _mm512_castps_si512(x.v);
  e = {_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(b, 23), _mm512_set1_epi32(126)))};
  const __m512i m = _mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi32(0x007fffff)),
                                    _mm512_set1_epi32(0x3f000000));
  return {_mm512_castsi512_ps(m)};
}
inline float reduce_add(Vf a) {
  return _mm512_reduce_add_ps(a.v);
}
inline float reduce_max(Vf a) {
  return _mm512_reduce_max_ps(a.v);
}

}  // namespace heed::cpu::simd::avx512
HEED_SIMD_END
#endif  // HEED_X86_KERNELS

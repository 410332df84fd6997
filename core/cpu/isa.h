// Which SIMD instruction set the hand-written CPU kernels may use, chosen at
// run time from what the CPU supports, capped by HEED_CPU_ISA (scalar, avx2,
// avx512) so tests and users can force the portable paths on any machine.
//
// The library is built with -mno-avx512f on GCC (g++ 12.2 miscompiles some
// auto-vectorised code under AVX-512), so AVX-512 kernels are written with
// intrinsics inside functions marked HEED_TARGET_AVX512 and are only called
// when cpu_isa() says so.
#pragma once

namespace heed::cpu {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best ISA this CPU supports, capped by HEED_CPU_ISA and by
// set_cpu_isa_cap(). Cheap: reads a cached value.
Isa cpu_isa();
// Caps cpu_isa() (for tests that compare every path on one machine).
// Returns the previous cap.
Isa set_cpu_isa_cap(Isa cap);
const char* isa_name(Isa isa);

// RAII: runs a scope with cpu_isa() capped at `cap`.
class IsaCapGuard {
 public:
  explicit IsaCapGuard(Isa cap) : previous_(set_cpu_isa_cap(cap)) {}
  ~IsaCapGuard() { set_cpu_isa_cap(previous_); }
  IsaCapGuard(const IsaCapGuard&) = delete;
  IsaCapGuard& operator=(const IsaCapGuard&) = delete;

 private:
  Isa previous_;
};

}  // namespace heed::cpu

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HEED_X86_KERNELS 1
#define HEED_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define HEED_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#else
#define HEED_X86_KERNELS 0
#define HEED_TARGET_AVX2
#define HEED_TARGET_AVX512
#endif

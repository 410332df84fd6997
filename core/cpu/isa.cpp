#include "core/cpu/isa.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace heed::cpu {
namespace {

Isa detect_hardware() {
#if HEED_X86_KERNELS
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

// HEED_CPU_ISA caps the hardware's ISA; an unknown value is reported once and ignored.
Isa env_cap() {
  const char* v = std::getenv("HEED_CPU_ISA");
  if (!v || !*v) return Isa::Avx512;
  if (!std::strcmp(v, "scalar")) return Isa::Scalar;
  if (!std::strcmp(v, "avx2")) return Isa::Avx2;
  if (!std::strcmp(v, "avx512")) return Isa::Avx512;
  std::fprintf(stderr, "heed: ignoring HEED_CPU_ISA=%s (expected scalar, avx2 or avx512)\n", v);
  return Isa::Avx512;
}

Isa min_isa(Isa a, Isa b) {
  return int(a) < int(b) ? a : b;
}

std::atomic<int> g_cap{int(Isa::Avx512)};

}  // namespace

Isa cpu_isa() {
  static const Isa hardware = min_isa(detect_hardware(), env_cap());
  return min_isa(hardware, Isa(g_cap.load(std::memory_order_relaxed)));
}

Isa set_cpu_isa_cap(Isa cap) {
  return Isa(g_cap.exchange(int(cap)));
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx2:
      return "avx2";
    case Isa::Scalar:
      return "scalar";
  }
  return "?";
}

}  // namespace heed::cpu

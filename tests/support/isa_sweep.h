// Runs a check under every ISA cap (scalar, AVX2, AVX-512; a cap above what
// the CPU has runs the best it has) with 1 and 2 threads, restoring the
// thread count afterwards: for kernels whose per-ISA code and whose split
// among threads must both be covered.
#pragma once

#include <catch2/catch.hpp>

#include "core/cpu/isa.h"
#include "core/parallel.h"

namespace heed::testing {

template <typename Fn>
void for_each_isa_and_thread_count(Fn&& check) {
  const int threads = get_num_threads();
  for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
    cpu::IsaCapGuard cap(isa);
    INFO("isa cap " << cpu::isa_name(isa) << ", running " << cpu::isa_name(cpu::cpu_isa()));
    for (int t : {1, 2}) {
      INFO(t << " thread(s)");
      set_num_threads(t);
      check();
    }
  }
  set_num_threads(threads);
}

}  // namespace heed::testing

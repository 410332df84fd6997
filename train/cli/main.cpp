// The `heed` program: see train/command.h.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "train/command.h"

namespace {

// Debian's OpenBLAS 0.3.21 does not recognise recent CPUs (e.g. Zen 4) and
// falls back to generic kernels 3-4x slower; the kernel set is read from
// OPENBLAS_CORETYPE when the library loads, before main. So when it is unset,
// set it as scripts/env.sh does and start this program again.
void choose_openblas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* core = nullptr;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    core = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    core = "Haswell";
#endif
  if (core == nullptr) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on as we are
}

}  // namespace

int main(int argc, char** argv) {
  choose_openblas_kernels(argv);
  std::vector<std::string> args(argv, argv + argc);
  return heed::train::run_command_line(args);
}

// What the BLAS library reports about itself.
#pragma once

#include <string>

namespace heed {

// OpenBLAS's kernel set for this CPU (e.g. "SkylakeX", "Haswell", "Prescott").
std::string blas_core_name();
// OpenBLAS's build configuration string.
std::string blas_config();

}  // namespace heed

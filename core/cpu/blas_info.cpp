#include "core/blas_info.h"

#include <cblas.h>

namespace heed {

std::string blas_core_name() {
  return openblas_get_corename();
}
std::string blas_config() {
  return openblas_get_config();
}

}  // namespace heed

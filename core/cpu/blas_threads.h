// OpenBLAS held to one thread while our own pool splits a batch of small
// products: OpenBLAS's threads would split each product with more
// synchronisation than work, and must not run inside our parallel_for.
#pragma once

#include <cblas.h>

#include "core/parallel.h"

namespace heed::cpu {

class OneBlasThreadScope {
 public:
  OneBlasThreadScope() { openblas_set_num_threads(1); }
  ~OneBlasThreadScope() { openblas_set_num_threads(get_num_threads()); }
  OneBlasThreadScope(const OneBlasThreadScope&) = delete;
  OneBlasThreadScope& operator=(const OneBlasThreadScope&) = delete;
};

}  // namespace heed::cpu

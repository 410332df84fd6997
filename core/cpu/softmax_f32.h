// Vectorised float32 softmax / log_softmax rows (the last dim), forward and
// backward, compiled per ISA (softmax_f32_impl.inc) and picked from
// cpu_isa(). Rows are independent; callers split them across threads.
#pragma once

#include <cstdint>

namespace heed::cpu {

struct SoftmaxF32Kernels {
  // y = softmax(x) (or log_softmax) over each of `rows` rows of length D.
  void (*forward)(float* y, const float* x, int64_t rows, int64_t D, bool log);
  // softmax: gx = y (g - sum(g y)); log_softmax: gx = g - exp(y) sum(g).
  void (*backward)(float* gx, const float* g, const float* y, int64_t rows, int64_t D, bool log);
};

const SoftmaxF32Kernels& softmax_f32_kernels();

}  // namespace heed::cpu

// What a float32 convolution does to its output while it is still in cache:
// y = relu(y + residual) (or relu(y) without a residual). The fast forwards
// (conv_shifted.cpp, conv_cout_avx512.cpp) write each task's images, then
// run the epilogue on them before moving on, so a block's
// relu(conv + shortcut) costs no extra pass over memory.
#pragma once

#include <cstdint>

namespace heed::cpu::conv {

struct OutputEpilogue {
  const float* residual = nullptr;  // the output's shape, contiguous; null: none
  bool relu = false;                // off: the epilogue does nothing

  // Elements [offset, offset + n) of the output y.
  void operator()(float* y, int64_t offset, int64_t n) const;
};

}  // namespace heed::cpu::conv

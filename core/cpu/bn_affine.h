// Batch norm's output as an affine map of its input per channel, from the
// saved statistics: y = (x - mean[c])·scale[c] + shift[c] with scale =
// invstd·weight and shift = bias. The fused kernels that recompute y from x
// instead of storing it (norm.cpp, norm_cbam.cpp) share it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace heed::cpu {

template <typename T>
struct BnAffine {
  std::vector<T> mean, scale, shift;
  // weight / bias (C) may be undefined (1 / 0); all contiguous.
  BnAffine(int64_t C, const Tensor& weight, const Tensor& bias, const Tensor& save_mean,
           const Tensor& save_invstd)
      : mean(size_t(C)), scale(size_t(C)), shift(size_t(C)) {
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;
    const T* b = bias.defined() ? bias.data_ptr<T>() : nullptr;
    const T* m = save_mean.data_ptr<T>();
    const T* is = save_invstd.data_ptr<T>();
    for (int64_t c = 0; c < C; ++c) {
      mean[size_t(c)] = m[c];
      scale[size_t(c)] = T(double(is[c]) * double(w ? w[c] : T(1)));
      shift[size_t(c)] = b ? b[c] : T(0);
    }
  }
};

}  // namespace heed::cpu

#include "data/image.h"

#include <cstring>

#include "core/check.h"

namespace heed::data {

Tensor Image::to_tensor() const {
  Tensor t = empty({channels, height, width}, kFloat32);
  if (numel() > 0) std::memcpy(t.data_ptr<float>(), data.data(), size_t(numel()) * sizeof(float));
  return t;
}

void Image::assign(const Tensor& chw) {
  HEED_CHECK(chw.dim() == 3, "Image: expected a (C, H, W) tensor, got shape ",
             shape_str(chw.shape()));
  HEED_CHECK(chw.is_floating_point(), "Image: expected a floating tensor, got ", chw.dtype());
  reshape(chw.size(0), chw.size(1), chw.size(2));
  if (chw.dtype() == kFloat32 && chw.is_contiguous() && chw.device().is_cpu()) {
    if (numel() > 0) std::memcpy(data.data(), chw.data_ptr<float>(), size_t(numel()) * 4);
    return;
  }
  std::vector<float> v = chw.to_vector<float>();
  data.assign(v.begin(), v.end());
}

void Image::assign_hwc(const uint8_t* hwc, int64_t c, int64_t h, int64_t w) {
  reshape(c, h, w);
  const int64_t hw = h * w;
  for (int64_t ch = 0; ch < c; ++ch) {
    float* dst = plane(ch);
    const uint8_t* src = hwc + ch;
    for (int64_t i = 0; i < hw; ++i) dst[i] = float(src[i * c]);
  }
}

void Image::assign_chw(const uint8_t* chw, int64_t c, int64_t h, int64_t w) {
  reshape(c, h, w);
  const int64_t n = c * h * w;
  float* dst = data.data();
  for (int64_t i = 0; i < n; ++i) dst[i] = float(chw[i]);
}

}  // namespace heed::data

// Images in the data layer: the float buffer transforms work on, and the
// checked decoder (PNG/JPEG/BMP via stb_image) that ImageFolder uses.
//
// Pixel values: every dataset yields images whose values are the raw 0..255
// bytes stored as float32 ("uint8-valued"); transforms::ToFloat scales them
// to [0, 1]. This keeps datasets exact and lets augmentation run before the
// scaling, as torchvision does on PIL images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace heed::data {

// One image being loaded and transformed: (C, H, W) float32 planes in one
// buffer. A loader worker reuses one Image for every sample, so once the
// vectors have grown nothing is allocated per sample; `scratch` is where a
// transform that changes the size writes before swapping it with `data`.
struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> data;  // (C, H, W)
  std::vector<float> scratch;

  void reshape(int64_t c, int64_t h, int64_t w) {
    channels = c;
    height = h;
    width = w;
    data.resize(size_t(c * h * w));
  }
  int64_t numel() const { return channels * height * width; }
  Shape shape() const { return {channels, height, width}; }
  float* plane(int64_t c) { return data.data() + c * height * width; }
  const float* plane(int64_t c) const { return data.data() + c * height * width; }

  // A new contiguous (C, H, W) float32 tensor holding a copy of the pixels.
  Tensor to_tensor() const;
  // Copies a (C, H, W) floating tensor (any strides) into this image.
  void assign(const Tensor& chw);
  // Fills from `count` interleaved (H, W, C) bytes, as decoders produce.
  void assign_hwc(const uint8_t* hwc, int64_t c, int64_t h, int64_t w);
  // Fills from planar (C, H, W) bytes, as CIFAR and IDX store them.
  void assign_chw(const uint8_t* chw, int64_t c, int64_t h, int64_t w);
};

struct ImageSize {
  int64_t height = 0, width = 0;
};

// A decoded image: interleaved (H, W, C) bytes.
struct DecodedImage {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // (H, W, C)
};

struct DecodeOptions {
  // 1 (gray) or 3 (RGB): the decoder converts; 0 keeps the file's own
  // channel count (1..4).
  int channels = 3;
  // Images with more pixels are rejected before any pixel is decoded.
  int64_t max_pixels = int64_t(1) << 25;
};

// The header facts stb_image reads without decoding pixels.
struct ImageInfo {
  int64_t width = 0, height = 0, channels = 0;
  const char* format = "";  // "PNG", "JPEG" or "BMP"
};

// Reads the header of an in-memory PNG/JPEG/BMP file; throws heed::Error
// naming `source` when it is not one (or is corrupt or too large).
ImageInfo image_info(const uint8_t* bytes, size_t size, std::string_view source,
                     int64_t max_pixels = DecodeOptions{}.max_pixels);

// Decodes an in-memory PNG/JPEG/BMP file. Checks the header (format and
// size against options.max_pixels) before decoding any pixel; throws
// heed::Error naming `source` and what is wrong.
DecodedImage decode_image(const uint8_t* bytes, size_t size, std::string_view source,
                          const DecodeOptions& options = {});

enum class Interpolation { Nearest, Bilinear };

// Resizes interleaved (H, W, C) bytes, like torch.nn.functional.interpolate
// with align_corners=False and no antialiasing: nearest takes source index
// floor(dst * in / out); bilinear samples at (dst + 0.5) * in / out - 0.5
// (clamped at 0) and rounds to the nearest byte.
DecodedImage resize_image(const DecodedImage& image, int64_t height, int64_t width,
                          Interpolation interpolation);

}  // namespace heed::data

// The one translation unit that compiles stb_image (Debian's libstb-dev,
// v2.27). That version predates upstream security fixes, so: only the PNG,
// JPEG and BMP decoders are built, dimensions are capped, every header is
// checked with stbi_info before a pixel is decoded, and the functions stay
// static (no clash with a user's own copy of stb_image). fuzz/fuzz_image.cpp
// drives decode_image with libFuzzer.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/check.h"
#include "data/image.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 14)
#include <stb/stb_image.h>

namespace heed::data {
namespace {

const char* sniff_format(const uint8_t* b, size_t n) {
  if (n >= 8 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "JPEG";
  if (n >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
  return nullptr;
}

const char* reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown error";
}

}  // namespace

ImageInfo image_info(const uint8_t* bytes, size_t size, std::string_view source,
                     int64_t max_pixels) {
  HEED_CHECK(size > 0, "image: ", source, ": the file is empty");
  HEED_CHECK(size <= size_t(INT_MAX), "image: ", source, ": the file is ", size,
             " bytes, over the 2 GiB the decoder accepts");
  const char* format = sniff_format(bytes, size);
  HEED_CHECK(format != nullptr, "image: ", source,
             ": not a PNG, JPEG or BMP image (unrecognised file signature)");
  int w = 0, h = 0, c = 0;
  HEED_CHECK(stbi_info_from_memory(bytes, int(size), &w, &h, &c) == 1, "image: ", source,
             ": corrupt or unsupported ", format, " header (", reason(), ")");
  HEED_CHECK(w > 0 && h > 0 && c >= 1 && c <= 4, "image: ", source, ": invalid ", format,
             " header (", w, "x", h, ", ", c, " channels)");
  const int64_t pixels = int64_t(w) * int64_t(h);
  HEED_CHECK(pixels <= max_pixels, "image: ", source, ": ", w, "x", h, " = ", pixels,
             " pixels is over the limit of ", max_pixels, " pixels");
  return {w, h, c, format};
}

DecodedImage decode_image(const uint8_t* bytes, size_t size, std::string_view source,
                          const DecodeOptions& options) {
  HEED_CHECK(options.channels >= 0 && options.channels <= 4 && options.channels != 2,
             "image: DecodeOptions::channels must be 0, 1, 3 or 4, got ", options.channels);
  const ImageInfo info = image_info(bytes, size, source, options.max_pixels);
  int w = 0, h = 0, c = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes, int(size), &w, &h, &c, options.channels), stbi_image_free);
  HEED_CHECK(pixels != nullptr, "image: ", source, ": cannot decode ", info.format, " data (",
             reason(), ")");
  // The header said one size; the decoder must agree before we trust it.
  HEED_CHECK(w == info.width && h == info.height, "image: ", source, ": ", info.format,
             " header says ", info.width, "x", info.height, " but decoding gave ", w, "x", h);
  DecodedImage out;
  out.width = w;
  out.height = h;
  out.channels = options.channels ? options.channels : c;
  const size_t n = size_t(w) * size_t(h) * size_t(out.channels);
  out.pixels.assign(pixels.get(), pixels.get() + n);
  return out;
}

DecodedImage resize_image(const DecodedImage& in, int64_t height, int64_t width,
                          Interpolation interpolation) {
  HEED_CHECK(height > 0 && width > 0, "resize_image: target size must be positive, got ", height,
             "x", width);
  HEED_CHECK(in.height > 0 && in.width > 0 && in.channels > 0 &&
                 int64_t(in.pixels.size()) == in.height * in.width * in.channels,
             "resize_image: invalid source image ", in.width, "x", in.height, "x", in.channels);
  const int64_t C = in.channels, IH = in.height, IW = in.width;
  DecodedImage out;
  out.height = height;
  out.width = width;
  out.channels = C;
  out.pixels.resize(size_t(height * width * C));
  const uint8_t* src = in.pixels.data();
  uint8_t* dst = out.pixels.data();

  if (interpolation == Interpolation::Nearest) {
    std::vector<int64_t> sx(static_cast<size_t>(width));
    for (int64_t x = 0; x < width; ++x) sx[size_t(x)] = std::min(x * IW / width, IW - 1);
    for (int64_t y = 0; y < height; ++y) {
      const int64_t sy = std::min(y * IH / height, IH - 1);
      for (int64_t x = 0; x < width; ++x)
        for (int64_t c = 0; c < C; ++c)
          dst[(y * width + x) * C + c] = src[(sy * IW + sx[size_t(x)]) * C + c];
    }
    return out;
  }

  // Bilinear, half-pixel centres: source = (dst + 0.5) * in / out - 0.5, >= 0.
  struct Tap {
    int64_t i0, i1;
    double frac;
  };
  auto taps = [](int64_t out_n, int64_t in_n) {
    std::vector<Tap> t(static_cast<size_t>(out_n));
    const double scale = double(in_n) / double(out_n);
    for (int64_t d = 0; d < out_n; ++d) {
      double s = std::max(0.0, (double(d) + 0.5) * scale - 0.5);
      int64_t i0 = std::min(int64_t(s), in_n - 1);
      t[size_t(d)] = {i0, std::min(i0 + 1, in_n - 1), s - double(i0)};
    }
    return t;
  };
  const std::vector<Tap> ty = taps(height, IH), tx = taps(width, IW);
  for (int64_t y = 0; y < height; ++y) {
    const Tap& a = ty[size_t(y)];
    const uint8_t* r0 = src + a.i0 * IW * C;
    const uint8_t* r1 = src + a.i1 * IW * C;
    for (int64_t x = 0; x < width; ++x) {
      const Tap& b = tx[size_t(x)];
      for (int64_t c = 0; c < C; ++c) {
        double top = r0[b.i0 * C + c] * (1 - b.frac) + r0[b.i1 * C + c] * b.frac;
        double bot = r1[b.i0 * C + c] * (1 - b.frac) + r1[b.i1 * C + c] * b.frac;
        double v = top * (1 - a.frac) + bot * a.frac;
        dst[(y * width + x) * C + c] = uint8_t(std::min(255.0, std::floor(v + 0.5)));
      }
    }
  }
  return out;
}

}  // namespace heed::data

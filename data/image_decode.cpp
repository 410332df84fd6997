// The one translation unit that compiles stb_image (Debian's libstb-dev,
// v2.27). That version predates upstream security fixes, so: only the PNG,
// JPEG and BMP decoders are built, dimensions are capped, every header is
// checked with stbi_info before a pixel is decoded, and the functions stay
// static (no clash with a user's own copy of stb_image). fuzz/fuzz_image.cpp
// drives decode_image with libFuzzer.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/check.h"
#include "data/image.h"

// Zeroed allocations, as defence in depth: v2.27's JPEG decoder read Huffman
// tables that a file uses but never defines from uninitialised memory (found
// by fuzz_image: nondeterministic results, a failed internal assert).
// JpegWalker below now rejects such files; zeroed memory keeps any other
// read of unset decoder state deterministic.
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
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

// Walks a JPEG's markers the way stb_image 2.27 does (stbi__decode_jpeg_header,
// stbi__decode_jpeg_image, stbi__process_marker) and reports what that
// version mishandles, found by fuzz_image:
//  - a Huffman table with more than 256 codes: stbi__build_huffman writes past
//    its 257-entry size table (checked upstream since 2.28);
//  - a scan that decodes with a Huffman table no DHT defined: the decoder
//    then indexes past the table's arrays.
// It over-approximates stb: where stb would stop with an error the walk may
// go on, which can only find more, never miss a table stb would build.
class JpegWalker {
 public:
  JpegWalker(const uint8_t* b, size_t n) : b_(b), n_(n) {}

  // An empty string when stb can be given the file.
  std::string check() {
    if (get_marker() != 0xD8) return {};  // no SOI: stb rejects it
    int m = get_marker();
    while (!(m == 0xC0 || m == 0xC1 || m == 0xC2)) {  // up to the frame header (SOF)
      if (!process(m)) return problem_;
      m = get_marker();
      while (m == kNone) {
        if (pos_ >= n_) return problem_;
        m = get_marker();
      }
    }
    progressive_ = m == 0xC2;
    if (!frame_header()) return problem_;
    m = get_marker();
    while (m != 0xD9) {  // up to EOI
      if (m == 0xDA) {
        if (!scan()) return problem_;
      } else if (m == 0xDC) {  // DNL
        if (get16() != 4) return problem_;
        get16();
      } else if (!process(m)) {
        return problem_;
      }
      m = get_marker();
    }
    return problem_;
  }

 private:
  static constexpr int kNone = 0xFF;

  int get8() { return pos_ < n_ ? b_[pos_++] : 0; }
  int get16() {
    int h = get8();
    return (h << 8) | get8();
  }
  void skip(int64_t k) { pos_ = k < 0 || size_t(k) > n_ - pos_ ? n_ : pos_ + size_t(k); }
  int get_marker() {
    if (marker_ != kNone) {
      int x = marker_;
      marker_ = kNone;
      return x;
    }
    int x = get8();
    if (x != 0xFF) return kNone;
    while (x == 0xFF) x = get8();
    return x;
  }

  // false: stop (stb would fail here, or problem_ is set)
  bool process(int m) {
    if (m == 0xDD) {  // DRI
      if (get16() != 4) return false;
      get16();
      return true;
    }
    if (m == 0xDB) {  // DQT
      int L = get16() - 2;
      while (L > 0) {
        const int q = get8(), p = q >> 4, t = q & 15;
        if (p > 1 || t > 3) return false;
        skip(p ? 128 : 64);
        L -= p ? 129 : 65;
      }
      return L == 0;
    }
    if (m == 0xC4) {  // DHT
      int L = get16() - 2;
      while (L > 0) {
        const int q = get8(), tc = q >> 4, th = q & 15;
        if (tc > 1 || th > 3) return false;
        int count = 0;
        for (int i = 0; i < 16; ++i) count += get8();
        if (count > 256) {
          problem_ = "a Huffman table defines " + std::to_string(count) + " codes (at most 256)";
          return false;
        }
        defined_[tc][th] = true;
        skip(count);
        L -= 17 + count;
      }
      return L == 0;
    }
    if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {  // APPn, COM
      const int L = get16();
      if (L < 2) return false;
      skip(L - 2);
      return true;
    }
    return false;  // stb: "unknown marker"
  }

  bool frame_header() {
    const int Lf = get16();
    get8();   // precision
    get16();  // height
    get16();  // width
    ncomp_ = get8();
    if (ncomp_ != 1 && ncomp_ != 3 && ncomp_ != 4) return false;
    if (Lf != 8 + 3 * ncomp_) return false;
    for (int i = 0; i < ncomp_; ++i) {
      ids_[i] = get8();
      get8();  // sampling factors
      get8();  // quantisation table
    }
    return true;
  }

  bool scan() {
    const int Ls = get16(), count = get8();
    if (count < 1 || count > 4 || count > ncomp_ || Ls != 6 + 2 * count) return false;
    int dc[4], ac[4];
    for (int i = 0; i < count; ++i) {
      const int id = get8(), q = get8();
      bool found = false;
      for (int c = 0; c < ncomp_; ++c) found = found || ids_[c] == id;
      if (!found) return false;
      dc[i] = q >> 4;
      ac[i] = q & 15;
      if (dc[i] > 3 || ac[i] > 3) return false;
    }
    const int spec_start = get8();
    get8();  // spectral end
    const int succ_high = get8() >> 4;
    // The tables this scan decodes with (see stbi__parse_entropy_coded_data).
    const bool uses_dc = !progressive_ || (spec_start == 0 && succ_high == 0);
    const bool uses_ac = !progressive_ || spec_start != 0;
    for (int i = 0; i < count; ++i) {
      if ((uses_dc && !defined_[0][dc[i]]) || (uses_ac && !defined_[1][ac[i]])) {
        problem_ = "a scan uses a Huffman table that no DHT segment defines";
        return false;
      }
    }
    // Entropy-coded data runs to the next marker; RSTn markers are part of it.
    while (pos_ < n_) {
      if (get8() != 0xFF) continue;
      int c = get8();
      while (c == 0xFF) c = get8();
      if (c != 0 && !(c >= 0xD0 && c <= 0xD7)) {
        marker_ = c;
        break;
      }
    }
    return true;
  }

  const uint8_t* b_;
  size_t n_;
  size_t pos_ = 0;
  int marker_ = kNone;
  bool defined_[2][4] = {};
  bool progressive_ = false;
  int ncomp_ = 0;
  int ids_[4] = {};
  std::string problem_;
};

// stb_image 2.27 grows its IDAT buffer to the length a chunk header declares
// before checking the bytes exist, so a 100-byte file can make it allocate
// 2 GiB (found by fuzz_image). Every chunk up to IEND must fit in the file.
std::string check_png_chunks(const uint8_t* b, size_t n) {
  size_t pos = 8;  // after the signature
  while (n - pos >= 8) {
    const uint32_t len = uint32_t(b[pos]) << 24 | uint32_t(b[pos + 1]) << 16 |
                         uint32_t(b[pos + 2]) << 8 | uint32_t(b[pos + 3]);
    const std::string type(reinterpret_cast<const char*>(b + pos + 4), 4);
    const size_t left = n - pos - 8;
    if (len > left) {
      std::string clean;
      for (char ch : type) clean += (ch >= 32 && ch < 127) ? ch : '?';
      return "chunk '" + clean + "' declares " + std::to_string(len) + " bytes but only " +
             std::to_string(left) + " follow (truncated file?)";
    }
    if (type == "IEND") break;
    pos += 8 + size_t(len) + std::min<size_t>(4, left - len);  // data, then the CRC
  }
  return {};
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
  if (format[0] == 'J') {
    const std::string problem = JpegWalker(bytes, size).check();
    HEED_CHECK(problem.empty(), "image: ", source, ": corrupt JPEG: ", problem);
  }
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
  const char* format = info.format;
  if (format[0] == 'P') {
    const std::string problem = check_png_chunks(bytes, size);
    HEED_CHECK(problem.empty(), "image: ", source, ": corrupt PNG: ", problem);
  }
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

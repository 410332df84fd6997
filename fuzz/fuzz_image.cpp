// libFuzzer target: decode_image (stb_image behind header checks) and
// resize_image. Byte 0 picks the channel count, the resize target and the
// interpolation; the rest is the file.
#include <cstddef>
#include <cstdint>

#include "core/check.h"
#include "data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const int kChannels[4] = {0, 1, 3, 4};
  heed::data::DecodeOptions options;
  options.channels = kChannels[data[0] & 3];
  options.max_pixels = int64_t(1) << 20;  // keeps libFuzzer's memory bounded
  try {
    heed::data::DecodedImage img = heed::data::decode_image(data + 1, size - 1, "fuzz", options);
    if (int64_t(img.pixels.size()) != img.width * img.height * img.channels) __builtin_trap();
    const int64_t side = 1 + ((data[0] >> 2) & 15);
    const auto interp =
        (data[0] & 64) ? heed::data::Interpolation::Bilinear : heed::data::Interpolation::Nearest;
    heed::data::DecodedImage r = heed::data::resize_image(img, side, side + 1, interp);
    if (int64_t(r.pixels.size()) != side * (side + 1) * img.channels) __builtin_trap();
  } catch (const heed::Error&) {
  }
  return 0;
}

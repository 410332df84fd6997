// libFuzzer target: the IDX parser and label check. Byte 0 picks a label
// file (1 dim) or an image file (3 dims); the rest is the file.
#include <cstddef>
#include <cstdint>

#include "core/check.h"
#include "data/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int ndim = (data[0] & 1) ? 3 : 1;
  const uint8_t* file = data + 1;
  const size_t n = size - 1;
  try {
    const heed::data::IdxArray a = heed::data::parse_idx(file, n, ndim, "fuzz-idx");
    int64_t count = 1;
    for (int64_t d : a.dims) count *= d;
    // Touch every element the header promised: ASan catches a wrong size check.
    unsigned sum = 0;
    for (int64_t i = 0; i < count; ++i) sum += file[a.data_offset + size_t(i)];
    if (ndim == 1) heed::data::check_idx_labels(file + a.data_offset, count, 10, "fuzz-idx");
    if (sum == 0xFFFFFFFFu) return 1;
  } catch (const heed::Error&) {
  }
  return 0;
}

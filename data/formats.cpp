#include "data/formats.h"

#include <cstdint>
#include <cstdio>

#include "core/check.h"
#include "core/shape.h"

namespace heed::data {

CifarLayout cifar_layout(CifarFormat format) {
  if (format == CifarFormat::Cifar10) return {1, 3073, {10, 0}};
  return {2, 3074, {20, 100}};
}

int64_t check_cifar_records(const uint8_t* bytes, size_t size, CifarFormat format,
                            std::string_view source) {
  const CifarLayout L = cifar_layout(format);
  const char* name = format == CifarFormat::Cifar10 ? "CIFAR10" : "CIFAR100";
  HEED_CHECK(size > 0, name, ": ", source, ": the file is empty");
  HEED_CHECK(size % size_t(L.record_bytes) == 0, name, ": ", source, ": size ", size,
             " bytes is not a multiple of the ", L.record_bytes, "-byte record (",
             L.label_bytes == 1 ? "label" : "coarse label, fine label",
             " + 3072 pixels); the file is truncated or not ", name, " binary");
  const int64_t n = int64_t(size / size_t(L.record_bytes));
  for (int64_t r = 0; r < n; ++r) {
    const uint8_t* rec = bytes + r * L.record_bytes;
    for (int64_t k = 0; k < L.label_bytes; ++k) {
      HEED_CHECK(rec[k] < L.classes[k], name, ": ", source, ": record ", r, " has ",
                 L.label_bytes == 1 ? "label " : (k == 0 ? "coarse label " : "fine label "),
                 int(rec[k]), ", outside [0, ", L.classes[k], ")");
    }
  }
  return n;
}

namespace {
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
}  // namespace

IdxArray parse_idx(const uint8_t* bytes, size_t size, int expected_ndim, std::string_view source) {
  const uint32_t expected_magic = 0x00000800u | uint32_t(expected_ndim);
  const char* kind = expected_ndim == 1 ? "a label file" : "an image file";
  HEED_CHECK(size >= 4, "IDX: ", source, ": the file is ", size,
             " bytes, too short for the 4-byte magic number");
  const uint32_t magic = be32(bytes);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", magic);
  char want[16];
  std::snprintf(want, sizeof want, "0x%08X", expected_magic);
  HEED_CHECK(magic == expected_magic, "IDX: ", source, ": wrong magic number ", hex, " (expected ",
             want, " for ", kind,
             (bytes[0] == 0x1f && bytes[1] == 0x8b) ? "; the data is still gzip-compressed" : "",
             ")");
  const size_t ndim = size_t(expected_ndim);
  const size_t header = 4 + 4 * ndim;
  HEED_CHECK(size >= header, "IDX: ", source, ": the file is ", size, " bytes, too short for a ",
             ndim, "-dimensional header (", header, " bytes)");
  IdxArray out;
  uint64_t count = 1;
  for (size_t d = 0; d < ndim; ++d) {
    const uint32_t n = be32(bytes + 4 + 4 * d);
    out.dims.push_back(int64_t(n));
    // u32 dims cannot overflow 64 bits for the first two; check the rest.
    HEED_CHECK(n == 0 || count <= UINT64_MAX / n, "IDX: ", source, ": dims overflow");
    count *= n;
  }
  if (ndim == 3)
    HEED_CHECK(out.dims[1] > 0 && out.dims[2] > 0, "IDX: ", source, ": invalid image size ",
               out.dims[1], "x", out.dims[2]);
  out.data_offset = header;
  const size_t have = size - header;
  HEED_CHECK(have >= count, "IDX: ", source, ": truncated: the header promises ", count,
             " bytes of data (dims ", shape_str(out.dims), ") but only ", have, " follow");
  HEED_CHECK(have == count, "IDX: ", source, ": ", have - count,
             " unexpected bytes after the data (dims ", shape_str(out.dims), ")");
  return out;
}

void check_idx_labels(const uint8_t* labels, int64_t count, int64_t num_classes,
                      std::string_view source) {
  for (int64_t i = 0; i < count; ++i)
    HEED_CHECK(labels[i] < num_classes, "IDX: ", source, ": label ", i, " is ", int(labels[i]),
               ", outside [0, ", num_classes, ")");
}

std::vector<std::string> parse_class_names(std::string_view text, int64_t count,
                                           std::string_view source) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos <= text.size() && int64_t(names.size()) < count) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) names.emplace_back(line);
    pos = end + 1;
  }
  HEED_CHECK(int64_t(names.size()) == count, "class names: ", source, ": expected ", count,
             " names (one per line), found ", names.size());
  return names;
}

}  // namespace heed::data

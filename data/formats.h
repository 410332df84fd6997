// Parsers for the on-disk dataset formats. They take a byte buffer (the file
// readers in cifar.cpp and mnist.cpp read the file, then call them), so the
// fuzz targets in fuzz/ can drive them directly. Every problem is a
// heed::Error naming `source` (the file) and what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heed::data {

// ----------------------------------------------------------------- CIFAR
// CIFAR-10 binary: records of 1 label byte + 3,072 pixel bytes (1,024 R, then
// G, then B, each 32x32 row-major). CIFAR-100: 2 label bytes (coarse, fine)
// + 3,072 pixel bytes.
enum class CifarFormat { Cifar10, Cifar100 };

struct CifarLayout {
  int64_t label_bytes;   // 1 or 2
  int64_t record_bytes;  // 3073 or 3074
  int64_t classes[2];    // per label byte: {10} or {20 coarse, 100 fine}
};
CifarLayout cifar_layout(CifarFormat format);

// Checks a whole CIFAR file held in memory: a positive whole number of
// records, every label byte in range. Returns the number of records.
int64_t check_cifar_records(const uint8_t* bytes, size_t size, CifarFormat format,
                            std::string_view source);

// ------------------------------------------------------------------- IDX
// IDX (MNIST): big-endian magic 0x00 0x00 <type> <ndim>, then ndim u32
// big-endian sizes, then the elements. Only unsigned bytes (type 0x08).
struct IdxArray {
  std::vector<int64_t> dims;
  size_t data_offset = 0;  // where the elements start in the buffer
};

// Parses the header and checks that the buffer holds exactly prod(dims)
// bytes of data after it. `expected_ndim` (1 for labels, 3 for images)
// gives the expected magic 0x0000080<ndim>.
IdxArray parse_idx(const uint8_t* bytes, size_t size, int expected_ndim, std::string_view source);

// Checks that every label byte of an IDX label file is below num_classes.
void check_idx_labels(const uint8_t* labels, int64_t count, int64_t num_classes,
                      std::string_view source);

// ---------------------------------------------------------- class names
// Splits a names file (one name per line, as batches.meta.txt) and checks
// it has at least `count` non-empty names; returns the first `count`.
std::vector<std::string> parse_class_names(std::string_view text, int64_t count,
                                           std::string_view source);

}  // namespace heed::data

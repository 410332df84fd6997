// libFuzzer target: the CIFAR record checker and the class-names parser.
// Byte 0 picks CIFAR-10 or CIFAR-100; the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "data/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto format =
      (data[0] & 1) ? heed::data::CifarFormat::Cifar100 : heed::data::CifarFormat::Cifar10;
  const uint8_t* file = data + 1;
  const size_t n = size - 1;
  try {
    const int64_t records = heed::data::check_cifar_records(file, n, format, "fuzz.bin");
    // What the reader does next: take each record's label bytes.
    const auto layout = heed::data::cifar_layout(format);
    unsigned sum = 0;
    for (int64_t r = 0; r < records; ++r)
      sum += file[r * layout.record_bytes + layout.label_bytes - 1];
    if (sum == 0xFFFFFFFFu) return 1;  // keep the loop
  } catch (const heed::Error&) {
  }
  try {
    heed::data::parse_class_names(std::string_view(reinterpret_cast<const char*>(file), n),
                                  (data[0] & 1) ? 100 : 10, "names.txt");
  } catch (const heed::Error&) {
  }
  return 0;
}

// File reading for the dataset readers. Errors are heed::Error messages that
// start with `who` (the dataset, e.g. "MNIST") and name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace heed::data {

// The whole file.
std::vector<uint8_t> read_file(const std::filesystem::path& path, std::string_view who);
// Appends the whole file to `out`; returns the number of bytes appended.
size_t append_file(const std::filesystem::path& path, std::vector<uint8_t>& out,
                   std::string_view who);
// At most `max_bytes` from the start of the file.
std::vector<uint8_t> read_file_prefix(const std::filesystem::path& path, size_t max_bytes,
                                      std::string_view who);
// A plain or gzip-compressed file, decompressed (zlib's gzread passes plain
// files through). A truncated or corrupt gzip stream is an error.
std::vector<uint8_t> read_file_gz(const std::filesystem::path& path, std::string_view who);

}  // namespace heed::data

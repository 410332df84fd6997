// Helpers for the data tests: a temporary folder and writers for small files
// in each format, with known pixels and labels.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace heed::testing {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "heed_data_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline void write_text(const fs::path& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

inline std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& bytes, const fs::path& tmp) {
  gzFile f = gzopen(tmp.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
  std::ifstream in(tmp, std::ios::binary);
  std::vector<uint8_t> out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(tmp);
  return out;
}

inline void write_gz(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

// The known pixel byte of CIFAR record r at flat (C, H, W) offset j.
inline uint8_t cifar_pixel(int64_t r, int64_t j) {
  return uint8_t((r * 7 + j * 3) % 256);
}

// CIFAR-10 records r0 .. r0+n-1: label (r % 10), then 3072 known pixels.
inline std::vector<uint8_t> cifar10_records(int64_t r0, int64_t n) {
  std::vector<uint8_t> out;
  for (int64_t r = r0; r < r0 + n; ++r) {
    out.push_back(uint8_t(r % 10));
    for (int64_t j = 0; j < 3072; ++j) out.push_back(cifar_pixel(r, j));
  }
  return out;
}

// CIFAR-100 records: coarse label r % 20, fine label (r * 3) % 100.
inline std::vector<uint8_t> cifar100_records(int64_t n) {
  std::vector<uint8_t> out;
  for (int64_t r = 0; r < n; ++r) {
    out.push_back(uint8_t(r % 20));
    out.push_back(uint8_t((r * 3) % 100));
    for (int64_t j = 0; j < 3072; ++j) out.push_back(cifar_pixel(r, j));
  }
  return out;
}

inline void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

// The known pixel of MNIST-style image i at (y, x).
inline uint8_t idx_pixel(int64_t i, int64_t y, int64_t x) {
  return uint8_t((i * 11 + y * 5 + x) % 256);
}

// IDX image file: n images of h x w.
inline std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> v;
  put_be32(v, 0x00000803);
  put_be32(v, n);
  put_be32(v, h);
  put_be32(v, w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) v.push_back(idx_pixel(i, y, x));
  return v;
}

// IDX label file: label i = (i * 3) % 10.
inline std::vector<uint8_t> idx_labels(uint32_t n) {
  std::vector<uint8_t> v;
  put_be32(v, 0x00000801);
  put_be32(v, n);
  for (uint32_t i = 0; i < n; ++i) v.push_back(uint8_t((i * 3) % 10));
  return v;
}

}  // namespace heed::testing

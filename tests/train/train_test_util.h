// Helpers for the train tests: a temporary folder and a tiny synthetic
// image dataset that a small model learns in a few steps.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace heed::testing {

namespace fs = std::filesystem;

class TrainTempDir {
 public:
  TrainTempDir() {
    std::string tmpl = (fs::temp_directory_path() / "heed_train_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TrainTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TrainTempDir(const TrainTempDir&) = delete;
  TrainTempDir& operator=(const TrainTempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// n images (1, 8, 8) of 2 classes: class 0 bright on the left half, class 1
// on the right half, plus deterministic noise.
inline data::InMemoryDataset tiny_dataset(int64_t n, uint64_t seed = 1) {
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 64));
  std::vector<int64_t> labels(static_cast<size_t>(n));
  uint64_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; ++i) {
    labels[size_t(i)] = i % 2;
    for (int64_t y = 0; y < 8; ++y)
      for (int64_t x = 0; x < 8; ++x) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int noise = int((s >> 33) % 60);
        bool bright = (x < 4) == (i % 2 == 0);
        pixels[size_t(i * 64 + y * 8 + x)] = uint8_t((bright ? 170 : 20) + noise);
      }
  }
  return data::InMemoryDataset(std::move(pixels), {1, 8, 8}, std::move(labels), {"left", "right"});
}

}  // namespace heed::testing

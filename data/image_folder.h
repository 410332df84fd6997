// ImageFolder: root/<class>/<file> images (PNG, JPEG, BMP), like
// torchvision.datasets.ImageFolder. Classes are the sub-folders of root
// sorted by name (label = position); files are found recursively under each
// class folder, sorted by path. Hidden entries (".name") are ignored. Every
// other file must be an image: the type is read from the file's signature,
// not its extension.
//
// At construction every file's header is read and checked (type, size
// limit); with `preload` every image is also decoded and kept in memory,
// otherwise get() reads and decodes the file. Images are (C, H, W) with
// C = 3 (RGB) or 1 (gray), values 0..255, optionally resized.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"

namespace heed::data {

enum class ColorMode { RGB, Gray };

struct ImageFolderOptions {
  ColorMode color = ColorMode::RGB;  // gray -> RGB replicates; RGB -> gray is ITU-R 601 luma
  ImageSize resize{};                // {0, 0}: keep each image's size
  Interpolation interpolation = Interpolation::Bilinear;
  // Skip unreadable / non-image / too-large files with a warning on stderr
  // instead of throwing (default: throw).
  bool skip_bad = false;
  // Decode every image at construction and keep the (resized) bytes.
  bool preload = false;
  // Images with more pixels are rejected (before decoding).
  int64_t max_pixels = int64_t(1) << 25;
};

class ImageFolder : public Dataset {
 public:
  explicit ImageFolder(const std::filesystem::path& root, ImageFolderOptions options = {});

  int64_t size() const override { return int64_t(samples_.size()); }
  Example get(int64_t index) const override;
  int64_t load(int64_t index, Image& out) const override;
  int64_t label(int64_t index) const override {
    check_index(index);
    return samples_[size_t(index)].label;
  }
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string name() const override { return "imagefolder"; }

  const std::filesystem::path& path(int64_t index) const {
    check_index(index);
    return samples_[size_t(index)].path;
  }
  // Files skipped (skip_bad) with the reason, in the order found.
  const std::vector<std::pair<std::filesystem::path, std::string>>& skipped() const {
    return skipped_;
  }

 private:
  struct Sample {
    std::filesystem::path path;
    int64_t label = 0;
    // preload: the decoded (H, W, C) bytes
    int64_t height = 0, width = 0;
    std::vector<uint8_t> pixels;
  };
  DecodedImage decode(const std::filesystem::path& path) const;

  std::filesystem::path root_;
  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<Sample> samples_;
  std::vector<std::pair<std::filesystem::path, std::string>> skipped_;
};

}  // namespace heed::data

#include "data/image_folder.h"

#include <algorithm>
#include <iostream>
#include <system_error>

#include "core/check.h"
#include "data/io.h"

namespace heed::data {
namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) {
  const std::string n = p.filename().string();
  return !n.empty() && n[0] == '.';
}

// Enough for the header of any PNG/BMP and of most JPEGs; a JPEG whose
// frame header lies further (large EXIF data) is read whole.
constexpr size_t kHeaderPrefix = size_t(1) << 16;

}  // namespace

ImageFolder::ImageFolder(const fs::path& root, ImageFolderOptions options)
    : root_(root), options_(options) {
  const ImageSize rs = options_.resize;
  HEED_CHECK((rs.height == 0 && rs.width == 0) || (rs.height > 0 && rs.width > 0),
             "ImageFolder: resize must be {0, 0} (keep) or positive, got {", rs.height, ", ",
             rs.width, "}");
  HEED_CHECK(options_.max_pixels > 0, "ImageFolder: max_pixels must be positive, got ",
             options_.max_pixels);
  std::error_code ec;
  HEED_CHECK(fs::exists(root, ec), "ImageFolder: root folder ", root.string(), " does not exist");
  HEED_CHECK(fs::is_directory(root, ec), "ImageFolder: root ", root.string(), " is not a folder");

  fs::directory_iterator dit(root, ec);
  for (; !ec && dit != fs::directory_iterator(); dit.increment(ec)) {
    if (!hidden(dit->path()) && dit->is_directory(ec))
      classes_.push_back(dit->path().filename().string());
    ec.clear();
  }
  HEED_CHECK(!ec, "ImageFolder: cannot list ", root.string(), ": ", ec.message());
  std::sort(classes_.begin(), classes_.end());
  HEED_CHECK(!classes_.empty(), "ImageFolder: ", root.string(),
             " has no class folders (expected root/<class>/<image files>)");

  for (size_t label = 0; label < classes_.size(); ++label) {
    const fs::path dir = root / classes_[label];
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code ec2;
      const bool is_dir = it->is_directory(ec2);
      if (hidden(it->path())) {
        if (is_dir) it.disable_recursion_pending();
      } else if (!is_dir) {
        files.push_back(it->path());
      }
    }
    HEED_CHECK(!ec, "ImageFolder: cannot list ", dir.string(), ": ", ec.message());
    std::sort(files.begin(), files.end());
    HEED_CHECK(!files.empty(), "ImageFolder: class folder ", dir.string(), " is empty");

    size_t kept = 0;
    for (const fs::path& file : files) {
      Sample s;
      s.path = file;
      s.label = int64_t(label);
      try {
        if (options_.preload) {
          DecodedImage d = decode(file);
          s.height = d.height;
          s.width = d.width;
          s.pixels = std::move(d.pixels);
        } else {
          // Header only: type and size limit.
          std::vector<uint8_t> head = read_file_prefix(file, kHeaderPrefix, "ImageFolder");
          try {
            image_info(head.data(), head.size(), file.string(), options_.max_pixels);
          } catch (const Error&) {
            if (head.size() < kHeaderPrefix) throw;
            head = read_file(file, "ImageFolder");
            image_info(head.data(), head.size(), file.string(), options_.max_pixels);
          }
        }
      } catch (const Error& e) {
        if (!options_.skip_bad) throw;
        std::cerr << "heed: warning: ImageFolder: skipping a bad file: " << e.what() << "\n";
        skipped_.emplace_back(file, e.what());
        continue;
      }
      samples_.push_back(std::move(s));
      ++kept;
    }
    HEED_CHECK(kept > 0, "ImageFolder: class folder ", dir.string(), " has no readable images (",
               files.size(), " files skipped)");
  }
}

DecodedImage ImageFolder::decode(const fs::path& path) const {
  std::vector<uint8_t> bytes = read_file(path, "ImageFolder");
  DecodeOptions o;
  o.channels = options_.color == ColorMode::RGB ? 3 : 1;
  o.max_pixels = options_.max_pixels;
  DecodedImage d = decode_image(bytes.data(), bytes.size(), path.string(), o);
  const ImageSize rs = options_.resize;
  if (rs.height > 0 && (rs.height != d.height || rs.width != d.width))
    d = resize_image(d, rs.height, rs.width, options_.interpolation);
  return d;
}

int64_t ImageFolder::load(int64_t index, Image& out) const {
  check_index(index);
  const Sample& s = samples_[size_t(index)];
  const int64_t c = options_.color == ColorMode::RGB ? 3 : 1;
  if (options_.preload) {
    out.assign_hwc(s.pixels.data(), c, s.height, s.width);
  } else {
    DecodedImage d = decode(s.path);
    out.assign_hwc(d.pixels.data(), c, d.height, d.width);
  }
  return s.label;
}

Example ImageFolder::get(int64_t index) const {
  Image img;
  const int64_t label = load(index, img);
  return {img.to_tensor(), label};
}

}  // namespace heed::data

#include "data/mnist.h"

#include <string>
#include <system_error>

#include "core/check.h"
#include "data/formats.h"
#include "data/io.h"

namespace heed::data {
namespace fs = std::filesystem;

namespace {

// "train-images-idx3-ubyte" as distributed, or "train-images.idx3-ubyte"
// (the spelling of some mirrors), each plain or .gz.
fs::path find_idx(const fs::path& root, const std::string& prefix, const std::string& what,
                  const std::string& idx, const std::string& who) {
  std::error_code ec;
  for (const std::string& base :
       {prefix + "-" + what + "-" + idx + "-ubyte", prefix + "-" + what + "." + idx + "-ubyte"})
    for (const char* ext : {"", ".gz"})
      if (fs::exists(root / (base + ext), ec)) return root / (base + ext);
  HEED_FAIL(who, ": cannot find ", prefix, "-", what, "-", idx, "-ubyte[.gz] in ", root.string());
}

}  // namespace

MNIST::MNIST(const fs::path& root, bool train)
    : MNIST(root, train, "mnist",
            {"0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
             "7 - seven", "8 - eight", "9 - nine"}) {}

MNIST::MNIST(const fs::path& root, bool train, std::string name, std::vector<std::string> classes)
    : root_(root) {
  const std::string who = name == "mnist" ? "MNIST" : "FashionMNIST";
  std::error_code ec;
  HEED_CHECK(fs::exists(root, ec), who, ": root folder ", root.string(), " does not exist");
  HEED_CHECK(fs::is_directory(root, ec), who, ": root ", root.string(), " is not a folder");
  const std::string prefix = train ? "train" : "t10k";
  const fs::path images_path = find_idx(root, prefix, "images", "idx3", who);
  const fs::path labels_path = find_idx(root, prefix, "labels", "idx1", who);

  std::vector<uint8_t> images = read_file_gz(images_path, who);
  const IdxArray im = parse_idx(images.data(), images.size(), 3, images_path.string());
  std::vector<uint8_t> label_bytes = read_file_gz(labels_path, who);
  const IdxArray lb = parse_idx(label_bytes.data(), label_bytes.size(), 1, labels_path.string());

  const int64_t n = im.dims[0];
  HEED_CHECK(n > 0, who, ": ", images_path.string(), " contains no images");
  HEED_CHECK(lb.dims[0] == n, who, ": image/label count mismatch: ", images_path.string(), " has ",
             n, " images but ", labels_path.string(), " has ", lb.dims[0], " labels");
  const int64_t num_classes = int64_t(classes.size());
  check_idx_labels(label_bytes.data() + lb.data_offset, n, num_classes, labels_path.string());
  std::vector<int64_t> labels(label_bytes.begin() + std::ptrdiff_t(lb.data_offset),
                              label_bytes.end());
  const int64_t h = im.dims[1], w = im.dims[2];
  init(std::move(images), int64_t(im.data_offset), h * w, {1, h, w}, std::move(labels),
       std::move(classes), std::move(name));
}

FashionMNIST::FashionMNIST(bool train, const fs::path& root)
    : MNIST(root, train, "fashion-mnist",
            {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
             "Bag", "Ankle boot"}) {}

}  // namespace heed::data

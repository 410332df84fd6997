// MNIST and Fashion-MNIST from IDX files, plain or gzip-compressed:
//   train-images-idx3-ubyte, train-labels-idx1-ubyte,
//   t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte   (each optionally .gz)
// Images are (1, 28, 28) (whatever size the file declares), values 0..255.
#pragma once

#include <filesystem>

#include "data/dataset.h"

namespace heed::data {

class MNIST : public InMemoryDataset {
 public:
  explicit MNIST(const std::filesystem::path& root, bool train = true);
  const std::filesystem::path& root() const { return root_; }

 protected:
  MNIST(const std::filesystem::path& root, bool train, std::string name,
        std::vector<std::string> classes);

 private:
  std::filesystem::path root_;
};

// Debian's dataset-fashion-mnist package installs the files here.
inline constexpr const char* kFashionMNISTDefaultRoot = "/usr/share/datasets/fashion-mnist";

class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(bool train = true,
                        const std::filesystem::path& root = kFashionMNISTDefaultRoot);
};

}  // namespace heed::data

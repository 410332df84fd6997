// CIFAR-10 and CIFAR-100, binary version (heed never downloads: see
// tools/download_cifar.py). `root` is the extracted folder
// (cifar-10-batches-bin / cifar-100-binary) or the folder that contains it.
//
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin,
//              batches.meta.txt (class names)
//   CIFAR-100: train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt
//
// All records stay in one contiguous uint8 buffer, read in place. Images are
// (3, 32, 32), values 0..255. A missing names file falls back to built-in
// names (CIFAR-10) or numbers (CIFAR-100).
#pragma once

#include <filesystem>

#include "data/dataset.h"

namespace heed::data {

class CIFAR10 : public InMemoryDataset {
 public:
  explicit CIFAR10(const std::filesystem::path& root, bool train = true);
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

class CIFAR100 : public InMemoryDataset {
 public:
  // coarse: labels are the 20 superclasses instead of the 100 classes.
  explicit CIFAR100(const std::filesystem::path& root, bool train = true, bool coarse = false);
  const std::filesystem::path& root() const { return root_; }
  bool coarse() const { return coarse_; }

 private:
  std::filesystem::path root_;
  bool coarse_;
};

}  // namespace heed::data

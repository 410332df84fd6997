// Datasets: indexable collections of (image, label) examples.
//
// An example's image is a (C, H, W) float32 tensor whose values are the raw
// 0..255 pixel bytes ("uint8-valued"); transforms::ToFloat scales to [0, 1].
// Labels are int64 class indices into classes().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/image.h"

namespace heed::data {

struct Example {
  Tensor image;  // (C, H, W) float32, values 0..255
  int64_t label = 0;
};

// The interface a DataLoader reads. get() is what users call; load() is the
// loader's allocation-free path (it fills a reused Image). Built-in datasets
// implement both; a user dataset may implement get() only (load() then
// copies from it) or both for speed. Both are called concurrently from the
// loader's worker threads, so they must not modify shared state.
class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual Example get(int64_t index) const = 0;
  // Writes image `index` into `out` (values 0..255) and returns its label.
  virtual int64_t load(int64_t index, Image& out) const;
  // The label alone (cheap for in-memory datasets).
  virtual int64_t label(int64_t index) const { return get(index).label; }
  // Class names, indexed by label; empty where the format has none.
  virtual const std::vector<std::string>& classes() const;
  // A key for standard settings (transforms::standard): "cifar10",
  // "cifar100", "mnist", "fashion-mnist"; empty for others.
  virtual std::string name() const { return {}; }

 protected:
  // Throws heed::Error naming the dataset when index is outside [0, size()).
  void check_index(int64_t index) const;
};

// Images held as uint8 in one contiguous buffer: image i's (C, H, W) bytes
// start at pixel_offset + i * record_stride (so CIFAR's label-interleaved
// records and an IDX file's data block are used in place). Base of CIFAR10,
// CIFAR100 and MNIST; also usable directly for synthetic data.
class InMemoryDataset : public Dataset {
 public:
  // `pixels` holds labels.size() images of `image_shape` (C, H, W) back to back.
  InMemoryDataset(std::vector<uint8_t> pixels, Shape image_shape, std::vector<int64_t> labels,
                  std::vector<std::string> classes = {}, std::string name = {});

  int64_t size() const override { return int64_t(labels_.size()); }
  Example get(int64_t index) const override;
  int64_t load(int64_t index, Image& out) const override;
  int64_t label(int64_t index) const override {
    check_index(index);
    return labels_[size_t(index)];
  }
  const std::vector<std::string>& classes() const override { return classes_; }
  std::string name() const override { return name_; }

  const Shape& image_shape() const { return shape_; }
  // The (C, H, W) bytes of image `index`.
  const uint8_t* pixels(int64_t index) const;

 protected:
  InMemoryDataset() = default;
  void init(std::vector<uint8_t> bytes, int64_t pixel_offset, int64_t record_stride,
            Shape image_shape, std::vector<int64_t> labels, std::vector<std::string> classes,
            std::string name);

 private:
  std::vector<uint8_t> bytes_;
  int64_t pixel_offset_ = 0, record_stride_ = 0;
  Shape shape_;
  std::vector<int64_t> labels_;
  std::vector<std::string> classes_;
  std::string name_;
};

}  // namespace heed::data

#include "data/dataset.h"

#include <cassert>

#include "core/check.h"

namespace heed::data {

int64_t Dataset::load(int64_t index, Image& out) const {
  Example e = get(index);
  out.assign(e.image);
  return e.label;
}

const std::vector<std::string>& Dataset::classes() const {
  static const std::vector<std::string> none;
  return none;
}

void Dataset::check_index(int64_t index) const {
  HEED_CHECK(index >= 0 && index < size(), name().empty() ? "dataset" : name(), ": index ", index,
             " is out of range for a dataset of ", size(), " examples");
}

InMemoryDataset::InMemoryDataset(std::vector<uint8_t> pixels, Shape image_shape,
                                 std::vector<int64_t> labels, std::vector<std::string> classes,
                                 std::string name) {
  HEED_CHECK(
      image_shape.size() == 3 && image_shape[0] > 0 && image_shape[1] > 0 && image_shape[2] > 0,
      "InMemoryDataset: image_shape must be (C, H, W) with positive sizes, got ",
      shape_str(image_shape));
  const int64_t per = numel_of(image_shape);
  HEED_CHECK(int64_t(pixels.size()) == per * int64_t(labels.size()),
             "InMemoryDataset: ", labels.size(), " labels of ", shape_str(image_shape),
             " images need ", per * int64_t(labels.size()), " pixel bytes, got ", pixels.size());
  if (!classes.empty()) {
    for (size_t i = 0; i < labels.size(); ++i)
      HEED_CHECK(labels[i] >= 0 && labels[i] < int64_t(classes.size()), "InMemoryDataset: label ",
                 i, " is ", labels[i], ", outside [0, ", classes.size(), ")");
  }
  init(std::move(pixels), 0, per, std::move(image_shape), std::move(labels), std::move(classes),
       std::move(name));
}

void InMemoryDataset::init(std::vector<uint8_t> bytes, int64_t pixel_offset, int64_t record_stride,
                           Shape image_shape, std::vector<int64_t> labels,
                           std::vector<std::string> classes, std::string name) {
  bytes_ = std::move(bytes);
  pixel_offset_ = pixel_offset;
  record_stride_ = record_stride;
  shape_ = std::move(image_shape);
  labels_ = std::move(labels);
  classes_ = std::move(classes);
  name_ = std::move(name);
  // Internal invariant: the readers checked sizes before calling init.
  assert(labels_.empty() ||
         pixel_offset_ + (int64_t(labels_.size()) - 1) * record_stride_ + numel_of(shape_) <=
             int64_t(bytes_.size()));
}

const uint8_t* InMemoryDataset::pixels(int64_t index) const {
  check_index(index);
  return bytes_.data() + pixel_offset_ + index * record_stride_;
}

Example InMemoryDataset::get(int64_t index) const {
  const uint8_t* src = pixels(index);
  Tensor image = empty(shape_, kFloat32);
  float* dst = image.data_ptr<float>();
  for (int64_t i = 0, n = numel_of(shape_); i < n; ++i) dst[i] = float(src[i]);
  return {image, labels_[size_t(index)]};
}

int64_t InMemoryDataset::load(int64_t index, Image& out) const {
  out.assign_chw(pixels(index), shape_[0], shape_[1], shape_[2]);
  return labels_[size_t(index)];
}

}  // namespace heed::data

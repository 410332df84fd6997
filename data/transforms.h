// Transforms: whole-image operations composed into a pipeline.
//
// A transform works on one Image ((C, H, W) float32 planes) in place; there
// is one virtual call per image, never per pixel. Datasets give pixel values
// 0..255; ToFloat scales them to [0, 1] (so Normalize comes after it, and
// RandomCrop's `fill` is in the scale the image has at that point).
//
// Randomness comes only from the Generator passed to apply(). The
// DataLoader gives each sample its own counter-based Generator derived from
// (seed, epoch, sample index), so augmentation is reproducible and the same
// whatever the number of worker threads.
//
//   using namespace heed::data::transforms;
//   Compose t{RandomCrop(32, 4, PadMode::Reflect), RandomHorizontalFlip(),
//             ToFloat(), Normalize(kCIFAR10.mean, kCIFAR10.std)};
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/generator.h"
#include "data/image.h"

namespace heed::data {
class Dataset;
}

namespace heed::data::transforms {

class Transform {
 public:
  virtual ~Transform() = default;
  // Transforms `image` in place, drawing random numbers from `gen` only.
  virtual void apply(Image& image, Generator& gen) const = 0;
  virtual std::string repr() const = 0;

  // For tensors: copies a (C, H, W) tensor, applies, returns a new float32 tensor.
  Tensor operator()(const Tensor& chw, Generator& gen) const;
  Tensor operator()(const Tensor& chw) const;  // with Generator(0)
};

// x / 255: bytes to [0, 1] (as torchvision's ToTensor).
class ToFloat final : public Transform {
 public:
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override { return "ToFloat()"; }
};

// (x - mean[c]) / std[c] per channel, in float32 (as torchvision). One value
// applies to every channel.
class Normalize final : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;

 private:
  std::vector<float> mean_, std_;
};

// How RandomCrop fills the border it pads: a constant, the edge pixel
// repeated, or the image mirrored without repeating the edge (NumPy/
// torchvision "reflect": ..., 2, 1, | 0, 1, 2, ...).
enum class PadMode { Constant, Edge, Reflect };

// Pads each side by `padding`, then crops `size` at a uniformly random
// position (top first, then left, as torchvision). The padded image is never
// built: each output row copies its in-image span and fills the rest.
class RandomCrop final : public Transform {
 public:
  RandomCrop(int64_t size, int64_t padding = 0, PadMode mode = PadMode::Constant, float fill = 0.0f)
      : RandomCrop(ImageSize{size, size}, padding, mode, fill) {}
  RandomCrop(ImageSize size, int64_t padding = 0, PadMode mode = PadMode::Constant,
             float fill = 0.0f);
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;

 private:
  ImageSize size_;
  int64_t padding_;
  PadMode mode_;
  float fill_;
};

// Mirrors left-right with probability p.
class RandomHorizontalFlip final : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;

 private:
  double p_;
};

// Cutout (DeVries & Taylor 2017): a size x size square (clipped at the
// border) centred on a uniformly random pixel is set to `value` in every
// channel. Usually placed after Normalize (value 0 = the mean).
class Cutout final : public Transform {
 public:
  explicit Cutout(int64_t size, float value = 0.0f);
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;

 private:
  int64_t size_;
  float value_;
};

// RandomErasing (Zhong et al. 2017), torchvision's algorithm: with
// probability p, up to 10 tries to draw a rectangle of area
// H*W*U(scale) and aspect ratio exp(U(log ratio)) that fits; set it to value.
class RandomErasing final : public Transform {
 public:
  explicit RandomErasing(double p = 0.5, std::pair<double, double> scale = {0.02, 0.33},
                         std::pair<double, double> ratio = {0.3, 3.3}, float value = 0.0f);
  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;

 private:
  double p_;
  std::pair<double, double> scale_, ratio_;
  float value_;
};

// Any whole-image function.
class Lambda final : public Transform {
 public:
  explicit Lambda(std::function<void(Image&, Generator&)> fn, std::string name = "Lambda")
      : fn_(std::move(fn)), name_(std::move(name)) {}
  void apply(Image& image, Generator& gen) const override { fn_(image, gen); }
  std::string repr() const override { return name_ + "()"; }

 private:
  std::function<void(Image&, Generator&)> fn_;
  std::string name_;
};

// A pipeline: applies its steps in order (an empty one does nothing).
// Steps are shared, immutable transforms, so copying a Compose is cheap.
class Compose final : public Transform {
 public:
  // Anything derived from Transform (copied in), or a shared pointer to one.
  struct Step {
    template <typename T>
    requires std::derived_from<std::decay_t<T>, Transform> Step(
        T&& t)  // NOLINT: implicit so that Compose{ToFloat(), ...} reads well
        : ptr(std::make_shared<const std::decay_t<T>>(std::forward<T>(t))) {}
    template <typename T>
    requires std::derived_from<T, Transform> Step(std::shared_ptr<T> p)
        : ptr(std::move(p)) {  // NOLINT
      check();
    }
    std::shared_ptr<const Transform> ptr;

   private:
    void check() const;
  };

  Compose() = default;
  Compose(std::initializer_list<Step> steps);
  Compose& then(Step step);

  void apply(Image& image, Generator& gen) const override;
  std::string repr() const override;
  bool empty() const { return steps_.empty(); }
  size_t size() const { return steps_.size(); }

 private:
  std::vector<std::shared_ptr<const Transform>> steps_;
};

// ----------------------------------------------------- standard settings
// Per-channel mean and std of each training set, pixels scaled to [0, 1].
struct Stats {
  std::vector<double> mean, std;
};
inline const Stats kCIFAR10{{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}};
inline const Stats kCIFAR100{{0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}};
inline const Stats kMNIST{{0.1307}, {0.3081}};
inline const Stats kFashionMNIST{{0.2860}, {0.3530}};

// The stats for a Dataset::name() ("cifar10", "cifar100", "mnist",
// "fashion-mnist"); nullptr for others.
const Stats* standard_stats(std::string_view dataset_name);

// The usual pipeline for a dataset:
//   cifar10/100:   [RandomCrop(32, 4) + RandomHorizontalFlip] + ToFloat + Normalize
//   fashion-mnist: [RandomCrop(28, 2) + RandomHorizontalFlip] + ToFloat + Normalize
//   mnist:         [RandomCrop(28, 2)] + ToFloat + Normalize  (digits are not flipped)
//   others:        [RandomHorizontalFlip] + ToFloat
// with the bracketed augmentation only when `augment`.
Compose standard(const Dataset& dataset, bool augment);

}  // namespace heed::data::transforms

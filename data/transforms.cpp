#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/check.h"
#include "data/dataset.h"

namespace heed::data::transforms {

Tensor Transform::operator()(const Tensor& chw, Generator& gen) const {
  Image img;
  img.assign(chw);
  apply(img, gen);
  return img.to_tensor();
}

Tensor Transform::operator()(const Tensor& chw) const {
  Generator gen(0);
  return (*this)(chw, gen);
}

// ---------------------------------------------------------------- ToFloat
void ToFloat::apply(Image& image, Generator&) const {
  float* p = image.data.data();
  for (int64_t i = 0, n = image.numel(); i < n; ++i) p[i] /= 255.0f;
}

// -------------------------------------------------------------- Normalize
Normalize::Normalize(std::vector<double> mean, std::vector<double> std) {
  HEED_CHECK(!mean.empty() && mean.size() == std.size(),
             "Normalize: mean and std need the same, non-zero number of values, got ", mean.size(),
             " and ", std.size());
  for (size_t c = 0; c < mean.size(); ++c) {
    HEED_CHECK(std[c] > 0, "Normalize: std[", c, "] must be positive, got ", std[c]);
    mean_.push_back(float(mean[c]));
    std_.push_back(float(std[c]));
  }
}

void Normalize::apply(Image& image, Generator&) const {
  const int64_t C = image.channels, hw = image.height * image.width;
  HEED_CHECK(int64_t(mean_.size()) == C || mean_.size() == 1, "Normalize: the image has ", C,
             " channels but mean/std have ", mean_.size(), " values");
  for (int64_t c = 0; c < C; ++c) {
    const float m = mean_.size() == 1 ? mean_[0] : mean_[size_t(c)];
    const float s = std_.size() == 1 ? std_[0] : std_[size_t(c)];
    float* p = image.plane(c);
    for (int64_t i = 0; i < hw; ++i) p[i] = (p[i] - m) / s;
  }
}

std::string Normalize::repr() const {
  std::ostringstream os;
  os << "Normalize(mean=[";
  for (size_t c = 0; c < mean_.size(); ++c) os << (c ? ", " : "") << mean_[c];
  os << "], std=[";
  for (size_t c = 0; c < std_.size(); ++c) os << (c ? ", " : "") << std_[c];
  os << "])";
  return os.str();
}

// ------------------------------------------------------------- RandomCrop
RandomCrop::RandomCrop(ImageSize size, int64_t padding, PadMode mode, float fill)
    : size_(size), padding_(padding), mode_(mode), fill_(fill) {
  HEED_CHECK(size.height > 0 && size.width > 0, "RandomCrop: size must be positive, got ",
             size.height, "x", size.width);
  HEED_CHECK(padding >= 0, "RandomCrop: padding must be >= 0, got ", padding);
}

void RandomCrop::apply(Image& image, Generator& gen) const {
  const int64_t C = image.channels, H = image.height, W = image.width, p = padding_;
  const int64_t oh = size_.height, ow = size_.width;
  HEED_CHECK(oh <= H + 2 * p && ow <= W + 2 * p, "RandomCrop: crop ", oh, "x", ow,
             " is larger than the padded image ", H + 2 * p, "x", W + 2 * p, " (image ", H, "x", W,
             ", padding ", p, ")");
  HEED_CHECK(mode_ != PadMode::Reflect || (p < H && p < W), "RandomCrop: reflect padding ", p,
             " needs an image larger than the padding, got ", H, "x", W);
  // Source coordinates of output pixel (0, 0).
  const int64_t top = gen.next_int(H + 2 * p - oh + 1) - p;
  const int64_t left = gen.next_int(W + 2 * p - ow + 1) - p;
  if (top == 0 && left == 0 && oh == H && ow == W) return;

  auto source = [this](int64_t i, int64_t n) -> int64_t {  // i outside [0, n)
    if (mode_ == PadMode::Edge) return std::clamp<int64_t>(i, 0, n - 1);
    return i < 0 ? -i : 2 * (n - 1) - i;  // reflect; |overhang| <= p < n
  };
  // Output columns [x0, x1) read inside the source row.
  const int64_t x0 = std::clamp<int64_t>(-left, 0, ow);
  const int64_t x1 = std::clamp<int64_t>(W - left, x0, ow);
  image.scratch.resize(size_t(C * oh * ow));
  for (int64_t c = 0; c < C; ++c) {
    const float* src = image.plane(c);                // (H, W)
    float* out = image.scratch.data() + c * oh * ow;  // (oh, ow)
    for (int64_t y = 0; y < oh; ++y) {
      float* dst = out + y * ow;
      int64_t sy = top + y;
      if (sy < 0 || sy >= H) {
        if (mode_ == PadMode::Constant) {
          std::fill(dst, dst + ow, fill_);
          continue;
        }
        sy = source(sy, H);
      }
      const float* row = src + sy * W;
      if (x1 > x0) std::memcpy(dst + x0, row + left + x0, size_t(x1 - x0) * sizeof(float));
      for (int64_t x = 0; x < x0; ++x)
        dst[x] = mode_ == PadMode::Constant ? fill_ : row[source(left + x, W)];
      for (int64_t x = x1; x < ow; ++x)
        dst[x] = mode_ == PadMode::Constant ? fill_ : row[source(left + x, W)];
    }
  }
  std::swap(image.data, image.scratch);
  image.height = oh;
  image.width = ow;
}

std::string RandomCrop::repr() const {
  const char* m = mode_ == PadMode::Constant ? "constant"
                  : mode_ == PadMode::Edge   ? "edge"
                                             : "reflect";
  std::ostringstream os;
  os << "RandomCrop(size=" << size_.height << "x" << size_.width << ", padding=" << padding_
     << ", mode=" << m;
  if (mode_ == PadMode::Constant) os << ", fill=" << fill_;
  os << ")";
  return os.str();
}

// --------------------------------------------------- RandomHorizontalFlip
RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  HEED_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
}

void RandomHorizontalFlip::apply(Image& image, Generator& gen) const {
  if (!(gen.next_double() < p_)) return;
  const int64_t rows = image.channels * image.height, W = image.width;
  float* p = image.data.data();
  for (int64_t r = 0; r < rows; ++r) std::reverse(p + r * W, p + (r + 1) * W);
}

std::string RandomHorizontalFlip::repr() const {
  std::ostringstream os;
  os << "RandomHorizontalFlip(p=" << p_ << ")";
  return os.str();
}

// ----------------------------------------------------------------- Cutout
namespace {
void fill_rect(Image& image, int64_t y0, int64_t y1, int64_t x0, int64_t x1, float value) {
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = y0; y < y1; ++y) {
      float* row = image.plane(c) + y * image.width;
      std::fill(row + x0, row + x1, value);
    }
}
}  // namespace

Cutout::Cutout(int64_t size, float value) : size_(size), value_(value) {
  HEED_CHECK(size > 0, "Cutout: size must be positive, got ", size);
}

void Cutout::apply(Image& image, Generator& gen) const {
  const int64_t H = image.height, W = image.width;
  if (H == 0 || W == 0) return;
  const int64_t cy = gen.next_int(H), cx = gen.next_int(W);
  // As the reference code: [c - size/2, c + size/2) clipped to the image.
  const int64_t half = size_ / 2;
  fill_rect(image, std::clamp<int64_t>(cy - half, 0, H), std::clamp<int64_t>(cy + half, 0, H),
            std::clamp<int64_t>(cx - half, 0, W), std::clamp<int64_t>(cx + half, 0, W), value_);
}

std::string Cutout::repr() const {
  std::ostringstream os;
  os << "Cutout(size=" << size_ << ", value=" << value_ << ")";
  return os.str();
}

// ---------------------------------------------------------- RandomErasing
RandomErasing::RandomErasing(double p, std::pair<double, double> scale,
                             std::pair<double, double> ratio, float value)
    : p_(p), scale_(scale), ratio_(ratio), value_(value) {
  HEED_CHECK(p >= 0 && p <= 1, "RandomErasing: p must be in [0, 1], got ", p);
  HEED_CHECK(scale.first >= 0 && scale.first <= scale.second && scale.second <= 1,
             "RandomErasing: scale must satisfy 0 <= lo <= hi <= 1, got (", scale.first, ", ",
             scale.second, ")");
  HEED_CHECK(ratio.first > 0 && ratio.first <= ratio.second,
             "RandomErasing: ratio must satisfy 0 < lo <= hi, got (", ratio.first, ", ",
             ratio.second, ")");
}

void RandomErasing::apply(Image& image, Generator& gen) const {
  if (!(gen.next_double() < p_)) return;
  const int64_t H = image.height, W = image.width;
  const double area = double(H * W);
  const double lr0 = std::log(ratio_.first), lr1 = std::log(ratio_.second);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase = area * (scale_.first + (scale_.second - scale_.first) * gen.next_double());
    const double aspect = std::exp(lr0 + (lr1 - lr0) * gen.next_double());
    const int64_t h = int64_t(std::nearbyint(std::sqrt(erase * aspect)));
    const int64_t w = int64_t(std::nearbyint(std::sqrt(erase / aspect)));
    if (!(h < H && w < W)) continue;
    const int64_t i = gen.next_int(H - h + 1), j = gen.next_int(W - w + 1);
    fill_rect(image, i, i + h, j, j + w, value_);
    return;
  }
}

std::string RandomErasing::repr() const {
  std::ostringstream os;
  os << "RandomErasing(p=" << p_ << ", scale=(" << scale_.first << ", " << scale_.second
     << "), ratio=(" << ratio_.first << ", " << ratio_.second << "), value=" << value_ << ")";
  return os.str();
}

// ---------------------------------------------------------------- Compose
void Compose::Step::check() const {
  HEED_CHECK(ptr != nullptr, "Compose: a step is a null transform");
}

Compose::Compose(std::initializer_list<Step> steps) {
  for (const Step& s : steps) steps_.push_back(s.ptr);
}

Compose& Compose::then(Step step) {
  steps_.push_back(std::move(step.ptr));
  return *this;
}

void Compose::apply(Image& image, Generator& gen) const {
  for (const auto& s : steps_) s->apply(image, gen);
}

std::string Compose::repr() const {
  std::string s = "Compose(";
  for (size_t i = 0; i < steps_.size(); ++i) s += (i ? ", " : "") + steps_[i]->repr();
  return s + ")";
}

// ------------------------------------------------------- standard settings
const Stats* standard_stats(std::string_view name) {
  if (name == "cifar10") return &kCIFAR10;
  if (name == "cifar100") return &kCIFAR100;
  if (name == "mnist") return &kMNIST;
  if (name == "fashion-mnist") return &kFashionMNIST;
  return nullptr;
}

Compose standard(const Dataset& dataset, bool augment) {
  const std::string name = dataset.name();
  const Stats* stats = standard_stats(name);
  Compose t;
  if (augment) {
    if (name == "cifar10" || name == "cifar100") {
      t.then(RandomCrop(32, 4)).then(RandomHorizontalFlip());
    } else if (name == "mnist" || name == "fashion-mnist") {
      // The files may declare another size; crop back to it.
      const int64_t h = dataset.size() ? dataset.get(0).image.size(1) : 28;
      const int64_t w = dataset.size() ? dataset.get(0).image.size(2) : 28;
      t.then(RandomCrop(ImageSize{h, w}, 2));
      if (name == "fashion-mnist") t.then(RandomHorizontalFlip());
    } else {
      t.then(RandomHorizontalFlip());
    }
  }
  t.then(ToFloat());
  if (stats) t.then(Normalize(stats->mean, stats->std));
  return t;
}

}  // namespace heed::data::transforms

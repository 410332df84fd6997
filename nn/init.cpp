#include "nn/init.h"

#include <cmath>
#include <string>
#include <vector>

namespace heed::nn::init {

namespace {

// Fills through a contiguous scratch when the target is a strided view.
template <typename Fill>
Tensor fill_via_contiguous(Tensor tensor, const char* op, Fill fill) {
  HEED_CHECK(tensor.defined(), "init::", op, ": undefined tensor");
  HEED_CHECK(tensor.is_floating_point(), "init::", op, ": needs a floating tensor, got ",
             tensor.dtype());
  NoGradGuard no_grad;
  if (tensor.is_contiguous()) {
    Tensor t = tensor.detach();
    fill(t);
  } else {
    Tensor t = empty(tensor.shape(), {tensor.dtype(), tensor.device()});
    fill(t);
    tensor.copy_(t);
  }
  return tensor;
}

// Inverse error function: Giles' approximation refined by two Newton steps.
double erfinv(double y) {
  if (y <= -1) return -INFINITY;
  if (y >= 1) return INFINITY;
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
    x = p * y;
  }
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

double fan_for(const Tensor& t, FanMode mode) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return double(mode == FanMode::FanIn ? fan_in : fan_out);
}

}  // namespace

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  HEED_CHECK(tensor.dim() >= 2,
             "init: fan in and fan out can not be computed for a tensor "
             "with fewer than 2 dimensions (shape ",
             shape_str(tensor.shape()), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

double calculate_gain(std::string_view nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d" ||
      nonlinearity == "sigmoid" || nonlinearity == "identity")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    double slope = param < 0 ? 0.01 : param;
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  HEED_FAIL("init::calculate_gain: unsupported nonlinearity \"", std::string(nonlinearity), "\"");
}

Tensor uniform_(Tensor tensor, double a, double b, Generator* gen) {
  HEED_CHECK(a <= b, "init::uniform_: a (", a, ") must not exceed b (", b, ")");
  return fill_via_contiguous(tensor, "uniform_", [&](Tensor& t) { heed::uniform_(t, a, b, gen); });
}

Tensor normal_(Tensor tensor, double mean, double std, Generator* gen) {
  HEED_CHECK(std >= 0, "init::normal_: std must be >= 0, got ", std);
  return fill_via_contiguous(tensor, "normal_",
                             [&](Tensor& t) { heed::normal_(t, mean, std, gen); });
}

Tensor trunc_normal_(Tensor tensor, double mean, double std, double a, double b, Generator* gen) {
  HEED_CHECK(a < b, "init::trunc_normal_: a (", a, ") must be below b (", b, ")");
  HEED_CHECK(std > 0, "init::trunc_normal_: std must be > 0, got ", std);
  auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  double lo = 2 * cdf((a - mean) / std) - 1, hi = 2 * cdf((b - mean) / std) - 1;
  return fill_via_contiguous(tensor, "trunc_normal_", [&](Tensor& t) {
    // Uniform in [2Φ(α)-1, 2Φ(β)-1], then the inverse: std·√2·erfinv(u) + mean.
    std::vector<double> u = heed::rand({t.numel()}, kFloat64, gen).to_vector<double>();
    for (double& v : u) {
      double x = erfinv(lo + (hi - lo) * v) * std * std::sqrt(2.0) + mean;
      v = std::min(std::max(x, a), b);
    }
    t.copy_(from_vector(u, t.shape()));
  });
}

Tensor constant_(Tensor tensor, double value) {
  return fill_via_contiguous(tensor, "constant_", [&](Tensor& t) { t.fill_(value); });
}
Tensor zeros_(Tensor tensor) {
  return constant_(std::move(tensor), 0.0);
}
Tensor ones_(Tensor tensor) {
  return constant_(std::move(tensor), 1.0);
}

Tensor xavier_uniform_(Tensor tensor, double gain, Generator* gen) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  double std = gain * std::sqrt(2.0 / double(fan_in + fan_out));
  double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(tensor), -bound, bound, gen);
}

Tensor xavier_normal_(Tensor tensor, double gain, Generator* gen) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  double std = gain * std::sqrt(2.0 / double(fan_in + fan_out));
  return normal_(std::move(tensor), 0.0, std, gen);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, std::string_view nonlinearity,
                        Generator* gen) {
  if (tensor.numel() == 0) return tensor;  // a no-op, as PyTorch
  double fan = fan_for(tensor, mode);
  double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(tensor), -bound, bound, gen);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, std::string_view nonlinearity,
                       Generator* gen) {
  if (tensor.numel() == 0) return tensor;  // a no-op, as PyTorch
  double fan = fan_for(tensor, mode);
  double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return normal_(std::move(tensor), 0.0, std, gen);
}

}  // namespace heed::nn::init

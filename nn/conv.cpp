#include "nn/conv.h"

#include <cmath>

#include "nn/init.h"

namespace heed::nn {

namespace {

void check_conv_args(const char* name, int64_t in, int64_t out, int64_t groups,
                     std::initializer_list<int64_t> kernel, std::initializer_list<int64_t> stride,
                     std::initializer_list<int64_t> padding,
                     std::initializer_list<int64_t> dilation) {
  HEED_CHECK(in > 0 && out > 0, name, ": in_channels and out_channels must be positive, got ", in,
             " and ", out);
  HEED_CHECK(groups > 0, name, ": groups must be positive, got ", groups);
  HEED_CHECK(in % groups == 0, name, ": in_channels (", in, ") must be divisible by groups (",
             groups, ")");
  HEED_CHECK(out % groups == 0, name, ": out_channels (", out, ") must be divisible by groups (",
             groups, ")");
  for (int64_t k : kernel) HEED_CHECK(k > 0, name, ": kernel_size must be positive, got ", k);
  for (int64_t s : stride) HEED_CHECK(s > 0, name, ": stride must be positive, got ", s);
  for (int64_t p : padding) HEED_CHECK(p >= 0, name, ": padding must be >= 0, got ", p);
  for (int64_t d : dilation) HEED_CHECK(d > 0, name, ": dilation must be positive, got ", d);
}

// PyTorch's _ConvNd.reset_parameters.
void reset_conv(Tensor& weight, Tensor& bias, Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (bias.defined()) {
    auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(weight);
    double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

}  // namespace

// ------------------------------------------------------------------- Conv1d

Conv1dImpl::Conv1dImpl(int64_t in, int64_t out, int64_t k, const Conv1dOptions& o)
    : in_channels(in), out_channels(out), kernel_size(k), options(o) {
  check_conv_args("Conv1d", in, out, o.groups, {k}, {o.stride}, {o.padding}, {o.dilation});
  weight = register_parameter("weight", empty({out, in / o.groups, k}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void Conv1dImpl::reset_parameters(Generator* gen) {
  reset_conv(weight, bias, gen);
}

Tensor Conv1dImpl::forward(const Tensor& x) {
  return conv1d(x, weight, bias, options.stride, options.padding, options.dilation, options.groups);
}

std::string Conv1dImpl::extra_repr() const {
  std::string s = std::to_string(in_channels) + ", " + std::to_string(out_channels) +
                  ", kernel_size=" + detail::py_tuple({kernel_size}) +
                  ", stride=" + detail::py_tuple({options.stride});
  if (options.padding != 0) s += ", padding=" + detail::py_tuple({options.padding});
  if (options.dilation != 1) s += ", dilation=" + detail::py_tuple({options.dilation});
  if (options.groups != 1) s += ", groups=" + std::to_string(options.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

ModuleCost Conv1dImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  if (out.empty()) return {};
  return {numel_of(out[0]) * (in_channels / options.groups) * kernel_size, 0};
}

// ------------------------------------------------------------------- Conv2d

Conv2dImpl::Conv2dImpl(int64_t in, int64_t out, Size2 k, const Conv2dOptions& o)
    : in_channels(in), out_channels(out), kernel_size(k), options(o) {
  check_conv_args("Conv2d", in, out, o.groups, {k.h, k.w}, {o.stride.h, o.stride.w},
                  {o.padding.h, o.padding.w}, {o.dilation.h, o.dilation.w});
  weight = register_parameter("weight", empty({out, in / o.groups, k.h, k.w}));
  if (o.bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void Conv2dImpl::reset_parameters(Generator* gen) {
  reset_conv(weight, bias, gen);
}

Tensor Conv2dImpl::forward(const Tensor& x) {
  return conv2d(x, weight, bias, options.stride.pair(), options.padding.pair(),
                options.dilation.pair(), options.groups);
}

std::string Conv2dImpl::extra_repr() const {
  std::string s = std::to_string(in_channels) + ", " + std::to_string(out_channels) +
                  ", kernel_size=" + kernel_size.tuple_str() +
                  ", stride=" + options.stride.tuple_str();
  if (!(options.padding == Size2(0))) s += ", padding=" + options.padding.tuple_str();
  if (!(options.dilation == Size2(1))) s += ", dilation=" + options.dilation.tuple_str();
  if (options.groups != 1) s += ", groups=" + std::to_string(options.groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

ModuleCost Conv2dImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  // out_numel · (C_in/groups) · kh · kw.
  if (out.empty()) return {};
  return {numel_of(out[0]) * (in_channels / options.groups) * kernel_size.h * kernel_size.w, 0};
}

}  // namespace heed::nn

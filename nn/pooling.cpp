#include "nn/pooling.h"

namespace heed::nn {

namespace {
void check_pool(const char* name, Size2 k, Size2 s, Size2 p) {
  HEED_CHECK(k.h > 0 && k.w > 0, name, ": kernel_size must be positive, got ", k.tuple_str());
  HEED_CHECK(s.h > 0 && s.w > 0, name, ": stride must be positive, got ", s.tuple_str());
  HEED_CHECK(p.h >= 0 && p.w >= 0 && 2 * p.h <= k.h && 2 * p.w <= k.w, name,
             ": pad should be at most half of kernel size, but got pad=", p.tuple_str(),
             " and kernel_size=", k.tuple_str());
}
// One comparison or addition per window element.
int64_t window_cost(const std::vector<Shape>& out, Size2 k) {
  return out.empty() ? 0 : numel_of(out[0]) * k.h * k.w;
}
}  // namespace

MaxPool2dImpl::MaxPool2dImpl(Size2 k, const MaxPool2dOptions& o)
    : kernel_size(k), stride(o.stride.value_or(k)), options(o) {
  check_pool("MaxPool2d", kernel_size, stride, o.padding);
  HEED_CHECK(o.dilation.h > 0 && o.dilation.w > 0, "MaxPool2d: dilation must be positive, got ",
             o.dilation.tuple_str());
}

Tensor MaxPool2dImpl::forward(const Tensor& x) {
  return max_pool2d(x, {.kernel_size = kernel_size.pair(),
                        .stride = stride.pair(),
                        .padding = options.padding.pair(),
                        .dilation = options.dilation.pair(),
                        .ceil_mode = options.ceil_mode});
}

std::string MaxPool2dImpl::extra_repr() const {
  return "kernel_size=" + kernel_size.str() + ", stride=" + stride.str() +
         ", padding=" + options.padding.str() + ", dilation=" + options.dilation.str() +
         ", ceil_mode=" + detail::py_bool(options.ceil_mode);
}

ModuleCost MaxPool2dImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  return {0, window_cost(out, kernel_size)};
}

AvgPool2dImpl::AvgPool2dImpl(Size2 k, const AvgPool2dOptions& o)
    : kernel_size(k), stride(o.stride.value_or(k)), options(o) {
  check_pool("AvgPool2d", kernel_size, stride, o.padding);
}

Tensor AvgPool2dImpl::forward(const Tensor& x) {
  return avg_pool2d(x, {.kernel_size = kernel_size.pair(),
                        .stride = stride.pair(),
                        .padding = options.padding.pair(),
                        .ceil_mode = options.ceil_mode,
                        .count_include_pad = options.count_include_pad});
}

std::string AvgPool2dImpl::extra_repr() const {
  return "kernel_size=" + kernel_size.str() + ", stride=" + stride.str() +
         ", padding=" + options.padding.str();
}

ModuleCost AvgPool2dImpl::cost(const std::vector<Shape>&, const std::vector<Shape>& out) const {
  return {0, window_cost(out, kernel_size)};
}

AdaptiveAvgPool2dImpl::AdaptiveAvgPool2dImpl(Size2 o) : output_size(o) {
  HEED_CHECK(o.h > 0 && o.w > 0, "AdaptiveAvgPool2d: output_size must be positive, got ",
             o.tuple_str());
}

ModuleCost AdaptiveAvgPool2dImpl::cost(const std::vector<Shape>& in,
                                       const std::vector<Shape>&) const {
  // Every input element is added once (attention_spec: B·C·N for global pooling).
  return {0, in.empty() ? 0 : numel_of(in[0])};
}

AdaptiveMaxPool2dImpl::AdaptiveMaxPool2dImpl(Size2 o) : output_size(o) {
  HEED_CHECK(o.h > 0 && o.w > 0, "AdaptiveMaxPool2d: output_size must be positive, got ",
             o.tuple_str());
}

ModuleCost AdaptiveMaxPool2dImpl::cost(const std::vector<Shape>& in,
                                       const std::vector<Shape>&) const {
  return {0, in.empty() ? 0 : numel_of(in[0])};
}

}  // namespace heed::nn

#include "attention/ge.h"

#include <cmath>

#include "attention/zoo_common.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"

namespace heed::attention {

using namespace zoo_detail;

namespace {
bool is_power_of_two(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

// PyTorch's nearest source indices for one axis (upsample_nearest2d, size given).
Tensor nearest_indices(int64_t in, int64_t out) {
  std::vector<int64_t> idx(size_t(out), 0);
  const float scale = float(in) / float(out);
  for (int64_t i = 0; i < out; ++i) {
    if (out == in)
      idx[size_t(i)] = i;
    else if (out == 2 * in)
      idx[size_t(i)] = i >> 1;
    else
      idx[size_t(i)] = std::min(int64_t(std::floor(float(i) * scale)), in - 1);
  }
  return from_vector(idx, Shape{out});
}
}  // namespace

Tensor interpolate_nearest(const Tensor& x, int64_t h, int64_t w) {
  HEED_CHECK(x.dim() == 4 && h > 0 && w > 0, "interpolate_nearest: expected (B, C, h, w) input ",
             "and a positive size, got ", shape_str(x.shape()), " to (", h, ", ", w, ")");
  Tensor y = x;
  if (x.size(2) != h) y = index_select(y, 2, nearest_indices(x.size(2), h).to(x.device()));
  if (x.size(3) != w) y = index_select(y, 3, nearest_indices(x.size(3), w).to(x.device()));
  return y;
}

GatherExciteImpl::GatherExciteImpl(int64_t channels, const GatherExciteOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0, "GatherExcite: channels must be > 0, got ", channels);
  HEED_CHECK(options.extent >= 0 && options.extent % 2 == 0,
             "GatherExcite: extent must be 0 (global) or even, got ", options.extent);
  HEED_CHECK(options.rd_channels >= 0 && options.rd_divisor >= 1 && options.rd_ratio > 0,
             "GatherExcite: need rd_channels >= 0, rd_divisor >= 1 and rd_ratio > 0, got ",
             options.rd_channels, ", ", options.rd_divisor, ", ", options.rd_ratio);
  if (options.extra_params) {
    // timm's global variant needs feat_size (a depthwise conv over the whole map).
    HEED_CHECK(options.extent > 0 && is_power_of_two(options.extent),
               "GatherExcite: extra_params needs extent a power of two >= 2 (one stride-2 conv ",
               "per halving), got ", options.extent);
    nn::Sequential seq;
    const int64_t num_conv = int64_t(std::log2(double(options.extent)) + 0.5);
    for (int64_t i = 1; i <= num_conv; ++i) {
      std::string n = std::to_string(i);
      seq->push_back("conv" + n,
                     nn::Conv2d(channels, channels, 3,
                                {.stride = 2, .padding = 1, .groups = channels, .bias = false}));
      seq->push_back("norm" + n, nn::BatchNorm2d(channels));
      if (i != num_conv) seq->push_back("act" + n, nn::ReLU());
    }
    gather = register_module("gather", seq);
  }
  rd_channels = options.rd_channels > 0
                    ? options.rd_channels
                    : make_divisible(double(channels) * options.rd_ratio, options.rd_divisor, 0,
                                     /*round_limit=*/0.0);
  if (options.use_mlp)
    mlp = register_module("mlp", ConvMlp(channels, rd_channels, /*layer_norm=*/false));
}

Tensor GatherExciteImpl::forward(const Tensor& x) {
  check_feature_map("GatherExcite", x, channels);
  const int64_t H = x.size(2), W = x.size(3);
  Tensor g;  // (B, C, h, w)
  if (gather) {
    g = gather(x);
  } else if (options.extent == 0) {
    g = x.mean({2, 3}, true);
    if (options.add_maxpool) g = g * 0.5 + amax(x, {2, 3}, true) * 0.5;
  } else {
    const int64_t k = 2 * options.extent - 1, s = options.extent, p = k / 2;
    Pool2dOptions po{.kernel_size = {k, k}, .stride = {{s, s}}, .padding = {p, p}};
    po.count_include_pad = false;
    g = avg_pool2d(x, po);
    if (options.add_maxpool) g = g * 0.5 + max_pool2d(x, po) * 0.5;
  }
  if (mlp) g = mlp(g);
  if (g.size(2) != 1 || g.size(3) != 1) g = interpolate_nearest(g, H, W);
  Tensor gate = sigmoid(g);
  keep_map("weights", gate);
  return x * gate;
}

std::string GatherExciteImpl::extra_repr() const {
  using nn::detail::py_bool;
  return "channels=" + std::to_string(channels) + ", extent=" + std::to_string(options.extent) +
         ", extra_params=" + py_bool(options.extra_params) +
         ", use_mlp=" + py_bool(options.use_mlp) + ", rd_channels=" + std::to_string(rd_channels);
}

nn::ModuleCost GatherExciteImpl::cost(const std::vector<Shape>& in,
                                      const std::vector<Shape>&) const {
  // Gathering touches every element (once more with add_maxpool); the
  // sigmoid and the rescale are per element after upsampling (at most).
  if (in.empty()) return {};
  const int64_t numel = numel_of(in[0]);
  int64_t gather_cost = gather ? 0 : numel * (options.add_maxpool ? 2 : 1);
  return {0, gather_cost + 2 * numel};
}

}  // namespace heed::attention

#include "attention/gc.h"

#include "attention/zoo_common.h"
#include "nn/init.h"

namespace heed::attention {

using namespace zoo_detail;

GlobalContextImpl::GlobalContextImpl(int64_t channels, const GlobalContextOptions& options)
    : channels(channels), options(options) {
  HEED_CHECK(channels > 0, "GlobalContext: channels must be > 0, got ", channels);
  HEED_CHECK(options.fuse_add || options.fuse_scale,
             "GlobalContext: at least one of fuse_add and fuse_scale must be on");
  HEED_CHECK(options.rd_channels >= 0 && options.rd_divisor >= 1 && options.rd_ratio > 0,
             "GlobalContext: need rd_channels >= 0, rd_divisor >= 1 and rd_ratio > 0, got ",
             options.rd_channels, ", ", options.rd_divisor, ", ", options.rd_ratio);
  rd_channels = options.rd_channels > 0
                    ? options.rd_channels
                    : make_divisible(double(channels) * options.rd_ratio, options.rd_divisor, 0,
                                     /*round_limit=*/0.0);
  if (options.use_attn) conv_attn = register_module("conv_attn", nn::Conv2d(channels, 1, 1));
  if (options.fuse_add)
    mlp_add = register_module("mlp_add", ConvMlp(channels, rd_channels, /*layer_norm=*/true));
  if (options.fuse_scale)
    mlp_scale = register_module("mlp_scale", ConvMlp(channels, rd_channels, true));
  reset_parameters();
}

void GlobalContextImpl::reset_parameters() {
  if (conv_attn)
    nn::init::kaiming_normal_(conv_attn->weight, 0.0, nn::init::FanMode::FanIn, "relu");
  if (mlp_add) nn::init::zeros_(mlp_add->fc2->weight);
}

Tensor GlobalContextImpl::forward(const Tensor& x) {
  check_feature_map("GlobalContext", x, channels);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor context;  // (B, C, 1, 1)
  if (conv_attn) {
    Tensor attn = softmax(conv_attn(x).reshape({B, 1, H * W}), -1);  // (B, 1, N)
    keep_map("spatial", attn.reshape({B, 1, H, W}));
    context = matmul(x.reshape({B, C, H * W}), attn.transpose(1, 2)).reshape({B, C, 1, 1});
  } else {
    context = x.mean({2, 3}, true);
  }
  Tensor y = x;
  if (mlp_scale) {
    Tensor gate = sigmoid(mlp_scale(context));  // (B, C, 1, 1)
    keep_map("channel", gate);
    y = y * gate;
  }
  if (mlp_add) y = y + mlp_add(context);
  return y;
}

std::string GlobalContextImpl::extra_repr() const {
  using nn::detail::py_bool;
  return "channels=" + std::to_string(channels) + ", rd_channels=" + std::to_string(rd_channels) +
         ", use_attn=" + py_bool(options.use_attn) + ", fuse_add=" + py_bool(options.fuse_add) +
         ", fuse_scale=" + py_bool(options.fuse_scale);
}

nn::ModuleCost GlobalContextImpl::cost(const std::vector<Shape>& in,
                                       const std::vector<Shape>&) const {
  if (in.empty()) return {};
  const int64_t numel = numel_of(in[0]);  // B·C·N
  const int64_t b_n = numel / channels;   // B·N
  nn::ModuleCost c;
  if (options.use_attn) {
    c.macs = numel;            // context = x (B, C, N) @ attn (B, N, 1)
    c.elementwise += 3 * b_n;  // softmax: exp, sum, divide
  } else {
    c.elementwise += numel;  // mean pooling
  }
  if (options.fuse_scale) c.elementwise += numel;  // rescale
  if (options.fuse_add) c.elementwise += numel;    // broadcast add
  return c;
}

}  // namespace heed::attention

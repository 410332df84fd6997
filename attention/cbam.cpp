#include "attention/cbam.h"

#include "attention/detail.h"

namespace heed::attention {

ChannelAttentionImpl::ChannelAttentionImpl(int64_t in_planes, int64_t ratio, bool bias)
    : in_planes(in_planes) {
  HEED_CHECK(in_planes > 0 && ratio > 0,
             "ChannelAttention: in_planes and ratio must be positive, got ", in_planes, " and ",
             ratio);
  hidden = in_planes / ratio;
  HEED_CHECK(hidden > 0, "ChannelAttention: hidden width in_planes // ratio = ", in_planes, " // ",
             ratio, " = 0; use a ratio <= ", in_planes);
  fc1 = register_module("fc1", nn::Conv2d(in_planes, hidden, 1, {.bias = bias}));
  fc2 = register_module("fc2", nn::Conv2d(hidden, in_planes, 1, {.bias = bias}));
}

Tensor ChannelAttentionImpl::forward(const Tensor& x) {
  detail::check_feature_map("ChannelAttention", x, in_planes);
  const int64_t B = x.size(0);
  // Both descriptors, [means; maxima] from one read of x, through the
  // shared MLP in one batch of 2B.
  Tensor z = fc2(relu(fc1(global_mean_max_pool2d(x))));  // (2B, C, 1, 1)
  return sigmoid(z.narrow(0, 0, B) + z.narrow(0, B, B));
}

Tensor ChannelAttentionImpl::from_pools(const Tensor& mean, const Tensor& max) {
  HEED_CHECK(mean.dim() == 2 && mean.size(1) == in_planes && max.shape() == mean.shape(),
             "ChannelAttention: from_pools expects (B, C) means and maxima with C = ", in_planes,
             ", got shapes ", shape_str(mean.shape()), " and ", shape_str(max.shape()));
  const int64_t B = mean.size(0);
  // The 1×1 convolutions of (2B, C, 1, 1) as the matrix products they are
  // (a conv call per image costs more than its arithmetic here).
  Tensor h = relu(linear(cat({mean, max}, 0), fc1->weight.view({hidden, in_planes}), fc1->bias));
  Tensor z = linear(h, fc2->weight.view({in_planes, hidden}), fc2->bias);  // (2B, C)
  return sigmoid(z.narrow(0, 0, B) + z.narrow(0, B, B)).view({B, in_planes, 1, 1});
}

nn::ModuleCost ChannelAttentionImpl::cost(const std::vector<Shape>& in,
                                          const std::vector<Shape>&) const {
  // Two global pools; the MLP's MACs come from fc1/fc2.
  return {0, in.empty() ? 0 : 2 * numel_of(in[0])};
}

SpatialAttentionImpl::SpatialAttentionImpl(int64_t kernel_size,
                                           const SpatialAttentionOptions& options)
    : kernel_size(kernel_size), options(options) {
  HEED_CHECK(
      kernel_size > 0 && kernel_size % 2 == 1,
      "SpatialAttention: kernel_size must be odd and positive (the map keeps its size), got ",
      kernel_size);
  conv1 = register_module(
      "conv1", nn::Conv2d(2, 1, kernel_size, {.padding = kernel_size / 2, .bias = options.bias}));
  if (options.bn) bn = register_module("bn", nn::BatchNorm2d(1));
}

Tensor SpatialAttentionImpl::forward(const Tensor& x) {
  return forward(x, Tensor());
}

Tensor SpatialAttentionImpl::forward(const Tensor& x, const Tensor& channel_gate) {
  HEED_CHECK(x.dim() == 4, "SpatialAttention: expected a (B, C, H, W) input, got shape ",
             shape_str(x.shape()));
  // [mean; max] (or [max; mean]) over the channels of x · channel_gate, one op.
  return from_descriptor(channel_mean_max(x, channel_gate, options.max_first));
}

Tensor SpatialAttentionImpl::from_descriptor(const Tensor& descriptor) {
  Tensor s = conv1(descriptor);  // (B, 1, H, W)
  return sigmoid(bn.is_empty() ? s : bn(s));
}

nn::ModuleCost SpatialAttentionImpl::cost(const std::vector<Shape>& in,
                                          const std::vector<Shape>&) const {
  // Two channel-wise reductions; the conv reports its MACs.
  return {0, in.empty() ? 0 : 2 * numel_of(in[0])};
}

CBAMImpl::CBAMImpl(int64_t in_planes, const CBAMOptions& options)
    : in_planes(in_planes), options(options) {
  ca = register_module("ca", ChannelAttention(in_planes, options.ratio, options.mlp_bias));
  sa = register_module("sa", SpatialAttention(options.kernel_size, {.max_first = options.max_first,
                                                                    .bias = options.spatial_bias,
                                                                    .bn = options.spatial_bn}));
}

std::pair<Tensor, Tensor> CBAMImpl::gates(const Tensor& x) {
  detail::check_feature_map("CBAM", x, in_planes);
  Tensor mc = ca(x);  // (B, C, 1, 1)
  // The spatial gate of x · mc, without x · mc: sa's descriptor scales as it
  // reads.
  Tensor ms = sa(x, mc);  // (B, 1, H, W)
  keep_map("channel", mc);
  keep_map("spatial", ms);
  return {mc, ms};
}

Tensor CBAMImpl::forward(const Tensor& x) {
  auto [mc, ms] = gates(x);
  Tensor out = x * mc * ms;
  return options.residual ? out + x : out;
}

Tensor CBAMImpl::forward(const Tensor& x, const Tensor& residual) {
  if (options.residual) return AttentionModuleImpl::forward(x, residual);
  auto [mc, ms] = gates(x);
  return gates_add_relu(x, mc, ms, residual);  // relu(x · mc · ms + residual)
}

CbamGateFns CBAMImpl::cbam_gates() {
  if (options.residual || ca->has_forward_hooks() || ca->fc1->has_forward_hooks() ||
      ca->fc2->has_forward_hooks() || sa->has_forward_hooks())
    return {};
  return {[this](const Tensor& mean, const Tensor& max) { return ca->from_pools(mean, max); },
          [this](const Tensor& d) {
            HEED_CHECK(d.dim() == 4 && d.size(1) == 2,
                       "CBAM: the descriptor must be (B, 2, H, W), got ", shape_str(d.shape()));
            return sa->from_descriptor(d);
          },
          options.max_first};
}

nn::ModuleCost CBAMImpl::cost(const std::vector<Shape>& in, const std::vector<Shape>&) const {
  return {0, in.empty() ? 0 : 2 * numel_of(in[0])};  // the two rescales
}

std::string CBAMImpl::extra_repr() const {
  std::string s = "in_planes=" + std::to_string(in_planes) +
                  ", ratio=" + std::to_string(options.ratio) +
                  ", kernel_size=" + std::to_string(options.kernel_size);
  if (options.max_first) s += ", max_first=True";
  if (options.residual) s += ", residual=True";
  if (options.spatial_bias) s += ", spatial_bias=True";
  if (options.mlp_bias) s += ", mlp_bias=True";
  if (options.spatial_bn) s += ", spatial_bn=True";
  return s;
}

}  // namespace heed::attention

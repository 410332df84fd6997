#include "attention/danet.h"

#include "attention/zoo_common.h"

namespace heed::attention {

using namespace zoo_detail;

DAPositionAttentionImpl::DAPositionAttentionImpl(int64_t in_dim,
                                                 const DAPositionAttentionOptions& options)
    : in_dim(in_dim), options(options) {
  HEED_CHECK(in_dim > 0 && options.reduction > 0,
             "DAPositionAttention: in_dim and reduction must be > 0, got ", in_dim, " and ",
             options.reduction);
  inner = in_dim / options.reduction;
  HEED_CHECK(inner >= 1, "DAPositionAttention: in_dim / reduction = ", in_dim, " / ",
             options.reduction, " is 0; use a smaller reduction");
  gamma = register_parameter("gamma", zeros({1}));
  query_conv = register_module("query_conv", nn::Conv2d(in_dim, inner, 1));
  key_conv = register_module("key_conv", nn::Conv2d(in_dim, inner, 1));
  value_conv = register_module("value_conv", nn::Conv2d(in_dim, in_dim, 1));
}

Tensor DAPositionAttentionImpl::forward(const Tensor& x) {
  check_feature_map("DAPositionAttention", x, in_dim);
  const int64_t B = x.size(0), C = in_dim, H = x.size(2), W = x.size(3), N = H * W;
  Tensor q = query_conv(x).reshape({B, inner, N}).transpose(1, 2);  // (B, N, C')
  Tensor k = key_conv(x).reshape({B, inner, N});                    // (B, C', N)
  Tensor attn = softmax(matmul(q, k), -1);                          // (B, N, N) over keys
  keep_map("weights", attn);
  Tensor v = value_conv(x).reshape({B, C, N});                         // (B, C, N)
  Tensor out = matmul(v, attn.transpose(1, 2)).reshape({B, C, H, W});  // out_i = Σ_j v_j A_ij
  return gamma * out + x;
}

std::string DAPositionAttentionImpl::extra_repr() const {
  return "in_dim=" + std::to_string(in_dim) + ", reduction=" + std::to_string(options.reduction);
}

nn::ModuleCost DAPositionAttentionImpl::cost(const std::vector<Shape>& in,
                                             const std::vector<Shape>&) const {
  // Own MACs: QᵀK B·N²·C' and V·Aᵀ B·N²·C. Softmax ~3 per logit; γ·out + x.
  if (in.empty()) return {};
  const Shape& s = in[0];
  const int64_t B = s[0], N = s[2] * s[3];
  return {B * N * N * (inner + in_dim), 3 * B * N * N + 2 * numel_of(s)};
}

DAChannelAttentionImpl::DAChannelAttentionImpl(int64_t in_dim) : in_dim(in_dim) {
  HEED_CHECK(in_dim > 0, "DAChannelAttention: in_dim must be > 0, got ", in_dim);
  gamma = register_parameter("gamma", zeros({1}));
}

Tensor DAChannelAttentionImpl::forward(const Tensor& x) {
  check_feature_map("DAChannelAttention", x, in_dim);
  const int64_t B = x.size(0), C = in_dim;
  Tensor X = x.reshape({B, C, -1});              // (B, C, N)
  Tensor energy = matmul(X, X.transpose(1, 2));  // (B, C, C)
  // rowmax(E) − E: the authors' "energy_new"; softmax then favours
  // dissimilar channels. (Its gradient through the max cancels in softmax.)
  Tensor shifted = max(energy, -1, true).first.expand_as(energy) - energy;
  Tensor attn = softmax(shifted, -1);
  keep_map("weights", attn);
  Tensor out = matmul(attn, X).reshape(x.shape());
  return gamma * out + x;
}

std::string DAChannelAttentionImpl::extra_repr() const {
  return "in_dim=" + std::to_string(in_dim);
}

nn::ModuleCost DAChannelAttentionImpl::cost(const std::vector<Shape>& in,
                                            const std::vector<Shape>&) const {
  // Own MACs: X·Xᵀ and A·X, B·C²·N each. Max, subtract and softmax per logit.
  if (in.empty()) return {};
  const Shape& s = in[0];
  const int64_t B = s[0], C = s[1], N = s[2] * s[3];
  return {2 * B * C * C * N, 5 * B * C * C + 2 * numel_of(s)};
}

DANetImpl::DANetImpl(int64_t channels, const DANetOptions& options)
    : channels(channels), options(options) {
  const std::string& m = options.mode;
  HEED_CHECK(m == "both" || m == "position" || m == "channel",
             "DANet: mode must be 'both', 'position' or 'channel', got '", m, "'");
  if (m != "channel")
    position_attention_module = register_module(
        "position_attention_module",
        DAPositionAttention(channels, DAPositionAttentionOptions{.reduction = options.reduction}));
  if (m != "position")
    channel_attention_module =
        register_module("channel_attention_module", DAChannelAttention(channels));
}

Tensor DANetImpl::forward(const Tensor& x) {
  check_feature_map("DANet", x, channels);
  Tensor y;
  if (position_attention_module) {
    position_attention_module->set_keep_maps(keeps_maps());
    y = position_attention_module(x);
    if (keeps_maps()) keep_map("position", position_attention_module->maps().at("weights"));
  }
  if (channel_attention_module) {
    channel_attention_module->set_keep_maps(keeps_maps());
    Tensor c = channel_attention_module(x);
    if (keeps_maps()) keep_map("channel", channel_attention_module->maps().at("weights"));
    y = y.defined() ? y + c : c;
  }
  return y;
}

std::string DANetImpl::extra_repr() const {
  return "channels=" + std::to_string(channels) + ", mode='" + options.mode + "'";
}

}  // namespace heed::attention

#include "attention/triplet.h"

#include "attention/zoo_common.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"

namespace heed::attention {

using namespace zoo_detail;

TripletGateImpl::TripletGateImpl(int64_t k) {
  HEED_CHECK(k >= 1 && k % 2 == 1, "TripletAttention: kernel_size must be odd and >= 1, got ", k);
  conv = register_module(
      "conv",
      nn::Sequential({{"conv", nn::Conv2d(2, 1, k, {.padding = (k - 1) / 2, .bias = false})},
                      {"bn", nn::BatchNorm2d(1, {.eps = 1e-5, .momentum = 0.01})}}));
}

Tensor TripletGateImpl::forward(const Tensor& x) {
  // Z-pool: max first, then mean (the order decides which weight slice sees which).
  Tensor z = cat({max(x, 1, true).first, x.mean({1}, true)}, 1);  // (B, 2, P, Q)
  return sigmoid(conv(z));                                        // (B, 1, P, Q)
}

nn::ModuleCost TripletGateImpl::cost(const std::vector<Shape>& in,
                                     const std::vector<Shape>& out) const {
  // Z-pool (max + mean over L), sigmoid ~4 per gate element.
  if (in.empty() || out.empty()) return {};
  return {0, 2 * numel_of(in[0]) + 4 * numel_of(out[0])};
}

TripletAttentionImpl::TripletAttentionImpl(const TripletAttentionOptions& options)
    : options(options) {
  cw = register_module("cw", TripletGate(options.kernel_size));
  hc = register_module("hc", TripletGate(options.kernel_size));
  if (!options.no_spatial) hw = register_module("hw", TripletGate(options.kernel_size));
}

TripletAttentionImpl::TripletAttentionImpl(int64_t channels, const TripletAttentionOptions& options)
    : TripletAttentionImpl(options) {
  HEED_CHECK(channels >= 0, "TripletAttention: channels must be >= 0, got ", channels);
}

Tensor TripletAttentionImpl::forward(const Tensor& x) {
  check_feature_map("TripletAttention", x, 0);
  // (B, C, H, W) viewed as (B, H, C, W): the gate pools over H and sees the (C, W) plane.
  Tensor g_cw = cw(x.permute({0, 2, 1, 3}).contiguous()).permute({0, 2, 1, 3});  // (B, C, 1, W)
  // viewed as (B, W, H, C): pools over W, plane (H, C).
  Tensor g_hc = hc(x.permute({0, 3, 2, 1}).contiguous()).permute({0, 3, 2, 1});  // (B, C, H, 1)
  keep_map("cw", g_cw);
  keep_map("hc", g_hc);
  Tensor out_cw = x * g_cw, out_hc = x * g_hc;
  if (options.no_spatial) return (out_cw + out_hc) * 0.5;
  Tensor g_hw = hw(x);  // (B, 1, H, W)
  keep_map("spatial", g_hw);
  return (x * g_hw + out_cw + out_hc) * (1.0 / 3.0);
}

std::string TripletAttentionImpl::extra_repr() const {
  return std::string("no_spatial=") + nn::detail::py_bool(options.no_spatial) +
         (options.kernel_size != 7 ? ", kernel_size=" + std::to_string(options.kernel_size) : "");
}

nn::ModuleCost TripletAttentionImpl::cost(const std::vector<Shape>& in,
                                          const std::vector<Shape>&) const {
  // Rescales (one multiply per gate) and the average.
  if (in.empty()) return {};
  int64_t gates = options.no_spatial ? 2 : 3;
  return {0, (2 * gates) * numel_of(in[0])};
}

}  // namespace heed::attention

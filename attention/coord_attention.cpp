#include "attention/coord_attention.h"

#include <algorithm>

#include "attention/detail.h"

namespace heed::attention {

Tensor h_swish(const Tensor& x) {
  return x * detail::div_scalar(relu6(x + 3.0), 6.0);
}

CoordAttentionImpl::CoordAttentionImpl(int64_t inp, int64_t oup,
                                       const CoordAttentionOptions& options)
    : inp(inp), oup(oup), options(options) {
  HEED_CHECK(inp > 0, "CoordAttention: inp must be positive, got ", inp);
  HEED_CHECK(oup == inp, "CoordAttention: oup (", oup, ") must equal inp (", inp,
             "): the attention maps multiply the input");
  HEED_CHECK(options.reduction > 0, "CoordAttention: reduction must be positive, got ",
             options.reduction);
  mip = std::max<int64_t>(8, inp / options.reduction);
  conv1 = register_module("conv1", nn::Conv2d(inp, mip, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(mip));
  conv_h = register_module("conv_h", nn::Conv2d(mip, oup, 1));
  conv_w = register_module("conv_w", nn::Conv2d(mip, oup, 1));
}

Tensor CoordAttentionImpl::forward(const Tensor& x) {
  detail::check_feature_map("CoordAttention", x, inp);
  const int64_t H = x.size(2), W = x.size(3);
  Tensor x_h = mean(x, {3}, /*keepdim=*/true);                        // (B, C, H, 1)
  Tensor x_w = mean(x, {2}, /*keepdim=*/true).permute({0, 1, 3, 2});  // (B, C, W, 1)
  Tensor y = h_swish(bn1(conv1(cat({x_h, x_w}, 2))));                 // (B, mip, H+W, 1)
  std::vector<Tensor> parts = split(y, std::vector<int64_t>{H, W}, 2);
  Tensor a_h = sigmoid(conv_h(parts[0]));                        // (B, C, H, 1)
  Tensor a_w = sigmoid(conv_w(parts[1].permute({0, 1, 3, 2})));  // (B, C, 1, W)
  keep_map("h", a_h);
  keep_map("w", a_w);
  return x * a_w * a_h;
}

std::string CoordAttentionImpl::extra_repr() const {
  return "inp=" + std::to_string(inp) + ", oup=" + std::to_string(oup) +
         ", reduction=" + std::to_string(options.reduction) + ", mip=" + std::to_string(mip);
}

nn::ModuleCost CoordAttentionImpl::cost(const std::vector<Shape>& in,
                                        const std::vector<Shape>&) const {
  // Strip pools and the two products; convs and BN report themselves.
  return {0, in.empty() ? 0 : 4 * numel_of(in[0])};
}

}  // namespace heed::attention

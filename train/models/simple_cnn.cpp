#include "train/models/simple_cnn.h"

#include "nn/conv_bn_fold.h"

namespace heed::train {

SimpleCNNImpl::SimpleCNNImpl(const SimpleCNNOptions& o) : options(o) {
  HEED_CHECK(o.in_channels > 0 && o.num_classes > 0 && o.channels > 0,
             "SimpleCNN: in_channels, num_classes and channels must be positive, got ",
             o.in_channels, ", ", o.num_classes, ", ", o.channels);
  const int64_t c1 = o.channels, c2 = 2 * o.channels;
  conv1 = register_module("conv1", nn::Conv2d(o.in_channels, c1, 3, {.padding = 1, .bias = false}));
  bn1 = register_module("bn1", nn::BatchNorm2d(c1, {.fuse_relu = true}));
  if (o.attention.applies(1, 0)) attention1 = register_module("attention1", o.attention.make(c1));
  conv2 = register_module("conv2", nn::Conv2d(c1, c2, 3, {.padding = 1, .bias = false}));
  bn2 = register_module("bn2", nn::BatchNorm2d(c2, {.fuse_relu = true}));
  if (o.attention.applies(2, 0)) attention2 = register_module("attention2", o.attention.make(c2));
  fc = register_module("fc", nn::Linear(c2 * 16, o.num_classes));
}

Tensor SimpleCNNImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() == 4 && x.size(1) == options.in_channels, "SimpleCNN: expected input (B, ",
             options.in_channels, ", H, W), got ", shape_str(x.shape()));
  const Pool2dOptions pool{.kernel_size = {2, 2}, .stride = std::nullopt};
  Tensor h = nn::conv_bn(conv1, bn1, x);  // relu(bn1(·)), fused (folded in eval): (B, c1, H, W)
  if (attention1) h = attention1(h);
  h = max_pool2d(h, pool);         // (B, c1, H/2, W/2)
  h = nn::conv_bn(conv2, bn2, h);  // relu(bn2(·)), fused (folded in eval)
  if (attention2) h = attention2(h);
  h = max_pool2d(h, pool);             // (B, c2, H/4, W/4)
  h = adaptive_avg_pool2d(h, {4, 4});  // (B, c2, 4, 4)
  return fc(flatten(h, 1));            // (B, num_classes)
}

}  // namespace heed::train

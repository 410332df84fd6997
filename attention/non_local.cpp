#include "attention/non_local.h"

#include <algorithm>

#include "attention/detail.h"
#include "nn/init.h"
#include "nn/pooling.h"

namespace heed::attention {

NonLocalBlockImpl::NonLocalBlockImpl(int64_t in_channels, const NonLocalBlockOptions& options)
    : in_channels(in_channels), options(options) {
  HEED_CHECK(in_channels > 0, "NonLocalBlock: in_channels must be positive, got ", in_channels);
  HEED_CHECK(options.inter_channels >= 0, "NonLocalBlock: inter_channels must be >= 0, got ",
             options.inter_channels);
  inter_channels =
      options.inter_channels > 0 ? options.inter_channels : std::max<int64_t>(1, in_channels / 2);
  const int64_t C = in_channels, Ci = inter_channels;
  // Registration order follows the PyTorch module: g, W, theta, phi.
  if (options.sub_sample)
    g = register_module("g", nn::Sequential(nn::Conv2d(C, Ci, 1), nn::MaxPool2d(2)));
  else
    g = register_module("g", nn::Conv2d(C, Ci, 1));
  if (options.bn_layer) {
    nn::BatchNorm2d bn(C);
    nn::init::zeros_(bn->weight);
    nn::init::zeros_(bn->bias);
    W = register_module("W", nn::Sequential(nn::Conv2d(Ci, C, 1), bn));
  } else {
    nn::Conv2d conv(Ci, C, 1);
    nn::init::zeros_(conv->weight);
    nn::init::zeros_(conv->bias);
    W = register_module("W", conv);
  }
  theta = register_module("theta", nn::Conv2d(C, Ci, 1));
  if (options.sub_sample)
    phi = register_module("phi", nn::Sequential(nn::Conv2d(C, Ci, 1), nn::MaxPool2d(2)));
  else
    phi = register_module("phi", nn::Conv2d(C, Ci, 1));
}

Tensor NonLocalBlockImpl::forward(const Tensor& x) {
  detail::check_feature_map("NonLocalBlock", x, in_channels);
  const int64_t B = x.size(0), H = x.size(2), W_ = x.size(3), Ci = inter_channels;
  HEED_CHECK(!options.sub_sample || (H >= 2 && W_ >= 2),
             "NonLocalBlock: sub_sample needs H, W >= 2, got ", shape_str(x.shape()));
  Tensor g_x = g(x).reshape({B, Ci, -1});                     // (B, Ci, N')
  Tensor th = theta(x).reshape({B, Ci, -1}).transpose(1, 2);  // (B, N, Ci)
  Tensor ph = phi(x).reshape({B, Ci, -1});                    // (B, Ci, N')
  Tensor f = softmax(matmul(th, ph), -1);                     // (B, N, N')
  keep_map("weights", f);
  Tensor y = matmul(g_x, f.transpose(1, 2)).view({B, Ci, H, W_});  // (B, Ci, H, W)
  return W(y) + x;
}

std::string NonLocalBlockImpl::extra_repr() const {
  return "in_channels=" + std::to_string(in_channels) +
         ", inter_channels=" + std::to_string(inter_channels) +
         ", sub_sample=" + nn::detail::py_bool(options.sub_sample) +
         ", bn_layer=" + nn::detail::py_bool(options.bn_layer);
}

nn::ModuleCost NonLocalBlockImpl::cost(const std::vector<Shape>& in,
                                       const std::vector<Shape>&) const {
  // θφ and f·g: 2·B·N·N'·Ci (the 1×1 convs report themselves); softmax B·N·N' exps.
  if (in.empty() || in[0].size() != 4) return {};
  const int64_t B = in[0][0], H = in[0][2], W_ = in[0][3];
  const int64_t N = H * W_, Np = options.sub_sample ? (H / 2) * (W_ / 2) : N;
  return {2 * B * N * Np * inter_channels, B * N * Np + numel_of(in[0])};
}

}  // namespace heed::attention

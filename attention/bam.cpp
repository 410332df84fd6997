#include "attention/bam.h"

#include "attention/zoo_common.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace heed::attention {

using namespace zoo_detail;

namespace {
int64_t hidden_width(int64_t channels, int64_t reduction) {
  HEED_CHECK(channels > 0 && reduction > 0, "BAM: channels and reduction must be > 0, got ",
             channels, " and ", reduction);
  HEED_CHECK(channels / reduction >= 1, "BAM: channels / reduction = ", channels, " / ", reduction,
             " is 0; use a smaller reduction");
  return channels / reduction;
}
}  // namespace

BAMChannelGateImpl::BAMChannelGateImpl(int64_t channels, int64_t reduction, int64_t num_layers) {
  HEED_CHECK(num_layers >= 1, "BAM: channel_layers must be >= 1, got ", num_layers);
  const int64_t cr = hidden_width(channels, reduction);
  nn::Sequential seq;
  seq->push_back("flatten", nn::Flatten());
  for (int64_t i = 0; i < num_layers; ++i) {
    std::string n = std::to_string(i);
    seq->push_back("fc" + n, nn::Linear(i == 0 ? channels : cr, cr));
    seq->push_back("bn" + n, nn::BatchNorm1d(cr));
    seq->push_back("relu" + n, nn::ReLU());
  }
  seq->push_back("last_fc", nn::Linear(cr, channels));
  ca = register_module("ca", seq);
}

Tensor BAMChannelGateImpl::forward(const Tensor& x) {
  Tensor s = x.mean({2, 3}, true);  // (B, C, 1, 1)
  return ca(s).unsqueeze(-1).unsqueeze(-1);
}

nn::ModuleCost BAMChannelGateImpl::cost(const std::vector<Shape>& in,
                                        const std::vector<Shape>&) const {
  return {0, in.empty() ? 0 : numel_of(in[0])};  // the pooling
}

BAMSpatialGateImpl::BAMSpatialGateImpl(int64_t channels, int64_t reduction, int64_t num_layers,
                                       int64_t dia_val) {
  HEED_CHECK(num_layers >= 0, "BAM: spatial_layers must be >= 0, got ", num_layers);
  HEED_CHECK(dia_val >= 1, "BAM: dia_val must be >= 1, got ", dia_val);
  const int64_t cr = hidden_width(channels, reduction);
  nn::Sequential seq;
  seq->push_back("conv_reduce1", nn::Conv2d(channels, cr, 1));
  seq->push_back("bn_reduce1", nn::BatchNorm2d(cr));
  seq->push_back("relu_reduce1", nn::ReLU());
  for (int64_t i = 0; i < num_layers; ++i) {
    std::string n = std::to_string(i);
    // padding = dilation keeps H×W (EA's padding=1 shrinks it; see bam.h).
    seq->push_back("conv_" + n, nn::Conv2d(cr, cr, 3, {.padding = dia_val, .dilation = dia_val}));
    seq->push_back("bn_" + n, nn::BatchNorm2d(cr));
    seq->push_back("relu_" + n, nn::ReLU());
  }
  seq->push_back("last_conv", nn::Conv2d(cr, 1, 1));
  sa = register_module("sa", seq);
}

BAMImpl::BAMImpl(int64_t channels, const BAMOptions& options)
    : channels(channels), options(options) {
  ca = register_module("ca", BAMChannelGate(channels, options.reduction, options.channel_layers));
  sa = register_module(
      "sa", BAMSpatialGate(channels, options.reduction, options.spatial_layers, options.dia_val));
}

Tensor BAMImpl::forward(const Tensor& x) {
  check_feature_map("BAM", x, channels);
  Tensor m_s = sa(x);  // (B, 1, H, W)
  Tensor m_c = ca(x);  // (B, C, 1, 1)
  keep_map("channel", m_c);
  keep_map("spatial", m_s);
  return (sigmoid(m_s + m_c) + 1.0) * x;
}

std::string BAMImpl::extra_repr() const {
  return "channel=" + std::to_string(channels) +
         ", reduction=" + std::to_string(options.reduction) +
         ", dia_val=" + std::to_string(options.dia_val) +
         ", channel_layers=" + std::to_string(options.channel_layers) +
         ", spatial_layers=" + std::to_string(options.spatial_layers);
}

nn::ModuleCost BAMImpl::cost(const std::vector<Shape>& in, const std::vector<Shape>&) const {
  // Broadcast add, sigmoid (~4), +1, multiply per element.
  return {0, in.empty() ? 0 : 7 * numel_of(in[0])};
}

}  // namespace heed::attention

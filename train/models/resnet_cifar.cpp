#include "train/models/resnet_cifar.h"

#include "nn/conv_bn_fold.h"
#include "nn/init.h"

namespace heed::train {

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride,
                               attention::AttentionModule attn, attention::Position position)
    : in_planes(in_planes), planes(planes), stride(stride), position(position) {
  HEED_CHECK(planes >= in_planes && (planes - in_planes) % 2 == 0,
             "BasicBlock: option-A shortcut pads channels evenly, so planes (", planes,
             ") must be in_planes (", in_planes, ") plus an even number");
  conv1 = register_module(
      "conv1", nn::Conv2d(in_planes, planes, 3, {.stride = stride, .padding = 1, .bias = false}));
  // bn1 is followed by a ReLU: fused into one op (same state_dict keys).
  bn1 = register_module("bn1", nn::BatchNorm2d(planes, {.fuse_relu = true}));
  conv2 = register_module("conv2", nn::Conv2d(planes, planes, 3, {.padding = 1, .bias = false}));
  // Unless attention sits between bn2 and the residual add (Standard),
  // relu(bn2(·) + shortcut) is one fused op.
  const bool attention_after_bn2 = attn && position == attention::Position::Standard;
  bn2 = register_module("bn2", nn::BatchNorm2d(planes, {.fuse_relu = !attention_after_bn2}));
  if (attn) attention = register_module("attention", attn);
}

Tensor BasicBlockImpl::shortcut(const Tensor& x) const {
  if (stride == 1 && in_planes == planes) return x;
  Tensor s = x;  // (B, C_in, H, W)
  if (stride != 1) s = slice(slice(s, 2, 0, s.size(2), stride), 3, 0, s.size(3), stride);
  int64_t p = (planes - in_planes) / 2;
  return p > 0 ? pad(s, {0, 0, 0, 0, p, p}) : s;  // (B, planes, H/s, W/s)
}

Tensor BasicBlockImpl::forward(const Tensor& x) {
  using attention::Position;
  const bool att = !attention.is_empty();
  Tensor in = (att && position == Position::Pre) ? attention(x) : x;
  Tensor out = nn::conv_bn(conv1, bn1, in);  // relu(bn1(conv1(in))), fused
  Tensor sc = shortcut(x);
  if (att && position == Position::Identity) sc = attention(sc);
  if (bn2->options.fuse_relu) {
    out = nn::conv_bn(conv2, bn2, out, sc);  // relu(bn2(conv2(out)) + sc), fused
  } else {
    // Attention between bn2 and the join (Standard): relu(attention(out) +
    // sc), gating modules fuse the gate with the join. While maps are
    // recorded, the module runs alone so its hooks see its own output; under
    // hooks or summary() it runs through its holder.
    const bool observed =
        attention->has_forward_hooks() || nn::detail::forward_observer() != nullptr;
    if (attention->keeps_maps()) {
      out = add_relu(attention(nn::conv_bn(conv2, bn2, out)), sc);
    } else if (CbamGateFns cbam = observed ? CbamGateFns{} : attention->cbam_gates();
               cbam.channel) {
      // bn2, both gates (the channel pools from bn2's statistics) and the join.
      out = nn::conv_bn_cbam_add_relu(conv2, bn2, out, cbam, sc);
    } else if (attention->gates_from_spatial_mean() && !observed) {
      // bn2, the gate (its pool from bn2's statistics) and the join: one op.
      out = nn::conv_bn_gate_add_relu(
          conv2, bn2, out, [&](const Tensor& m) { return attention->gate_from_mean(m); }, sc);
    } else {
      out = attention(nn::conv_bn(conv2, bn2, out), sc);
    }
  }
  if (att && position == Position::Post) out = attention(out);
  return out;
}

std::string BasicBlockImpl::extra_repr() const {
  std::string s = std::to_string(in_planes) + ", " + std::to_string(planes) +
                  ", stride=" + std::to_string(stride);
  if (!attention.is_empty()) s += std::string(", attention=") + attention::position_name(position);
  return s;
}

ResNetCifarImpl::ResNetCifarImpl(const ResNetCifarOptions& o) : options(o) {
  HEED_CHECK(o.depth >= 8 && (o.depth - 2) % 6 == 0,
             "ResNetCifar: depth must be 6n + 2 (8, 14, 20, 32, 44, 56, 110), got ", o.depth);
  HEED_CHECK(o.in_channels > 0, "ResNetCifar: in_channels must be positive, got ", o.in_channels);
  HEED_CHECK(o.num_classes > 0, "ResNetCifar: num_classes must be positive, got ", o.num_classes);
  HEED_CHECK(o.width > 0, "ResNetCifar: width must be positive, got ", o.width);
  const int64_t n = (o.depth - 2) / 6;
  const int64_t w0 = 16 * o.width;
  conv1 = register_module("conv1", nn::Conv2d(o.in_channels, w0, 3, {.padding = 1, .bias = false}));
  bn1 = register_module("bn1", nn::BatchNorm2d(w0, {.fuse_relu = true}));
  int64_t in = w0;
  nn::Sequential* stages[3] = {&layer1, &layer2, &layer3};
  for (int64_t s = 0; s < 3; ++s) {
    const int64_t planes = w0 << s;
    nn::Sequential stage;
    for (int64_t b = 0; b < n; ++b) {
      const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      attention::AttentionModule attn = nullptr;
      const attention::Position pos = o.attention.position;
      if (o.attention.applies(int(s + 1), int(b)))
        attn = o.attention.make(pos == attention::Position::Pre ? in : planes);
      stage->push_back(BasicBlock(in, planes, stride, attn, pos));
      in = planes;
    }
    *stages[s] = register_module("layer" + std::to_string(s + 1), stage);
  }
  fc = register_module("fc", nn::Linear(in, o.num_classes));
  // As models.py: kaiming_normal_ (fan_in, gain √2) on conv and linear weights.
  apply([](nn::Module& m) {
    if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(&m)) nn::init::kaiming_normal_(conv->weight);
    if (auto* lin = dynamic_cast<nn::LinearImpl*>(&m)) nn::init::kaiming_normal_(lin->weight);
  });
}

Tensor ResNetCifarImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() == 4 && x.size(1) == options.in_channels, "ResNetCifar: expected input (B, ",
             options.in_channels, ", H, W), got ", shape_str(x.shape()));
  Tensor out = nn::conv_bn(conv1, bn1, x);  // relu(bn1(conv1(x))), fused
  out = layer3(layer2(layer1(out)));
  return fc(mean(out, {2, 3}));  // (B, C) -> (B, num_classes)
}

std::string ResNetCifarImpl::extra_repr() const {
  return "depth=" + std::to_string(options.depth) + ", width=" + std::to_string(options.width);
}

}  // namespace heed::train

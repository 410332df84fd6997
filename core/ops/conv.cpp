// Convolutions: conv2d (PyTorch semantics, OIHW weights), conv1d (conv2d
// with H = 1), and conv2d_relu / conv2d_add_relu, which end a convolution
// with a ReLU (after adding a residual) in the same pass. This file checks
// shapes, allocates and records; the arithmetic is the backend's conv2d /
// conv2d_add_relu / conv2d_backward_input / conv2d_backward_weight.
//
// Letters: B batch, C input channels, O output channels, (H, W) input size,
// (kH, kW) kernel, (OH, OW) output size.
#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

// "5x7" for conv2d, "7" for conv1d (whose H is the inserted 1).
std::string size_str(bool is1d, int64_t h, int64_t w) {
  return is1d ? std::to_string(w) : std::to_string(h) + "x" + std::to_string(w);
}

// What follows the convolution in the same op: relu(conv + residual) when
// `relu` (residual may be undefined); nothing otherwise.
struct Epilogue {
  bool relu = false;
  Tensor residual;
};

// input (B, C, H, W) and weight (O, C/groups, kH, kW), already 4-D; `name`,
// `is1d` and the user's weight shape `wshape` only shape the error messages.
Tensor conv_forward(const char* name, bool is1d, const Tensor& input, const Tensor& weight,
                    const Shape& wshape, const Tensor& bias, const Conv2dParams& p,
                    const Epilogue& epi = {}) {
  ops::check_same_device(name, {&input, &weight, &bias});
  ops::check_floating(name, input);
  HEED_CHECK(weight.dtype() == input.dtype(), name, ": expected the same dtype for input and ",
             "weight, got ", input.dtype(), " and ", weight.dtype());
  HEED_CHECK(p.stride_h >= 1 && p.stride_w >= 1, name, ": stride must be positive, got ",
             size_str(is1d, p.stride_h, p.stride_w));
  HEED_CHECK(p.dilation_h >= 1 && p.dilation_w >= 1, name, ": dilation must be positive, got ",
             size_str(is1d, p.dilation_h, p.dilation_w));
  HEED_CHECK(p.pad_h >= 0 && p.pad_w >= 0, name, ": padding must be non-negative, got ",
             size_str(is1d, p.pad_h, p.pad_w));
  HEED_CHECK(p.groups >= 1, name, ": groups must be positive, got ", p.groups);

  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t O = weight.size(0), kh = weight.size(2), kw = weight.size(3);
  const int64_t G = p.groups;
  HEED_CHECK(C % G == 0, name, ": input channels (", C, ") are not divisible by groups (", G, ")");
  HEED_CHECK(O % G == 0, name, ": weight ", shape_str(wshape), " has ", O,
             " output channels, not divisible by groups (", G, ")");
  HEED_CHECK(weight.size(1) * G == C, name, ": input has ", C, " channels but weight ",
             shape_str(wshape), " expects ", weight.size(1) * G, " (groups=", G, ")");
  HEED_CHECK(kh >= 1 && kw >= 1, name, ": kernel size must be positive, got weight ",
             shape_str(wshape));
  const int64_t ekh = p.dilation_h * (kh - 1) + 1, ekw = p.dilation_w * (kw - 1) + 1;
  const int64_t ph = H + 2 * p.pad_h, pw = W + 2 * p.pad_w;
  HEED_CHECK(ekh <= ph && ekw <= pw, name, ": kernel size ", size_str(is1d, kh, kw),
             (ekh != kh || ekw != kw ? " (dilated " + size_str(is1d, ekh, ekw) + ")" : ""),
             " is larger than the padded input ", size_str(is1d, ph, pw), " (input ",
             shape_str(is1d ? Shape{input.size(0), C, W} : input.shape()), ")");
  if (bias.defined()) {
    HEED_CHECK(bias.dtype() == input.dtype(), name, ": expected the same dtype for input and ",
               "bias, got ", input.dtype(), " and ", bias.dtype());
    HEED_CHECK(bias.dim() == 1 && bias.size(0) == O, name, ": bias must have shape [", O,
               "] (one per output channel), got ", shape_str(bias.shape()));
  }
  const int64_t OH = (ph - ekh) / p.stride_h + 1, OW = (pw - ekw) / p.stride_w + 1;

  Tensor x = ops::contiguous_data(input.detach());                             // (B, C, H, W)
  Tensor w = ops::contiguous_data(weight.detach());                            // (O, C/G, kH, kW)
  Tensor b = bias.defined() ? ops::contiguous_data(bias.detach()) : Tensor();  // (O)
  const Tensor& res = epi.residual;
  if (res.defined()) {
    ops::check_same_device(name, {&input, &res});
    HEED_CHECK(res.dtype() == input.dtype(), name, ": expected the same dtype for input and ",
               "residual, got ", input.dtype(), " and ", res.dtype());
    HEED_CHECK(res.shape() == Shape({B, O, OH, OW}), name, ": residual of shape ",
               shape_str(res.shape()), " does not match the convolution's output ",
               shape_str(Shape{B, O, OH, OW}));
  }
  Tensor out = empty({B, O, OH, OW}, {input.dtype(), input.device()});
  if (epi.relu)
    backend_of(out).conv2d_add_relu(
        out, x, w, b, res.defined() ? ops::contiguous_data(res.detach()) : Tensor(), p);
  else
    backend_of(out).conv2d(out, x, w, b, p);

  if (any_requires_grad({&input, &weight, &bias, &res})) {
    // grad_input needs the weight, grad_weight the input; keep only what is needed.
    Tensor xd = weight.requires_grad() ? x : Tensor();
    Tensor wd = input.requires_grad() ? w : Tensor();
    // Through the ReLU, the gradient passes where the output is > 0.
    Tensor y = epi.relu ? out.detach() : Tensor();
    Shape x_shape = input.shape(), w_shape = weight.shape();
    record(name, {input, weight, bias, res}, out, [=](const Tensor& grad, const Needs& needs) {
      Tensor g = ops::contiguous_data(grad);  // (B, O, OH, OW)
      Backend& be = backend_of(g);
      if (y.defined()) g = be.grad_through_relu(g, y, Tensor());
      Tensor gi, gw, gb;
      if (needs[0]) {
        gi = empty(x_shape, {g.dtype(), g.device()});
        be.conv2d_backward_input(gi, g, wd, p);
      }
      if (needs[1]) {
        gw = empty(w_shape, {g.dtype(), g.device()});
        if (needs[2]) gb = empty({O}, {g.dtype(), g.device()});
        be.conv2d_backward_weight(gw, gb, g, xd, p);
      } else if (needs[2]) {
        gb = sum(g, {0, 2, 3});
      }
      return std::vector{gi, gw, gb, needs[3] ? g : Tensor()};
    });
  }
  return out;
}

// The 4-D checks of conv2d and its fused forms.
Conv2dParams conv2d_params(const char* name, const Tensor& input, const Tensor& weight,
                           std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding,
                           std::pair<int64_t, int64_t> dilation, int64_t groups) {
  HEED_CHECK(input.dim() == 4, name, ": expected a 4-D input (B, C, H, W), got ",
             shape_str(input.shape()));
  HEED_CHECK(weight.dim() == 4, name, ": expected a 4-D weight (O, C/groups, kH, kW), got ",
             shape_str(weight.shape()));
  return {stride.first,   stride.second,   padding.first, padding.second,
          dilation.first, dilation.second, groups};
}

}  // namespace

Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                   std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding,
                   std::pair<int64_t, int64_t> dilation, int64_t groups) {
  const char* name = "conv2d_relu";
  const Conv2dParams p = conv2d_params(name, input, weight, stride, padding, dilation, groups);
  return conv_forward(name, false, input, weight, weight.shape(), bias, p, {true, Tensor()});
}

Tensor conv2d_add_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                       const Tensor& residual, std::pair<int64_t, int64_t> stride,
                       std::pair<int64_t, int64_t> padding, std::pair<int64_t, int64_t> dilation,
                       int64_t groups) {
  const char* name = "conv2d_add_relu";
  HEED_CHECK(residual.defined(), name, ": residual is undefined (conv2d_relu has none)");
  const Conv2dParams p = conv2d_params(name, input, weight, stride, padding, dilation, groups);
  return conv_forward(name, false, input, weight, weight.shape(), bias, p, {true, residual});
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding,
              std::pair<int64_t, int64_t> dilation, int64_t groups) {
  HEED_CHECK(input.dim() == 4 || input.dim() == 3,
             "conv2d: expected a 4-D input (B, C, H, W) or 3-D unbatched (C, H, W), got ",
             shape_str(input.shape()));
  HEED_CHECK(weight.dim() == 4, "conv2d: expected a 4-D weight (O, C/groups, kH, kW), got ",
             shape_str(weight.shape()));
  Conv2dParams p{stride.first,   stride.second,   padding.first, padding.second,
                 dilation.first, dilation.second, groups};
  if (input.dim() == 3)
    return conv_forward("conv2d", false, input.unsqueeze(0), weight, weight.shape(), bias, p)
        .squeeze(0);
  return conv_forward("conv2d", false, input, weight, weight.shape(), bias, p);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups) {
  HEED_CHECK(input.dim() == 3 || input.dim() == 2,
             "conv1d: expected a 3-D input (B, C, L) or 2-D unbatched (C, L), got ",
             shape_str(input.shape()));
  HEED_CHECK(weight.dim() == 3, "conv1d: expected a 3-D weight (O, C/groups, k), got ",
             shape_str(weight.shape()));
  Conv2dParams p{1, stride, 0, padding, 1, dilation, groups};
  Tensor x = input.dim() == 2 ? input.unsqueeze(0) : input;  // (B, C, L)
  // As conv2d over (B, C, 1, L) with a (O, C/groups, 1, k) kernel.
  Tensor out =
      conv_forward("conv1d", true, x.unsqueeze(2), weight.unsqueeze(2), weight.shape(), bias, p)
          .squeeze(2);  // (B, O, OL)
  return input.dim() == 2 ? out.squeeze(0) : out;
}

}  // namespace heed

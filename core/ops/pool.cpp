// 2-D pooling with PyTorch semantics on (B, C, H, W) or unbatched (C, H, W):
// forward, saved tensors and backward side by side. Max pools save int64
// indices (h·W + w within each plane) and share one backward kernel; average
// pools recompute their windows in the backward kernel.
#include <cmath>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

// Checks x is (C, H, W) or (B, C, H, W) floating point; returns the 4-D view
// the kernels take (unbatched inputs get a recorded unsqueeze).
Tensor batched(const char* op, const Tensor& x) {
  ops::check_floating(op, x);
  HEED_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expected a 3-D (C, H, W) or 4-D (B, C, H, W) ",
             "input, got shape ", shape_str(x.shape()));
  return x.dim() == 3 ? unsqueeze(x, 0) : x;
}

Tensor unbatched_like(const Tensor& out, const Tensor& x) {
  return x.dim() == 3 ? squeeze(out, 0) : out;
}

// PyTorch's pooling_output_shape: floor (or ceil) division, and in ceil mode
// the last window must start inside the input or the left padding.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                    bool ceil_mode) {
  int64_t num = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

Pool2dParams pool_params(const char* op, const Tensor& x4, const Pool2dOptions& o,
                         bool allow_dilation) {
  auto [kh, kw] = o.kernel_size;
  auto [sh, sw] = o.stride.value_or(o.kernel_size);
  auto [ph, pw] = o.padding;
  auto [dh, dw] = o.dilation;
  HEED_CHECK(kh > 0 && kw > 0, op, ": kernel_size must be positive, got (", kh, ", ", kw, ")");
  HEED_CHECK(sh > 0 && sw > 0, op, ": stride must be positive, got (", sh, ", ", sw, ")");
  HEED_CHECK(dh > 0 && dw > 0, op, ": dilation must be positive, got (", dh, ", ", dw, ")");
  HEED_CHECK(allow_dilation || (dh == 1 && dw == 1), op, ": dilation is not supported, got (", dh,
             ", ", dw, ")");
  HEED_CHECK(ph >= 0 && pw >= 0 && ph <= kh / 2 && pw <= kw / 2, op,
             ": padding should be at most half of the kernel size, got padding (", ph, ", ", pw,
             ") and kernel_size (", kh, ", ", kw, ")");
  Pool2dParams p;
  p.kernel_h = kh, p.kernel_w = kw, p.stride_h = sh, p.stride_w = sw;
  p.pad_h = ph, p.pad_w = pw, p.dilation_h = dh, p.dilation_w = dw;
  p.ceil_mode = o.ceil_mode;
  p.count_include_pad = o.count_include_pad;
  int64_t H = x4.size(2), W = x4.size(3);
  int64_t oh = pooled_size(H, kh, ph, sh, dh, o.ceil_mode);
  int64_t ow = pooled_size(W, kw, pw, sw, dw, o.ceil_mode);
  HEED_CHECK(oh > 0 && ow > 0, op, ": kernel (", kh, ", ", kw, ") with dilation (", dh, ", ", dw,
             ") and padding (", ph, ", ", pw, ") does not fit the input of shape ",
             shape_str(x4.shape()), " (output size would be ", oh, "x", ow, ")");
  return p;
}

Shape pooled_shape(const Tensor& x4, const Pool2dParams& p) {
  return {x4.size(0), x4.size(1),
          pooled_size(x4.size(2), p.kernel_h, p.pad_h, p.stride_h, p.dilation_h, p.ceil_mode),
          pooled_size(x4.size(3), p.kernel_w, p.pad_w, p.stride_w, p.dilation_w, p.ceil_mode)};
}

// Shared by both max pools: scatters g to the saved argmax positions.
Tensor max_pool_backward(const Tensor& g, const Tensor& indices, const Shape& in_shape) {
  Tensor gi = empty(in_shape, {g.dtype(), g.device()});
  backend_of(g).max_pool2d_backward(gi, ops::contiguous_data(g), indices);
  return gi;
}

void check_output_size(const char* op, const Tensor& x4, std::pair<int64_t, int64_t> size) {
  HEED_CHECK(size.first >= 0 && size.second >= 0, op, ": output_size must be >= 0, got (",
             size.first, ", ", size.second, ")");
  HEED_CHECK(x4.size(2) > 0 && x4.size(3) > 0, op, ": input has an empty spatial dim, shape ",
             shape_str(x4.shape()));
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options) {
  Tensor x4 = batched("max_pool2d", x);
  Pool2dParams p = pool_params("max_pool2d", x4, options, /*allow_dilation=*/true);
  Tensor xc = ops::contiguous_data(x4);
  Shape shape = pooled_shape(x4, p);
  Tensor out = empty(shape, {x.dtype(), x.device()});
  Tensor indices = empty(shape, {kInt64, x.device()});
  backend_of(xc).max_pool2d(out, indices, xc, p);
  if (any_requires_grad({&x4})) {
    Shape in_shape = x4.shape();
    record("max_pool2d", {x4}, out, [indices, in_shape](const Tensor& g, const Needs&) {
      return std::vector{max_pool_backward(g, indices, in_shape)};
    });
  }
  return unbatched_like(out, x);
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options) {
  Tensor x4 = batched("avg_pool2d", x);
  Pool2dParams p = pool_params("avg_pool2d", x4, options, /*allow_dilation=*/false);
  Tensor xc = ops::contiguous_data(x4);
  Tensor out = empty(pooled_shape(x4, p), {x.dtype(), x.device()});
  backend_of(xc).avg_pool2d(out, xc, p);
  if (any_requires_grad({&x4})) {
    Shape in_shape = x4.shape();
    record("avg_pool2d", {x4}, out, [p, in_shape](const Tensor& g, const Needs&) {
      Tensor gi = empty(in_shape, {g.dtype(), g.device()});
      backend_of(g).avg_pool2d_backward(gi, ops::contiguous_data(g), p);
      return std::vector{gi};
    });
  }
  return unbatched_like(out, x);
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::pair<int64_t, int64_t> output_size) {
  Tensor x4 = batched("adaptive_avg_pool2d", x);
  check_output_size("adaptive_avg_pool2d", x4, output_size);
  Tensor xc = ops::contiguous_data(x4);
  Tensor out = empty({x4.size(0), x4.size(1), output_size.first, output_size.second},
                     {x.dtype(), x.device()});
  backend_of(xc).adaptive_avg_pool2d(out, xc);
  if (any_requires_grad({&x4})) {
    Shape in_shape = x4.shape();
    record("adaptive_avg_pool2d", {x4}, out, [in_shape](const Tensor& g, const Needs&) {
      Tensor gi = empty(in_shape, {g.dtype(), g.device()});
      backend_of(g).adaptive_avg_pool2d_backward(gi, ops::contiguous_data(g));
      return std::vector{gi};
    });
  }
  return unbatched_like(out, x);
}

Tensor adaptive_max_pool2d(const Tensor& x, std::pair<int64_t, int64_t> output_size) {
  Tensor x4 = batched("adaptive_max_pool2d", x);
  check_output_size("adaptive_max_pool2d", x4, output_size);
  Tensor xc = ops::contiguous_data(x4);
  Shape shape{x4.size(0), x4.size(1), output_size.first, output_size.second};
  Tensor out = empty(shape, {x.dtype(), x.device()});
  Tensor indices = empty(shape, {kInt64, x.device()});
  backend_of(xc).adaptive_max_pool2d(out, indices, xc);
  if (any_requires_grad({&x4})) {
    Shape in_shape = x4.shape();
    record("adaptive_max_pool2d", {x4}, out, [indices, in_shape](const Tensor& g, const Needs&) {
      return std::vector{max_pool_backward(g, indices, in_shape)};
    });
  }
  return unbatched_like(out, x);
}

Tensor global_mean_max_pool2d(const Tensor& x) {
  const char* name = "global_mean_max_pool2d";
  ops::check_floating(name, x);
  HEED_CHECK(x.dim() == 4, name, ": expected a 4-D (B, C, H, W) input, got shape ",
             shape_str(x.shape()));
  HEED_CHECK(x.size(2) > 0 && x.size(3) > 0, name, ": input has an empty spatial dim, shape ",
             shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1);
  Tensor xc = ops::contiguous_data(x);
  Tensor out = empty({2 * B, C, 1, 1}, {x.dtype(), x.device()});
  Tensor argmax = empty({B, C, 1, 1}, {kInt64, x.device()});
  backend_of(xc).global_mean_max_pool2d(out, argmax, xc);
  if (any_requires_grad({&x})) {
    Shape in_shape = x.shape();
    record(name, {x}, out, [argmax, in_shape](const Tensor& g, const Needs&) {
      Tensor gi = empty(in_shape, {g.dtype(), g.device()});
      backend_of(g).global_mean_max_pool2d_backward(gi, ops::contiguous_data(g), argmax);
      return std::vector{gi};
    });
  }
  return out;
}

}  // namespace heed

// Every public op (see op_list.def for the table). Forward and backward of
// each live together in core/ops/<family>.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace heed {

// ------------------------------------------------------------ elementwise.cpp
// Binary ops broadcast like NumPy. Mixed float32/float64 promote to float64;
// int64 with a float promotes to the float.
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);
// relu(a + b) in one pass (floating types), e.g. a residual join.
Tensor add_relu(const Tensor& a, const Tensor& b);
// relu(x · gate + residual) in one pass: an attention gate, channel
// (B, C, 1, 1) or spatial (B, 1, H, W), then a residual join; x (B, C, H, W).
Tensor gate_add_relu(const Tensor& x, const Tensor& gate, const Tensor& residual);
// relu(x · channel_gate · spatial_gate + residual) in one pass: CBAM's two
// gates, channel (B, C, 1, 1) then spatial (B, 1, H, W), and the residual join.
Tensor gates_add_relu(const Tensor& x, const Tensor& channel_gate, const Tensor& spatial_gate,
                      const Tensor& residual);
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor maximum(const Tensor& a, const Tensor& b);  // grad split evenly on ties, like PyTorch
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor sign(const Tensor& x);  // no grad
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor add(const Tensor& x, double s);
Tensor mul(const Tensor& x, double s);
Tensor rsub(const Tensor& x, double s);  // s - x
Tensor rdiv(const Tensor& x, double s);  // s / x
// Comparisons return bool tensors and are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// Converts dtype (differentiable between float types).
Tensor cast(const Tensor& x, DType dtype);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, double s);
Tensor operator>(const Tensor& a, double s);

// ------------------------------------------------------------- activation.cpp
Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
// approximate = "none" (exact, erf) or "tanh".
Tensor gelu(const Tensor& x, std::string_view approximate = "none");
Tensor silu(const Tensor& x);
Tensor hardsigmoid(const Tensor& x);
Tensor hardswish(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);

// ----------------------------------------------------------------- reduce.cpp
// Empty `dims` reduces over all dims.
Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Shape& dims = {}, bool unbiased = true, bool keepdim = false);
// Values and int64 indices of the max/min over one dim; the gradient goes to
// the first extreme, like PyTorch.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over everything
Tensor min(const Tensor& x);
// Max over dims; the gradient is split evenly between ties (PyTorch's amax).
Tensor amax(const Tensor& x, const Shape& dims, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);
// CBAM's spatial descriptor (B, 2, H, W): the mean and the max over the
// channels of x · gate ([max; mean] with max_first), in one pass and without
// the product. x (B, C, H, W); gate (B, C, 1, 1), or undefined for x alone.
// The max's gradient goes to the first maximal channel, as max(x, 1).
Tensor channel_mean_max(const Tensor& x, const Tensor& gate = {}, bool max_first = false);
// Sums `x` down to `shape` (the reverse of broadcasting); used by backward.
Tensor sum_to(const Tensor& x, const Shape& shape);
// sum_to(a * b, shape) for a and b of one shape and dtype, without the
// product tensor when nothing records autograd (a broadcast gate's gradient).
Tensor sum_to_of_product(const Tensor& a, const Tensor& b, const Shape& shape);

// ----------------------------------------------------------------- matmul.cpp
// torch.matmul semantics: 1-D/2-D/batched with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (*, in) · weightᵀ (out, in) + bias (out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// -------------------------------------------------------------- attention.cpp
// softmax(scale · q kᵀ) · v over the last two dims, per (batch, head), for
// short sequences: q (B, h, nq, d), k (B, h, nk, d), v (B, h, nk, dv), any
// strides. Returns (out (B, h, nq, dv), probs (B, h, nq, nk)). out is stored
// as (B, nq, h, dv), so out.transpose(1, 2).reshape({B, nq, h·dv}) is a view;
// probs is the attention map and carries no gradient. torch:
// F.scaled_dot_product_attention(q, k, v, scale=scale) without mask or dropout.
std::pair<Tensor, Tensor> scaled_dot_product_attention(const Tensor& q, const Tensor& k,
                                                       const Tensor& v, double scale);

// --------------------------------------------------------------- movement.cpp
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed
Tensor view(const Tensor& x, const Shape& shape);     // errors instead of copying
Tensor permute(const Tensor& x, const Shape& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a dim
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor contiguous(const Tensor& x);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Constant padding; `pads` as torch.nn.functional.pad: (last_lo, last_hi, prev_lo, prev_hi, ...).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0.0);
Tensor repeat(const Tensor& x, const Shape& repeats);

// ------------------------------------------------------------------ index.cpp
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// weight (num, dim) rows picked by int64 indices of any shape; rows equal to
// padding_idx get no gradient.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);

// ---------------------------------------------------------------- softmax.cpp
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ------------------------------------------------------------------- conv.cpp
// input (B, C, H, W), weight (O, C/groups, kH, kW), bias (O) or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              std::pair<int64_t, int64_t> stride = {1, 1},
              std::pair<int64_t, int64_t> padding = {0, 0},
              std::pair<int64_t, int64_t> dilation = {1, 1}, int64_t groups = 1);
// relu(conv2d(...)) and relu(conv2d(...) + residual), residual of the
// output's shape, in one pass over the output (a folded conv + batch norm
// block in eval mode); input and weight 4-D.
Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                   std::pair<int64_t, int64_t> stride = {1, 1},
                   std::pair<int64_t, int64_t> padding = {0, 0},
                   std::pair<int64_t, int64_t> dilation = {1, 1}, int64_t groups = 1);
Tensor conv2d_add_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                       const Tensor& residual, std::pair<int64_t, int64_t> stride = {1, 1},
                       std::pair<int64_t, int64_t> padding = {0, 0},
                       std::pair<int64_t, int64_t> dilation = {1, 1}, int64_t groups = 1);
// input (B, C, L), weight (O, C/groups, k).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);

// ------------------------------------------------------------------- pool.cpp
struct Pool2dOptions {
  std::pair<int64_t, int64_t> kernel_size;
  std::optional<std::pair<int64_t, int64_t>> stride;  // defaults to kernel_size
  std::pair<int64_t, int64_t> padding = {0, 0};
  std::pair<int64_t, int64_t> dilation = {1, 1};  // max pooling only
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg pooling only
};
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& options);
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& options);
// Output (B, C, out_h, out_w) for any sizes, e.g. (H, 1) or (1, W).
Tensor adaptive_avg_pool2d(const Tensor& x, std::pair<int64_t, int64_t> output_size);
Tensor adaptive_max_pool2d(const Tensor& x, std::pair<int64_t, int64_t> output_size);
// Both global descriptors of x (B, C, H, W) from one read, stacked as a
// batch of 2B: (2B, C, 1, 1), rows [0, B) the means over (H, W) (as
// adaptive_avg_pool2d(x, 1)), rows [B, 2B) the maxima (as
// adaptive_max_pool2d(x, 1)); the batch a shared MLP takes (CBAM).
Tensor global_mean_max_pool2d(const Tensor& x);

// ------------------------------------------------------------------- norm.cpp
// x (B, C, *). running_mean/var are updated in place when training and defined.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);
// relu(batch_norm(...)) as one op: one pass over the output forward, and the
// ReLU's mask applied inside batch norm's backward passes.
Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training,
                       double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm(x, ...) + residual), the end of a ResNet block, as one op;
// residual has x's shape.
Tensor batch_norm_add_relu(const Tensor& x, const Tensor& residual, const Tensor& running_mean,
                           const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                           bool training, double momentum = 0.1, double eps = 1e-5);
// batch_norm(...) and its mean over the trailing dims, (B, C): the global
// average pool of a channel gate (SE, ECA) that follows, which comes from
// the batch statistics' pass instead of a pass of its own.
std::pair<Tensor, Tensor> batch_norm_with_spatial_mean(const Tensor& x, const Tensor& running_mean,
                                                       const Tensor& running_var,
                                                       const Tensor& weight, const Tensor& bias,
                                                       bool training, double momentum = 0.1,
                                                       double eps = 1e-5);
// relu(batch_norm(x, ...) · gate(mean) + residual) with mean (B, C) the
// batch norm output's mean over the trailing dims: the end of a ResNet block
// with a channel gate (SE, ECA) on its residual branch, in two passes each
// way, as batch_norm_add_relu takes. `gate` maps that mean to B·C gate values
// (shape (B, C) or (B, C, 1, ...)) with any differentiable ops; it runs once,
// between the statistics pass and the output pass, and its parameters get
// their gradients in the same backward.
using ChannelGateFn = std::function<Tensor(const Tensor& spatial_mean)>;
Tensor batch_norm_gate_add_relu(const Tensor& x, const ChannelGateFn& gate, const Tensor& residual,
                                const Tensor& running_mean, const Tensor& running_var,
                                const Tensor& weight, const Tensor& bias, bool training,
                                double momentum = 0.1, double eps = 1e-5);
// CBAM's two gates for batch_norm_cbam_add_relu: `channel` maps the batch
// norm output's mean and max over H, W (both (B, C)) to B·C channel gate
// values; `spatial` maps the descriptor (B, 2, H, W) (mean and max over the
// channels of y · channel gate, [max; mean] with max_first) to B·H·W
// spatial gate values. Any differentiable ops.
struct CbamGateFns {
  std::function<Tensor(const Tensor& spatial_mean, const Tensor& spatial_max)> channel;
  std::function<Tensor(const Tensor& descriptor)> spatial;
  bool max_first = false;
};
// relu(y · gc · gs + residual) with CBAM's gates on a stored y (B, C, H, W),
// composed of global_mean_max_pool2d, channel_mean_max and gates_add_relu
// (no op of its own): the unfused form of batch_norm_cbam_add_relu's tail.
Tensor cbam_gates_add_relu(const Tensor& y, const CbamGateFns& gates, const Tensor& residual);
// relu(y · channel_gate · spatial_gate + residual) for y = batch_norm(x, ...)
// (B, C, H, W): a ResNet block's end with CBAM on its residual branch. On
// the CPU y is never stored: three passes over x forward (statistics and
// pools, descriptor, output) and three backward; elsewhere it is
// cbam_gates_add_relu(batch_norm(x, ...), gates, residual).
Tensor batch_norm_cbam_add_relu(const Tensor& x, const CbamGateFns& gates, const Tensor& residual,
                                const Tensor& running_mean, const Tensor& running_var,
                                const Tensor& weight, const Tensor& bias, bool training,
                                double momentum = 0.1, double eps = 1e-5);
// Normalises over the trailing dims equal to normalized_shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

// ------------------------------------------------------------------- loss.cpp
enum class Reduction { None, Mean, Sum };
// logits (B, C) or (B, C, d1, ...); target int64 (B) or (B, d1, ...).
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::Mean, int64_t ignore_index = -100);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean,
                                        const Tensor& pos_weight = Tensor());

// The op table (names, families, differentiable) for tools and tests.
struct OpInfo {
  std::string_view name;
  std::string_view family;
  bool differentiable;
};
const std::vector<OpInfo>& op_table();

}  // namespace heed

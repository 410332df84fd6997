// The kernel interface below the ops. Ops (core/ops) check shapes, allocate
// outputs and record autograd; a Backend does the arithmetic, one virtual call
// per kernel (never per element). core/cpu implements it; core/cuda will too.
//
// Conventions for every kernel:
// - outputs are allocated by the caller with their final shape and dtype
//   (contiguous unless stated), on the backend's device;
// - inputs may be strided (any strides, including 0 for broadcast dims)
//   unless a comment says "contiguous";
// - a kernel that is not implemented throws "<kernel> is not implemented for <device>".
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace heed {

// The op lists keep their hand grouping (clang-format would put one per line).
// clang-format off
// Element-wise ops of one input. Parameters in OpParams where noted.
enum class UnaryOp : uint8_t {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Reciprocal, Square, Sin, Cos, Erf,
  Relu, Relu6,
  LeakyRelu,  // a = negative slope
  Sigmoid, Tanh, GeluErf, GeluTanh, Silu, Hardsigmoid, Hardswish,
  Softplus,   // a = beta, b = threshold
  Clamp,      // a = min, b = max
  PowScalar,  // x^a
  AddScalar,  // x + a
  MulScalar,  // x * a
  RSubScalar, // a - x
  RDivScalar, // a / x
  RPowScalar, // a^x
  Count
};

// Element-wise ops of two inputs, broadcast by the caller to the output shape.
// Comparisons write bool. The *Backward ops compute grad * f'(.) in one pass:
// `a` is the upstream gradient, `b` is the op's input x (or its output y where noted).
enum class BinaryOp : uint8_t {
  Add,  // a + alpha * b, alpha in OpParams::a (1 by default)
  Sub,  // a - alpha * b
  Mul, Div, Pow, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,
  ReluBackward, Relu6Backward,
  LeakyReluBackward,  // a = slope
  SigmoidBackward,    // b = y
  TanhBackward,       // b = y
  GeluErfBackward, GeluTanhBackward, SiluBackward, HardsigmoidBackward, HardswishBackward,
  SoftplusBackward,  // a = beta, b = threshold
  ClampBackward,     // a = min, b = max: passes grad where min <= x <= max
  AddRelu,           // relu(a + b), NaN stays NaN: a residual join
  Count
};

struct OpParams {
  double a = 0;
  double b = 0;
};

// clang-format on
enum class ReduceOp : uint8_t { Sum, Max, Min, Prod };

// Row-major C(m×n) = alpha · op(A)(m×k) · op(B)(k×n) + beta · C, `batch` times
// with the given element strides between batches (0 = broadcast).
struct GemmArgs {
  DType dtype = kFloat32;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  double alpha = 1, beta = 0;
  const void* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const void* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
};

// A 2-D convolution over (B, C, H, W) with OIHW weights; conv1d uses H = 1.
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
};

struct Pool2dParams {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

// Hyper-parameters of one fused SGD update, in PyTorch's order of operations:
//   g = maximize ? -grad : grad;  g += weight_decay * param
//   if momentum != 0: buf = init_buffer ? g : momentum * buf + (1 - dampening) * g
//                     g = nesterov ? g + momentum * buf : buf
//   param -= lr * g
struct SgdUpdate {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool init_buffer = false;  // first step: the buffer takes g as is (no dampening)
};

// One fused Adam (or AdamW) update, `step` counted from 1 for bias correction:
//   g = maximize ? -grad : grad
//   decoupled_weight_decay ? param *= 1 - lr * weight_decay : g += weight_decay * param
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   amsgrad: v_max = max(v_max, v), used instead of v below
//   param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
struct AdamUpdate {
  double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled_weight_decay = false, amsgrad = false, maximize = false;
  int64_t step = 1;
};

// What the kernels of batch_norm_cbam_add_relu share: batch norm's
// operands and statistics, CBAM's gates and the positions of the maxima its
// pools picked (see Backend::batch_norm_cbam_stats and after). x (B, C, H, W)
// contiguous; every other tensor contiguous too.
struct BnCbamState {
  Tensor input, weight, bias;     // weight / bias may be undefined
  Tensor save_mean, save_invstd;  // (C)
  Tensor plane_dev;               // (B, C): mean of the (b, c) run of x minus the channel mean
  Tensor max_pos;                 // (B, C) int64: where y's run has its max (first; NaN wins)
  Tensor max_dev;                 // (B, C): x there minus the channel mean
  Tensor channel_gate;            // (B, C)
  Tensor spatial_gate;            // (B, H·W)
  Tensor descriptor_argmax;       // (B, H·W) int64: the channel of each pixel's max of y · gate
  bool max_first = false;         // descriptor order: [max; mean] instead of [mean; max]
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // --- memory and element-wise (elementwise kernels)
  // dst[i] = src[i] for same-shaped tensors of any strides, converting dtype.
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void fill(const Tensor& dst, double value) = 0;  // dst may be strided
  virtual void unary(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) = 0;
  virtual void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b,
                      OpParams p) = 0;
  // out = cond ? a : b, all three broadcast to out's shape; cond is bool.
  virtual void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) = 0;
  // Counter-based random fills (see core/generator.h) of a contiguous tensor.
  virtual void fill_uniform(const Tensor& out, uint64_t seed, uint64_t counter, double low,
                            double high) = 0;
  virtual void fill_normal(const Tensor& out, uint64_t seed, uint64_t counter, double mean,
                           double std) = 0;

  // --- reductions (reduce kernels)
  // `out` has `in`'s rank with the reduced dims of size 1 (keepdim layout).
  virtual void reduce(ReduceOp op, const Tensor& out, const Tensor& in,
                      const std::vector<int64_t>& dims) = 0;
  // out = Σ over `dims` of a · b (a, b of one shape and dtype; out as reduce's):
  // the gradient of a broadcast product without its full-size temporary.
  // The default multiplies into a temporary, then reduces.
  virtual void sum_of_products(const Tensor& out, const Tensor& a, const Tensor& b,
                               const std::vector<int64_t>& dims);
  // Max or Min over one dim: values and int64 indices (the first extreme on ties).
  virtual void reduce_with_index(ReduceOp op, const Tensor& values, const Tensor& indices,
                                 const Tensor& in, int64_t dim) = 0;

  // --- matrix products (gemm kernels)
  virtual void gemm(const GemmArgs& args) = 0;

  // --- softmax over `dim` of a contiguous input (softmax kernels)
  virtual void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) = 0;
  // grad_in from grad_out and the forward's output `out`.
  virtual void softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                int64_t dim, bool log) = 0;

  // --- attention for short sequences: softmax(scale · q kᵀ) · v per (batch, head)
  // q (B, h, nq, d), k (B, h, nk, d), v (B, h, nk, dv) and out (B, h, nq, dv)
  // have unit inner stride and rows at least a row apart (any batch and head
  // strides); probs (B, h, nq, nk) is contiguous and receives the softmax.
  // The default composes gemm and softmax, one batch entry at a time.
  virtual void attention(const Tensor& out, const Tensor& probs, const Tensor& q, const Tensor& k,
                         const Tensor& v, double scale);
  // Its backward, with dS = probs · (dP - Σ_keys probs · dP) and dP = grad_out vᵀ:
  // grad_q = scale · dS k, grad_k = scale · dSᵀ q, grad_v = probsᵀ grad_out.
  // Any gradient may be undefined; defined ones are overwritten and laid out
  // as q, k and v are.
  virtual void attention_backward(const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                                  const Tensor& grad_out, const Tensor& probs, const Tensor& q,
                                  const Tensor& k, const Tensor& v, double scale);

  // --- convolution, contiguous (B, C, H, W) tensors (conv kernels)
  virtual void conv2d(const Tensor& out, const Tensor& input, const Tensor& weight,
                      const Tensor& bias /* may be undefined */, const Conv2dParams& p) = 0;
  // out = relu(conv2d(...) + residual); residual (out's shape, contiguous)
  // may be undefined: relu(conv2d). The default runs conv2d, then adds and
  // ReLUs in place.
  virtual void conv2d_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                               const Tensor& bias, const Tensor& residual, const Conv2dParams& p);
  virtual void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad_out,
                                     const Tensor& weight, const Conv2dParams& p) = 0;
  // grad_weight (and grad_bias if defined) are overwritten.
  virtual void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_bias,
                                      const Tensor& grad_out, const Tensor& input,
                                      const Conv2dParams& p) = 0;

  // --- pooling, contiguous (B, C, H, W) tensors (pool kernels)
  // indices hold h * W + w within each (b, c) plane of the input.
  virtual void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& input,
                          const Pool2dParams& p) = 0;
  virtual void avg_pool2d(const Tensor& out, const Tensor& input, const Pool2dParams& p) = 0;
  virtual void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                   const Pool2dParams& p) = 0;
  virtual void adaptive_avg_pool2d(const Tensor& out, const Tensor& input) = 0;
  virtual void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out) = 0;
  virtual void adaptive_max_pool2d(const Tensor& out, const Tensor& indices,
                                   const Tensor& input) = 0;
  // Both global descriptors of each (H, W) plane of input (B, C, H, W) in
  // one read: out (2B, C, 1, 1) holds the means in rows [0, B) and the
  // maxima in rows [B, 2B), argmax (B, C, 1, 1) the index h·W + w of each
  // maximum, chosen as adaptive_max_pool2d chooses. The default runs
  // adaptive_avg_pool2d and adaptive_max_pool2d into the halves.
  virtual void global_mean_max_pool2d(const Tensor& out, const Tensor& argmax, const Tensor& input);
  // Its backward, written once: grad_input = grad_out[b] / (H·W) everywhere
  // in plane (b, c), plus grad_out[B + b] at the plane's argmax. The default
  // composes the two pools' backwards and adds.
  virtual void global_mean_max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                               const Tensor& argmax);
  // Shared by max_pool2d and adaptive_max_pool2d: grad_input (zeroed by the
  // kernel) += grad_out scattered to the saved indices.
  virtual void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                   const Tensor& indices) = 0;

  // --- normalisation over contiguous tensors (norm kernels)
  // Batch norm over dim 1 of (B, C, *). In training, mean/var come from the
  // batch, save_mean/save_invstd (C) are written and running stats (if
  // defined) are updated with PyTorch's unbiased running_var; in eval the
  // running stats are used and saved as mean/invstd. weight/bias may be undefined.
  virtual void batch_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                          const Tensor& input, const Tensor& weight, const Tensor& bias,
                          const Tensor& running_mean, const Tensor& running_var, bool training,
                          double momentum, double eps) = 0;
  // Any of grad_input / grad_weight / grad_bias may be undefined (not needed).
  virtual void batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                   const Tensor& grad_bias, const Tensor& grad_out,
                                   const Tensor& input, const Tensor& weight,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   bool training) = 0;
  // out = relu(batch_norm(...) + residual), one pass over the output;
  // residual (input's shape, contiguous) may be undefined: relu(batch_norm).
  // The default runs batch_norm, then adds and ReLUs in place.
  virtual void batch_norm_relu(const Tensor& out, const Tensor& save_mean,
                               const Tensor& save_invstd, const Tensor& input, const Tensor& weight,
                               const Tensor& bias, const Tensor& residual,
                               const Tensor& running_mean, const Tensor& running_var, bool training,
                               double momentum, double eps);
  // The backward of batch_norm_relu, given its `output`: grad_out passes
  // where output > 0. grad_residual, when defined, receives that masked
  // gradient (the residual's), which batch norm's backward then reads.
  // The default masks grad_out, then runs batch_norm_backward.
  virtual void batch_norm_relu_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                        const Tensor& grad_bias, const Tensor& grad_residual,
                                        const Tensor& grad_out, const Tensor& output,
                                        const Tensor& input, const Tensor& weight,
                                        const Tensor& save_mean, const Tensor& save_invstd,
                                        bool training);
  // batch_norm that also writes, per (b, c) of its (B, C, *) input, the mean
  // of the output over the trailing dims (spatial_mean: the global average
  // pool of a channel gate that follows, without a pass of its own) and the
  // input's mean there minus the channel's mean (plane_dev, for the
  // backward). Both (B, C), contiguous. An undefined out asks for the
  // statistics and means only. The default runs batch_norm, then reduces.
  virtual void batch_norm_spatial_mean(const Tensor& out, const Tensor& spatial_mean,
                                       const Tensor& plane_dev, const Tensor& save_mean,
                                       const Tensor& save_invstd, const Tensor& input,
                                       const Tensor& weight, const Tensor& bias,
                                       const Tensor& running_mean, const Tensor& running_var,
                                       bool training, double momentum, double eps);
  // Its backward: batch_norm_backward of grad_out + grad_spatial_mean / S,
  // the latter (B, C) spread over each (b, c)'s S values. The default forms
  // that sum in a temporary; kernels fold it into their per-channel sums.
  virtual void batch_norm_spatial_mean_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                                const Tensor& grad_bias, const Tensor& grad_out,
                                                const Tensor& grad_spatial_mean,
                                                const Tensor& input, const Tensor& weight,
                                                const Tensor& save_mean, const Tensor& save_invstd,
                                                const Tensor& plane_dev, bool training);
  // The end of a ResNet block whose batch norm feeds a channel gate computed
  // from the spatial mean of its output (SE, ECA), in two passes each way:
  //   out = relu(y · gate + residual),  y = (x - save_mean)·save_invstd·weight + bias,
  // with the statistics (and the gate's input) from batch_norm_spatial_mean
  // called with an undefined out, so y is never stored. input, residual, out
  // (B, C, *), gate (B, C), all contiguous; weight / bias may be undefined.
  // The default forms y in a temporary.
  virtual void batch_norm_gate_add_relu(const Tensor& out, const Tensor& input,
                                        const Tensor& weight, const Tensor& bias,
                                        const Tensor& save_mean, const Tensor& save_invstd,
                                        const Tensor& gate, const Tensor& residual);
  // Its backward, first half: grad_masked = grad_out where out > 0 (the
  // residual's gradient), per (b, c) run the sums run_grad = Σ grad_masked and
  // run_grad_dev = Σ grad_masked·(x - save_mean), and from them the gate's
  // gradient grad_gate = Σ grad_masked·y (all three (B, C)).
  virtual void batch_norm_gate_add_relu_backward_gate(
      const Tensor& grad_masked, const Tensor& run_grad, const Tensor& run_grad_dev,
      const Tensor& grad_gate, const Tensor& grad_out, const Tensor& out, const Tensor& input,
      const Tensor& weight, const Tensor& bias, const Tensor& save_mean, const Tensor& save_invstd);
  // Second half, once the gate's gradient has reached the spatial mean:
  // batch_norm_spatial_mean_backward for dy = grad_masked · gate, whose
  // per-channel sums follow from the first half's run sums (Σ dy = Σ_b gate ·
  // run_grad), so kernels need one pass. The default forms dy in a temporary.
  virtual void batch_norm_gate_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                        const Tensor& grad_bias, const Tensor& grad_masked,
                                        const Tensor& gate, const Tensor& grad_spatial_mean,
                                        const Tensor& run_grad, const Tensor& run_grad_dev,
                                        const Tensor& plane_dev, const Tensor& input,
                                        const Tensor& weight, const Tensor& save_mean,
                                        const Tensor& save_invstd, bool training);
  // The end of a ResNet block whose batch norm feeds CBAM (batch_norm_cbam_add_relu):
  //   y = batch norm of x, channel_gate = f(mean and max of y per (b, c)),
  //   u = y · channel_gate, spatial_gate = g([mean; max] of u over channels),
  //   out = relu(u · spatial_gate + residual),
  // where y and u are never stored: each pass recomputes them from x. CPU
  // only (fuses_batch_norm_cbam()); the op composes the unfused ops elsewhere.
  virtual bool fuses_batch_norm_cbam() const { return false; }
  // Statistics pass: writes st.save_mean, save_invstd, plane_dev, max_pos, max_dev and
  // y's run means and maxima (B, C); running stats as batch_norm.
  virtual void batch_norm_cbam_stats(const BnCbamState& st, const Tensor& spatial_mean,
                                     const Tensor& spatial_max, const Tensor& running_mean,
                                     const Tensor& running_var, bool training, double momentum,
                                     double eps);
  // descriptor (B, 2, H, W) of u (channel_mean_max's); writes st.descriptor_argmax.
  virtual void batch_norm_cbam_descriptor(const BnCbamState& st, const Tensor& descriptor);
  virtual void batch_norm_cbam_add_relu(const BnCbamState& st, const Tensor& out,
                                        const Tensor& residual);
  // Backward of the output pass: grad_masked = grad_out where out > 0 (the
  // residual's gradient), the gates' gradients, and per (b, c) run
  // run_grad = Σ grad_masked·spatial_gate, run_grad_dev = Σ grad_masked·
  // spatial_gate·(x - mean).
  virtual void batch_norm_cbam_add_relu_backward(const BnCbamState& st, const Tensor& grad_masked,
                                                 const Tensor& grad_channel_gate,
                                                 const Tensor& grad_spatial_gate,
                                                 const Tensor& run_grad, const Tensor& run_grad_dev,
                                                 const Tensor& grad_out, const Tensor& out);
  // Backward of the descriptor: the channel gate's share of it, and the run
  // sums Σ dy, Σ dy·(x - mean) (B, C) of the gradient dy it sends to y.
  virtual void batch_norm_cbam_descriptor_backward(const BnCbamState& st,
                                                   const Tensor& grad_channel_gate,
                                                   const Tensor& run_grad,
                                                   const Tensor& run_grad_dev,
                                                   const Tensor& grad_descriptor);
  // Batch norm's backward, for the sum of the gradients reaching y: through
  // the output (grad_masked, run sums), the descriptor (grad_descriptor, run
  // sums) and the pools (grad_spatial_mean, grad_spatial_max (B, C)).
  virtual void batch_norm_cbam_backward(const BnCbamState& st, const Tensor& grad_input,
                                        const Tensor& grad_weight, const Tensor& grad_bias,
                                        const Tensor& grad_masked, const Tensor& out_run_grad,
                                        const Tensor& out_run_grad_dev,
                                        const Tensor& grad_descriptor, const Tensor& desc_run_grad,
                                        const Tensor& desc_run_grad_dev,
                                        const Tensor& grad_spatial_mean,
                                        const Tensor& grad_spatial_max, bool training);
  // out = relu(x · channel_gate · spatial_gate + residual): attention gates
  // followed by a ResNet block's residual join. x, residual, out (B, C, H, W)
  // contiguous; channel_gate (B, C, 1, 1) and spatial_gate (B, 1, H, W)
  // contiguous, at least one of them defined (CBAM uses both). The default
  // multiplies, then runs AddRelu in place.
  virtual void gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& channel_gate,
                             const Tensor& spatial_gate, const Tensor& residual);
  // Its backward, given `out`: gm = grad_out where out > 0 is the residual's
  // gradient (grad_residual); with u = x · channel_gate, grad_x = gm ·
  // spatial_gate · channel_gate, grad_channel_gate = Σ_HW gm · spatial_gate ·
  // x and grad_spatial_gate = Σ_C gm · u. Any gradient may be undefined (so is
  // the one of an undefined gate). The default composes ReluBackward, Mul and
  // sum_of_products.
  virtual void gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_channel_gate,
                                      const Tensor& grad_spatial_gate, const Tensor& grad_residual,
                                      const Tensor& grad_out, const Tensor& out, const Tensor& x,
                                      const Tensor& channel_gate, const Tensor& spatial_gate);
  // CBAM's spatial descriptor of u = x · gate: out (B, 2, H, W) holds the mean
  // and the max of u over the channels ([max; mean] with max_first), and
  // argmax (B, 1, H, W, int64) the channel of each max (the first on ties; a
  // NaN wins). x (B, C, H, W) and gate (B, C, 1, 1) contiguous; an undefined
  // gate is 1. The default multiplies, then reduces.
  virtual void channel_mean_max(const Tensor& out, const Tensor& argmax, const Tensor& x,
                                const Tensor& gate, bool max_first);
  // Its backward: with t = grad_mean / C + grad_max at the argmax channel,
  // grad_x = t · gate and grad_gate = Σ_HW t · x (either may be undefined).
  virtual void channel_mean_max_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                         const Tensor& grad_out, const Tensor& argmax,
                                         const Tensor& x, const Tensor& gate, bool max_first);
  // Layer norm over the trailing `normalized` elements of each row.
  virtual void layer_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd,
                          const Tensor& input, const Tensor& weight, const Tensor& bias,
                          int64_t normalized, double eps) = 0;
  virtual void layer_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                   const Tensor& grad_bias, const Tensor& grad_out,
                                   const Tensor& input, const Tensor& weight,
                                   const Tensor& save_mean, const Tensor& save_rstd,
                                   int64_t normalized) = 0;

  // --- indexing (index kernels); index tensors are int64, contiguous
  // out = in.index_select(dim, index)
  virtual void index_select(const Tensor& out, const Tensor& in, int64_t dim,
                            const Tensor& index) = 0;
  // out.index_add_(dim, index, src): out[.., index[i], ..] += src[.., i, ..]
  virtual void index_add(const Tensor& out, int64_t dim, const Tensor& index,
                         const Tensor& src) = 0;
  // out = in.gather(dim, index)
  virtual void gather(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) = 0;
  // out.scatter_add_(dim, index, src)
  virtual void scatter_add(const Tensor& out, int64_t dim, const Tensor& index,
                           const Tensor& src) = 0;

  // --- optimizer updates (optim kernels): one pass, in place, over same-shaped
  // tensors of one floating dtype (any strides); see SgdUpdate / AdamUpdate.
  // momentum_buf is undefined when args.momentum == 0.
  virtual void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                          const SgdUpdate& args) = 0;
  // max_exp_avg_sq is undefined unless args.amsgrad.
  virtual void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                           const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                           const AdamUpdate& args) = 0;

  // --- helpers of the fused ops' composite defaults (and their ops)
  // out = relu(out + residual), or relu(out) when residual is undefined, in
  // place: the end of a fused op's forward.
  void relu_join_in_place(const Tensor& out, const Tensor& residual);
  // grad_out where output > 0, else 0: the backward of a ReLU fused at the
  // end of an op, given that op's output. Written to `into` when defined,
  // else to a new tensor; returned.
  Tensor grad_through_relu(const Tensor& grad_out, const Tensor& output, const Tensor& into);
};

// The backend for a device; throws when that device is not compiled in or absent.
Backend& backend(Device device);
inline Backend& backend_of(const Tensor& t) {
  return backend(t.device());
}

}  // namespace heed

// Device dispatch, in one place: the backend (kernels) and the allocator
// (memory) of a device. CUDA devices go to core/cuda, which throws a clear
// error when heed was built without CUDA or the device is absent.
#include "core/backend.h"

#include <algorithm>

#include "core/cpu/cpu_backend.h"
#include "core/cuda/cuda.h"
#include "core/tensor.h"

namespace heed {

Backend& backend(Device device) {
  static cpu::CpuBackend cpu_backend;
  if (device.is_cpu()) return cpu_backend;
  return cuda::backend(device.index);
}

void Backend::sum_of_products(const Tensor& out, const Tensor& a, const Tensor& b,
                              const std::vector<int64_t>& dims) {
  Tensor product = empty(a.shape(), {a.dtype(), a.device()});
  binary(BinaryOp::Mul, product, a, b, {1, 0});
  reduce(ReduceOp::Sum, out, product, dims);
}

void Backend::conv2d_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                              const Tensor& bias, const Tensor& residual, const Conv2dParams& p) {
  conv2d(out, input, weight, bias, p);
  relu_join_in_place(out, residual);
}

void Backend::global_mean_max_pool2d(const Tensor& out, const Tensor& argmax, const Tensor& input) {
  const int64_t B = input.size(0);
  adaptive_avg_pool2d(out.narrow(0, 0, B), input);
  adaptive_max_pool2d(out.narrow(0, B, B), argmax, input);
}

void Backend::global_mean_max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                              const Tensor& argmax) {
  const int64_t B = grad_input.size(0);
  adaptive_avg_pool2d_backward(grad_input, grad_out.narrow(0, 0, B));
  Tensor from_max = empty(grad_input.shape(), {grad_input.dtype(), grad_input.device()});
  max_pool2d_backward(from_max, grad_out.narrow(0, B, B), argmax);
  binary(BinaryOp::Add, grad_input, grad_input, from_max, {1, 0});  // alpha = 1
}

void Backend::batch_norm_relu(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                              const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const Tensor& residual, const Tensor& running_mean,
                              const Tensor& running_var, bool training, double momentum,
                              double eps) {
  batch_norm(out, save_mean, save_invstd, input, weight, bias, running_mean, running_var, training,
             momentum, eps);
  relu_join_in_place(out, residual);
}

void Backend::batch_norm_relu_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                       const Tensor& grad_bias, const Tensor& grad_residual,
                                       const Tensor& grad_out, const Tensor& output,
                                       const Tensor& input, const Tensor& weight,
                                       const Tensor& save_mean, const Tensor& save_invstd,
                                       bool training) {
  Tensor masked = grad_through_relu(grad_out, output, grad_residual);
  batch_norm_backward(grad_input, grad_weight, grad_bias, masked, input, weight, save_mean,
                      save_invstd, training);
}

namespace {

// x (B, C, *) viewed as (B, C, S): the shape spatial means reduce over.
Tensor as_planes(const Tensor& x) {
  const int64_t B = x.size(0), C = x.size(1);
  return x.view({B, C, C > 0 && B > 0 ? x.numel() / (B * C) : 1});
}

}  // namespace

void Backend::batch_norm_spatial_mean(const Tensor& out, const Tensor& spatial_mean,
                                      const Tensor& plane_dev, const Tensor& save_mean,
                                      const Tensor& save_invstd, const Tensor& input,
                                      const Tensor& weight, const Tensor& bias,
                                      const Tensor& running_mean, const Tensor& running_var,
                                      bool training, double momentum, double eps) {
  // Statistics only: the output goes to a temporary (the mean needs it).
  const Tensor y = out.defined() ? out : empty(input.shape(), {input.dtype(), input.device()});
  batch_norm(y, save_mean, save_invstd, input, weight, bias, running_mean, running_var, training,
             momentum, eps);
  const int64_t B = input.size(0), C = input.size(1);
  const Tensor planes = as_planes(input);
  const double inv_s = 1.0 / double(planes.size(2));
  const Tensor sm = spatial_mean.view({B, C, 1}), dev = plane_dev.view({B, C, 1});
  reduce(ReduceOp::Sum, sm, as_planes(y), {2});
  unary(UnaryOp::MulScalar, sm, sm, {inv_s, 0});
  reduce(ReduceOp::Sum, dev, planes, {2});
  unary(UnaryOp::MulScalar, dev, dev, {inv_s, 0});
  binary(BinaryOp::Sub, dev, dev, save_mean.view({1, C, 1}).expand(dev.shape()), {1, 0});
}

void Backend::batch_norm_spatial_mean_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                               const Tensor& grad_bias, const Tensor& grad_out,
                                               const Tensor& grad_spatial_mean, const Tensor& input,
                                               const Tensor& weight, const Tensor& save_mean,
                                               const Tensor& save_invstd, const Tensor&,
                                               bool training) {
  const int64_t B = input.size(0), C = input.size(1);
  const Tensor planes = as_planes(grad_out);
  Tensor spread = empty(planes.shape(), {grad_out.dtype(), grad_out.device()});
  // grad_out + grad_spatial_mean / S, each (b, c)'s entry over its S values.
  binary(BinaryOp::Add, spread, planes, grad_spatial_mean.view({B, C, 1}).expand(planes.shape()),
         {1.0 / double(planes.size(2)), 0});
  batch_norm_backward(grad_input, grad_weight, grad_bias, spread.view(grad_out.shape()), input,
                      weight, save_mean, save_invstd, training);
}

namespace {

// y = (x - mean)·invstd·weight + bias as x's planes (B, C, S), in a new
// tensor; weight / bias may be undefined.
Tensor batch_norm_output(Backend& be, const Tensor& input, const Tensor& weight, const Tensor& bias,
                         const Tensor& save_mean, const Tensor& save_invstd) {
  const Tensor planes = as_planes(input);
  const int64_t C = planes.size(1);
  auto per_channel = [&](const Tensor& t) { return t.view({1, C, 1}).expand(planes.shape()); };
  Tensor y = empty(planes.shape(), {input.dtype(), input.device()});
  be.binary(BinaryOp::Sub, y, planes, per_channel(save_mean), {1, 0});
  be.binary(BinaryOp::Mul, y, y, per_channel(save_invstd), {1, 0});
  if (weight.defined()) be.binary(BinaryOp::Mul, y, y, per_channel(weight), {1, 0});
  if (bias.defined()) be.binary(BinaryOp::Add, y, y, per_channel(bias), {1, 0});
  return y;
}

}  // namespace

void Backend::batch_norm_gate_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                                       const Tensor& bias, const Tensor& save_mean,
                                       const Tensor& save_invstd, const Tensor& gate,
                                       const Tensor& residual) {
  const Tensor y = batch_norm_output(*this, input, weight, bias, save_mean, save_invstd);
  const Tensor planes = as_planes(out);
  binary(BinaryOp::Mul, planes, y, gate.view({y.size(0), y.size(1), 1}).expand(y.shape()), {1, 0});
  binary(BinaryOp::AddRelu, planes, planes, as_planes(residual), {1, 0});
}

void Backend::batch_norm_gate_add_relu_backward_gate(
    const Tensor& grad_masked, const Tensor& run_grad, const Tensor& run_grad_dev,
    const Tensor& grad_gate, const Tensor& grad_out, const Tensor& out, const Tensor& input,
    const Tensor& weight, const Tensor& bias, const Tensor& save_mean, const Tensor& save_invstd) {
  const int64_t B = input.size(0), C = input.size(1);
  const Tensor gm = as_planes(grad_through_relu(grad_out, out, grad_masked));
  const Tensor x_dev = as_planes(input).clone();
  binary(BinaryOp::Sub, x_dev, x_dev, save_mean.view({1, C, 1}).expand(x_dev.shape()), {1, 0});
  reduce(ReduceOp::Sum, run_grad.view({B, C, 1}), gm, {2});
  sum_of_products(run_grad_dev.view({B, C, 1}), gm, x_dev, {2});
  // Σ gm·y = Σ gm·(x - mean)·invstd·weight + Σ gm·bias.
  auto per_channel = [&](const Tensor& t) { return t.view({1, C}).expand({B, C}); };
  binary(BinaryOp::Mul, grad_gate, run_grad_dev, per_channel(save_invstd), {1, 0});
  if (weight.defined()) binary(BinaryOp::Mul, grad_gate, grad_gate, per_channel(weight), {1, 0});
  if (bias.defined()) {
    Tensor from_bias = empty({B, C}, {input.dtype(), input.device()});
    binary(BinaryOp::Mul, from_bias, run_grad, per_channel(bias), {1, 0});
    binary(BinaryOp::Add, grad_gate, grad_gate, from_bias, {1, 0});
  }
}

void Backend::batch_norm_gate_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                       const Tensor& grad_bias, const Tensor& grad_masked,
                                       const Tensor& gate, const Tensor& grad_spatial_mean,
                                       const Tensor&, const Tensor&, const Tensor& plane_dev,
                                       const Tensor& input, const Tensor& weight,
                                       const Tensor& save_mean, const Tensor& save_invstd,
                                       bool training) {
  const Tensor planes = as_planes(grad_masked);
  Tensor dy = empty(planes.shape(), {planes.dtype(), planes.device()});
  binary(BinaryOp::Mul, dy, planes,
         gate.view({planes.size(0), planes.size(1), 1}).expand(planes.shape()), {1, 0});
  batch_norm_spatial_mean_backward(grad_input, grad_weight, grad_bias, dy.view(input.shape()),
                                   grad_spatial_mean, input, weight, save_mean, save_invstd,
                                   plane_dev, training);
}

namespace {

[[noreturn]] void no_fused_cbam(const char* kernel) {
  HEED_FAIL(kernel,
            ": this device has no fused batch norm + CBAM kernels "
            "(batch_norm_cbam_add_relu composes the unfused ops there)");
}

}  // namespace

void Backend::batch_norm_cbam_stats(const BnCbamState&, const Tensor&, const Tensor&, const Tensor&,
                                    const Tensor&, bool, double, double) {
  no_fused_cbam("batch_norm_cbam_stats");
}
void Backend::batch_norm_cbam_descriptor(const BnCbamState&, const Tensor&) {
  no_fused_cbam("batch_norm_cbam_descriptor");
}
void Backend::batch_norm_cbam_add_relu(const BnCbamState&, const Tensor&, const Tensor&) {
  no_fused_cbam("batch_norm_cbam_add_relu");
}
void Backend::batch_norm_cbam_add_relu_backward(const BnCbamState&, const Tensor&, const Tensor&,
                                                const Tensor&, const Tensor&, const Tensor&,
                                                const Tensor&, const Tensor&) {
  no_fused_cbam("batch_norm_cbam_add_relu_backward");
}
void Backend::batch_norm_cbam_descriptor_backward(const BnCbamState&, const Tensor&, const Tensor&,
                                                  const Tensor&, const Tensor&) {
  no_fused_cbam("batch_norm_cbam_descriptor_backward");
}
void Backend::batch_norm_cbam_backward(const BnCbamState&, const Tensor&, const Tensor&,
                                       const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                       const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                       const Tensor&, bool) {
  no_fused_cbam("batch_norm_cbam_backward");
}

namespace {

// The dims a gate is broadcast over in x: its gradient sums over them.
std::vector<int64_t> broadcast_dims(const Tensor& gate, const Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (gate.size(d) == 1 && x.size(d) != 1) dims.push_back(d);
  return dims;
}

// a · gate (the gate broadcast over a), written into `into` when given, else
// into a new tensor; an undefined gate is 1 (a itself, or copied into `into`).
Tensor gated(Backend& be, const Tensor& a, const Tensor& gate, const Tensor& into = Tensor()) {
  if (!gate.defined() && !into.defined()) return a;
  Tensor out = into.defined() ? into : empty(a.shape(), {a.dtype(), a.device()});
  if (gate.defined())
    be.binary(BinaryOp::Mul, out, a, gate.expand(a.shape()), {1, 0});
  else
    be.copy(out, a);
  return out;
}

}  // namespace

void Backend::gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& channel_gate,
                            const Tensor& spatial_gate, const Tensor& residual) {
  const Tensor& first = channel_gate.defined() ? channel_gate : spatial_gate;
  binary(BinaryOp::Mul, out, x, first.expand(x.shape()), {1, 0});
  if (channel_gate.defined() && spatial_gate.defined())
    binary(BinaryOp::Mul, out, out, spatial_gate.expand(x.shape()), {1, 0});
  binary(BinaryOp::AddRelu, out, out, residual, {1, 0});
}

void Backend::gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_channel_gate,
                                     const Tensor& grad_spatial_gate, const Tensor& grad_residual,
                                     const Tensor& grad_out, const Tensor& out, const Tensor& x,
                                     const Tensor& channel_gate, const Tensor& spatial_gate) {
  const Tensor& cg = channel_gate;
  const Tensor& sg = spatial_gate;
  Tensor gm = grad_through_relu(grad_out, out, grad_residual);
  // gu: the gradient of u = x · channel_gate.
  Tensor gu = grad_x.defined() || grad_channel_gate.defined() ? gated(*this, gm, sg) : Tensor();
  if (grad_x.defined()) gated(*this, gu, cg, grad_x);
  if (grad_channel_gate.defined()) sum_of_products(grad_channel_gate, gu, x, broadcast_dims(cg, x));
  if (grad_spatial_gate.defined())
    sum_of_products(grad_spatial_gate, gm, gated(*this, x, cg), broadcast_dims(sg, x));
}

void Backend::channel_mean_max(const Tensor& out, const Tensor& argmax, const Tensor& x,
                               const Tensor& gate, bool max_first) {
  Tensor u = gated(*this, x, gate);
  const Shape plane{x.size(0), 1, x.size(2), x.size(3)};
  Tensor mean = empty(plane, {x.dtype(), x.device()});
  Tensor max = empty(plane, {x.dtype(), x.device()});
  reduce(ReduceOp::Sum, mean, u, {1});
  unary(UnaryOp::MulScalar, mean, mean, {1.0 / double(x.size(1)), 0});
  reduce_with_index(ReduceOp::Max, max, argmax, u, 1);
  copy(out.narrow(1, max_first ? 1 : 0, 1), mean);
  copy(out.narrow(1, max_first ? 0 : 1, 1), max);
}

void Backend::channel_mean_max_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                        const Tensor& grad_out, const Tensor& argmax,
                                        const Tensor& x, const Tensor& gate, bool max_first) {
  const Shape plane{x.size(0), 1, x.size(2), x.size(3)};
  Tensor grad_mean = empty(plane, {x.dtype(), x.device()});
  Tensor grad_max = empty(plane, {x.dtype(), x.device()});
  copy(grad_mean, grad_out.narrow(1, max_first ? 1 : 0, 1));
  copy(grad_max, grad_out.narrow(1, max_first ? 0 : 1, 1));
  unary(UnaryOp::MulScalar, grad_mean, grad_mean, {1.0 / double(x.size(1)), 0});
  // t: the gradient of u = x · gate.
  Tensor t = empty(x.shape(), {x.dtype(), x.device()});
  copy(t, grad_mean.expand(x.shape()));
  scatter_add(t, 1, argmax, grad_max);
  if (grad_x.defined()) gated(*this, t, gate, grad_x);
  if (grad_gate.defined()) sum_of_products(grad_gate, t, x, broadcast_dims(gate, x));
}

namespace {

// One batch entry's heads of a (B, h, n, d) tensor as strided GEMM operands.
struct HeadMatrices {
  char* data;
  int64_t head_stride, ld;
};

HeadMatrices heads_of(const Tensor& t, int64_t b) {
  char* base = static_cast<char*>(t.raw_data()) + b * t.stride(0) * int64_t(t.element_size());
  return {base, t.stride(1), t.size(2) == 1 ? std::max<int64_t>(t.size(3), 1) : t.stride(2)};
}

// c = alpha · op(a) · op(b) for every head of one batch entry.
void head_gemm(Backend& be, DType dtype, int64_t heads, bool trans_a, bool trans_b, int64_t m,
               int64_t n, int64_t k, double alpha, HeadMatrices a, HeadMatrices b, HeadMatrices c) {
  GemmArgs g;
  g.dtype = dtype;
  g.trans_a = trans_a, g.trans_b = trans_b;
  g.m = m, g.n = n, g.k = k;
  g.alpha = alpha;
  g.a = a.data, g.lda = a.ld, g.stride_a = a.head_stride;
  g.b = b.data, g.ldb = b.ld, g.stride_b = b.head_stride;
  g.c = c.data, g.ldc = c.ld, g.stride_c = c.head_stride;
  g.batch = heads;
  be.gemm(g);
}

}  // namespace

void Backend::attention(const Tensor& out, const Tensor& probs, const Tensor& q, const Tensor& k,
                        const Tensor& v, double scale) {
  const int64_t B = q.size(0), H = q.size(1), nq = q.size(2), d = q.size(3);
  const int64_t nk = k.size(2), dv = v.size(3);
  Tensor scores = empty(probs.shape(), {probs.dtype(), probs.device()});
  for (int64_t b = 0; b < B; ++b)
    head_gemm(*this, q.dtype(), H, false, true, nq, nk, d, scale, heads_of(q, b), heads_of(k, b),
              heads_of(scores, b));
  softmax(probs, scores, 3, false);
  for (int64_t b = 0; b < B; ++b)
    head_gemm(*this, q.dtype(), H, false, false, nq, dv, nk, 1, heads_of(probs, b), heads_of(v, b),
              heads_of(out, b));
}

void Backend::attention_backward(const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                                 const Tensor& grad_out, const Tensor& probs, const Tensor& q,
                                 const Tensor& k, const Tensor& v, double scale) {
  const int64_t B = q.size(0), H = q.size(1), nq = q.size(2), d = q.size(3);
  const int64_t nk = k.size(2), dv = v.size(3);
  const DType dt = q.dtype();
  if (grad_v.defined())
    for (int64_t b = 0; b < B; ++b)
      head_gemm(*this, dt, H, true, false, nk, dv, nq, 1, heads_of(probs, b), heads_of(grad_out, b),
                heads_of(grad_v, b));
  if (!grad_q.defined() && !grad_k.defined()) return;
  Tensor grad_probs = empty(probs.shape(), {probs.dtype(), probs.device()});
  for (int64_t b = 0; b < B; ++b)
    head_gemm(*this, dt, H, false, true, nq, nk, dv, 1, heads_of(grad_out, b), heads_of(v, b),
              heads_of(grad_probs, b));
  Tensor grad_scores = empty(probs.shape(), {probs.dtype(), probs.device()});
  softmax_backward(grad_scores, grad_probs, probs, 3, false);
  for (int64_t b = 0; b < B; ++b) {
    if (grad_q.defined())
      head_gemm(*this, dt, H, false, false, nq, d, nk, scale, heads_of(grad_scores, b),
                heads_of(k, b), heads_of(grad_q, b));
    if (grad_k.defined())
      head_gemm(*this, dt, H, true, false, nk, d, nq, scale, heads_of(grad_scores, b),
                heads_of(q, b), heads_of(grad_k, b));
  }
}

void Backend::relu_join_in_place(const Tensor& out, const Tensor& residual) {
  if (residual.defined())
    binary(BinaryOp::AddRelu, out, out, residual, {});
  else
    unary(UnaryOp::Relu, out, out, {});
}

Tensor Backend::grad_through_relu(const Tensor& grad_out, const Tensor& output,
                                  const Tensor& into) {
  Tensor masked =
      into.defined() ? into : empty(grad_out.shape(), {grad_out.dtype(), grad_out.device()});
  binary(BinaryOp::ReluBackward, masked, grad_out, output, {});
  return masked;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu::cpu_allocator();
  return cuda::allocator(device.index);
}

}  // namespace heed

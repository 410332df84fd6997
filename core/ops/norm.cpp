// Normalisation and dropout: forward, saved tensors and backward side by side.
// batch_norm and layer_norm run fused kernels (statistics, normalisation and
// affine in one kernel; a hand-written backward kernel); tests check them
// against versions composed from mean/var/sub/mul. dropout is composed from
// a counter-based uniform fill, so its mask does not depend on the thread count.
#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

// Checks an optional per-feature tensor (weight, bias, running stats): same
// dtype and device as x, and the expected shape: (C) for batch norm
// (per_channel), normalized_shape for layer norm.
void check_param(const char* op, const char* name, const Tensor& t, const Tensor& x,
                 const Shape& shape, bool per_channel) {
  if (!t.defined()) return;
  HEED_CHECK(t.dtype() == x.dtype(), op, ": ", name, " is ", t.dtype(), " but input is ",
             x.dtype());
  HEED_CHECK(t.device() == x.device(), op, ": ", name, " is on ", t.device(), " but input is on ",
             x.device());
  HEED_CHECK(t.shape() == shape, op, ": ", name, " has shape ", shape_str(t.shape()), " but ",
             per_channel ? detail::concat("input has ", shape[0], " channels")
                         : detail::concat("normalized_shape is ", shape_str(shape)),
             " (input shape ", shape_str(x.shape()), ")");
}

// The argument checks every batch norm op shares.
void check_batch_norm(const char* name, const Tensor& x, const Tensor& running_mean,
                      const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                      bool training, double eps, const Tensor& residual) {
  ops::check_floating(name, x);
  HEED_CHECK(x.dim() >= 2, name, ": expected input of shape (B, C, *) with at least 2 dims, ",
             "got shape ", shape_str(x.shape()));
  HEED_CHECK(eps >= 0, name, ": eps must be >= 0, got ", eps);
  const int64_t C = x.size(1);
  check_param(name, "weight", weight, x, {C}, true);
  check_param(name, "bias", bias, x, {C}, true);
  check_param(name, "running_mean", running_mean, x, {C}, true);
  check_param(name, "running_var", running_var, x, {C}, true);
  HEED_CHECK(running_mean.defined() == running_var.defined(), name,
             ": running_mean and running_var must both be given or both be undefined");
  HEED_CHECK(training || running_mean.defined(), name,
             ": eval mode (training=false) needs running_mean and running_var");
  if (training)
    HEED_CHECK(x.numel() / std::max<int64_t>(C, 1) > 1, name,
               ": expected more than 1 value per channel when training, got input of shape ",
               shape_str(x.shape()));
  if (residual.defined()) {
    HEED_CHECK(residual.shape() == x.shape(), name, ": residual has shape ",
               shape_str(residual.shape()), " but input has shape ", shape_str(x.shape()));
    HEED_CHECK(residual.dtype() == x.dtype() && residual.device() == x.device(), name,
               ": residual is ", residual.dtype(), " on ", residual.device(), " but input is ",
               x.dtype(), " on ", x.device());
  }
}

// What every batch norm op hands its kernel: contiguous data (detached), the
// output and saved statistics to fill, and the running stats, which are
// buffers updated in place (never recorded).
struct BnOperands {
  Tensor xc, wc, bc;              // input, weight, bias
  Tensor out;                     // x's shape
  Tensor save_mean, save_invstd;  // (C)
  Tensor rm, rv;                  // running stats, may be undefined
};

BnOperands bn_operands(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias) {
  const TensorOptions opts{x.dtype(), x.device()};
  const int64_t C = x.size(1);
  return {ops::contiguous_data(x),
          weight.defined() ? ops::contiguous_data(weight.detach()) : Tensor(),
          bias.defined() ? ops::contiguous_data(bias.detach()) : Tensor(),
          empty(x.shape(), opts),
          empty({C}, opts),
          empty({C}, opts),
          running_mean.defined() ? running_mean.detach() : Tensor(),
          running_var.defined() ? running_var.detach() : Tensor()};
}

// batch_norm, batch_norm_relu and batch_norm_add_relu: the same checks,
// kernels and saved tensors; the fused ones also save their output, whose
// sign is the ReLU's mask. `residual` (only with relu) is added before the ReLU.
Tensor batch_norm_op(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                     const Tensor& weight, const Tensor& bias, bool training, double momentum,
                     double eps, bool relu, const Tensor& residual) {
  const char* name = residual.defined() ? "batch_norm_add_relu"
                     : relu             ? "batch_norm_relu"
                                        : "batch_norm";
  check_batch_norm(name, x, running_mean, running_var, weight, bias, training, eps, residual);
  auto [xc, wc, bc, out, save_mean, save_invstd, rm, rv] =
      bn_operands(x, running_mean, running_var, weight, bias);
  Tensor rc = residual.defined() ? ops::contiguous_data(residual.detach()) : Tensor();
  Backend& be = backend_of(x);
  if (relu)
    be.batch_norm_relu(out, save_mean, save_invstd, xc, wc, bc, rc, rm, rv, training, momentum,
                       eps);
  else
    be.batch_norm(out, save_mean, save_invstd, xc, wc, bc, rm, rv, training, momentum, eps);
  if (any_requires_grad({&x, &weight, &bias, &residual})) {
    Tensor xd = xc.detach();
    Tensor yd = relu ? out.detach() : Tensor();
    record(name, {x, weight, bias, residual}, out,
           [xd, yd, wc, save_mean, save_invstd, training](const Tensor& g, const Needs& n) {
             Tensor gi = n[0] ? empty_like(xd) : Tensor();
             Tensor gw = n[1] ? empty_like(save_mean) : Tensor();
             Tensor gb = n[2] ? empty_like(save_mean) : Tensor();
             Tensor gr = n[3] ? empty_like(xd) : Tensor();
             Backend& b = backend_of(g);
             Tensor gc = ops::contiguous_data(g);
             if (yd.defined())
               b.batch_norm_relu_backward(gi, gw, gb, gr, gc, yd, xd, wc, save_mean, save_invstd,
                                          training);
             else
               b.batch_norm_backward(gi, gw, gb, gc, xd, wc, save_mean, save_invstd, training);
             return std::vector{gi, gw, gb, gr};
           });
  }
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  return batch_norm_op(x, running_mean, running_var, weight, bias, training, momentum, eps,
                       /*relu=*/false, Tensor());
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training, double momentum,
                       double eps) {
  return batch_norm_op(x, running_mean, running_var, weight, bias, training, momentum, eps,
                       /*relu=*/true, Tensor());
}

Tensor batch_norm_add_relu(const Tensor& x, const Tensor& residual, const Tensor& running_mean,
                           const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                           bool training, double momentum, double eps) {
  HEED_CHECK(residual.defined(), "batch_norm_add_relu: residual is undefined");
  return batch_norm_op(x, running_mean, running_var, weight, bias, training, momentum, eps,
                       /*relu=*/true, residual);
}

std::pair<Tensor, Tensor> batch_norm_with_spatial_mean(const Tensor& x, const Tensor& running_mean,
                                                       const Tensor& running_var,
                                                       const Tensor& weight, const Tensor& bias,
                                                       bool training, double momentum, double eps) {
  const char* name = "batch_norm_with_spatial_mean";
  check_batch_norm(name, x, running_mean, running_var, weight, bias, training, eps, Tensor());
  const int64_t B = x.size(0), C = x.size(1);
  int64_t S = 1;
  for (int64_t d = 2; d < x.dim(); ++d) S *= x.size(d);
  HEED_CHECK(S > 0, name, ": input of shape ", shape_str(x.shape()),
             " has no spatial values to average");
  auto [xc, wc, bc, out, save_mean, save_invstd, rm, rv] =
      bn_operands(x, running_mean, running_var, weight, bias);
  Tensor spatial_mean = empty({B, C}, {x.dtype(), x.device()});
  Tensor plane_dev = empty({B, C}, {x.dtype(), x.device()});
  backend_of(x).batch_norm_spatial_mean(out, spatial_mean, plane_dev, save_mean, save_invstd, xc,
                                        wc, bc, rm, rv, training, momentum, eps);
  if (any_requires_grad({&x, &weight, &bias})) {
    Tensor xd = xc.detach();
    record(name, {x, weight, bias}, {out, spatial_mean},
           [xd, wc, save_mean, save_invstd, plane_dev, training](const std::vector<Tensor>& g,
                                                                 const Needs& n) {
             Tensor gi = n[0] ? empty_like(xd) : Tensor();
             Tensor gw = n[1] ? empty_like(save_mean) : Tensor();
             Tensor gb = n[2] ? empty_like(save_mean) : Tensor();
             backend_of(xd).batch_norm_spatial_mean_backward(
                 gi, gw, gb, ops::contiguous_data(g[0]), ops::contiguous_data(g[1]), xd, wc,
                 save_mean, save_invstd, plane_dev, training);
             return std::vector{gi, gw, gb};
           });
  }
  return {out, spatial_mean};
}

namespace {

// What the backward of batch_norm_gate_add_relu's output node leaves for its
// statistics node, which runs after it and after the gate's own backward:
// the masked output gradient, the gate and their run sums (see
// Backend::batch_norm_gate_add_relu_backward_gate).
struct GateGradStash {
  Tensor grad_masked, gate, run_grad, run_grad_dev;
};

// A gate function's result: `count` values of x's dtype and device, as `shape`.
Tensor check_gate(const char* name, const char* which, const Tensor& g, int64_t count,
                  const Shape& shape, const Tensor& x) {
  HEED_CHECK(g.defined() && g.numel() == count, name, ": the ", which, " gate function returned ",
             g.defined() ? "shape " + shape_str(g.shape()) : std::string("an undefined tensor"),
             " (expected ", count, " values, as ", shape_str(shape), ")");
  HEED_CHECK(g.dtype() == x.dtype() && g.device() == x.device(), name, ": the ", which, " gate is ",
             g.dtype(), " on ", g.device(), " but the input is ", x.dtype(), " on ", x.device());
  return g.reshape(shape);
}

}  // namespace

// Two nodes: "batch_norm_gate_stats" (x, weight, bias) -> (spatial mean,
// link) and "batch_norm_gate_add_relu" (gate, residual, link) -> out, with
// the gate's ops between them. The link (a one-element tensor) makes the
// engine run the statistics node last, when both the output's gradient
// (stashed by the output node) and the mean's (through the gate) are in;
// batch norm's backward then needs one pass over x.
Tensor batch_norm_gate_add_relu(const Tensor& x, const ChannelGateFn& gate, const Tensor& residual,
                                const Tensor& running_mean, const Tensor& running_var,
                                const Tensor& weight, const Tensor& bias, bool training,
                                double momentum, double eps) {
  const char* name = "batch_norm_gate_add_relu";
  check_batch_norm(name, x, running_mean, running_var, weight, bias, training, eps, residual);
  HEED_CHECK(residual.defined(), name, ": residual is undefined");
  HEED_CHECK(x.dim() >= 3 && x.numel() > 0, name,
             ": expected a non-empty input of shape (B, C, *spatial), got ", shape_str(x.shape()));
  HEED_CHECK(static_cast<bool>(gate), name, ": the gate function is empty");
  const int64_t B = x.size(0), C = x.size(1);
  const TensorOptions opts{x.dtype(), x.device()};
  auto [xc, wc, bc, out, save_mean, save_invstd, rm, rv] =
      bn_operands(x, running_mean, running_var, weight, bias);
  Tensor spatial_mean = empty({B, C}, opts), plane_dev = empty({B, C}, opts);
  Backend& be = backend_of(x);
  be.batch_norm_spatial_mean(Tensor(), spatial_mean, plane_dev, save_mean, save_invstd, xc, wc, bc,
                             rm, rv, training, momentum, eps);
  const Tensor xd = xc.detach();
  auto stash = std::make_shared<GateGradStash>();
  Tensor link;
  if (any_requires_grad({&x, &weight, &bias})) {
    link = zeros({1}, opts);
    record("batch_norm_gate_stats", {x, weight, bias}, {spatial_mean, link},
           [stash, xd, wc, save_mean, save_invstd, plane_dev, training](
               const std::vector<Tensor>& g, const Needs& n) {
             Tensor gi = n[0] ? empty_like(xd) : Tensor();
             Tensor gw = n[1] ? empty_like(save_mean) : Tensor();
             Tensor gb = n[2] ? empty_like(save_mean) : Tensor();
             Backend& b = backend_of(xd);
             const Tensor gsm = ops::contiguous_data(g[0]);
             if (stash->grad_masked.defined())
               b.batch_norm_gate_backward(gi, gw, gb, stash->grad_masked, stash->gate, gsm,
                                          stash->run_grad, stash->run_grad_dev, plane_dev, xd, wc,
                                          save_mean, save_invstd, training);
             else  // the output's gradient never came, only the mean's
               b.batch_norm_spatial_mean_backward(gi, gw, gb, zeros_like(xd), gsm, xd, wc,
                                                  save_mean, save_invstd, plane_dev, training);
             *stash = {};  // frees the masked gradient, which the residual's user may reuse
             return std::vector{gi, gw, gb};
           });
  }
  const Tensor g = gate(spatial_mean);
  const Tensor gate_bc = check_gate(name, "channel", g, B * C, {B, C}, x);
  const Tensor gc = ops::contiguous_data(gate_bc.detach());
  const Tensor rc = ops::contiguous_data(residual.detach());
  be.batch_norm_gate_add_relu(out, xc, wc, bc, save_mean, save_invstd, gc, rc);
  if (any_requires_grad({&gate_bc, &residual, &link})) {
    const Tensor yd = out.detach();
    record(name, {gate_bc, residual, link}, out,
           [stash, xd, yd, wc, bc, save_mean, save_invstd, gc](const Tensor& g, const Needs& n) {
             const int64_t B = xd.size(0), C = xd.size(1);
             const TensorOptions o{xd.dtype(), xd.device()};
             Tensor gm = empty_like(xd), run_grad = empty({B, C}, o),
                    run_grad_dev = empty({B, C}, o), grad_gate = empty({B, C}, o);
             backend_of(xd).batch_norm_gate_add_relu_backward_gate(
                 gm, run_grad, run_grad_dev, grad_gate, ops::contiguous_data(g), yd, xd, wc, bc,
                 save_mean, save_invstd);
             if (n[2]) *stash = {gm, gc, run_grad, run_grad_dev};
             return std::vector{n[0] ? grad_gate : Tensor(), n[1] ? gm : Tensor(),
                                n[2] ? zeros({1}, o) : Tensor()};
           });
  }
  return out;
}

namespace {

// What the later nodes of batch_norm_cbam_add_relu leave for its statistics
// node, which runs last: the output node's masked gradient and run sums, the
// descriptor node's gradient and run sums.
struct CbamStash {
  Tensor grad_masked, out_run_grad, out_run_grad_dev;
  Tensor grad_descriptor, desc_run_grad, desc_run_grad_dev;
};

}  // namespace

Tensor cbam_gates_add_relu(const Tensor& y, const CbamGateFns& gates, const Tensor& residual) {
  HEED_CHECK(y.dim() == 4, "cbam_gates_add_relu: expected a (B, C, H, W) input, got shape ",
             shape_str(y.shape()));
  const int64_t B = y.size(0), C = y.size(1);
  Tensor pools = global_mean_max_pool2d(y);  // (2B, C, 1, 1): [means; maxima]
  Tensor gc =
      gates.channel(pools.narrow(0, 0, B).reshape({B, C}), pools.narrow(0, B, B).reshape({B, C}))
          .reshape({B, C, 1, 1});
  Tensor gs = gates.spatial(channel_mean_max(y, gc, gates.max_first));
  return gates_add_relu(y, gc, gs.reshape({B, 1, y.size(2), y.size(3)}), residual);
}

// Three nodes, the gates' ops between them: "batch_norm_cbam_stats" (x,
// weight, bias) -> (mean, max, link1); "batch_norm_cbam_descriptor"
// (channel gate, link1) -> (descriptor, link2); "batch_norm_cbam_add_relu"
// (channel gate, spatial gate, residual, link2) -> out. The links order the
// backward: output, spatial gate, descriptor, channel gate, statistics; the
// later nodes stash what batch norm's single backward pass needs.
Tensor batch_norm_cbam_add_relu(const Tensor& x, const CbamGateFns& gates, const Tensor& residual,
                                const Tensor& running_mean, const Tensor& running_var,
                                const Tensor& weight, const Tensor& bias, bool training,
                                double momentum, double eps) {
  const char* name = "batch_norm_cbam_add_relu";
  check_batch_norm(name, x, running_mean, running_var, weight, bias, training, eps, residual);
  HEED_CHECK(residual.defined(), name, ": residual is undefined");
  HEED_CHECK(x.dim() == 4 && x.numel() > 0, name,
             ": expected a non-empty (B, C, H, W) input, got shape ", shape_str(x.shape()));
  HEED_CHECK(gates.channel && gates.spatial, name, ": a gate function is empty");
  Backend& be = backend_of(x);
  if (!be.fuses_batch_norm_cbam())
    return cbam_gates_add_relu(
        batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps), gates,
        residual);
  const int64_t B = x.size(0), C = x.size(1), S = x.size(2) * x.size(3);
  const TensorOptions opts{x.dtype(), x.device()};
  auto [xc, wc, bc, out, save_mean, save_invstd, rm, rv] =
      bn_operands(x, running_mean, running_var, weight, bias);
  auto st = std::make_shared<BnCbamState>();
  st->input = xc.detach(), st->weight = wc, st->bias = bc;
  st->save_mean = save_mean, st->save_invstd = save_invstd;
  st->plane_dev = empty({B, C}, opts);
  st->max_pos = empty({B, C}, {kInt64, x.device()});
  st->max_dev = empty({B, C}, opts);
  st->descriptor_argmax = empty({B, S}, {kInt64, x.device()});
  st->max_first = gates.max_first;
  Tensor spatial_mean = empty({B, C}, opts), spatial_max = empty({B, C}, opts);
  be.batch_norm_cbam_stats(*st, spatial_mean, spatial_max, rm, rv, training, momentum, eps);

  auto stash = std::make_shared<CbamStash>();
  Tensor link1;
  if (any_requires_grad({&x, &weight, &bias})) {
    link1 = zeros({1}, opts);
    record("batch_norm_cbam_stats", {x, weight, bias}, {spatial_mean, spatial_max, link1},
           [st, stash, training](const std::vector<Tensor>& g, const Needs& n) {
             const Tensor& xd = st->input;
             const TensorOptions o{xd.dtype(), xd.device()};
             const int64_t B = xd.size(0), C = xd.size(1);
             Tensor gi = n[0] ? empty_like(xd) : Tensor();
             Tensor gw = n[1] ? empty_like(st->save_mean) : Tensor();
             Tensor gb = n[2] ? empty_like(st->save_mean) : Tensor();
             CbamStash& sh = *stash;
             if (!sh.grad_masked.defined())  // the output's gradient never came
               sh.grad_masked = zeros_like(xd),
               sh.out_run_grad = sh.out_run_grad_dev = zeros({B, C}, o);
             if (!sh.grad_descriptor.defined())
               sh.grad_descriptor = zeros({B, 2, xd.size(2), xd.size(3)}, o),
               sh.desc_run_grad = sh.desc_run_grad_dev = zeros({B, C}, o);
             backend_of(xd).batch_norm_cbam_backward(
                 *st, gi, gw, gb, sh.grad_masked, sh.out_run_grad, sh.out_run_grad_dev,
                 sh.grad_descriptor, sh.desc_run_grad, sh.desc_run_grad_dev,
                 ops::contiguous_data(g[0]), ops::contiguous_data(g[1]), training);
             sh = {};  // frees the masked gradient, which the residual's user may reuse
             return std::vector{gi, gw, gb};
           });
  }

  const Tensor gc =
      check_gate(name, "channel", gates.channel(spatial_mean, spatial_max), B * C, {B, C}, x);
  st->channel_gate = ops::contiguous_data(gc.detach());
  Tensor descriptor = empty({B, 2, x.size(2), x.size(3)}, opts);
  be.batch_norm_cbam_descriptor(*st, descriptor);
  Tensor link2;
  if (any_requires_grad({&gc, &link1})) {
    link2 = zeros({1}, opts);
    record("batch_norm_cbam_descriptor", {gc, link1}, {descriptor, link2},
           [st, stash](const std::vector<Tensor>& g, const Needs& n) {
             const int64_t B = st->input.size(0), C = st->input.size(1);
             const TensorOptions o{st->input.dtype(), st->input.device()};
             Tensor grad_gate = empty({B, C}, o), run_grad = empty({B, C}, o),
                    run_grad_dev = empty({B, C}, o);
             const Tensor gd = ops::contiguous_data(g[0]);
             backend_of(gd).batch_norm_cbam_descriptor_backward(*st, grad_gate, run_grad,
                                                                run_grad_dev, gd);
             if (n[1]) {
               stash->grad_descriptor = gd;
               stash->desc_run_grad = run_grad;
               stash->desc_run_grad_dev = run_grad_dev;
             }
             return std::vector{n[0] ? grad_gate : Tensor(), n[1] ? zeros({1}, o) : Tensor()};
           });
  }

  const Tensor gs = check_gate(name, "spatial", gates.spatial(descriptor), B * S, {B, S}, x);
  st->spatial_gate = ops::contiguous_data(gs.detach());
  be.batch_norm_cbam_add_relu(*st, out, ops::contiguous_data(residual.detach()));
  if (any_requires_grad({&gc, &gs, &residual, &link2})) {
    const Tensor yd = out.detach();
    record(name, {gc, gs, residual, link2}, out, [st, stash, yd](const Tensor& g, const Needs& n) {
      const Tensor& xd = st->input;
      const int64_t B = xd.size(0), C = xd.size(1);
      const TensorOptions o{xd.dtype(), xd.device()};
      Tensor gm = empty_like(xd), grad_gc = empty({B, C}, o),
             grad_gs = empty({B, xd.size(2) * xd.size(3)}, o), run_grad = empty({B, C}, o),
             run_grad_dev = empty({B, C}, o);
      backend_of(xd).batch_norm_cbam_add_relu_backward(*st, gm, grad_gc, grad_gs, run_grad,
                                                       run_grad_dev, ops::contiguous_data(g), yd);
      if (n[3]) {
        stash->grad_masked = gm;
        stash->out_run_grad = run_grad;
        stash->out_run_grad_dev = run_grad_dev;
      }
      return std::vector{n[0] ? grad_gc : Tensor(), n[1] ? grad_gs : Tensor(), n[2] ? gm : Tensor(),
                         n[3] ? zeros({1}, o) : Tensor()};
    });
  }
  return out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  ops::check_floating("layer_norm", x);
  const int64_t k = int64_t(normalized_shape.size());
  HEED_CHECK(k >= 1, "layer_norm: normalized_shape must have at least one dim");
  HEED_CHECK(eps >= 0, "layer_norm: eps must be >= 0, got ", eps);
  bool matches = x.dim() >= k;
  for (int64_t i = 0; matches && i < k; ++i)
    matches = x.size(x.dim() - k + i) == normalized_shape[size_t(i)];
  HEED_CHECK(matches, "layer_norm: normalized_shape ", shape_str(normalized_shape),
             " does not match the trailing dims of the input of shape ", shape_str(x.shape()),
             " (expected [*, ", shape_str(normalized_shape).substr(1), ")");
  check_param("layer_norm", "weight", weight, x, normalized_shape, false);
  check_param("layer_norm", "bias", bias, x, normalized_shape, false);

  const int64_t N = numel_of(normalized_shape);
  const int64_t M = N > 0 ? x.numel() / N : 0;
  Tensor xc = ops::contiguous_data(x);
  Tensor wc = weight.defined() ? ops::contiguous_data(weight.detach()) : Tensor();
  Tensor bc = bias.defined() ? ops::contiguous_data(bias.detach()) : Tensor();
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  Tensor save_mean = empty({M}, {x.dtype(), x.device()});  // (M) one per row
  Tensor save_rstd = empty({M}, {x.dtype(), x.device()});  // (M)
  backend_of(x).layer_norm(out, save_mean, save_rstd, xc, wc, bc, N, eps);
  if (any_requires_grad({&x, &weight, &bias})) {
    Tensor xd = xc.detach();
    Shape wshape = normalized_shape;
    record("layer_norm", {x, weight, bias}, out,
           [xd, wc, save_mean, save_rstd, N, wshape](const Tensor& g, const Needs& n) {
             Tensor gi = n[0] ? empty_like(xd) : Tensor();
             Tensor gw = n[1] ? empty(wshape, {g.dtype(), g.device()}) : Tensor();
             Tensor gb = n[2] ? empty(wshape, {g.dtype(), g.device()}) : Tensor();
             backend_of(g).layer_norm_backward(gi, gw, gb, ops::contiguous_data(g), xd, wc,
                                               save_mean, save_rstd, N);
             return std::vector{gi, gw, gb};
           });
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  HEED_CHECK(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got ", p);
  ops::check_floating("dropout", x);
  if (!training || p == 0) return x;
  Tensor mask;  // 0 or 1/(1-p), x's shape and dtype
  if (p == 1) {
    mask = zeros(x.shape(), {x.dtype(), x.device()});
  } else {
    NoGradGuard no_grad;
    Generator& g = gen ? *gen : default_generator();
    Tensor u = empty(x.shape(), {x.dtype(), x.device()});
    backend_of(x).fill_uniform(u, g.seed(), g.advance(uint64_t(u.numel())), 0.0, 1.0);
    // Keep where u >= p, i.e. with probability 1 - p.
    mask = ge(u, full({}, p, {x.dtype(), x.device()})).to(x.dtype()) * (1.0 / (1.0 - p));
  }
  Tensor out;
  {
    NoGradGuard no_grad;
    out = x.detach() * mask;
  }
  if (any_requires_grad({&x}))
    record("dropout", {x}, out,
           [mask](const Tensor& g, const Needs&) { return std::vector{g * mask}; });
  return out;
}

}  // namespace heed

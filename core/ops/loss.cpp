// Losses with PyTorch's semantics and defaults. cross_entropy, nll_loss and
// mse_loss are composed from ops that have their own backward (log_softmax's
// fused kernel, gather's scatter_add, where, sum), so their gradients come
// for free; binary_cross_entropy_with_logits is one element-wise node with a
// hand-written backward, because its stable form needs softplus and sigmoid.
//
// Shapes: B batch, C classes, d1... extra (spatial) dims.

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

Tensor reduce_loss(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return sum(loss);
    case Reduction::Mean:
      return mean(loss);
  }
  HEED_FAIL("loss: unknown reduction");
}

// Checks a class-index target for input (B, C, d1, ...) or (C); returns C.
int64_t check_class_target(const char* op, const Tensor& input, const Tensor& target,
                           int64_t ignore_index) {
  ops::check_same_device(op, {&input, &target});
  ops::check_floating(op, input);
  HEED_CHECK(target.dtype() == kInt64, op, ": target must hold int64 class indices, got ",
             target.dtype(), " of shape ", shape_str(target.shape()),
             " (convert with .to(kInt64))");
  HEED_CHECK(input.dim() >= 1, op, ": input must be (B, C, ...) or (C), got a 0-d tensor");
  Shape expected = input.shape();
  expected.erase(expected.begin() + (input.dim() == 1 ? 0 : 1));
  HEED_CHECK(target.shape() == expected, op, ": target shape ", shape_str(target.shape()),
             " does not match input shape ", shape_str(input.shape()), " (expected target shape ",
             shape_str(expected), ")");
  const int64_t C = input.dim() == 1 ? input.shape()[0] : input.shape()[1];
  Tensor h = ops::contiguous_data(target.device().is_cpu() ? target : target.to(kCPU));
  const int64_t* t = h.data_ptr<int64_t>();
  for (int64_t i = 0; i < h.numel(); ++i)
    HEED_CHECK(t[i] == ignore_index || (t[i] >= 0 && t[i] < C), op, ": target ", t[i],
               " is out of range for ", C, " classes (expected 0 to ", C - 1, ", or ignore_index ",
               ignore_index, ")");
  return C;
}

// From log-probabilities (B, C, d...) and targets (B, d...): the per-element
// -log p[target] with 0 where the target is ignored, and the keep mask.
struct Picked {
  Tensor nll;   // (B, d...)
  Tensor keep;  // (B, d...) bool
};

Picked pick_targets(const Tensor& logp, const Tensor& target, int64_t ignore_index) {
  Tensor keep = ne(target, full({}, double(ignore_index), {kInt64, target.device()}));
  // Ignored entries point at class 0 so gather stays in range; `where` then
  // drops them (and any -inf there) from the value and the gradient alike.
  Tensor safe = where(keep, target, zeros({}, {kInt64, target.device()}));
  Tensor picked = squeeze(gather(logp, 1, unsqueeze(safe, 1)), 1);
  Tensor zero = zeros({}, {logp.dtype(), logp.device()});
  return {where(keep, -picked, zero), keep};
}

// Sum over elements divided by the number of kept targets (PyTorch's mean
// for nll/cross_entropy: NaN when every target is ignored, as 0/0 there).
Tensor reduce_class_loss(const Tensor& loss, const Tensor& keep, Reduction reduction) {
  if (reduction != Reduction::Mean) return reduce_loss(loss, reduction);
  return sum(loss) / sum(keep.to(loss.dtype()));
}

// (C) input with a 0-d target runs as a batch of one.
bool unbatched(const Tensor& input) {
  return input.dim() == 1;
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction,
                int64_t ignore_index) {
  check_class_target("nll_loss", log_probs, target, ignore_index);
  const bool one = unbatched(log_probs);
  Tensor lp = one ? unsqueeze(log_probs, 0) : log_probs;
  Tensor tg = one ? target.reshape({1}) : target;
  Picked p = pick_targets(lp, tg, ignore_index);
  Tensor out = reduce_class_loss(p.nll, p.keep, reduction);
  return one && reduction == Reduction::None ? reshape(out, {}) : out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  const int64_t C = check_class_target("cross_entropy", logits, target, ignore_index);
  HEED_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
             "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  const bool one = unbatched(logits);
  Tensor x = one ? unsqueeze(logits, 0) : logits;  // (B, C, d...)
  Tensor tg = one ? target.reshape({1}) : target;  // (B, d...)
  Tensor logp = log_softmax(x, 1);
  Picked p = pick_targets(logp, tg, ignore_index);
  Tensor loss = p.nll;
  if (label_smoothing > 0) {
    // (1 - ε) · nll + ε · mean_c(-log p_c), ignored targets contributing 0.
    Tensor zero = zeros({}, {logp.dtype(), logp.device()});
    Tensor uniform = where(p.keep, -sum(logp, {1}), zero) * (label_smoothing / double(C));
    loss = loss * (1.0 - label_smoothing) + uniform;
  }
  Tensor out = reduce_class_loss(loss, p.keep, reduction);
  return one && reduction == Reduction::None ? reshape(out, {}) : out;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  ops::check_same_device("mse_loss", {&input, &target});
  ops::check_floating("mse_loss", input);
  ops::check_floating("mse_loss", target);
  // PyTorch broadcasts (with a warning) here, which is almost always a bug
  // such as (B, 1) against (B): heed asks for equal shapes.
  HEED_CHECK(input.shape() == target.shape(), "mse_loss: input shape ", shape_str(input.shape()),
             " and target shape ", shape_str(target.shape()),
             " differ (reshape one of them; no broadcasting here)");
  Tensor d = input - target;
  return reduce_loss(d * d, reduction);
}

// loss = (1 - t) · x + lw · softplus(-x),  lw = 1 + (p - 1) · t
// (softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)): stable for any x)
//   dx = (1 - t) - lw · sigmoid(-x)
//   dt = -x + (p - 1) · softplus(-x)
//   dp = t · softplus(-x)            (summed back to p's broadcast shape)
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction, const Tensor& pos_weight) {
  const char* op = "binary_cross_entropy_with_logits";
  ops::check_same_device(op, {&logits, &target, &pos_weight});
  ops::check_floating(op, logits);
  HEED_CHECK(target.is_floating_point(), op,
             ": target must be floating point (probabilities "
             "in [0, 1]), got ",
             target.dtype(), " (convert with .to(kFloat32))");
  HEED_CHECK(target.shape() == logits.shape(), op, ": target shape ", shape_str(target.shape()),
             " must equal input shape ", shape_str(logits.shape()));
  const bool has_pw = pos_weight.defined();
  DType t = ops::promote(logits.dtype(), target.dtype());
  if (has_pw) {
    ops::check_floating(op, pos_weight);
    bool fits = pos_weight.dim() <= logits.dim();
    for (int64_t i = 1; fits && i <= pos_weight.dim(); ++i) {
      int64_t p = pos_weight.shape()[size_t(pos_weight.dim() - i)];
      fits = p == 1 || p == logits.shape()[size_t(logits.dim() - i)];
    }
    HEED_CHECK(fits, op, ": pos_weight shape ", shape_str(pos_weight.shape()),
               " does not broadcast to input shape ", shape_str(logits.shape()),
               " (give one weight per class: the last dim)");
    t = ops::promote(t, pos_weight.dtype());
  }
  Tensor x = logits.to(t), tg = target.to(t), pw = has_pw ? pos_weight.to(t) : Tensor();

  Tensor xd = x.detach(), td = tg.detach(), pd = has_pw ? pw.detach() : Tensor();
  Tensor sp, loss;  // softplus(-x), the element-wise loss
  {
    NoGradGuard no_grad;
    sp = empty(xd.shape(), {t, xd.device()});
    backend_of(xd).unary(UnaryOp::Softplus, sp, -xd, {1.0, 20.0});
    Tensor lw = has_pw ? (pd - 1.0) * td + 1.0 : Tensor();
    loss = (1.0 - td) * xd + (has_pw ? lw * sp : sp);
  }
  if (any_requires_grad({&x, &tg, &pw})) {
    record(op, {x, tg, pw}, loss, [xd, td, pd, sp, has_pw](const Tensor& g, const Needs& n) {
      Tensor lw = has_pw ? (pd - 1.0) * td + 1.0 : Tensor();
      Tensor gx, gt, gp;
      if (n[0]) {
        Tensor sig = empty(xd.shape(), {xd.dtype(), xd.device()});  // sigmoid(-x)
        backend_of(xd).unary(UnaryOp::Sigmoid, sig, -xd, {});
        gx = g * ((1.0 - td) - (has_pw ? lw * sig : sig));
      }
      if (n[1]) gt = g * (has_pw ? (pd - 1.0) * sp - xd : -xd);
      if (n[2]) gp = sum_to(g * td * sp, pd.shape());
      return std::vector{gx, gt, gp};
    });
  }
  return reduce_loss(loss, reduction);
}

}  // namespace heed

// Gradient clipping: per-gradient norms with reductions (accumulated in
// double by the backend), then one in-place scale or clamp per gradient.
#include "optim/clip_grad.h"

#include <cmath>
#include <limits>

#include "core/autograd/grad_mode.h"
#include "core/backend.h"
#include "core/ops/ops.h"

namespace heed::optim {
namespace {

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    HEED_CHECK(p.defined(), "clip_grad: a parameter is an undefined tensor");
    Tensor g = p.grad();
    if (g.defined()) grads.push_back(g.detach());
  }
  return grads;
}

std::vector<Tensor> values(const NamedParameters& params) {
  std::vector<Tensor> out;
  out.reserve(params.size());
  for (const auto& [n, p] : params) out.push_back(p);
  return out;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  HEED_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 (or infinity), got ",
             norm_type);
  HEED_CHECK(!std::isnan(max_norm) && max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0, got ",
             max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads = grads_of(params);
  if (grads.empty()) return 0.0;
  const bool inf_norm = std::isinf(norm_type);
  double total = 0;  // max |g| or sum |g|^p over every gradient
  for (const Tensor& g : grads) {
    HEED_CHECK(g.is_floating_point(), "clip_grad_norm_: gradient is ", g.dtype());
    if (g.numel() == 0) continue;
    if (inf_norm) {
      const double m = max(abs(g)).item();
      total = (m > total || std::isnan(m)) ? m : total;
    } else if (norm_type == 2) {
      total += sum(g * g).item();
    } else if (norm_type == 1) {
      total += sum(abs(g)).item();
    } else {
      total += sum(pow(abs(g), norm_type)).item();
    }
  }
  if (!inf_norm) total = norm_type == 1 ? total : std::pow(total, 1.0 / norm_type);
  HEED_CHECK(!error_if_nonfinite || std::isfinite(total),
             "clip_grad_norm_: the total norm of order ", norm_type,
             " of the gradients is non-finite (", total,
             "), so it cannot be clipped; pass error_if_nonfinite = false to scale by it anyway");
  const double coef = max_norm / (total + 1e-6);
  const double clamped = coef < 1.0 || std::isnan(coef) ? coef : 1.0;  // torch.clamp keeps NaN
  if (clamped != 1.0)
    for (Tensor& g : grads) backend_of(g).unary(UnaryOp::MulScalar, g, g, {clamped, 0});
  return total;
}

double clip_grad_norm_(const NamedParameters& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(values(params), max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  HEED_CHECK(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (Tensor& g : grads_of(params))
    backend_of(g).unary(UnaryOp::Clamp, g, g, {-clip_value, clip_value});
}

void clip_grad_value_(const NamedParameters& params, double clip_value) {
  clip_grad_value_(values(params), clip_value);
}

}  // namespace heed::optim

#include "core/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "core/autograd/grad_mode.h"
#include "core/generator.h"
#include "core/ops/ops.h"

namespace heed {

GradcheckReport gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckReport report;
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    any = true;
    HEED_CHECK(inputs[i].dtype() == kFloat64, "gradcheck: input ", i, " is ", inputs[i].dtype(),
               "; gradcheck needs float64 inputs (call .to(kFloat64))");
    HEED_CHECK(inputs[i].is_leaf(), "gradcheck: input ", i, " must be a leaf tensor");
  }
  HEED_CHECK(any, "gradcheck: no input requires grad");

  // Analytic: backward of sum(out * g) for a fixed random g.
  std::vector<Tensor> leaves = inputs;
  for (Tensor& t : leaves)
    if (t.defined() && t.requires_grad()) t.set_grad(Tensor());
  Tensor out = fn(leaves);
  HEED_CHECK(out.dtype() == kFloat64, "gradcheck: the function returned ", out.dtype(),
             "; it must compute in float64");
  Generator gen(opt.seed + 12345);
  Tensor g = randn(out.shape(), {kFloat64, out.device()}, &gen);
  HEED_CHECK(out.requires_grad(), "gradcheck: the output does not require grad (is the "
             "function differentiable in its inputs?)");
  sum(out * g).backward();

  auto objective = [&]() {
    NoGradGuard no_grad;
    return sum(fn(leaves) * g).item();
  };

  double worst = -1;
  for (size_t i = 0; i < leaves.size(); ++i) {
    Tensor x = leaves[i];
    if (!x.defined() || !x.requires_grad()) continue;
    HEED_CHECK(x.device().is_cpu(), "gradcheck: inputs must be on the cpu");
    Tensor grad = x.grad();
    std::vector<double> analytic = grad.defined() ? grad.to_vector<double>()
                                                  : std::vector<double>(size_t(x.numel()), 0.0);
    // Perturb through the strided view of the leaf itself.
    double* base = static_cast<double*>(x.impl()->storage->data());
    Shape idx(size_t(x.dim()), 0);
    for (int64_t flat = 0; flat < x.numel(); ++flat) {
      int64_t off = x.offset();
      for (int64_t d = 0; d < x.dim(); ++d) off += idx[size_t(d)] * x.strides()[size_t(d)];
      double orig = base[off];
      base[off] = orig + opt.eps;
      double plus = objective();
      base[off] = orig - opt.eps;
      double minus = objective();
      base[off] = orig;
      double numeric = (plus - minus) / (2 * opt.eps);
      double a = analytic[size_t(flat)];
      double err = std::abs(a - numeric);
      double score = err / (opt.atol + opt.rtol * std::abs(numeric));
      if (score > worst) {
        worst = score;
        report.input = int64_t(i);
        report.index = flat;
        report.analytic = a;
        report.numeric = numeric;
        report.max_rel_error = err / std::max(std::abs(numeric), 1e-12);
      }
      report.max_abs_error = std::max(report.max_abs_error, err);
      if (!(err <= opt.atol + opt.rtol * std::abs(numeric))) report.ok = false;
      for (int64_t d = x.dim() - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < x.shape()[size_t(d)]) break;
        idx[size_t(d)] = 0;
      }
    }
  }
  std::ostringstream os;
  os << (report.ok ? "gradcheck passed" : "gradcheck FAILED") << ": worst element is input "
     << report.input << " index " << report.index << " (analytic " << report.analytic
     << ", numeric " << report.numeric << "), max abs error " << report.max_abs_error;
  report.message = os.str();
  return report;
}

}  // namespace heed

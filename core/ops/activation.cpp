// Activations: one unary kernel forward, one fused BinaryOp::*Backward kernel
// backward (grad * f'(.) in a single pass, no temporaries). Sigmoid and tanh
// save their output (f' is cheaper from y); the others save their input.
#include <string>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

enum class Save { Input, Output };

Tensor activation(const char* name, UnaryOp fwd, BinaryOp bwd, const Tensor& x, OpParams p = {},
                  Save save = Save::Input) {
  ops::check_floating(name, x);
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).unary(fwd, out, x, p);
  if (any_requires_grad({&x})) {
    Tensor saved = save == Save::Input ? x.detach() : out.detach();
    record(name, {x}, out, [saved, bwd, p](const Tensor& g, const Needs&) {
      Tensor gi = empty(g.shape(), {g.dtype(), g.device()});
      backend_of(g).binary(bwd, gi, g, saved, p);
      return std::vector{gi};
    });
  }
  return out;
}

}  // namespace

Tensor relu(const Tensor& x) {
  return activation("relu", UnaryOp::Relu, BinaryOp::ReluBackward, x);
}

Tensor relu6(const Tensor& x) {
  return activation("relu6", UnaryOp::Relu6, BinaryOp::Relu6Backward, x);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", UnaryOp::LeakyRelu, BinaryOp::LeakyReluBackward, x,
                    {negative_slope, 0});
}

Tensor sigmoid(const Tensor& x) {
  return activation("sigmoid", UnaryOp::Sigmoid, BinaryOp::SigmoidBackward, x, {}, Save::Output);
}

Tensor tanh(const Tensor& x) {
  return activation("tanh", UnaryOp::Tanh, BinaryOp::TanhBackward, x, {}, Save::Output);
}

Tensor gelu(const Tensor& x, std::string_view approximate) {
  if (approximate == "none")
    return activation("gelu", UnaryOp::GeluErf, BinaryOp::GeluErfBackward, x);
  if (approximate == "tanh")
    return activation("gelu_tanh", UnaryOp::GeluTanh, BinaryOp::GeluTanhBackward, x);
  HEED_FAIL("gelu: approximate must be \"none\" or \"tanh\", got \"", std::string(approximate),
            "\"");
}

Tensor silu(const Tensor& x) {
  return activation("silu", UnaryOp::Silu, BinaryOp::SiluBackward, x);
}

Tensor hardsigmoid(const Tensor& x) {
  return activation("hardsigmoid", UnaryOp::Hardsigmoid, BinaryOp::HardsigmoidBackward, x);
}

Tensor hardswish(const Tensor& x) {
  return activation("hardswish", UnaryOp::Hardswish, BinaryOp::HardswishBackward, x);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  return activation("softplus", UnaryOp::Softplus, BinaryOp::SoftplusBackward, x,
                    {beta, threshold});
}

}  // namespace heed

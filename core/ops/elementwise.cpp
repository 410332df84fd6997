// Element-wise ops with NumPy broadcasting: forward, saved tensors and
// backward side by side. Backward closures use Tensor ops, so they run on
// any backend.
#include <cmath>
#include <limits>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using ops::broadcast_view;
using Needs = std::vector<bool>;

namespace {

// Allocates the broadcast output and runs one binary kernel (no recording).
Tensor binary_forward(BinaryOp op, const char* name, const Tensor& a, const Tensor& b,
                      OpParams p = {1, 0}, bool comparison = false) {
  ops::check_same_device(name, {&a, &b});
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  DType t = ops::promote(a.dtype(), b.dtype());
  Tensor ac = a.dtype() == t ? a : a.detach().to(t);
  Tensor bc = b.dtype() == t ? b : b.detach().to(t);
  Tensor out = empty(shape, {comparison ? kBool : t, a.device()});
  backend_of(out).binary(op, out, broadcast_view(ac, shape), broadcast_view(bc, shape), p);
  return out;
}

Tensor unary_forward(UnaryOp op, const Tensor& x, OpParams p = {}) {
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).unary(op, out, x, p);
  return out;
}

// Backward helper: g reduced to `like`'s shape and dtype.
Tensor reduce_grad(const Tensor& g, const Tensor& like) {
  Tensor r = sum_to(g, like.shape());
  return r.dtype() == like.dtype() ? r : r.to(like.dtype());
}

// reduce_grad(g * other, like), fused when `other` has g's shape and dtype
// and `like` is broadcast (an attention gate: no full-size product tensor).
Tensor reduce_grad_of_product(const Tensor& g, const Tensor& other, const Tensor& like) {
  if (like.shape() != g.shape() && other.shape() == g.shape() && other.dtype() == g.dtype() &&
      like.dtype() == g.dtype())
    return sum_to_of_product(g, other, like.shape());
  return reduce_grad(g * other, like);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  Tensor out = binary_forward(BinaryOp::Add, "add", a, b, {alpha, 0});
  if (any_requires_grad({&a, &b}))
    record("add", {a, b}, out, [a, b, alpha](const Tensor& g, const Needs& n) {
      return std::vector{n[0] ? reduce_grad(g, a) : Tensor(),
                         n[1] ? reduce_grad(alpha == 1 ? g : g * alpha, b) : Tensor()};
    });
  return out;
}

Tensor add_relu(const Tensor& a, const Tensor& b) {
  ops::check_floating("add_relu", a);
  ops::check_floating("add_relu", b);
  Tensor out = binary_forward(BinaryOp::AddRelu, "add_relu", a, b);
  if (any_requires_grad({&a, &b})) {
    Tensor y = out.detach();  // y > 0: where the gradient passes
    record("add_relu", {a, b}, out, [a, b, y](const Tensor& g, const Needs& n) {
      Tensor gm = binary_forward(BinaryOp::ReluBackward, "add_relu backward", g, y);
      return std::vector{n[0] ? reduce_grad(gm, a) : Tensor(),
                         n[1] ? reduce_grad(gm, b) : Tensor()};
    });
  }
  return out;
}

namespace {

// relu(x · channel_gate · spatial_gate + residual), either gate undefined.
Tensor gated_residual_relu(const char* name, const Tensor& x, const Tensor& channel_gate,
                           const Tensor& spatial_gate, const Tensor& residual) {
  ops::check_same_device(name, {&x, &channel_gate, &spatial_gate, &residual});
  ops::check_floating(name, x);
  HEED_CHECK(x.dim() == 4, name, ": expected x of shape (B, C, H, W), got ", shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  HEED_CHECK(!channel_gate.defined() || (channel_gate.shape() == Shape{B, C, 1, 1}), name,
             ": channel gate has shape ", shape_str(channel_gate.shape()), ", expected (", B, ", ",
             C, ", 1, 1) for x of shape ", shape_str(x.shape()));
  HEED_CHECK(!spatial_gate.defined() || (spatial_gate.shape() == Shape{B, 1, H, W}), name,
             ": spatial gate has shape ", shape_str(spatial_gate.shape()), ", expected (", B,
             ", 1, ", H, ", ", W, ") for x of shape ", shape_str(x.shape()));
  HEED_CHECK(residual.shape() == x.shape(), name, ": residual has shape ",
             shape_str(residual.shape()), " but x has shape ", shape_str(x.shape()));
  for (const Tensor* t : {&channel_gate, &spatial_gate, &residual})
    HEED_CHECK(!t->defined() || t->dtype() == x.dtype(), name, ": x is ", x.dtype(),
               " but a gate or the residual is ", t->dtype());
  auto data = [](const Tensor& t) {
    return t.defined() ? ops::contiguous_data(t.detach()) : Tensor();
  };
  Tensor xc = data(x), cg = data(channel_gate), sg = data(spatial_gate), rc = data(residual);
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(out).gate_add_relu(out, xc, cg, sg, rc);
  if (any_requires_grad({&x, &channel_gate, &spatial_gate, &residual})) {
    Tensor y = out.detach();  // y > 0: where the gradient passes
    record(name, {x, channel_gate, spatial_gate, residual}, out,
           [xc, cg, sg, y](const Tensor& g, const Needs& n) {
             auto grad_like = [](bool need, const Tensor& t) {
               return need && t.defined() ? empty_like(t) : Tensor();
             };
             Tensor gx = grad_like(n[0], xc), gcg = grad_like(n[1], cg);
             Tensor gsg = grad_like(n[2], sg), gr = grad_like(n[3], xc);
             backend_of(g).gate_add_relu_backward(gx, gcg, gsg, gr, ops::contiguous_data(g), y, xc,
                                                  cg, sg);
             return std::vector{gx, gcg, gsg, gr};
           });
  }
  return out;
}

}  // namespace

Tensor gate_add_relu(const Tensor& x, const Tensor& gate, const Tensor& residual) {
  const char* name = "gate_add_relu";
  HEED_CHECK(x.dim() == 4, name, ": expected x of shape (B, C, H, W), got ", shape_str(x.shape()));
  HEED_CHECK(gate.defined(), name, ": the gate is undefined");
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const bool channel_gate = gate.shape() == Shape{B, C, 1, 1};
  const bool spatial_gate = gate.shape() == Shape{B, 1, H, W};
  HEED_CHECK(channel_gate || spatial_gate, name, ": gate has shape ", shape_str(gate.shape()),
             ", expected (", B, ", ", C, ", 1, 1) or (", B, ", 1, ", H, ", ", W,
             ") for x of shape ", shape_str(x.shape()));
  return channel_gate ? gated_residual_relu(name, x, gate, Tensor(), residual)
                      : gated_residual_relu(name, x, Tensor(), gate, residual);
}

Tensor gates_add_relu(const Tensor& x, const Tensor& channel_gate, const Tensor& spatial_gate,
                      const Tensor& residual) {
  HEED_CHECK(channel_gate.defined() && spatial_gate.defined(),
             "gates_add_relu: both gates must be defined (gate_add_relu takes one)");
  return gated_residual_relu("gates_add_relu", x, channel_gate, spatial_gate, residual);
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  Tensor out = binary_forward(BinaryOp::Sub, "sub", a, b, {alpha, 0});
  if (any_requires_grad({&a, &b}))
    record("sub", {a, b}, out, [a, b, alpha](const Tensor& g, const Needs& n) {
      return std::vector{n[0] ? reduce_grad(g, a) : Tensor(),
                         n[1] ? reduce_grad(g * -alpha, b) : Tensor()};
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Mul, "mul", a, b);
  if (any_requires_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    record("mul", {a, b}, out, [a, b, ad, bd](const Tensor& g, const Needs& n) {
      return std::vector{n[0] ? reduce_grad_of_product(g, bd, a) : Tensor(),
                         n[1] ? reduce_grad_of_product(g, ad, b) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Div, "div", a, b);
  if (any_requires_grad({&a, &b})) {
    Tensor bd = b.detach(), od = out.detach();
    record("div", {a, b}, out, [a, b, bd, od](const Tensor& g, const Needs& n) {
      Tensor ga = g / bd;
      return std::vector{n[0] ? reduce_grad(ga, a) : Tensor(),
                         n[1] ? reduce_grad(-(ga * od), b) : Tensor()};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Pow, "pow", a, b);
  if (any_requires_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
    record("pow", {a, b}, out, [a, b, ad, bd, od](const Tensor& g, const Needs& n) {
      Tensor ga, gb;
      if (n[0]) ga = reduce_grad(g * bd * pow(ad, bd - 1.0), a);
      if (n[1]) {
        // d/db a^b = a^b log a, defined as 0 where a == 0 and b >= 0 (as PyTorch).
        Tensor zero_base = eq(ad, zeros_like(ad)) * ge(bd, zeros_like(bd));
        Tensor term = where(zero_base, zeros_like(od), od * log(ad));
        gb = reduce_grad(g * term, b);
      }
      return std::vector{ga, gb};
    });
  }
  return out;
}

Tensor pow(const Tensor& a, double e) {
  ops::check_floating("pow", a);
  Tensor out = unary_forward(UnaryOp::PowScalar, a, {e, 0});
  if (any_requires_grad({&a})) {
    Tensor ad = a.detach();
    record("pow_scalar", {a}, out, [ad, e](const Tensor& g, const Needs&) {
      if (e == 0) return std::vector{zeros_like(g)};
      if (e == 1) return std::vector{g};
      if (e == 2) return std::vector{g * ad * 2.0};
      return std::vector{g * pow(ad, e - 1.0) * e};
    });
  }
  return out;
}

namespace {
// max/min: the gradient goes to the larger (smaller) input, split evenly on ties.
Tensor extreme(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(op, name, a, b);
  if (any_requires_grad({&a, &b})) {
    Tensor ad = a.detach(), bd = b.detach();
    bool is_max = op == BinaryOp::Maximum;
    record(name, {a, b}, out, [a, b, ad, bd, is_max](const Tensor& g, const Needs& n) {
      Tensor a_wins = (is_max ? gt(ad, bd) : lt(ad, bd)).to(g.dtype());
      Tensor tie = eq(ad, bd).to(g.dtype()) * 0.5;
      Tensor wa = a_wins + tie;
      return std::vector{n[0] ? reduce_grad(g * wa, a) : Tensor(),
                         n[1] ? reduce_grad(g * (1.0 - wa), b) : Tensor()};
    });
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extreme(BinaryOp::Maximum, "maximum", a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extreme(BinaryOp::Minimum, "minimum", a, b);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  ops::check_same_device("where", {&cond, &a, &b});
  HEED_CHECK(cond.dtype() == kBool, "where: condition must be bool, got ", cond.dtype());
  Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  DType t = ops::promote(a.dtype(), b.dtype());
  Tensor ac = a.dtype() == t ? a : a.detach().to(t);
  Tensor bc = b.dtype() == t ? b : b.detach().to(t);
  Tensor out = empty(shape, {t, a.device()});
  backend_of(out).where(out, broadcast_view(cond, shape), broadcast_view(ac, shape),
                        broadcast_view(bc, shape));
  if (any_requires_grad({&a, &b})) {
    Tensor c = cond.detach();
    record("where", {a, b}, out, [a, b, c](const Tensor& g, const Needs& n) {
      Tensor z = zeros({}, {g.dtype(), g.device()});
      return std::vector{n[0] ? reduce_grad(where(c, g, z), a) : Tensor(),
                         n[1] ? reduce_grad(where(c, z, g), b) : Tensor()};
    });
  }
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Neg, x);
  if (any_requires_grad({&x}))
    record("neg", {x}, out, [](const Tensor& g, const Needs&) { return std::vector{-g}; });
  return out;
}

Tensor exp(const Tensor& x) {
  ops::check_floating("exp", x);
  Tensor out = unary_forward(UnaryOp::Exp, x);
  if (any_requires_grad({&x})) {
    Tensor od = out.detach();
    record("exp", {x}, out, [od](const Tensor& g, const Needs&) { return std::vector{g * od}; });
  }
  return out;
}

Tensor log(const Tensor& x) {
  ops::check_floating("log", x);
  Tensor out = unary_forward(UnaryOp::Log, x);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("log", {x}, out, [xd](const Tensor& g, const Needs&) { return std::vector{g / xd}; });
  }
  return out;
}

Tensor sqrt(const Tensor& x) {
  ops::check_floating("sqrt", x);
  Tensor out = unary_forward(UnaryOp::Sqrt, x);
  if (any_requires_grad({&x})) {
    Tensor od = out.detach();
    record("sqrt", {x}, out,
           [od](const Tensor& g, const Needs&) { return std::vector{g / (od * 2.0)}; });
  }
  return out;
}

Tensor rsqrt(const Tensor& x) {
  ops::check_floating("rsqrt", x);
  Tensor out = unary_forward(UnaryOp::Rsqrt, x);
  if (any_requires_grad({&x})) {
    Tensor od = out.detach();
    record("rsqrt", {x}, out,
           [od](const Tensor& g, const Needs&) { return std::vector{g * pow(od, 3.0) * -0.5}; });
  }
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Abs, x);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("abs", {x}, out,
           [xd](const Tensor& g, const Needs&) { return std::vector{g * sign(xd)}; });
  }
  return out;
}

Tensor sin(const Tensor& x) {
  ops::check_floating("sin", x);
  Tensor out = unary_forward(UnaryOp::Sin, x);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("sin", {x}, out,
           [xd](const Tensor& g, const Needs&) { return std::vector{g * cos(xd)}; });
  }
  return out;
}

Tensor cos(const Tensor& x) {
  ops::check_floating("cos", x);
  Tensor out = unary_forward(UnaryOp::Cos, x);
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("cos", {x}, out,
           [xd](const Tensor& g, const Needs&) { return std::vector{-(g * sin(xd))}; });
  }
  return out;
}

Tensor sign(const Tensor& x) {
  return unary_forward(UnaryOp::Sign, x);
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  HEED_CHECK(min || max, "clamp: at least one of min and max must be given");
  constexpr double inf = std::numeric_limits<double>::infinity();
  double lo = min.value_or(-inf), hi = max.value_or(inf);
  if (x.dtype() == kInt64) {
    lo = std::max(lo, -9.2e18);
    hi = std::min(hi, 9.2e18);
  }
  Tensor out = unary_forward(UnaryOp::Clamp, x, {lo, hi});
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach();
    record("clamp", {x}, out, [xd, lo, hi](const Tensor& g, const Needs&) {
      Tensor gi = empty_like(g);
      backend_of(g).binary(BinaryOp::ClampBackward, gi, g, xd, {lo, hi});
      return std::vector{gi};
    });
  }
  return out;
}

Tensor add(const Tensor& x, double s) {
  Tensor out = unary_forward(UnaryOp::AddScalar, x, {s, 0});
  if (any_requires_grad({&x}))
    record("add_scalar", {x}, out, [](const Tensor& g, const Needs&) { return std::vector{g}; });
  return out;
}

Tensor mul(const Tensor& x, double s) {
  Tensor out = unary_forward(UnaryOp::MulScalar, x, {s, 0});
  if (any_requires_grad({&x}))
    record("mul_scalar", {x}, out,
           [s](const Tensor& g, const Needs&) { return std::vector{mul(g, s)}; });
  return out;
}

Tensor rsub(const Tensor& x, double s) {
  Tensor out = unary_forward(UnaryOp::RSubScalar, x, {s, 0});
  if (any_requires_grad({&x}))
    record("rsub_scalar", {x}, out, [](const Tensor& g, const Needs&) { return std::vector{-g}; });
  return out;
}

Tensor rdiv(const Tensor& x, double s) {
  ops::check_floating("rdiv", x);
  Tensor out = unary_forward(UnaryOp::RDivScalar, x, {s, 0});
  if (any_requires_grad({&x})) {
    Tensor xd = x.detach(), od = out.detach();
    record("rdiv_scalar", {x}, out,
           [xd, od](const Tensor& g, const Needs&) { return std::vector{-(g * od / xd)}; });
  }
  return out;
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Eq, "eq", a, b, {}, true);
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Ne, "ne", a, b, {}, true);
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Lt, "lt", a, b, {}, true);
}
Tensor le(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Le, "le", a, b, {}, true);
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Gt, "gt", a, b, {}, true);
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return binary_forward(BinaryOp::Ge, "ge", a, b, {}, true);
}

Tensor cast(const Tensor& x, DType dtype) {
  Tensor out = empty(x.shape(), {dtype, x.device()});
  backend_of(x).copy(out, x);
  if (is_floating(dtype) && any_requires_grad({&x})) {
    DType from = x.dtype();
    record("cast", {x}, out,
           [from](const Tensor& g, const Needs&) { return std::vector{cast(g, from)}; });
  }
  return out;
}

namespace {
Tensor scalar_like(double s, const Tensor& x) {
  return full({}, s, {is_floating(x.dtype()) ? x.dtype() : kFloat32, x.device()});
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator-(const Tensor& x) {
  return neg(x);
}
Tensor operator+(const Tensor& a, double s) {
  return add(a, s);
}
Tensor operator-(const Tensor& a, double s) {
  return add(a, -s);
}
Tensor operator*(const Tensor& a, double s) {
  return mul(a, s);
}
Tensor operator/(const Tensor& a, double s) {
  return mul(a, 1.0 / s);
}
Tensor operator+(double s, const Tensor& a) {
  return add(a, s);
}
Tensor operator-(double s, const Tensor& a) {
  return rsub(a, s);
}
Tensor operator*(double s, const Tensor& a) {
  return mul(a, s);
}
Tensor operator/(double s, const Tensor& a) {
  return rdiv(a, s);
}
Tensor operator==(const Tensor& a, const Tensor& b) {
  return eq(a, b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
  return ne(a, b);
}
Tensor operator<(const Tensor& a, const Tensor& b) {
  return lt(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return le(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return gt(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return ge(a, b);
}
Tensor operator<(const Tensor& a, double s) {
  return lt(a, scalar_like(s, a));
}
Tensor operator>(const Tensor& a, double s) {
  return gt(a, scalar_like(s, a));
}

}  // namespace heed

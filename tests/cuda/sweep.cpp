// The CUDA sweep's runner and case table (see sweep.h). Tolerances: float64
// cases agree to ~1e-11 (the devices' libm results differ by an ulp or two
// and sums are ordered differently); float32 to ~1e-5 relative, looser where
// long sums are reordered (GEMMs, convolutions: cuBLAS vs OpenBLAS).
#include "sweep.h"

#include <cmath>
#include <sstream>

namespace heed::testing {
namespace {

// ------------------------------------------------------------ input builders

// Random float64 values in [lo, hi), seeded; `grad` marks a leaf to check.
Tensor uni(const Shape& shape, double lo = -1, double hi = 1, uint64_t seed = 1, bool grad = true) {
  Generator gen(seed);
  Tensor t = rand(shape, kFloat64, &gen) * (hi - lo) + lo;
  return grad ? t.requires_grad_() : t;
}
Tensor cst(const Shape& shape, double lo = -1, double hi = 1, uint64_t seed = 2) {
  return uni(shape, lo, hi, seed, false);
}
// Integer-valued floats in [lo, hi]: ties for comparisons, max, argmax.
Tensor ints(const Shape& shape, int lo, int hi, uint64_t seed = 3, bool grad = false) {
  Generator gen(seed);
  std::vector<double> v(size_t(numel_of(shape)));
  for (double& x : v) x = double(lo + gen.next_int(hi - lo + 1));
  Tensor t = from_vector(v, shape);
  return grad ? t.requires_grad_() : t;
}
// Values at least `margin` away from the kinks.
Tensor away(const Shape& shape, std::vector<double> kinks, double lo = -4, double hi = 4,
            uint64_t seed = 4) {
  Generator gen(seed);
  std::vector<double> v(size_t(numel_of(shape)));
  for (double& x : v) {
    for (;;) {
      x = lo + (hi - lo) * gen.next_double();
      bool ok = true;
      for (double k : kinks) ok = ok && std::abs(x - k) > 0.05;
      if (ok) break;
    }
  }
  return from_vector(v, shape).requires_grad_();
}
Tensor i64(std::vector<int64_t> v, const Shape& shape) {
  return from_vector(v, shape);
}
Tensor mask(std::vector<bool> v, const Shape& shape) {
  return from_vector(v, shape);
}

Pool2dOptions pool(std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> s,
                   std::pair<int64_t, int64_t> p = {0, 0}, bool ceil = false,
                   bool include_pad = true, std::pair<int64_t, int64_t> d = {1, 1}) {
  Pool2dOptions o;
  o.kernel_size = k;
  o.stride = s;
  o.padding = p;
  o.dilation = d;
  o.ceil_mode = ceil;
  o.count_include_pad = include_pad;
  return o;
}

// A weighted sum of parts, so every part's gradient is distinct.
Tensor combine(const std::vector<Tensor>& parts) {
  Tensor out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i)
    out = cat({out.flatten(), parts[i].flatten() * double(i + 1)});
  return out.flatten();
}

// Looser float32 tolerance for reordered long sums.
SweepCase loose(SweepCase c, double rtol32 = 1e-4, double atol32 = 1e-4) {
  c.rtol32 = rtol32;
  c.atol32 = atol32;
  c.rtol64 = 1e-10;
  c.atol64 = 1e-10;
  return c;
}

SweepCase no_grad(SweepCase c) {
  c.backward = false;
  return c;
}

std::vector<SweepCase> build_cases() {
  std::vector<SweepCase> v;
  auto add = [&](SweepCase c) { v.push_back(std::move(c)); };
  // ---------------------------------------------------------------- elementwise
  add({"add", "broadcast (3,1,4) + (2,4), alpha 2",
       [] {
         return In{uni({3, 1, 4}), uni({2, 4}, -1, 1, 2)};
       },
       [](const In& i) { return heed::add(i[0], i[1], 2.0); }});
  add({"add", "transposed + sliced",
       [] {
         return In{uni({5, 4}), uni({4, 10}, -1, 1, 2)};
       },
       [](const In& i) { return i[0].t() + i[1].slice(1, 0, 10, 2); }});
  add({"add", "int64",
       [] {
         return In{i64({1, -2, 3, 4, 5, 6}, {2, 3}), i64({10, 20, 30}, {3})};
       },
       [](const In& i) { return i[0] + i[1]; }});
  add({"add", "large contiguous (vectorized path)",
       [] {
         return In{uni({100003}), uni({100003}, -1, 1, 2)};
       },
       [](const In& i) { return i[0] + i[1]; }});
  add({"sub", "broadcast scalar",
       [] {
         return In{uni({4, 3}), uni({}, -1, 1, 2)};
       },
       [](const In& i) { return heed::sub(i[0], i[1], 0.5); }});
  add({"mul", "broadcast rows",
       [] {
         return In{uni({4, 3}), uni({4, 1}, -1, 1, 2)};
       },
       [](const In& i) { return i[0] * i[1]; }});
  add({"div", "denominator away from 0",
       [] {
         return In{uni({3, 5}), uni({5}, 0.5, 2, 2)};
       },
       [](const In& i) { return i[0] / i[1]; }});
  add({"neg", "strided", [] { return In{uni({4, 6})}; }, [](const In& i) { return -i[0].t(); }});
  add({"pow", "positive base",
       [] {
         return In{uni({3, 4}, 0.5, 2), uni({4}, -1.5, 1.5, 2)};
       },
       [](const In& i) { return heed::pow(i[0], i[1]); }});
  add({"pow_scalar", "2.5 and 2",
       [] {
         return In{uni({3, 4}, 0.5, 2)};
       },
       [](const In& i) {
         return combine({heed::pow(i[0], 2.5), heed::pow(i[0], 2.0)});
       }});
  add({"exp", "",
       [] {
         return In{uni({3, 4}, -3, 3)};
       },
       [](const In& i) { return heed::exp(i[0]); }});
  add({"log", "positive",
       [] {
         return In{uni({3, 4}, 0.1, 3)};
       },
       [](const In& i) { return heed::log(i[0]); }});
  add({"sqrt", "positive",
       [] {
         return In{uni({3, 4}, 0.1, 3)};
       },
       [](const In& i) { return heed::sqrt(i[0]); }});
  add({"rsqrt", "positive",
       [] {
         return In{uni({3, 4}, 0.1, 3)};
       },
       [](const In& i) { return heed::rsqrt(i[0]); }});
  add({"abs", "away from 0",
       [] {
         return In{away({3, 4}, {0})};
       },
       [](const In& i) { return heed::abs(i[0]); }});
  add({"sin", "",
       [] {
         return In{uni({3, 4}, -3, 3)};
       },
       [](const In& i) { return heed::sin(i[0]); }});
  add({"cos", "",
       [] {
         return In{uni({3, 4}, -3, 3)};
       },
       [](const In& i) { return heed::cos(i[0]); }});
  add({"clamp", "min and max, min only",
       [] {
         return In{away({4, 5}, {-0.5, 0.5}, -2, 2)};
       },
       [](const In& i) {
         return combine({clamp(i[0], -0.5, 0.5), clamp(i[0], -0.5, std::nullopt)});
       }});
  add({"maximum", "broadcast, with ties",
       [] {
         return In{ints({3, 4}, -2, 2, 3, true), ints({4}, -2, 2, 4, true)};
       },
       [](const In& i) { return maximum(i[0], i[1]); }});
  add({"minimum", "broadcast",
       [] {
         return In{uni({3, 4}), uni({3, 1}, -1, 1, 2)};
       },
       [](const In& i) { return minimum(i[0], i[1]); }});
  add({"where", "broadcast condition",
       [] {
         return In{mask({true, false, false, true}, {4, 1}), uni({4, 3}), uni({3}, -1, 1, 2)};
       },
       [](const In& i) { return where(i[0], i[1], i[2]); }});
  add({"add_scalar", "", [] { return In{uni({3, 4})}; }, [](const In& i) { return i[0] + 1.5; }});
  add({"mul_scalar", "strided",
       [] {
         return In{uni({4, 3})};
       },
       [](const In& i) { return i[0].t() * -2.5; }});
  add({"rsub_scalar", "", [] { return In{uni({3, 4})}; }, [](const In& i) { return 3.0 - i[0]; }});
  add({"rdiv_scalar", "",
       [] {
         return In{uni({3, 4}, 0.5, 2)};
       },
       [](const In& i) { return 2.0 / i[0]; }});
  const auto cmp_inputs = [] { return In{ints({4, 5}, -2, 2, 5), ints({5}, -2, 2, 6)}; };
  add(no_grad({"eq", "ties", cmp_inputs, [](const In& i) { return eq(i[0], i[1]); }}));
  add(no_grad({"ne", "ties", cmp_inputs, [](const In& i) { return ne(i[0], i[1]); }}));
  add(no_grad({"lt", "ties", cmp_inputs, [](const In& i) { return lt(i[0], i[1]); }}));
  add(no_grad({"le", "ties", cmp_inputs, [](const In& i) { return le(i[0], i[1]); }}));
  add(no_grad({"gt", "ties", cmp_inputs, [](const In& i) { return gt(i[0], i[1]); }}));
  add(no_grad({"ge", "int64",
               [] {
                 return In{i64({1, 5, -3, 2}, {4}), i64({2}, {1})};
               },
               [](const In& i) { return ge(i[0], i[1]); }}));
  add({"cast", "float64 -> float32 -> float64",
       [] {
         return In{uni({3, 4}, -3, 3)};
       },
       [](const In& i) { return i[0].to(kFloat32).to(i[0].dtype()) * 1.0; }, 1e-5, 1e-6, 1e-6,
       1e-6});
  add(no_grad({"cast", "to int64 and bool",
               [] {
                 return In{uni({3, 4}, -3, 3, 1, false)};
               },
               [](const In& i) {
                 return combine({i[0].to(kInt64).to(i[0].dtype()),
                                 i[0].to(kBool).to(kInt64).to(i[0].dtype())});
               }}));
  // The fused residual joins (CUDA runs the Backend's composite defaults).
  add({"add_relu", "broadcast (B, C, 1, 1) against (B, C, H, W)",
       [] {
         return In{uni({2, 3, 4, 5}), uni({2, 3, 1, 1}, -1, 1, 2)};
       },
       [](const In& i) { return add_relu(i[0], i[1]); }});
  add({"gate_add_relu", "channel gate",
       [] {
         return In{uni({2, 3, 4, 5}), uni({2, 3, 1, 1}, 0.2, 1, 2), uni({2, 3, 4, 5}, -1, 1, 3)};
       },
       [](const In& i) { return gate_add_relu(i[0], i[1], i[2]); }});
  add({"gate_add_relu", "spatial gate, transposed x",
       [] {
         return In{uni({2, 3, 5, 4}), uni({2, 1, 4, 5}, 0.2, 1, 2), uni({2, 3, 4, 5}, -1, 1, 3)};
       },
       [](const In& i) { return gate_add_relu(i[0].transpose(2, 3), i[1], i[2]); }});
  add({"gates_add_relu", "channel and spatial gates",
       [] {
         return In{uni({2, 3, 4, 5}), uni({2, 3, 1, 1}, 0.2, 1, 2), uni({2, 1, 4, 5}, 0.2, 1, 4),
                   uni({2, 3, 4, 5}, -1, 1, 3)};
       },
       [](const In& i) { return gates_add_relu(i[0], i[1], i[2], i[3]); }});
  // ---------------------------------------------------------------- activation
  add({"relu", "away from 0",
       [] {
         return In{away({4, 5}, {0})};
       },
       [](const In& i) { return relu(i[0]); }});
  add({"relu6", "away from 0, 6",
       [] {
         return In{away({4, 5}, {0, 6}, -3, 9)};
       },
       [](const In& i) { return relu6(i[0]); }});
  add({"leaky_relu", "strided",
       [] {
         return In{away({5, 4}, {0})};
       },
       [](const In& i) { return leaky_relu(i[0].t(), 0.2); }});
  add({"sigmoid", "large values",
       [] {
         return In{uni({4, 5}, -30, 30)};
       },
       [](const In& i) { return sigmoid(i[0]); }});
  add({"tanh", "",
       [] {
         return In{uni({4, 5}, -3, 3)};
       },
       [](const In& i) { return heed::tanh(i[0]); }});
  add({"gelu", "", [] { return In{uni({4, 5}, -3, 3)}; }, [](const In& i) { return gelu(i[0]); }});
  add({"gelu_tanh", "",
       [] {
         return In{uni({4, 5}, -3, 3)};
       },
       [](const In& i) { return gelu(i[0], "tanh"); }});
  add({"silu", "", [] { return In{uni({4, 5}, -5, 5)}; }, [](const In& i) { return silu(i[0]); }});
  add({"hardsigmoid", "away from ±3",
       [] {
         return In{away({4, 5}, {-3, 3}, -5, 5)};
       },
       [](const In& i) { return hardsigmoid(i[0]); }});
  add({"hardswish", "away from ±3",
       [] {
         return In{away({4, 5}, {-3, 3}, -5, 5)};
       },
       [](const In& i) { return hardswish(i[0]); }});
  add({"softplus", "beta 2, threshold 4",
       [] {
         return In{away({4, 5}, {2}, -5, 5)};
       },
       [](const In& i) { return softplus(i[0], 2.0, 4.0); }});
  // ---------------------------------------------------------------- reduce
  add({"sum", "all", [] { return In{uni({4, 5, 6})}; }, [](const In& i) { return sum(i[0]); }});
  add(loose({"sum", "300k elements (split rows)", [] { return In{uni({300000})}; },
             [](const In& i) { return sum(i[0]); }},
            1e-6, 1e-6));
  add({"sum", "rows of 10 (thread per row)",
       [] {
         return In{uni({50, 10})};
       },
       [](const In& i) { return sum(i[0], {1}); }});
  add({"sum", "rows of 100 (warp per row)",
       [] {
         return In{uni({50, 100})};
       },
       [](const In& i) { return sum(i[0], {-1}, true); }});
  add({"sum", "rows of 3000 (block per row)",
       [] {
         return In{uni({4, 3000})};
       },
       [](const In& i) { return sum(i[0], {1}); }});
  add({"sum", "dim 0 of (5000, 3) (split columns)",
       [] {
         return In{uni({5000, 3})};
       },
       [](const In& i) { return sum(i[0], {0}); }});
  add({"sum", "middle dim (columns)",
       [] {
         return In{uni({3, 40, 70})};
       },
       [](const In& i) { return sum(i[0], {1}); }});
  add({"sum", "dims 0 and 2 (general)",
       [] {
         return In{uni({6, 5, 7})};
       },
       [](const In& i) {
         return sum(i[0], {0, 2});
       }});
  add({"sum", "strided input",
       [] {
         return In{uni({6, 5})};
       },
       [](const In& i) { return sum(i[0].t(), {1}); }});
  add(no_grad({"sum", "int64 and bool",
               [] {
                 return In{i64({1, 2, 3, 4, 5, 6}, {2, 3}),
                           mask({true, false, true, true, false, true}, {2, 3})};
               },
               [](const In& i) {
                 return combine({sum(i[0], {0}), sum(i[1], {1})});
               }}));
  add({"mean", "keepdim",
       [] {
         return In{uni({3, 4, 5})};
       },
       [](const In& i) {
         return mean(i[0], {1, 2}, true);
       }});
  add({"var", "unbiased",
       [] {
         return In{uni({5, 6})};
       },
       [](const In& i) { return var(i[0], {1}); }});
  add({"max", "dim 1, rows of 200",
       [] {
         return In{uni({3, 200})};
       },
       [](const In& i) { return heed::max(i[0], 1).first; }});
  add({"max", "middle dim",
       [] {
         return In{uni({5, 4, 6})};
       },
       [](const In& i) { return heed::max(i[0], 1, true).first; }});
  add({"max", "dim 0 of (2000, 3) (moved last)",
       [] {
         return In{uni({2000, 3})};
       },
       [](const In& i) { return heed::max(i[0], 0).first; }});
  add({"max", "over everything",
       [] {
         return In{uni({4, 5})};
       },
       [](const In& i) { return heed::max(i[0]); }});
  add(no_grad(
      {"max", "indices with ties and NaN",
       [] {
         Tensor x = ints({4, 70}, -3, 3, 9);
         std::vector<double> v = x.to_vector<double>();
         v[10] = std::nan("");
         v[150] = std::nan("");
         v[152] = std::nan("");
         return In{from_vector(v, {4, 70})};
       },
       [](const In& i) {
         return combine({heed::max(i[0], 1).second.to(i[0].dtype()), heed::max(i[0], 1).first});
       }}));
  add({"min", "dim 0",
       [] {
         return In{uni({5, 4})};
       },
       [](const In& i) { return heed::min(i[0], 0).first; }});
  add({"amax", "ties split the gradient",
       [] {
         return In{ints({4, 6}, -1, 1, 7, true)};
       },
       [](const In& i) { return amax(i[0], {1}); }});
  add(no_grad({"argmax", "ties keep the first",
               [] {
                 return In{ints({5, 80}, -2, 2, 8)};
               },
               [](const In& i) { return argmax(i[0], 1); }}));
  add(no_grad({"argmin", "dim 0 with ties",
               [] {
                 return In{ints({30, 4}, -2, 2, 9)};
               },
               [](const In& i) { return argmin(i[0], 0); }}));
  add({"logsumexp", "large values",
       [] {
         return In{uni({4, 7}, 50, 60)};
       },
       [](const In& i) { return logsumexp(i[0], {1}); }});
  add({"channel_mean_max", "gated, [mean; max]",
       [] {
         return In{uni({2, 5, 4, 6}), uni({2, 5, 1, 1}, 0.2, 1, 2)};
       },
       [](const In& i) { return channel_mean_max(i[0], i[1]); }});
  add({"channel_mean_max", "x alone, [max; mean]",
       [] {
         return In{uni({3, 4, 3, 5})};
       },
       [](const In& i) { return channel_mean_max(i[0], Tensor(), true); }});
  add(loose(
      {"scaled_dot_product_attention", "heads split from (B, n, h, d)",
       [] {
         return In{uni({2, 5, 3, 4}), uni({2, 3, 7, 4}, -1, 1, 2), uni({2, 7, 3, 6}, -1, 1, 3)};
       },
       [](const In& i) {
         return scaled_dot_product_attention(i[0].transpose(1, 2), i[1], i[2].transpose(1, 2), 0.5)
             .first;
       }}));
  // ---------------------------------------------------------------- matmul
  add(loose({"matmul", "2-D",
             [] {
               return In{uni({5, 7}), uni({7, 3}, -1, 1, 2)};
             },
             [](const In& i) { return matmul(i[0], i[1]); }}));
  add(loose({"matmul", "batched broadcast",
             [] {
               return In{uni({2, 1, 4, 5}), uni({3, 5, 6}, -1, 1, 2)};
             },
             [](const In& i) { return matmul(i[0], i[1]); }}));
  add(loose({"matmul", "transposed operands",
             [] {
               return In{uni({7, 5}), uni({3, 7}, -1, 1, 2)};
             },
             [](const In& i) { return matmul(i[0].t(), i[1].t()); }}));
  add(loose({"matmul", "vector-matrix, matrix-vector",
             [] {
               return In{uni({5}), uni({5, 4}, -1, 1, 2), uni({4}, -1, 1, 3)};
             },
             [](const In& i) {
               return combine({matmul(i[0], i[1]), matmul(i[1], i[2])});
             }}));
  add(loose({"matmul", "shared b (tall GEMM)",
             [] {
               return In{uni({3, 4, 5}), uni({5, 2}, -1, 1, 2)};
             },
             [](const In& i) { return matmul(i[0], i[1]); }}));
  add(loose({"linear", "3-D input, bias",
             [] {
               return In{uni({2, 3, 5}), uni({4, 5}, -1, 1, 2), uni({4}, -1, 1, 3)};
             },
             [](const In& i) { return linear(i[0], i[1], i[2]); }}));
  // ---------------------------------------------------------------- movement
  add({"reshape", "of a transposed tensor (copies)",
       [] {
         return In{uni({4, 6})};
       },
       [](const In& i) {
         return i[0].t().reshape({3, 8});
       }});
  add({"permute", "",
       [] {
         return In{uni({2, 3, 4})};
       },
       [](const In& i) {
         return i[0].permute({2, 0, 1}) * 1.0;
       }});
  add({"transpose", "",
       [] {
         return In{uni({2, 3, 4})};
       },
       [](const In& i) { return i[0].transpose(0, 2).contiguous(); }});
  add({"narrow", "",
       [] {
         return In{uni({5, 4})};
       },
       [](const In& i) { return i[0].narrow(0, 1, 3) * 2.0; }});
  add({"slice", "step 2",
       [] {
         return In{uni({7, 4})};
       },
       [](const In& i) { return i[0].slice(0, 1, 7, 2) * 2.0; }});
  add({"select", "",
       [] {
         return In{uni({3, 4, 5})};
       },
       [](const In& i) { return i[0].select(1, 2) * 2.0; }});
  add({"expand", "",
       [] {
         return In{uni({3, 1})};
       },
       [](const In& i) {
         return i[0].expand({2, 3, 4}) * 1.0;
       }});
  add({"squeeze", "",
       [] {
         return In{uni({3, 1, 4})};
       },
       [](const In& i) { return i[0].squeeze(1) * 1.0; }});
  add({"unsqueeze", "",
       [] {
         return In{uni({3, 4})};
       },
       [](const In& i) { return i[0].unsqueeze(1) * 1.0; }});
  add({"flatten", "",
       [] {
         return In{uni({2, 3, 4})};
       },
       [](const In& i) { return i[0].flatten(1) * 1.0; }});
  add({"contiguous", "of a permuted tensor",
       [] {
         return In{uni({2, 3, 4})};
       },
       [](const In& i) {
         return i[0].permute({1, 2, 0}).contiguous();
       }});
  add({"cat", "mixed sizes, dim 1",
       [] {
         return In{uni({2, 3}), uni({2, 5}, -1, 1, 2)};
       },
       [](const In& i) {
         return cat({i[0], i[1]}, 1);
       }});
  add({"stack", "dim 1",
       [] {
         return In{uni({2, 3}), uni({2, 3}, -1, 1, 2)};
       },
       [](const In& i) {
         return stack({i[0], i[1]}, 1);
       }});
  add({"split", "uneven",
       [] {
         return In{uni({7, 3})};
       },
       [](const In& i) {
         auto p = split(i[0], 3, 0);
         return combine({p[0], p[1], p[2]});
       }});
  add({"chunk", "",
       [] {
         return In{uni({3, 8})};
       },
       [](const In& i) {
         auto p = chunk(i[0], 3, 1);
         return combine({p[0], p[1], p[2]});
       }});
  add({"pad", "grow and crop",
       [] {
         return In{uni({3, 4, 5})};
       },
       [](const In& i) {
         return pad(i[0], {1, 2, -1, 1}, 0.5);
       }});
  add({"repeat", "",
       [] {
         return In{uni({2, 3})};
       },
       [](const In& i) {
         return repeat(i[0], {2, 1, 3});
       }});
  // ---------------------------------------------------------------- index
  add({"index_select", "repeated indices, dim 1",
       [] {
         return In{uni({3, 5}), i64({4, 0, 4, 2, 4}, {5})};
       },
       [](const In& i) { return index_select(i[0], 1, i[1]); }});
  add({"index_select", "strided input, dim 0",
       [] {
         return In{uni({4, 6}), i64({5, 5, 1}, {3})};
       },
       [](const In& i) { return index_select(i[0].t(), 0, i[1]); }});
  add({"gather", "repeated, dim 1",
       [] {
         return In{uni({3, 4}), i64({0, 0, 3, 2, 1, 2, 3, 3, 3}, {3, 3})};
       },
       [](const In& i) { return gather(i[0], 1, i[1]); }});
  add({"gather", "strided input, dim 0",
       [] {
         return In{uni({4, 3}), i64({2, 0, 2, 1, 2, 2}, {2, 3})};
       },
       [](const In& i) { return gather(i[0].t(), 0, i[1]); }});
  add({"embedding", "2-D indices, padding_idx",
       [] {
         return In{uni({6, 4}), i64({5, 0, 5, 2, 1, 2}, {2, 3})};
       },
       [](const In& i) { return embedding(i[1], i[0], 2); }});
  // ---------------------------------------------------------------- softmax
  add({"softmax", "rows (warp)",
       [] {
         return In{uni({4, 10}, -3, 3)};
       },
       [](const In& i) { return softmax(i[0], 1); }});
  // Long rows: the CPU sums floats in 16 lanes, the GPU in a tree.
  add(loose({"softmax", "rows of 3000 (block)",
             [] {
               return In{uni({2, 3000}, -3, 3)};
             },
             [](const In& i) { return softmax(i[0], -1); }},
            1e-4, 1e-6));
  add({"softmax", "middle dim (columns)",
       [] {
         return In{uni({3, 5, 4}, -3, 3)};
       },
       [](const In& i) { return softmax(i[0], 1); }});
  add({"log_softmax", "rows, large values",
       [] {
         return In{uni({4, 10}, 90, 100)};
       },
       [](const In& i) { return log_softmax(i[0], 1); }});
  add({"log_softmax", "middle dim (columns)",
       [] {
         return In{uni({3, 5, 4}, -3, 3)};
       },
       [](const In& i) { return log_softmax(i[0], 1); }});
  add(loose({"log_softmax", "rows of 2000 (block)",
             [] {
               return In{uni({3, 2000}, -3, 3)};
             },
             [](const In& i) { return log_softmax(i[0], 1); }},
            1e-4, 1e-5));
  // ---------------------------------------------------------------- conv
  add(loose({"conv2d", "3x3, padding 1, bias",
             [] {
               return In{uni({2, 3, 7, 6}), uni({4, 3, 3, 3}, -1, 1, 2), uni({4}, -1, 1, 3)};
             },
             [](const In& i) {
               return conv2d(i[0], i[1], i[2], {1, 1}, {1, 1});
             }}));
  add(loose({"conv2d", "stride 2, dilation 2, groups 2",
             [] {
               return In{uni({2, 4, 9, 8}), uni({6, 2, 3, 3}, -1, 1, 2)};
             },
             [](const In& i) {
               return conv2d(i[0], i[1], Tensor(), {2, 2}, {1, 2}, {2, 2}, 2);
             }}));
  add(loose({"conv2d", "1x1 pointwise with bias (direct path)",
             [] {
               return In{uni({3, 4, 5, 5}), uni({6, 4, 1, 1}, -1, 1, 2), uni({6}, -1, 1, 3)};
             },
             [](const In& i) { return conv2d(i[0], i[1], i[2]); }}));
  add(loose({"conv2d", "depthwise, strided input",
             [] {
               return In{uni({2, 4, 6, 6}), uni({4, 1, 3, 3}, -1, 1, 2)};
             },
             [](const In& i) {
               return conv2d(i[0].transpose(2, 3), i[1], Tensor(), {1, 1}, {1, 1}, {1, 1}, 4);
             }}));
  add(loose({"conv2d_relu", "stride 2, no bias",
             [] {
               return In{uni({2, 3, 7, 6}), uni({4, 3, 3, 3}, -1, 1, 2)};
             },
             [](const In& i) {
               return conv2d_relu(i[0], i[1], Tensor(), {2, 2}, {1, 1});
             }}));
  add(loose({"conv2d_add_relu", "3x3, padding 1, bias, residual",
             [] {
               return In{uni({2, 3, 7, 6}), uni({4, 3, 3, 3}, -1, 1, 2), uni({4}, -1, 1, 3),
                         uni({2, 4, 7, 6}, -1, 1, 4)};
             },
             [](const In& i) {
               return conv2d_add_relu(i[0], i[1], i[2], i[3], {1, 1}, {1, 1});
             }}));
  add(loose({"conv1d", "padding, bias",
             [] {
               return In{uni({2, 3, 10}), uni({5, 3, 3}, -1, 1, 2), uni({5}, -1, 1, 3)};
             },
             [](const In& i) { return conv1d(i[0], i[1], i[2], 1, 1); }}));
  // ---------------------------------------------------------------- pool
  add({"max_pool2d", "3x3 stride 2 padding 1 (overlapping)",
       [] {
         return In{uni({2, 3, 7, 7})};
       },
       [](const In& i) {
         return max_pool2d(i[0], pool({3, 3}, {2, 2}, {1, 1}));
       }});
  add({"max_pool2d", "ceil mode, dilation",
       [] {
         return In{uni({2, 2, 9, 8})};
       },
       [](const In& i) {
         return max_pool2d(i[0], pool({2, 3}, {2, 2}, {1, 1}, true, true, {2, 1}));
       }});
  add({"avg_pool2d", "count_include_pad false, ceil mode",
       [] {
         return In{uni({2, 3, 7, 8})};
       },
       [](const In& i) {
         return avg_pool2d(i[0], pool({3, 3}, {2, 2}, {1, 1}, true, false));
       }});
  add({"avg_pool2d", "2x2 stride 2",
       [] {
         return In{uni({2, 3, 8, 8})};
       },
       [](const In& i) {
         return avg_pool2d(i[0], pool({2, 2}, {2, 2}));
       }});
  add({"adaptive_avg_pool2d", "(H, 1), (1, W), (1, 1), non-divisible",
       [] {
         return In{uni({2, 3, 7, 9})};
       },
       [](const In& i) {
         return combine({adaptive_avg_pool2d(i[0], {7, 1}), adaptive_avg_pool2d(i[0], {1, 9}),
                         adaptive_avg_pool2d(i[0], {1, 1}), adaptive_avg_pool2d(i[0], {4, 5})});
       }});
  add({"adaptive_max_pool2d", "(H, 1), (1, 1), non-divisible",
       [] {
         return In{uni({2, 3, 7, 9})};
       },
       [](const In& i) {
         return combine({adaptive_max_pool2d(i[0], {7, 1}), adaptive_max_pool2d(i[0], {1, 1}),
                         adaptive_max_pool2d(i[0], {3, 4})});
       }});
  add({"global_mean_max_pool2d", "non-square planes",
       [] {
         return In{uni({2, 5, 7, 9})};
       },
       [](const In& i) { return global_mean_max_pool2d(i[0]); }});
  // ---------------------------------------------------------------- norm
  add({"batch_norm", "training, running stats, affine",
       [] {
         return In{uni({4, 3, 5, 2}), cst({3}, -0.5, 0.5), cst({3}, 0.5, 1.5, 3),
                   uni({3}, 0.5, 1.5, 4), uni({3}, -1, 1, 5)};
       },
       [](const In& i) { return batch_norm(i[0], i[1], i[2], i[3], i[4], true, 0.1, 1e-5); }});
  add({"batch_norm", "eval, (B, C) input",
       [] {
         return In{uni({6, 4}), cst({4}, -0.5, 0.5), cst({4}, 0.5, 1.5, 3), uni({4}, 0.5, 1.5, 4),
                   uni({4}, -1, 1, 5)};
       },
       [](const In& i) { return batch_norm(i[0], i[1], i[2], i[3], i[4], false); }});
  add({"batch_norm", "training, no affine, no running stats",
       [] {
         return In{uni({3, 2, 4})};
       },
       [](const In& i) { return batch_norm(i[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }});
  add({"batch_norm_relu", "training, running stats, affine",
       [] {
         return In{uni({4, 3, 5, 2}), cst({3}, -0.5, 0.5), cst({3}, 0.5, 1.5, 3),
                   uni({3}, 0.5, 1.5, 4), uni({3}, -1, 1, 5)};
       },
       [](const In& i) { return batch_norm_relu(i[0], i[1], i[2], i[3], i[4], true); }});
  add({"batch_norm_add_relu", "eval, residual",
       [] {
         return In{uni({4, 3, 5, 2}),     uni({4, 3, 5, 2}, -1, 1, 6), cst({3}, -0.5, 0.5),
                   cst({3}, 0.5, 1.5, 3), uni({3}, 0.5, 1.5, 4),       uni({3}, -1, 1, 5)};
       },
       [](const In& i) { return batch_norm_add_relu(i[0], i[1], i[2], i[3], i[4], i[5], false); }});
  add({"batch_norm_with_spatial_mean", "training, running stats, affine; both outputs",
       [] {
         return In{uni({4, 3, 5, 2}), cst({3}, -0.5, 0.5), cst({3}, 0.5, 1.5, 3),
                   uni({3}, 0.5, 1.5, 4), uni({3}, -1, 1, 5)};
       },
       [](const In& i) {
         auto [y, m] = batch_norm_with_spatial_mean(i[0], i[1], i[2], i[3], i[4], true);
         return cat({y.flatten(), m.flatten()});
       }});
  add({"batch_norm_gate_add_relu", "training, running stats, affine, sigmoid gate",
       [] {
         return In{uni({4, 3, 5, 2}),     uni({4, 3, 5, 2}, -1, 1, 6), cst({3}, -0.5, 0.5),
                   cst({3}, 0.5, 1.5, 3), uni({3}, 0.5, 1.5, 4),       uni({3}, -1, 1, 5)};
       },
       [](const In& i) {
         const ChannelGateFn gate = [](const Tensor& m) { return sigmoid(m * 2); };
         return batch_norm_gate_add_relu(i[0], gate, i[1], i[2], i[3], i[4], i[5], true);
       }});
  add({"batch_norm_cbam_add_relu", "training, affine, MLP and conv gates (composed on CUDA)",
       [] {
         return In{uni({2, 4, 5, 5}),     uni({2, 4, 5, 5}, -1, 1, 6),    cst({4}, -0.5, 0.5),
                   cst({4}, 0.5, 1.5, 3), uni({4}, 0.5, 1.5, 4),          uni({4}, -1, 1, 5),
                   uni({4, 4}, -1, 1, 7), uni({1, 2, 3, 3}, -0.5, 0.5, 8)};
       },
       [](const In& i) {
         const CbamGateFns gates{[w = i[6]](const Tensor& mean, const Tensor& max) {
                                   return sigmoid(matmul(mean, w) + matmul(max, w));
                                 },
                                 [k = i[7]](const Tensor& d) {
                                   return sigmoid(conv2d(d, k, Tensor(), {1, 1}, {1, 1}));
                                 },
                                 true};
         return batch_norm_cbam_add_relu(i[0], gates, i[1], i[2], i[3], i[4], i[5], true);
       }});
  add({"layer_norm", "affine over the last 2 dims",
       [] {
         return In{uni({3, 4, 5}), uni({4, 5}, 0.5, 1.5, 2), uni({4, 5}, -1, 1, 3)};
       },
       [](const In& i) {
         return layer_norm(i[0], {4, 5}, i[1], i[2]);
       }});
  add({"layer_norm", "no affine, rows of 600",
       [] {
         return In{uni({5, 600})};
       },
       [](const In& i) { return layer_norm(i[0], {600}); }});
  add({"dropout", "p 0.3, seeded generator",
       [] {
         return In{uni({6, 7})};
       },
       [](const In& i) {
         Generator g(5);
         return dropout(i[0], 0.3, true, &g);
       }});
  // ---------------------------------------------------------------- loss
  add({"cross_entropy", "label smoothing, ignore_index",
       [] {
         return In{uni({5, 4}, -2, 2), i64({0, 3, -100, 2, 1}, {5})};
       },
       [](const In& i) { return cross_entropy(i[0], i[1], Reduction::Mean, -100, 0.1); }});
  add({"cross_entropy", "(B, C, d) per element",
       [] {
         return In{uni({2, 3, 4}, -2, 2), i64({0, 1, 2, 1, 2, 2, 0, 0}, {2, 4})};
       },
       [](const In& i) { return cross_entropy(i[0], i[1], Reduction::None); }});
  add({"nll_loss", "sum",
       [] {
         return In{uni({4, 3}, -2, 2), i64({2, 0, 1, 1}, {4})};
       },
       [](const In& i) { return nll_loss(log_softmax(i[0], 1), i[1], Reduction::Sum); }});
  add({"mse_loss", "",
       [] {
         return In{uni({3, 4}), uni({3, 4}, -1, 1, 2)};
       },
       [](const In& i) { return mse_loss(i[0], i[1]); }});
  add({"binary_cross_entropy_with_logits", "pos_weight",
       [] {
         return In{uni({4, 3}, -3, 3), cst({4, 3}, 0, 1, 3), cst({3}, 0.5, 2, 4)};
       },
       [](const In& i) {
         return binary_cross_entropy_with_logits(i[0], i[1], Reduction::Mean, i[2]);
       }});
  return v;
}

// ------------------------------------------------------------ the runner

std::string describe(const Tensor& t) {
  std::ostringstream os;
  os << shape_str(t.shape()) << " " << t.dtype() << " on " << t.device();
  return os.str();
}

// Compares got (any device) with want (CPU); appends to r on mismatch.
void compare(const std::string& what, const Tensor& got, const Tensor& want, double rtol,
             double atol, Device device, SweepResult& r) {
  r.compared++;
  auto fail = [&](const std::string& msg) {
    r.ok = false;
    r.message += what + ": " + msg + "\n";
  };
  if (got.defined() != want.defined()) {
    fail(std::string("defined on one side only (device: ") + (got.defined() ? "yes" : "no") +
         ", cpu: " + (want.defined() ? "yes" : "no") + ")");
    return;
  }
  if (!got.defined()) return;
  if (got.shape() != want.shape() || got.dtype() != want.dtype() || got.device() != device) {
    fail("got " + describe(got) + ", want " + describe(want) + " on " + device.str());
    return;
  }
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  const bool exact = !is_floating(want.dtype());
  double worst = 0;
  int64_t worst_i = -1, bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool gn = std::isnan(g[i]), wn = std::isnan(w[i]);
    bool ok;
    if (gn || wn) {
      ok = gn && wn;
    } else if (std::isinf(w[i]) || std::isinf(g[i]) || exact) {
      ok = g[i] == w[i];
    } else {
      ok = std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i]);
    }
    if (ok) continue;
    ++bad;
    const double err = gn || wn ? INFINITY : std::abs(g[i] - w[i]);
    if (worst_i < 0 || err > worst) worst = err, worst_i = int64_t(i);
  }
  if (bad == 0) return;
  std::ostringstream os;
  os << bad << " of " << g.size() << " elements differ; worst at flat index " << worst_i
     << ": device " << g[size_t(worst_i)] << ", cpu " << w[size_t(worst_i)] << " (|diff| " << worst
     << ", rtol " << rtol << ", atol " << atol << ")";
  fail(os.str());
}

}  // namespace

const std::vector<SweepCase>& sweep_cases() {
  static const std::vector<SweepCase> cases = build_cases();
  return cases;
}

SweepResult run_sweep_case(const SweepCase& c, DType dtype, Device device) {
  SweepResult r;
  const double rtol = dtype == kFloat64 ? c.rtol64 : c.rtol32;
  const double atol = dtype == kFloat64 ? c.atol64 : c.atol32;
  try {
    In base = c.inputs();
    In ref, dev;
    for (const Tensor& t : base) {
      Tensor x = t.detach();
      if (x.is_floating_point()) x = x.to(dtype);
      Tensor a = x.clone(), b = x.clone().to(device);  // separate storage on each side
      if (t.requires_grad()) {
        a.requires_grad_();
        b.requires_grad_();
      }
      ref.push_back(a);
      dev.push_back(b);
    }
    Tensor want = c.fn(ref);
    Tensor got = c.fn(dev);
    compare("output", got, want, rtol, atol, device, r);
    if (c.backward && want.is_floating_point() && want.requires_grad()) {
      Generator gen(99);
      Tensor g = randn(want.shape(), want.dtype(), &gen);
      want.backward(g);
      got.backward(g.to(device));
      for (size_t k = 0; k < ref.size(); ++k)
        if (ref[k].requires_grad())
          compare("grad of input " + std::to_string(k), dev[k].grad(), ref[k].grad(), rtol, atol,
                  device, r);
    }
    for (size_t k = 0; k < ref.size(); ++k)
      compare("input " + std::to_string(k) + " afterwards", dev[k].detach(), ref[k].detach(), rtol,
              atol, device, r);
  } catch (const std::exception& e) {
    r.ok = false;
    r.message += std::string("threw: ") + e.what() + "\n";
  }
  return r;
}

}  // namespace heed::testing

#include "train/gradcheck_suite.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "attention/registry.h"
#include "core/generator.h"
#include "core/ops/ops.h"

namespace heed::train {

namespace {

using In = std::vector<Tensor>;

// Uniform float64 leaf in [lo, hi), requiring grad; seeded so every run
// checks the same points.
Tensor in(const Shape& s, double lo = -1, double hi = 1, uint64_t seed = 1) {
  Generator g(seed);
  Tensor t = rand(s, kFloat64, &g) * (hi - lo) + lo;
  Tensor leaf = t.detach();
  leaf.requires_grad_();
  return leaf;
}

// Values at least `margin` from every kink (finite differences are wrong there).
Tensor away(const Shape& s, std::vector<double> kinks, double lo = -2, double hi = 2,
            uint64_t seed = 1) {
  const double margin = 0.05;
  std::vector<double> v = in(s, lo, hi, seed).detach().to_vector<double>();
  for (double& x : v)
    for (double k : kinks)
      if (std::abs(x - k) < margin) x = k + (x < k ? -2 : 2) * margin;
  Tensor leaf = from_vector(v, s);
  leaf.requires_grad_();
  return leaf;
}

// A non-contiguous leaf: the transpose of a contiguous (.., W, H) tensor.
Tensor strided(const Shape& s, uint64_t seed = 1) {
  Shape t = s;
  std::swap(t[t.size() - 1], t[t.size() - 2]);
  Tensor base = in(t, -1, 1, seed).detach();
  Tensor v = base.transpose(-1, -2);
  v.requires_grad_();
  return v;
}

Tensor ints(const std::vector<int64_t>& v, const Shape& s) {
  return from_vector(v, s);
}

struct Builder {
  std::vector<GradcheckSuiteCase>& out;
  void operator()(std::string op, std::string label, std::function<In()> make,
                  std::function<Tensor(const In&)> fn, GradcheckOptions o = {}) {
    out.push_back({"op", std::move(op), std::move(label), [make, fn, o] {
                     In inputs = make();
                     return gradcheck(fn, inputs, o);
                   }});
  }
};

std::vector<GradcheckSuiteCase> build_op_cases() {
  std::vector<GradcheckSuiteCase> v;
  Builder reg{v};
  // --- elementwise
  reg(
      "add", "broadcast (3,4)+(4)",
      [] {
        return In{in({3, 4}), in({4}, -1, 1, 2)};
      },
      [](const In& i) { return add(i[0], i[1], 0.5); });
  reg(
      "sub", "broadcast (2,3)-(2,1)",
      [] {
        return In{in({2, 3}), in({2, 1}, -1, 1, 2)};
      },
      [](const In& i) { return sub(i[0], i[1]); });
  reg(
      "mul", "strided x broadcast",
      [] {
        return In{strided({3, 4}), in({1, 4}, -1, 1, 2)};
      },
      [](const In& i) { return i[0] * i[1]; });
  reg(
      "div", "denominator in [0.5, 2]",
      [] {
        return In{in({3, 4}), in({3, 4}, 0.5, 2, 2)};
      },
      [](const In& i) { return i[0] / i[1]; });
  reg(
      "neg", "", [] { return In{in({5})}; }, [](const In& i) { return -i[0]; });
  reg(
      "pow", "tensor exponent",
      [] {
        return In{in({4}, 0.5, 2), in({4}, -1, 2, 2)};
      },
      [](const In& i) { return pow(i[0], i[1]); });
  reg(
      "pow_scalar", "x^2.5", [] { return In{in({4}, 0.5, 2)}; },
      [](const In& i) { return pow(i[0], 2.5); });
  reg(
      "exp", "", [] { return In{in({5})}; }, [](const In& i) { return exp(i[0]); });
  reg(
      "log", "x in [0.5, 2]", [] { return In{in({5}, 0.5, 2)}; },
      [](const In& i) { return log(i[0]); });
  reg(
      "sqrt", "x in [0.5, 2]", [] { return In{in({5}, 0.5, 2)}; },
      [](const In& i) { return sqrt(i[0]); });
  reg(
      "rsqrt", "x in [0.5, 2]", [] { return In{in({5}, 0.5, 2)}; },
      [](const In& i) { return rsqrt(i[0]); });
  reg(
      "abs", "away from 0", [] { return In{away({6}, {0})}; },
      [](const In& i) { return abs(i[0]); });
  reg(
      "sin", "", [] { return In{in({5}, -3, 3)}; }, [](const In& i) { return sin(i[0]); });
  reg(
      "cos", "", [] { return In{in({5}, -3, 3)}; }, [](const In& i) { return cos(i[0]); });
  reg(
      "clamp", "away from ±0.5",
      [] {
        return In{away({8}, {-0.5, 0.5})};
      },
      [](const In& i) { return clamp(i[0], -0.5, 0.5); });
  reg(
      "maximum", "broadcast",
      [] {
        return In{in({3, 4}), in({4}, -1, 1, 2)};
      },
      [](const In& i) { return maximum(i[0], i[1]); });
  reg(
      "minimum", "",
      [] {
        return In{in({3, 4}), in({3, 4}, -1, 1, 2)};
      },
      [](const In& i) { return minimum(i[0], i[1]); });
  reg(
      "where", "broadcast condition",
      [] {
        return In{in({3, 4}), in({3, 4}, -1, 1, 2)};
      },
      [](const In& i) { return where(gt(i[0].detach(), zeros({1}, kFloat64)), i[0], i[1]); });
  reg(
      "add_scalar", "", [] { return In{in({4})}; }, [](const In& i) { return i[0] + 2.0; });
  reg(
      "mul_scalar", "", [] { return In{in({4})}; }, [](const In& i) { return i[0] * 3.0; });
  reg(
      "rsub_scalar", "", [] { return In{in({4})}; }, [](const In& i) { return 2.0 - i[0]; });
  reg(
      "rdiv_scalar", "x in [0.5, 2]", [] { return In{in({4}, 0.5, 2)}; },
      [](const In& i) { return 2.0 / i[0]; });
  // Linear through float32: a wide eps keeps float32 rounding out of the difference.
  reg(
      "cast", "f64->f32->f64", [] { return In{in({3})}; },
      [](const In& i) { return i[0].to(kFloat32).to(kFloat64) * 2.0; }, {1e-2, 1e-4, 1e-3, 0});
  // --- activations
  reg(
      "relu", "away from 0", [] { return In{away({8}, {0})}; },
      [](const In& i) { return relu(i[0]); });
  reg(
      "relu6", "away from 0 and 6",
      [] {
        return In{away({8}, {0, 6}, -2, 8)};
      },
      [](const In& i) { return relu6(i[0]); });
  reg(
      "leaky_relu", "away from 0", [] { return In{away({8}, {0})}; },
      [](const In& i) { return leaky_relu(i[0], 0.1); });
  reg(
      "sigmoid", "", [] { return In{in({6}, -3, 3)}; }, [](const In& i) { return sigmoid(i[0]); });
  reg(
      "tanh", "", [] { return In{in({6}, -3, 3)}; }, [](const In& i) { return tanh(i[0]); });
  reg(
      "gelu", "erf form", [] { return In{in({6}, -3, 3)}; },
      [](const In& i) { return gelu(i[0]); });
  reg(
      "gelu_tanh", "tanh approximation", [] { return In{in({6}, -3, 3)}; },
      [](const In& i) { return gelu(i[0], "tanh"); });
  reg(
      "silu", "", [] { return In{in({6}, -3, 3)}; }, [](const In& i) { return silu(i[0]); });
  reg(
      "hardsigmoid", "away from ±3",
      [] {
        return In{away({8}, {-3, 3}, -4, 4)};
      },
      [](const In& i) { return hardsigmoid(i[0]); });
  reg(
      "hardswish", "away from ±3",
      [] {
        return In{away({8}, {-3, 3}, -4, 4)};
      },
      [](const In& i) { return hardswish(i[0]); });
  reg(
      "softplus", "beta 2", [] { return In{in({6}, -3, 3)}; },
      [](const In& i) { return softplus(i[0], 2.0); });
  // --- reductions
  reg(
      "sum", "dim 1, keepdim, strided",
      [] {
        return In{strided({3, 4})};
      },
      [](const In& i) { return sum(i[0], {1}, true); });
  reg(
      "mean", "dims 0 and 2",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) {
        return mean(i[0], {0, 2});
      });
  reg(
      "var", "dim 1, unbiased",
      [] {
        return In{in({3, 5})};
      },
      [](const In& i) { return var(i[0], {1}); });
  reg(
      "max", "over dim 1",
      [] {
        return In{in({3, 5})};
      },
      [](const In& i) { return max(i[0], 1).first; });
  reg(
      "min", "over dim 0",
      [] {
        return In{in({3, 5})};
      },
      [](const In& i) { return min(i[0], 0).first; });
  reg(
      "amax", "dims 1, 2",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) {
        return amax(i[0], {1, 2});
      });
  reg(
      "logsumexp", "dim 1",
      [] {
        return In{in({3, 4}, -3, 3)};
      },
      [](const In& i) { return logsumexp(i[0], {1}); });
  // --- matmul
  reg(
      "matmul", "batched broadcast (2,3,4)@(4,5)",
      [] {
        return In{in({2, 3, 4}), in({4, 5}, -1, 1, 2)};
      },
      [](const In& i) { return matmul(i[0], i[1]); });
  reg(
      "linear", "with bias",
      [] {
        return In{in({3, 4}), in({5, 4}, -1, 1, 2), in({5}, -1, 1, 3)};
      },
      [](const In& i) { return linear(i[0], i[1], i[2]); });
  reg(
      "scaled_dot_product_attention", "nq != nk, d != dv",
      [] {
        return In{in({2, 2, 3, 4}), in({2, 2, 5, 4}, -1, 1, 2), in({2, 2, 5, 3}, -1, 1, 3)};
      },
      [](const In& i) { return scaled_dot_product_attention(i[0], i[1], i[2], 0.6).first; });
  // --- movement
  reg(
      "reshape", "strided input",
      [] {
        return In{strided({3, 4})};
      },
      [](const In& i) {
        return reshape(i[0], {2, 6});
      });
  reg(
      "permute", "",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) {
        return permute(i[0], {2, 0, 1});
      });
  reg(
      "transpose", "",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) { return transpose(i[0], 0, 2); });
  reg(
      "narrow", "",
      [] {
        return In{in({3, 5})};
      },
      [](const In& i) { return narrow(i[0], 1, 1, 3); });
  reg(
      "slice", "step 2",
      [] {
        return In{in({3, 7})};
      },
      [](const In& i) { return slice(i[0], 1, 1, 7, 2); });
  reg(
      "select", "",
      [] {
        return In{in({3, 4})};
      },
      [](const In& i) { return select(i[0], 0, 1); });
  reg(
      "expand", "(3,1)->(3,4)",
      [] {
        return In{in({3, 1})};
      },
      [](const In& i) {
        return expand(i[0], {2, 3, 4});
      });
  reg(
      "squeeze", "",
      [] {
        return In{in({3, 1, 2})};
      },
      [](const In& i) { return squeeze(i[0], 1); });
  reg(
      "unsqueeze", "",
      [] {
        return In{in({3, 2})};
      },
      [](const In& i) { return unsqueeze(i[0], 1); });
  reg(
      "flatten", "dims 1..2",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) { return flatten(i[0], 1); });
  reg(
      "contiguous", "strided input",
      [] {
        return In{strided({3, 4})};
      },
      [](const In& i) { return contiguous(i[0]); });
  reg(
      "cat", "dim 1",
      [] {
        return In{in({2, 3}), in({2, 2}, -1, 1, 2)};
      },
      [](const In& i) {
        return cat({i[0], i[1]}, 1);
      });
  reg(
      "stack", "dim 0",
      [] {
        return In{in({2, 3}), in({2, 3}, -1, 1, 2)};
      },
      [](const In& i) {
        return stack({i[0], i[1]}, 0);
      });
  reg(
      "split", "second piece",
      [] {
        return In{in({2, 5})};
      },
      [](const In& i) { return split(i[0], 2, 1)[1]; });
  reg(
      "chunk", "last piece",
      [] {
        return In{in({2, 7})};
      },
      [](const In& i) { return chunk(i[0], 3, 1)[2]; });
  reg(
      "pad", "two dims, value 0.5",
      [] {
        return In{in({2, 3, 4})};
      },
      [](const In& i) {
        return pad(i[0], {1, 2, 0, 1}, 0.5);
      });
  reg(
      "repeat", "",
      [] {
        return In{in({2, 3})};
      },
      [](const In& i) {
        return repeat(i[0], {2, 1, 3});
      });
  // --- index
  reg(
      "index_select", "repeated indices",
      [] {
        return In{in({3, 4})};
      },
      [](const In& i) {
        return index_select(i[0], 1, ints({3, 0, 3}, {3}));
      });
  reg(
      "gather", "dim 1",
      [] {
        return In{in({2, 4})};
      },
      [](const In& i) {
        return gather(i[0], 1, ints({0, 3, 3, 1, 2, 2}, {2, 3}));
      });
  // (padding_idx rows get no gradient by design, so finite differences disagree there.)
  reg(
      "embedding", "repeated indices",
      [] {
        return In{in({5, 3})};
      },
      [](const In& i) {
        return embedding(ints({1, 0, 4, 1}, {2, 2}), i[0]);
      });
  // --- softmax
  reg(
      "softmax", "dim 1",
      [] {
        return In{in({3, 5}, -3, 3)};
      },
      [](const In& i) { return softmax(i[0], 1); });
  reg(
      "log_softmax", "last dim, strided",
      [] {
        return In{strided({3, 5})};
      },
      [](const In& i) { return log_softmax(i[0], -1); });
  // --- conv
  reg(
      "conv2d", "stride 2, padding 1, groups 2, bias",
      [] {
        return In{in({2, 4, 5, 5}), in({6, 2, 3, 3}, -1, 1, 2), in({6}, -1, 1, 3)};
      },
      [](const In& i) {
        return conv2d(i[0], i[1], i[2], {2, 2}, {1, 1}, {1, 1}, 2);
      });
  reg(
      "conv2d_relu", "padding 1, bias",
      [] {
        return In{in({2, 3, 4, 4}), in({4, 3, 3, 3}, -1, 1, 2), in({4}, -1, 1, 3)};
      },
      [](const In& i) {
        return conv2d_relu(i[0], i[1], i[2], {1, 1}, {1, 1});
      });
  reg(
      "conv2d_add_relu", "stride 2, residual",
      [] {
        return In{in({2, 3, 5, 5}), in({4, 3, 3, 3}, -1, 1, 2), in({2, 4, 3, 3}, -1, 1, 4)};
      },
      [](const In& i) {
        return conv2d_add_relu(i[0], i[1], Tensor(), i[2], {2, 2}, {1, 1});
      });
  reg(
      "conv1d", "padding 2, dilation 2",
      [] {
        return In{in({2, 3, 7}), in({4, 3, 3}, -1, 1, 2), in({4}, -1, 1, 3)};
      },
      [](const In& i) { return conv1d(i[0], i[1], i[2], 1, 2, 2); });
  // --- pooling
  reg(
      "max_pool2d", "kernel 2",
      [] {
        return In{in({1, 2, 6, 6})};
      },
      [](const In& i) {
        return max_pool2d(i[0], {.kernel_size = {2, 2}, .stride = std::nullopt});
      });
  reg(
      "avg_pool2d", "kernel 3, stride 2, padding 1",
      [] {
        return In{in({1, 2, 6, 6})};
      },
      [](const In& i) {
        return avg_pool2d(i[0], {.kernel_size = {3, 3},
                                 .stride = std::pair<int64_t, int64_t>{2, 2},
                                 .padding = {1, 1}});
      });
  reg(
      "adaptive_avg_pool2d", "7x5 -> 3x2",
      [] {
        return In{in({1, 2, 7, 5})};
      },
      [](const In& i) {
        return adaptive_avg_pool2d(i[0], {3, 2});
      });
  reg(
      "adaptive_max_pool2d", "6x6 -> 2x2",
      [] {
        return In{in({1, 2, 6, 6})};
      },
      [](const In& i) {
        return adaptive_max_pool2d(i[0], {2, 2});
      });
  reg(
      "global_mean_max_pool2d", "3x4 planes",
      [] {
        return In{in({2, 3, 3, 4})};
      },
      [](const In& i) { return global_mean_max_pool2d(i[0]); });
  // --- norm
  reg(
      "batch_norm", "training, affine",
      [] {
        return In{in({4, 3, 2, 2}), in({3}, 0.5, 1.5, 2), in({3}, -1, 1, 3)};
      },
      [](const In& i) {
        return batch_norm(i[0], Tensor(), Tensor(), i[1], i[2], /*training=*/true);
      });
  reg(
      "batch_norm_relu", "training, affine",
      [] {
        return In{in({4, 3, 2, 2}), in({3}, 0.5, 1.5, 2), in({3}, -0.5, 0.5, 3)};
      },
      [](const In& i) {
        return batch_norm_relu(i[0], Tensor(), Tensor(), i[1], i[2], /*training=*/true);
      });
  reg(
      "batch_norm_relu", "eval, running stats, (B, C) input",
      [] {
        return In{in({5, 3}), in({3}, 0.5, 1.5, 2), in({3}, -0.5, 0.5, 3)};
      },
      [](const In& i) {
        Tensor rm = zeros({3}, {i[0].dtype(), i[0].device()});
        Tensor rv = ones({3}, {i[0].dtype(), i[0].device()});
        return batch_norm_relu(i[0], rm, rv, i[1], i[2], /*training=*/false);
      });
  reg(
      "batch_norm_with_spatial_mean", "training, affine; both outputs",
      [] {
        return In{in({3, 3, 2, 3}), in({3}, 0.5, 1.5, 2), in({3}, -1, 1, 3)};
      },
      [](const In& i) {
        auto [y, m] = batch_norm_with_spatial_mean(i[0], Tensor(), Tensor(), i[1], i[2],
                                                   /*training=*/true);
        return cat({y.flatten(), m.flatten()});
      });
  reg(
      "batch_norm_gate_add_relu", "training, affine, MLP gate",
      [] {
        return In{in({3, 4, 2, 3}),  in({3, 4, 2, 3}, -1, 1, 2), in({4}, 0.5, 1.5, 3),
                  in({4}, -1, 1, 4), in({2, 4}, -1, 1, 5),       in({4, 2}, -1, 1, 6)};
      },
      [](const In& i) {
        const ChannelGateFn gate = [&](const Tensor& m) {
          return sigmoid(matmul(relu(matmul(m, i[4].t())), i[5].t()));
        };
        return batch_norm_gate_add_relu(i[0], gate, i[1], Tensor(), Tensor(), i[2], i[3],
                                        /*training=*/true);
      });
  reg(
      "batch_norm_cbam_add_relu", "training, affine, MLP and conv gates",
      [] {
        return In{in({2, 4, 3, 3}),  in({2, 4, 3, 3}, -1, 1, 2), in({4}, -1.5, 1.5, 3),
                  in({4}, -1, 1, 4), in({4, 4}, -1, 1, 5),       in({1, 2, 3, 3}, -0.5, 0.5, 6)};
      },
      [](const In& i) {
        const CbamGateFns gates{[&](const Tensor& mean, const Tensor& max) {
                                  return sigmoid(matmul(mean, i[4]) + matmul(max, i[4]));
                                },
                                [&](const Tensor& d) {
                                  return sigmoid(conv2d(d, i[5], Tensor(), {1, 1}, {1, 1}));
                                },
                                true};
        return batch_norm_cbam_add_relu(i[0], gates, i[1], Tensor(), Tensor(), i[2], i[3],
                                        /*training=*/true);
      });
  reg(
      "add_relu", "broadcast (B, C, 1, 1) against (B, C, H, W)",
      [] {
        return In{in({2, 3, 2, 2}), in({2, 3, 1, 1}, -1, 1, 2)};
      },
      [](const In& i) { return add_relu(i[0], i[1]); });
  reg(
      "gate_add_relu", "channel gate (B, C, 1, 1)",
      [] {
        return In{in({2, 3, 2, 3}), in({2, 3, 1, 1}, 0.2, 1, 2), in({2, 3, 2, 3}, -1, 1, 3)};
      },
      [](const In& i) { return gate_add_relu(i[0], i[1], i[2]); });
  reg(
      "gate_add_relu", "spatial gate (B, 1, H, W)",
      [] {
        return In{in({2, 3, 2, 3}), in({2, 1, 2, 3}, 0.2, 1, 2), in({2, 3, 2, 3}, -1, 1, 3)};
      },
      [](const In& i) { return gate_add_relu(i[0], i[1], i[2]); });
  reg(
      "gates_add_relu", "channel and spatial gates",
      [] {
        return In{in({2, 3, 2, 3}), in({2, 3, 1, 1}, 0.2, 1, 2), in({2, 1, 2, 3}, 0.2, 1, 4),
                  in({2, 3, 2, 3}, -1, 1, 3)};
      },
      [](const In& i) { return gates_add_relu(i[0], i[1], i[2], i[3]); });
  reg(
      "channel_mean_max", "gated, [mean; max]",
      [] {
        return In{in({2, 4, 3, 3}), in({2, 4, 1, 1}, 0.2, 1, 2)};
      },
      [](const In& i) { return channel_mean_max(i[0], i[1]); });
  reg(
      "batch_norm_add_relu", "training, affine, residual",
      [] {
        return In{in({4, 3, 2, 2}), in({4, 3, 2, 2}, -1, 1, 4), in({3}, 0.5, 1.5, 2),
                  in({3}, -0.5, 0.5, 3)};
      },
      [](const In& i) {
        return batch_norm_add_relu(i[0], i[1], Tensor(), Tensor(), i[2], i[3], /*training=*/true);
      });
  reg(
      "layer_norm", "affine over the last dim",
      [] {
        return In{in({2, 3, 4}), in({4}, 0.5, 1.5, 2), in({4}, -1, 1, 3)};
      },
      [](const In& i) { return layer_norm(i[0], {4}, i[1], i[2]); });
  reg(
      "dropout", "p 0.3, same mask every call",
      [] {
        return In{in({4, 5})};
      },
      [](const In& i) {
        Generator g(7);
        return dropout(i[0], 0.3, true, &g);
      });
  // --- losses
  reg(
      "cross_entropy", "label smoothing 0.1, ignore_index",
      [] {
        return In{in({4, 5}, -2, 2)};
      },
      [](const In& i) {
        return cross_entropy(i[0], ints({1, -100, 4, 0}, {4}), Reduction::Mean, -100, 0.1);
      });
  reg(
      "nll_loss", "sum",
      [] {
        return In{in({3, 4}, -3, -0.1)};
      },
      [](const In& i) {
        return nll_loss(i[0], ints({0, 3, 1}, {3}), Reduction::Sum);
      });
  reg(
      "mse_loss", "both inputs",
      [] {
        return In{in({3, 4}), in({3, 4}, -1, 1, 2)};
      },
      [](const In& i) { return mse_loss(i[0], i[1]); });
  reg(
      "binary_cross_entropy_with_logits", "pos_weight",
      [] {
        return In{in({3, 4}, -3, 3), in({3, 4}, 0, 1, 2)};
      },
      [](const In& i) {
        return binary_cross_entropy_with_logits(i[0], i[1], Reduction::Mean,
                                                from_vector(std::vector<double>{1, 2, 0.5, 3}));
      });
  return v;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const std::vector<GradcheckSuiteCase>& op_gradcheck_cases() {
  static const std::vector<GradcheckSuiteCase> cases = build_op_cases();
  return cases;
}

std::vector<std::string> ops_without_gradcheck_case() {
  std::set<std::string> covered;
  for (const auto& c : op_gradcheck_cases()) covered.insert(c.name);
  std::vector<std::string> missing;
  for (const OpInfo& op : op_table())
    if (op.differentiable && !covered.count(std::string(op.name))) missing.emplace_back(op.name);
  return missing;
}

std::vector<GradcheckSuiteCase> module_gradcheck_cases() {
  std::vector<GradcheckSuiteCase> v;
  for (const attention::ModuleInfo& info : attention::list()) {
    const std::string name = info.name;
    v.push_back({"module", name, "input + parameters, training mode", [name] {
                   // The smallest channel count the module accepts (some need
                   // C divisible by groups, or C / reduction >= 1).
                   attention::AttentionModule m = nullptr;
                   int64_t channels = 0;
                   std::string first_error;
                   for (int64_t c : {16, 32, 64}) {
                     try {
                       m = attention::create(name, c);
                       channels = c;
                       break;
                     } catch (const Error& e) {
                       if (first_error.empty()) first_error = e.what();
                     }
                   }
                   HEED_CHECK(!m.is_empty(), "cannot build '", name, "': ", first_error);
                   m->to(kFloat64);
                   m->train();
                   In inputs{in({2, channels, 6, 6}, -2, 2)};
                   for (auto& [pname, p] : m->named_parameters()) inputs.push_back(p);
                   return gradcheck([m](const In& i) { return m->forward(i[0]); }, inputs,
                                    {.eps = 1e-6, .atol = 1e-5, .rtol = 1e-3, .seed = 0});
                 }});
  }
  return v;
}

std::vector<GradcheckRow> run_gradcheck_suite(
    const GradcheckSuiteOptions& o, const std::function<void(const GradcheckRow&)>& progress) {
  std::vector<GradcheckSuiteCase> cases;
  if (o.ops)
    for (const auto& c : op_gradcheck_cases()) cases.push_back(c);
  if (o.modules)
    for (const auto& c : module_gradcheck_cases()) cases.push_back(c);
  std::vector<GradcheckRow> rows;
  for (const auto& c : cases) {
    if (!o.only.empty() && c.name != o.only) continue;
    GradcheckRow r{c.kind, c.name, c.label};
    const auto t0 = std::chrono::steady_clock::now();
    try {
      GradcheckReport rep = c.run();
      r.ok = rep.ok;
      r.max_abs_error = rep.max_abs_error;
      r.max_rel_error = rep.max_rel_error;
      r.message = rep.message;
    } catch (const std::exception& e) {
      r.ok = false;
      r.message = std::string("error: ") + e.what();
    }
    r.seconds = since(t0);
    if (progress) progress(r);
    rows.push_back(r);
  }
  return rows;
}

std::string gradcheck_table(const std::vector<GradcheckRow>& rows) {
  size_t w = 4, lw = 5;
  for (const auto& r : rows) w = std::max(w, r.name.size()), lw = std::max(lw, r.label.size());
  std::ostringstream o;
  char b[96];
  o << "kind    "
    << "name" << std::string(w - 4 + 2, ' ') << "case" << std::string(lw - 4 + 2, ' ')
    << "result  max abs err  max rel err*\n";
  int failed = 0;
  for (const auto& r : rows) {
    std::snprintf(b, sizeof b, "%-6s  %11.3g  %11.3g", r.ok ? "ok" : "FAIL", r.max_abs_error,
                  r.max_rel_error);
    o << r.kind << std::string(8 - r.kind.size(), ' ') << r.name
      << std::string(w - r.name.size() + 2, ' ') << r.label
      << std::string(lw - r.label.size() + 2, ' ') << b << "\n";
    if (!r.ok) {
      ++failed;
      o << "        " << r.message << "\n";
    }
  }
  o << rows.size() - size_t(failed) << " of " << rows.size() << " passed"
    << (failed ? "" : " (float64, central differences, eps 1e-6, atol 1e-5, rtol 1e-3)")
    << "\n* at the element with the worst |a - n| / (atol + rtol·|n|) (a: analytic, n: numeric)\n";
  return o.str();
}

}  // namespace heed::train

// CPU normalisation kernels: batch norm and layer norm, forward and backward.
//
// Batch norm (training) reads its input twice: one pass for the per-channel
// statistics (shifted sums, see norm_runs.h), one that writes the output;
// the backward likewise reads (x, dy) once for the two per-channel sums and
// once more to write dx. Layer norm works row by row, the row staying in L1
// between its statistics and its output. All sums are in double and have a
// fixed order, so results do not depend on the thread count.
//
// Glossary: B batch, C channels, S spatial elements per (b, c) (1 for
// (B, C) inputs), N = B·S values per channel; layer norm: M rows of N values.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/cpu/bn_affine.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/norm_runs.h"
#include "core/cpu/prefetch.h"
#include "core/parallel.h"

namespace heed::cpu {
namespace {

struct BnGeometry {
  int64_t B, C, S;
};

// Runs per parallel chunk: about 32k values.
int64_t run_grain(const BnGeometry& g) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(g.S, 1));
}

BnGeometry bn_geometry(const Tensor& input) {
  BnGeometry g{input.shape()[0], input.shape()[1], 1};
  for (int64_t d = 2; d < input.dim(); ++d) g.S *= input.shape()[size_t(d)];
  return g;
}

// Element c of a 1-D tensor that may be undefined (then `dflt`) or strided.
template <typename T>
struct Vec1 {
  T* p = nullptr;
  int64_t stride = 0;
  explicit Vec1(const Tensor& t) {
    if (t.defined()) {
      p = t.data_ptr<T>();
      stride = t.stride(0);
    }
  }
  bool defined() const { return p != nullptr; }
  T get(int64_t c, T dflt) const { return p ? p[c * stride] : dflt; }
  T& at(int64_t c) const { return p[c * stride]; }
};

// How the per-channel sums of batch norm are split into tasks: the batch
// into `parts` slices and the channels into `blocks`, so that there is work
// for every thread whether C or B is small. Task (part, block) adds the runs
// of its slice into its own partial sums, which are added in part order
// afterwards. Both counts depend only on the shape, never on the thread
// count, so the results are reproducible; a task walks memory in order.
struct BnTasks {
  int64_t parts, blocks;
  int64_t grain;  // tasks per parallel chunk: about 32k elements

  explicit BnTasks(const BnGeometry& g) {
    constexpr int64_t kTasks = 16;  // a few per thread for load balance
    parts = std::clamp<int64_t>(g.B, 1, kTasks);
    blocks = std::clamp<int64_t>(kTasks / parts, 1, std::max<int64_t>(g.C, 1));
    const int64_t per_task = std::max<int64_t>(1, g.B * g.C * g.S / (parts * blocks));
    grain = std::max<int64_t>(1, 32768 / per_task);
  }
  int64_t count() const { return parts * blocks; }
  // [lo, hi) of slice i of n items cut into k slices.
  static int64_t cut(int64_t n, int64_t k, int64_t i) { return n * i / k; }
};

// Runs (b, c) of the task t, calling fn(c, offset of the run) in memory order.
template <typename Fn>
void for_each_task_run(const BnGeometry& g, const BnTasks& tasks, int64_t t, Fn&& fn) {
  const int64_t part = t / tasks.blocks, block = t % tasks.blocks;
  const int64_t b0 = BnTasks::cut(g.B, tasks.parts, part);
  const int64_t b1 = BnTasks::cut(g.B, tasks.parts, part + 1);
  const int64_t c0 = BnTasks::cut(g.C, tasks.blocks, block);
  const int64_t c1 = BnTasks::cut(g.C, tasks.blocks, block + 1);
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t c = c0; c < c1; ++c) fn(part, c, (b * g.C + c) * g.S);
}

// Short runs ((B, C) inputs have S = 1) stay inline: a call per value would
// cost more than the value's arithmetic.
template <typename T>
void moments(const T* x, int64_t n, T shift, double* sum, double* sumsq) {
  if (n >= 16) return add_shifted_moments(x, n, shift, sum, sumsq);
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(x[i] - shift);
    *sum += d;
    *sumsq += d * d;
  }
}

template <typename T>
void grad_moments(const T* dy, const T* x, const T* relu_out, int64_t n, T mean, double* sum_dy,
                  double* sum_dy_xmu) {
  if (n >= 16) return add_grad_moments(dy, x, relu_out, n, mean, sum_dy, sum_dy_xmu);
  for (int64_t i = 0; i < n; ++i) {
    const T g = relu_out && !(relu_out[i] > T(0)) ? T(0) : dy[i];
    *sum_dy += double(g);
    *sum_dy_xmu += double(g) * double(x[i] - mean);
  }
}

// Per-channel sums of batch norm: fn(x_run, n, c, &sum_a, &sum_b) adds one
// run's two sums; returns (C, 2) totals, [c][0] and [c][1].
template <typename RunSums>
std::vector<double> bn_channel_sums(const BnGeometry& g, RunSums&& run_sums) {
  const BnTasks tasks(g);
  std::vector<double> partial(size_t(tasks.parts * g.C * 2), 0.0);  // (parts, C, 2)
  parallel_for(0, tasks.count(), tasks.grain, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t)
      for_each_task_run(g, tasks, t, [&](int64_t part, int64_t c, int64_t offset) {
        double* p = partial.data() + (part * g.C + c) * 2;
        run_sums(offset, c, p, p + 1);
      });
  });
  std::vector<double> total(size_t(g.C * 2), 0.0);
  for (int64_t part = 0; part < tasks.parts; ++part)
    for (int64_t i = 0; i < g.C * 2; ++i) total[size_t(i)] += partial[size_t(part * g.C * 2 + i)];
  return total;
}

// out = (in - mean[c])·scale[c] + shift[c] over every (b, c) run r, times
// gate[r] when given, plus `residual` when given (the gate comes only with
// it), then ReLU'd when `relu` (as UnaryOp::Relu: NaN stays NaN), parallel
// over the runs in memory order.
template <typename T>
void bn_apply(const BnGeometry& g, const T* in, T* out, const std::vector<T>& mean,
              const std::vector<T>& scale, const std::vector<T>& shift, bool relu,
              const T* residual, const T* gate = nullptr) {
  parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t c = r % g.C;
      const T m = mean[size_t(c)], k = scale[size_t(c)], s = shift[size_t(c)];
      const T* p = in + r * g.S;
      T* q = out + r * g.S;
      if (residual) {
        const T* a = residual + r * g.S;
        const T gr = gate ? gate[r] : T(1);  // exact when 1
        for_prefetched_blocks(
            g.S,
            [&](int64_t i0, int64_t i1) {
              for (int64_t i = i0; i < i1; ++i) {
                const T v = ((p[i] - m) * k + s) * gr + a[i];
                q[i] = v <= T(0) ? T(0) : v;
              }
            },
            p, a);
      } else if (relu) {
        for_prefetched_blocks(
            g.S,
            [&](int64_t i0, int64_t i1) {
              for (int64_t i = i0; i < i1; ++i) {
                const T v = (p[i] - m) * k + s;
                q[i] = v <= T(0) ? T(0) : v;
              }
            },
            p);
      } else {
        for_prefetched_blocks(
            g.S,
            [&](int64_t i0, int64_t i1) {
              for (int64_t i = i0; i < i1; ++i) q[i] = (p[i] - m) * k + s;
            },
            p);
      }
    }
  });
}

// The gradient that reaches batch norm's output through a fused ReLU whose
// output is y: dy where y > 0 (so not where the ReLU clamped, nor at NaN).
template <typename T>
T through_relu(T dy, T y) {
  return y > T(0) ? dy : T(0);
}

// out[0, n) = through_relu(dy, y) over a run.
template <typename T>
void write_through_relu(const T* dy, const T* y, int64_t n, T* out) {
  for_prefetched_blocks(
      n,
      [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] = through_relu(dy[i], y[i]);
      },
      dy, y);
}

// A run's masked gradient gm = through_relu(dy, y), written, then its sums
// Σ gm and Σ gm·(x - mean) added to s and p while it is still in L1.
template <typename T>
void write_masked_grad_moments(const T* dy, const T* y, const T* x, int64_t n, T mean, T* gm,
                               double* s, double* p) {
  write_through_relu(dy, y, n, gm);
  grad_moments(gm, x, static_cast<const T*>(nullptr), n, mean, s, p);
}

// What batch_norm_forward writes besides the output and saved statistics:
// for batch_norm_spatial_mean, per (b, c) run, the output's mean and the
// input's mean minus the channel's (both (B, C); undefined when not wanted).
// For batch_norm_cbam_stats also the output's max per run and where it is
// (spatial_max (B, C), max_pos (B, C) int64) and x there minus the channel
// mean (max_dev (B, C)).
struct RunMeans {
  Tensor spatial_mean, plane_dev;
  Tensor spatial_max, max_pos, max_dev;
};

// Where y's run has its max, y being x's run mapped by a scale of the
// sign of `weight` (y's max is at x's max, or at x's min when negative; at
// 0, y is constant, first index 0): a NaN wins, the first one, as max()
// does. `sum` is the run's shifted sum, NaN when the run holds a NaN.
template <typename T>
int64_t run_max_position(const T* x, int64_t n, T weight, double sum) {
  if (std::isnan(sum))  // a NaN, or +inf and -inf together
    for (int64_t i = 0; i < n; ++i)
      if (std::isnan(x[i])) return i;
  if (weight == T(0)) return 0;
  return first_extreme(x, n, /*minimum=*/weight < T(0));
}

// Batch norm forward, followed by a ReLU when `relu`, after adding
// `residual` when defined (only with relu).
void batch_norm_forward(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, bool training,
                        double momentum, double eps, bool relu, const Tensor& residual,
                        const RunMeans& run_means = {}) {
  const BnGeometry g = bn_geometry(input);
  const int64_t N = g.B * g.S;
  dispatch_floating(input.dtype(), "batch_norm", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                    // (B, C, S)
    T* y = out.defined() ? out.data_ptr<T>() : nullptr;  // (B, C, S); null: statistics only
    T* mean_out = save_mean.data_ptr<T>();               // (C)
    T* invstd_out = save_invstd.data_ptr<T>();
    Vec1<T> w(weight), b(bias), rm(running_mean), rv(running_var);
    HEED_CHECK(training || (rm.defined() && rv.defined()),
               "batch_norm: eval mode needs running_mean and running_var");
    // The shift of channel c's sums: its first value (see norm_runs.h).
    auto shift_of = [&](int64_t c) { return N > 0 ? x[c * g.S] : T(0); };
    const bool want_runs = run_means.plane_dev.defined();
    // Σ (x - shift) of each run, when its mean is wanted: the run's sums are
    // formed on their own, then added to the channel's (as the kernels do).
    std::vector<double> run_sum(want_runs ? size_t(g.B * g.C) : 0);
    const bool want_max = run_means.max_pos.defined();
    // Where each run's max is (max_pos) and x's value there, read while the
    // run is in cache (a later gather would miss on every run).
    int64_t* pos = want_max ? run_means.max_pos.data_ptr<int64_t>() : nullptr;  // (B, C)
    std::vector<T> x_at_max(want_max ? size_t(g.B * g.C) : 0);
    std::vector<double> sums;
    if (training || want_runs)
      sums = bn_channel_sums(g, [&](int64_t offset, int64_t c, double* s, double* q) {
        if (!want_runs) return moments(x + offset, g.S, shift_of(c), s, q);
        double rs = 0, rq = 0;
        moments(x + offset, g.S, shift_of(c), &rs, &rq);
        *s += rs;
        *q += rq;
        const int64_t r = offset / std::max<int64_t>(g.S, 1);
        run_sum[size_t(r)] = rs;
        if (want_max) {
          pos[r] = run_max_position(x + offset, g.S, w.get(c, T(1)), rs);
          x_at_max[size_t(r)] = x[offset + pos[r]];
        }
      });
    std::vector<T> mean_t(size_t(g.C)), scale_t(size_t(g.C)), shift_t(size_t(g.C));
    for (int64_t c = 0; c < g.C; ++c) {
      double mean, invstd;
      if (training) {
        const double d_mean = sums[size_t(2 * c)] / double(N);
        mean = double(shift_of(c)) + d_mean;
        // Biased: what the batch is normalised with.
        const double var = std::max(sums[size_t(2 * c + 1)] / double(N) - d_mean * d_mean, 0.0);
        invstd = 1.0 / std::sqrt(var + eps);
        if (rm.defined()) rm.at(c) = T((1 - momentum) * double(rm.at(c)) + momentum * mean);
        if (rv.defined()) {
          const double unbiased = N > 1 ? var * double(N) / double(N - 1) : var;
          rv.at(c) = T((1 - momentum) * double(rv.at(c)) + momentum * unbiased);
        }
      } else {
        mean = double(rm.at(c));
        invstd = 1.0 / std::sqrt(double(rv.at(c)) + eps);
      }
      mean_out[c] = T(mean);
      invstd_out[c] = T(invstd);
      // y = (x - mean) · (invstd · w) + b: subtracting the mean first keeps
      // float32 outputs accurate when |mean| ≫ std.
      mean_t[size_t(c)] = T(mean);
      scale_t[size_t(c)] = T(invstd * double(w.get(c, T(1))));
      shift_t[size_t(c)] = b.get(c, T(0));
    }
    if (y)
      bn_apply(g, x, y, mean_t, scale_t, shift_t, relu,
               residual.defined() ? residual.data_ptr<T>() : nullptr);
    if (!want_runs) return;
    // The run's output mean is the affine map of its input mean, so it needs
    // no pass over the output: mean(y) = (mean(x) - mean)·scale + shift.
    T* dev = run_means.plane_dev.data_ptr<T>();    // (B, C)
    T* sm = run_means.spatial_mean.data_ptr<T>();  // (B, C)
    // Loops over (b, c), not r = b·C + c: an r % C per run costs more than
    // its arithmetic when the runs are short.
    std::vector<double> run_base(size_t(g.C));  // shift - mean, per channel
    for (int64_t c = 0; c < g.C; ++c)
      run_base[size_t(c)] = double(shift_of(c)) - double(mean_t[size_t(c)]);
    for (int64_t b = 0, r = 0; b < g.B; ++b)
      for (int64_t c = 0; c < g.C; ++c, ++r) {
        const size_t ci = size_t(c);
        const double d = run_base[ci] + run_sum[size_t(r)] / double(g.S);
        dev[r] = T(d);
        sm[r] = T(d * double(scale_t[ci]) + double(shift_t[ci]));
      }
    if (!want_max) return;
    // y is a monotone map of x per channel (run_max_position).
    T* smax = run_means.spatial_max.data_ptr<T>();  // (B, C)
    T* max_dev = run_means.max_dev.data_ptr<T>();   // (B, C)
    for (int64_t b = 0, r = 0; b < g.B; ++b)
      for (int64_t c = 0; c < g.C; ++c, ++r) {
        const size_t ci = size_t(c);
        max_dev[r] = x_at_max[size_t(r)] - mean_t[ci];
        smax[r] = max_dev[r] * scale_t[ci] + shift_t[ci];
      }
  });
}

// The gradient of batch_norm_spatial_mean's spatial_mean output, which
// reaches each value of run r as grad_spatial_mean[r] / S, with the forward's
// plane_dev (both (B, C); undefined for the other batch norms). For
// batch_norm_gate_backward also the gate that scales grad_out per run and
// the run sums of grad_out the channel sums are formed from (all (B, C)).
struct RunMeanGrad {
  Tensor grad_spatial_mean, plane_dev;
  Tensor gate, run_grad, run_grad_dev;
};

// Batch norm backward; when `relu_out` is defined, the backward of
// relu(batch_norm(x)) whose output it is: grad_out is masked by relu_out > 0
// on the fly, in both passes, instead of in a pass of its own.
void batch_norm_backward_impl(const Tensor& grad_input, const Tensor& grad_weight,
                              const Tensor& grad_bias, const Tensor& grad_out, const Tensor& input,
                              const Tensor& weight, const Tensor& save_mean,
                              const Tensor& save_invstd, bool training, const Tensor& relu_out,
                              const RunMeanGrad& run_grad = {},
                              const Tensor& masked_out = Tensor()) {
  const BnGeometry g = bn_geometry(input);
  const int64_t N = g.B * g.S;
  dispatch_floating(input.dtype(), "batch_norm_backward", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                     // (B, C, S)
    const T* gy = grad_out.data_ptr<T>();                                 // (B, C, S)
    T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;    // (B, C, S)
    T* gw = grad_weight.defined() ? grad_weight.data_ptr<T>() : nullptr;  // (C)
    T* gb = grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr;      // (C)
    const T* mean_in = save_mean.data_ptr<T>();
    const T* invstd_in = save_invstd.data_ptr<T>();
    const T* ry = relu_out.defined() ? relu_out.data_ptr<T>() : nullptr;  // (B, C, S)
    // (B, C, S): when defined, grad_out through the ReLU mask is written here
    // (the residual's gradient) by the sums pass, then read by the dx pass.
    T* gm = masked_out.defined() ? masked_out.data_ptr<T>() : nullptr;
    const bool spread = run_grad.grad_spatial_mean.defined();
    const T* gsm = spread ? run_grad.grad_spatial_mean.data_ptr<T>() : nullptr;  // (B, C)
    const T* dev = spread ? run_grad.plane_dev.data_ptr<T>() : nullptr;          // (B, C)
    const bool gated = run_grad.gate.defined();
    const T* gate = gated ? run_grad.gate.data_ptr<T>() : nullptr;  // (B, C)
    Vec1<T> w(weight);
    // Σ dy and Σ dy·(x - mean) per channel: only needed for the affine grads,
    // or for grad_input in training.
    std::vector<double> sums(size_t(2 * g.C), 0.0);
    if (gated) {  // from the run sums of grad_out: Σ gate·dy = gate·Σ dy per run
      const T* rg = run_grad.run_grad.data_ptr<T>();
      const T* rgd = run_grad.run_grad_dev.data_ptr<T>();
      for (int64_t r = 0; r < g.B * g.C; ++r) {
        const size_t c = size_t(r % g.C);
        sums[2 * c] += double(gate[r]) * double(rg[r]);
        sums[2 * c + 1] += double(gate[r]) * double(rgd[r]);
      }
    } else if (gw || gb || (gx && training)) {
      sums = bn_channel_sums(g, [&](int64_t offset, int64_t c, double* s, double* p) {
        if (!gm)
          return grad_moments(gy + offset, x + offset, ry ? ry + offset : nullptr, g.S, mean_in[c],
                              s, p);
        write_masked_grad_moments(gy + offset, ry + offset, x + offset, g.S, mean_in[c],
                                  gm + offset, s, p);
      });
    } else if (gm) {
      parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r)
          write_through_relu(gy + r * g.S, ry + r * g.S, g.S, gm + r * g.S);
      });
    }
    if (gm) gy = gm, ry = nullptr;  // the dx pass reads the masked gradient
    // The spread gradient gsm/S adds gsm to Σ dy over its run, and gsm·dev to
    // Σ dy·(x - mean), since Σ (x - mean) over the run is S·dev.
    if (spread)
      for (int64_t r = 0; r < g.B * g.C; ++r) {
        const size_t c = size_t(r % g.C);
        sums[2 * c] += double(gsm[r]);
        sums[2 * c + 1] += double(gsm[r]) * double(dev[r]);
      }
    for (int64_t c = 0; c < g.C; ++c) {
      if (gw) gw[c] = T(sums[size_t(2 * c + 1)] * double(invstd_in[c]));
      if (gb) gb[c] = T(sums[size_t(2 * c)]);
    }
    if (!gx) return;
    // Training: dx = w·invstd·(dy - mean(dy) - (x - mean)·invstd²·mean(dy·(x - mean)))
    //         = (dy - k·(x - mean) - mean(dy))·(w·invstd): an affine map of dy
    // and x per channel, applied as (dy - (x·k + (mean(dy) - k·mean)))·scale.
    // Eval: the statistics are constants, dx = w·invstd·dy.
    std::vector<T> mean_t(size_t(g.C)), k_t(size_t(g.C)), dy_mean_t(size_t(g.C)),
        scale_t(size_t(g.C));
    for (int64_t c = 0; c < g.C; ++c) {
      const double invstd = double(invstd_in[c]);
      mean_t[size_t(c)] = mean_in[c];
      k_t[size_t(c)] = training ? T(sums[size_t(2 * c + 1)] * invstd * invstd / double(N)) : T(0);
      dy_mean_t[size_t(c)] = training ? T(sums[size_t(2 * c)] / double(N)) : T(0);
      scale_t[size_t(c)] = T(invstd * double(w.get(c, T(1))));
    }
    // Specialised on whether a ReLU mask applies and whether x enters at all
    // (not in eval, so a NaN input does not reach dx through 0·NaN).
    auto dx_pass = [&](auto masked, auto train) {
      parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
          const size_t c = size_t(r % g.C);
          // The run's share of the spread gradient, added to each dy.
          const T a = spread ? gsm[r] / T(g.S) : T(0);
          const T m = mean_t[c], k = k_t[c], dm = dy_mean_t[c] - a, sc = scale_t[c];
          const T gr = gated ? gate[r] : T(1);  // exact when 1
          const T* p = x + r * g.S;
          const T* d = gy + r * g.S;
          const T* y = masked ? ry + r * g.S : nullptr;
          T* q = gx + r * g.S;
          for_prefetched_blocks(
              g.S,
              [&](int64_t s0, int64_t s1) {
                for (int64_t s = s0; s < s1; ++s) {
                  T dys = d[s];
                  if constexpr (masked) dys = through_relu(dys, y[s]);
                  dys *= gr;
                  if constexpr (train)
                    q[s] = (dys - dm - (p[s] - m) * k) * sc;
                  else
                    q[s] = (dys + a) * sc;
                }
              },
              d, y, train ? p : nullptr);
        }
      });
    };
    auto with_mask = [&](auto train) {
      if (ry)
        dx_pass(std::true_type{}, train);
      else
        dx_pass(std::false_type{}, train);
    };
    if (training)
      with_mask(std::true_type{});
    else
      with_mask(std::false_type{});
  });
}

}  // namespace

void CpuBackend::batch_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                            const Tensor& input, const Tensor& weight, const Tensor& bias,
                            const Tensor& running_mean, const Tensor& running_var, bool training,
                            double momentum, double eps) {
  batch_norm_forward(out, save_mean, save_invstd, input, weight, bias, running_mean, running_var,
                     training, momentum, eps, /*relu=*/false, Tensor());
}

void CpuBackend::batch_norm_relu(const Tensor& out, const Tensor& save_mean,
                                 const Tensor& save_invstd, const Tensor& input,
                                 const Tensor& weight, const Tensor& bias, const Tensor& residual,
                                 const Tensor& running_mean, const Tensor& running_var,
                                 bool training, double momentum, double eps) {
  batch_norm_forward(out, save_mean, save_invstd, input, weight, bias, running_mean, running_var,
                     training, momentum, eps, /*relu=*/true, residual);
}

void CpuBackend::batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                     const Tensor& grad_bias, const Tensor& grad_out,
                                     const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_invstd,
                                     bool training) {
  batch_norm_backward_impl(grad_input, grad_weight, grad_bias, grad_out, input, weight, save_mean,
                           save_invstd, training, Tensor());
}

void CpuBackend::batch_norm_relu_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                          const Tensor& grad_bias, const Tensor& grad_residual,
                                          const Tensor& grad_out, const Tensor& output,
                                          const Tensor& input, const Tensor& weight,
                                          const Tensor& save_mean, const Tensor& save_invstd,
                                          bool training) {
  // Without a residual the mask is applied inside both passes; with one, the
  // residual's gradient is the masked one, written by the sums pass (which
  // reads grad_out and the output once for both) and read by the dx pass.
  batch_norm_backward_impl(grad_input, grad_weight, grad_bias, grad_out, input, weight, save_mean,
                           save_invstd, training, output, {}, grad_residual);
}

void CpuBackend::batch_norm_spatial_mean(const Tensor& out, const Tensor& spatial_mean,
                                         const Tensor& plane_dev, const Tensor& save_mean,
                                         const Tensor& save_invstd, const Tensor& input,
                                         const Tensor& weight, const Tensor& bias,
                                         const Tensor& running_mean, const Tensor& running_var,
                                         bool training, double momentum, double eps) {
  batch_norm_forward(out, save_mean, save_invstd, input, weight, bias, running_mean, running_var,
                     training, momentum, eps, /*relu=*/false, Tensor(),
                     RunMeans{spatial_mean, plane_dev, Tensor(), Tensor(), Tensor()});
}

void CpuBackend::batch_norm_cbam_stats(const BnCbamState& st, const Tensor& spatial_mean,
                                       const Tensor& spatial_max, const Tensor& running_mean,
                                       const Tensor& running_var, bool training, double momentum,
                                       double eps) {
  batch_norm_forward(Tensor(), st.save_mean, st.save_invstd, st.input, st.weight, st.bias,
                     running_mean, running_var, training, momentum, eps, /*relu=*/false, Tensor(),
                     RunMeans{spatial_mean, st.plane_dev, spatial_max, st.max_pos, st.max_dev});
}

void CpuBackend::batch_norm_spatial_mean_backward(
    const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
    const Tensor& grad_out, const Tensor& grad_spatial_mean, const Tensor& input,
    const Tensor& weight, const Tensor& save_mean, const Tensor& save_invstd,
    const Tensor& plane_dev, bool training) {
  batch_norm_backward_impl(grad_input, grad_weight, grad_bias, grad_out, input, weight, save_mean,
                           save_invstd, training, Tensor(),
                           RunMeanGrad{grad_spatial_mean, plane_dev, Tensor(), Tensor(), Tensor()});
}

void CpuBackend::batch_norm_gate_add_relu(const Tensor& out, const Tensor& input,
                                          const Tensor& weight, const Tensor& bias,
                                          const Tensor& save_mean, const Tensor& save_invstd,
                                          const Tensor& gate, const Tensor& residual) {
  const BnGeometry g = bn_geometry(input);
  dispatch_floating(input.dtype(), "batch_norm_gate_add_relu", [&]<typename T>() {
    const T* x = input.data_ptr<T>();       // (B, C, S)
    const T* res = residual.data_ptr<T>();  // (B, C, S)
    const T* gt = gate.data_ptr<T>();       // (B, C)
    T* y = out.data_ptr<T>();               // (B, C, S)
    const BnAffine<T> bn(g.C, weight, bias, save_mean, save_invstd);
    bn_apply(g, x, y, bn.mean, bn.scale, bn.shift, /*relu=*/true, res, gt);
  });
}

void CpuBackend::batch_norm_gate_add_relu_backward_gate(
    const Tensor& grad_masked, const Tensor& run_grad, const Tensor& run_grad_dev,
    const Tensor& grad_gate, const Tensor& grad_out, const Tensor& out, const Tensor& input,
    const Tensor& weight, const Tensor& bias, const Tensor& save_mean, const Tensor& save_invstd) {
  const BnGeometry g = bn_geometry(input);
  dispatch_floating(input.dtype(), "batch_norm_gate_add_relu_backward", [&]<typename T>() {
    const T* x = input.data_ptr<T>();      // (B, C, S)
    const T* dy = grad_out.data_ptr<T>();  // (B, C, S)
    const T* o = out.data_ptr<T>();        // (B, C, S)
    T* gm = grad_masked.data_ptr<T>();     // (B, C, S)
    T* rg = run_grad.data_ptr<T>();        // (B, C)
    T* rgd = run_grad_dev.data_ptr<T>();   // (B, C)
    T* gg = grad_gate.data_ptr<T>();       // (B, C)
    const BnAffine<T> bn(g.C, weight, bias, save_mean, save_invstd);
    parallel_for(0, g.B * g.C, run_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const size_t c = size_t(r % g.C);
        double sum = 0, sum_dev = 0;
        write_masked_grad_moments(dy + r * g.S, o + r * g.S, x + r * g.S, g.S, bn.mean[c],
                                  gm + r * g.S, &sum, &sum_dev);
        rg[r] = T(sum);
        rgd[r] = T(sum_dev);
        // Σ gm·y = scale·Σ gm·(x - mean) + shift·Σ gm.
        gg[r] = T(double(bn.scale[c]) * sum_dev + double(bn.shift[c]) * sum);
      }
    });
  });
}

void CpuBackend::batch_norm_gate_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                          const Tensor& grad_bias, const Tensor& grad_masked,
                                          const Tensor& gate, const Tensor& grad_spatial_mean,
                                          const Tensor& run_grad, const Tensor& run_grad_dev,
                                          const Tensor& plane_dev, const Tensor& input,
                                          const Tensor& weight, const Tensor& save_mean,
                                          const Tensor& save_invstd, bool training) {
  batch_norm_backward_impl(grad_input, grad_weight, grad_bias, grad_masked, input, weight,
                           save_mean, save_invstd, training, Tensor(),
                           RunMeanGrad{grad_spatial_mean, plane_dev, gate, run_grad, run_grad_dev});
}

void CpuBackend::layer_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd,
                            const Tensor& input, const Tensor& weight, const Tensor& bias,
                            int64_t normalized, double eps) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  dispatch_floating(input.dtype(), "layer_norm", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                // (M, N)
    T* y = out.data_ptr<T>();                                        // (M, N)
    T* mean_out = save_mean.data_ptr<T>();                           // (M)
    T* rstd_out = save_rstd.data_ptr<T>();                           // (M)
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;  // (N), contiguous
    const T* b = bias.defined() ? bias.data_ptr<T>() : nullptr;      // (N)
    parallel_for(0, M, std::max<int64_t>(1, 32768 / std::max<int64_t>(N, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     const T* p = x + r * N;
                     T* q = y + r * N;
                     double sum = 0, sumsq = 0;
                     moments(p, N, p[0], &sum, &sumsq);  // shifted by the row's first value
                     const double d_mean = sum / double(N);
                     const double var = std::max(sumsq / double(N) - d_mean * d_mean, 0.0);
                     const double mean = double(p[0]) + d_mean, rstd = 1.0 / std::sqrt(var + eps);
                     mean_out[r] = T(mean);
                     rstd_out[r] = T(rstd);
                     const T m = T(mean), rs = T(rstd);
                     if (w && b) {
                       for (int64_t j = 0; j < N; ++j) q[j] = (p[j] - m) * rs * w[j] + b[j];
                     } else {
                       for (int64_t j = 0; j < N; ++j) {
                         T v = (p[j] - m) * rs;
                         if (w) v *= w[j];
                         if (b) v += b[j];
                         q[j] = v;
                       }
                     }
                   }
                 });
  });
}

void CpuBackend::layer_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                     const Tensor& grad_bias, const Tensor& grad_out,
                                     const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_rstd,
                                     int64_t normalized) {
  const int64_t N = normalized, M = N > 0 ? input.numel() / N : 0;
  // grad_weight/grad_bias sum over rows: each of K row chunks writes partial
  // sums, added in chunk order afterwards. K depends only on (M, N), never on
  // the thread count, so results are reproducible.
  const bool affine = grad_weight.defined() || grad_bias.defined();
  const int64_t K = affine ? std::clamp<int64_t>(
                                 std::min<int64_t>(M * N / 16384, 64), 1,
                                 std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(N, 1)))
                           : 1;
  const int64_t rows_per_chunk = std::max<int64_t>(1, (M + K - 1) / K);
  dispatch_floating(input.dtype(), "layer_norm_backward", [&]<typename T>() {
    const T* x = input.data_ptr<T>();                                   // (M, N)
    const T* gy = grad_out.data_ptr<T>();                               // (M, N)
    T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;  // (M, N)
    const T* w = weight.defined() ? weight.data_ptr<T>() : nullptr;     // (N)
    const T* mean_in = save_mean.data_ptr<T>();                         // (M)
    const T* rstd_in = save_rstd.data_ptr<T>();                         // (M)
    // (K, 2, N): Σ dy·x̂ and Σ dy per column, per chunk.
    std::vector<double> partial(affine ? size_t(K * 2 * N) : 0, 0.0);
    parallel_for(0, K, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        double* pw = affine ? partial.data() + k * 2 * N : nullptr;
        double* pb = affine ? pw + N : nullptr;
        const int64_t r_end = std::min(M, (k + 1) * rows_per_chunk);
        for (int64_t r = k * rows_per_chunk; r < r_end; ++r) {
          const T* p = x + r * N;
          const T* d = gy + r * N;
          const T mean = mean_in[r], rstd = rstd_in[r];
          double sum_g = 0, sum_g_xhat = 0;  // Σ g, Σ g·x̂ with g = dy·w
          add_layer_norm_row_sums(LnRowGrad<T>{p, d, w, N, mean, rstd}, &sum_g, &sum_g_xhat, pw,
                                  pb);
          if (!gx) continue;
          // dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), the row still in L1.
          const T a = T(sum_g / double(N)), c = T(sum_g_xhat / double(N));
          T* q = gx + r * N;
          if (w) {
            for (int64_t j = 0; j < N; ++j)
              q[j] = rstd * (d[j] * w[j] - a - (p[j] - mean) * rstd * c);
          } else {
            for (int64_t j = 0; j < N; ++j) q[j] = rstd * (d[j] - a - (p[j] - mean) * rstd * c);
          }
        }
      }
    });
    if (!affine) return;
    T* gw = grad_weight.defined() ? grad_weight.data_ptr<T>() : nullptr;  // (N)
    T* gb = grad_bias.defined() ? grad_bias.data_ptr<T>() : nullptr;      // (N)
    parallel_for(0, N, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        double sw = 0, sb = 0;
        for (int64_t k = 0; k < K; ++k) {
          sw += partial[size_t(k * 2 * N + j)];
          sb += partial[size_t(k * 2 * N + N + j)];
        }
        if (gw) gw[j] = T(sw);
        if (gb) gb[j] = T(sb);
      }
    });
  });
}

}  // namespace heed::cpu

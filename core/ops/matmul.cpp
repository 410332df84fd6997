// Matrix products: matmul (torch.matmul semantics) and linear, forward and
// backward side by side. Both go through Backend::gemm (row-major, strided
// batched); an operand stored transposed is passed with a trans flag instead
// of being copied, and a broadcast batch operand with batch stride 0.
//
// Letters: batch dims `...`, a (..., m, k) · b (..., k, n) -> (..., m, n).
#include <algorithm>
#include <cassert>
#include <climits>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using ops::raw_view;
using Needs = std::vector<bool>;

namespace {

// How GEMM reads one matrix of `rows` × `cols` with element strides (sr, sc):
// row-major with leading dimension `ld`, or (trans) column-major, i.e. the
// row-major transpose. `ok` is false when neither fits (then copy it).
struct MatLayout {
  bool ok = false;
  bool trans = false;
  int64_t ld = 1;
};

MatLayout mat_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  // A dim of size 1 never moves, so its stride does not matter.
  if ((cols <= 1 || sc == 1) && (rows <= 1 || sr >= std::max<int64_t>(cols, 1)))
    return {true, false, rows <= 1 ? std::max<int64_t>(cols, 1) : sr};
  if ((rows <= 1 || sr == 1) && (cols <= 1 || sc >= std::max<int64_t>(rows, 1)))
    return {true, true, cols <= 1 ? std::max<int64_t>(rows, 1) : sc};
  return {};
}

MatLayout layout_of(const Tensor& x) {
  int64_t d = x.dim();
  return mat_layout(x.size(d - 2), x.size(d - 1), x.stride(d - 2), x.stride(d - 1));
}

// x itself if GEMM can read its trailing matrices in place, else a contiguous copy.
Tensor gemm_ready(const Tensor& x) {
  return layout_of(x).ok ? x : ops::contiguous_data(x);
}

void check_blas_size(const char* op, int64_t m, int64_t n, int64_t k) {
  HEED_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, op, ": matrix dims ", m, "x", k, " · ",
             k, "x", n, " exceed the BLAS int range");
}

// One batch dim of the product after merging: its size and the element
// strides of a, b and c along it.
struct BatchDim {
  int64_t size, sa, sb, sc;
};

// c (..., m, n), contiguous = a (..., m, k) · b (..., k, n) + beta · c, where a
// and b have c's batch dims (broadcast ones with stride 0) and GEMM-readable
// trailing matrices. Batch dims that merge into one strided dim become one
// batched GEMM call; the rest are looped here.
void batched_gemm(const Tensor& c, const Tensor& a, const Tensor& b, double beta = 0) {
  const int64_t nd = c.dim();
  const int64_t m = c.size(nd - 2), n = c.size(nd - 1), k = a.size(nd - 1);
  if (c.numel() == 0) return;
  check_blas_size("matmul", m, n, k);
  MatLayout la = layout_of(a), lb = layout_of(b);
  assert(la.ok && lb.ok && c.is_contiguous());

  // Merge batch dims from the innermost out; size-1 dims vanish.
  std::vector<BatchDim> dims;  // innermost first
  for (int64_t d = nd - 3; d >= 0; --d) {
    BatchDim bd{c.size(d), a.stride(d), b.stride(d), c.stride(d)};
    if (bd.size == 1) continue;
    if (!dims.empty()) {
      BatchDim& in = dims.back();
      if (bd.sa == in.sa * in.size && bd.sb == in.sb * in.size && bd.sc == in.sc * in.size) {
        in.size *= bd.size;
        continue;
      }
    }
    dims.push_back(bd);
  }

  GemmArgs g;
  g.dtype = c.dtype();
  g.trans_a = la.trans;
  g.trans_b = lb.trans;
  g.m = m;
  g.n = n;
  g.k = k;
  g.beta = beta;
  g.lda = la.ld;
  g.ldb = lb.ld;
  g.ldc = std::max<int64_t>(n, 1);
  const size_t es = c.element_size();
  auto* pa = static_cast<const char*>(a.raw_data());
  auto* pb = static_cast<const char*>(b.raw_data());
  auto* pc = static_cast<char*>(c.raw_data());
  Backend& be = backend_of(c);

  if (dims.empty()) {
    g.a = pa, g.b = pb, g.c = pc;
    be.gemm(g);
    return;
  }
  // b shared by the whole batch and a's batches stacked row after row: one
  // tall GEMM (batch·m × k) · (k × n) instead of `batch` small ones.
  if (dims.size() == 1 && dims[0].sb == 0 && !la.trans && dims[0].sa == m * la.ld) {
    check_blas_size("matmul", m * dims[0].size, n, k);
    g.m = m * dims[0].size;
    g.a = pa, g.b = pb, g.c = pc;
    be.gemm(g);
    return;
  }
  const BatchDim inner = dims[0];
  g.batch = inner.size;
  g.stride_a = inner.sa;
  g.stride_b = inner.sb;
  g.stride_c = inner.sc;
  // Odometer over the outer merged dims.
  std::vector<int64_t> idx(dims.size(), 0);
  for (;;) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (size_t i = 1; i < dims.size(); ++i) {
      oa += idx[i] * dims[i].sa;
      ob += idx[i] * dims[i].sb;
      oc += idx[i] * dims[i].sc;
    }
    g.a = pa + oa * int64_t(es);
    g.b = pb + ob * int64_t(es);
    g.c = pc + oc * int64_t(es);
    be.gemm(g);
    size_t i = 1;
    for (; i < dims.size(); ++i) {
      if (++idx[i] < dims[i].size) break;
      idx[i] = 0;
    }
    if (i == dims.size()) break;
  }
}

void check_operands(const char* op, const Tensor& a, const Tensor& b, const char* what_b) {
  ops::check_same_device(op, {&a, &b});
  ops::check_floating(op, a);
  HEED_CHECK(a.dtype() == b.dtype(), op, ": expected the same dtype for input and ", what_b,
             ", got ", a.dtype(), " and ", b.dtype());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  HEED_CHECK(a.dim() >= 1 && b.dim() >= 1,
             "matmul: both arguments need at least 1 dimension, got shapes ", shape_str(a.shape()),
             " and ", shape_str(b.shape()));
  check_operands("matmul", a, b, "other");
  const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  const int64_t k = a.shape().back();
  const int64_t kb = b_vec ? b.size(0) : b.size(-2);
  HEED_CHECK(k == kb, "matmul: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
             " cannot be multiplied (", k, " != ", kb, ")");

  // As matrices: a 1-D a is a row (1, k), a 1-D b a column (k, 1).
  Tensor am = a_vec ? raw_view(a, {1, k}, {k * a.stride(0), a.stride(0)}, a.offset()) : a;
  Tensor bm = b_vec ? raw_view(b, {k, 1}, {b.stride(0), 1}, b.offset()) : b;
  const int64_t m = am.size(-2), n = bm.size(-1);

  // Broadcast the batch dims (all but the last two), right-aligned.
  const Shape ba(am.shape().begin(), am.shape().end() - 2);
  const Shape bb(bm.shape().begin(), bm.shape().end() - 2);
  Shape batch(std::max(ba.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    int64_t da = i < ba.size() ? ba[ba.size() - 1 - i] : 1;
    int64_t db = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
    HEED_CHECK(da == db || da == 1 || db == 1, "matmul: batch dims of shapes ",
               shape_str(a.shape()), " and ", shape_str(b.shape()), " cannot be broadcast");
    batch[batch.size() - 1 - i] = da == 1 ? db : da;
  }
  Shape full = batch, result = batch;  // full keeps m and n; result drops the 1-D ones
  full.insert(full.end(), {m, n});
  if (!a_vec) result.push_back(m);
  if (!b_vec) result.push_back(n);

  Tensor out = empty(result, {a.dtype(), a.device()});
  {
    Shape sa = batch, sb = batch;
    sa.insert(sa.end(), {m, k});
    sb.insert(sb.end(), {k, n});
    batched_gemm(raw_view(out, full, contiguous_strides(full), out.offset()),
                 ops::broadcast_view(gemm_ready(am), sa), ops::broadcast_view(gemm_ready(bm), sb));
  }

  if (any_requires_grad({&a, &b})) {
    // Each side's gradient needs only the other side's values.
    Tensor ad = b.requires_grad() ? am.detach() : Tensor();  // (..., m, k)
    Tensor bd = a.requires_grad() ? bm.detach() : Tensor();  // (..., k, n)
    Shape a_shape = a.shape(), b_shape = b.shape(), am_shape = am.shape(), bm_shape = bm.shape();
    record("matmul", {a, b}, out, [=](const Tensor& grad, const Needs& needs) {
      Tensor g = grad.reshape(full);  // (..., m, n)
      Tensor ga, gb;
      if (needs[0]) {
        // grad_a = g · bᵀ, summed over the batch dims a was broadcast along.
        ga = matmul(g, bd.transpose(-1, -2));  // (..., m, k)
        ga = sum_to(ga, am_shape).reshape(a_shape);
      }
      if (needs[1]) {
        if (bm_shape.size() == 2 && full.size() > 2) {
          // b is one matrix shared by the batch: fold the batch into the
          // reduction, (k × ...·m) · (...·m × n), no per-batch partials.
          const int64_t rows = numel_of(batch) * m;
          gb = matmul(ad.reshape({rows, k}).t(), g.reshape({rows, n}));
        } else {
          gb = sum_to(matmul(ad.transpose(-1, -2), g), bm_shape);  // (..., k, n)
        }
        gb = gb.reshape(b_shape);
      }
      return std::vector{ga, gb};
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands("linear", x, weight, "weight");
  HEED_CHECK(weight.dim() == 2, "linear: weight must be 2-D (out_features, in_features), got ",
             shape_str(weight.shape()));
  HEED_CHECK(x.dim() >= 1, "linear: input must have at least 1 dimension, got ",
             shape_str(x.shape()));
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  HEED_CHECK(x.shape().back() == in_f, "linear: input ", shape_str(x.shape()), " has ",
             x.shape().back(), " features but weight ", shape_str(weight.shape()), " expects ",
             in_f);
  if (bias.defined()) {
    check_operands("linear", x, bias, "bias");
    HEED_CHECK(bias.dim() == 1 && bias.size(0) == out_f, "linear: bias must have shape [", out_f,
               "], got ", shape_str(bias.shape()));
  }

  // One GEMM over the flattened leading dims: (rows × in) · (in × out).
  Shape lead(x.shape().begin(), x.shape().end() - 1);
  const int64_t rows = numel_of(lead);
  Tensor x2 = gemm_ready(x.detach().reshape({rows, in_f}));  // (rows, in)
  Tensor wt = gemm_ready(weight.detach().t());               // (in, out), usually a trans view
  Shape out_shape = lead;
  out_shape.push_back(out_f);
  Tensor out = empty(out_shape, {x.dtype(), x.device()});
  Tensor out2 = raw_view(out, {rows, out_f}, {out_f, 1}, out.offset());  // (rows, out)
  if (bias.defined()) {
    // The bias rows are written first and the GEMM accumulates onto them (beta = 1).
    backend_of(out).copy(out2, ops::broadcast_view(bias, {rows, out_f}));
    batched_gemm(out2, x2, wt, 1.0);
  } else {
    batched_gemm(out2, x2, wt);
  }

  if (any_requires_grad({&x, &weight, &bias})) {
    Tensor xd = weight.requires_grad() ? x2 : Tensor();          // (rows, in)
    Tensor wd = x.requires_grad() ? weight.detach() : Tensor();  // (out, in)
    Shape x_shape = x.shape();
    record("linear", {x, weight, bias}, out, [=](const Tensor& grad, const Needs& needs) {
      Tensor g = grad.reshape({rows, out_f});  // (rows, out)
      return std::vector{needs[0] ? matmul(g, wd).reshape(x_shape) : Tensor(),
                         needs[1] ? matmul(g.t(), xd) : Tensor(),
                         needs[2] ? sum(g, {0}) : Tensor()};
    });
  }
  return out;
}

}  // namespace heed

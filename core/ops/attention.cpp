// scaled_dot_product_attention: softmax(scale · q kᵀ) · v as one op, forward
// and backward side by side. One node instead of five (scale, matmul,
// softmax, matmul, head-layout copy), and outputs and gradients laid out as
// (B, n, h, d), the layout a linear projection's output has, so the
// transformer's head split and merge are views on both passes.
#include <cmath>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

// x itself when its rows are contiguous and at least a row apart (what the
// backend reads), else a contiguous copy.
Tensor rows_ready(const Tensor& x) {
  const bool inner = x.size(3) <= 1 || x.stride(3) == 1;
  const bool rows = x.size(2) <= 1 || x.stride(2) >= x.size(3);
  return inner && rows ? x : ops::contiguous_data(x);
}

// (B, h, n, d) stored as (B, n, h, d).
Tensor heads_interleaved(int64_t B, int64_t h, int64_t n, int64_t d, const Tensor& like) {
  return empty({B, n, h, d}, {like.dtype(), like.device()}).transpose(1, 2);
}

}  // namespace

std::pair<Tensor, Tensor> scaled_dot_product_attention(const Tensor& q, const Tensor& k,
                                                       const Tensor& v, double scale) {
  const char* name = "scaled_dot_product_attention";
  ops::check_same_device(name, {&q, &k, &v});
  ops::check_floating(name, q);
  HEED_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), name, ": q, k and v must share a ",
             "dtype, got ", q.dtype(), ", ", k.dtype(), " and ", v.dtype());
  HEED_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, name,
             ": expected q, k and v of shape (B, heads, n, d), got ", shape_str(q.shape()), ", ",
             shape_str(k.shape()), " and ", shape_str(v.shape()));
  const int64_t B = q.size(0), H = q.size(1), nq = q.size(2), d = q.size(3);
  const int64_t nk = k.size(2), dv = v.size(3);
  HEED_CHECK(k.size(0) == B && v.size(0) == B && k.size(1) == H && v.size(1) == H &&
                 k.size(3) == d && v.size(2) == nk,
             name, ": q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), " and v ",
             shape_str(v.shape()),
             " disagree (need q (B, h, nq, d), k (B, h, nk, d), v (B, h, nk, dv))");
  HEED_CHECK(nk > 0 && d > 0 && dv > 0, name, ": keys, d and dv must be positive, got k ",
             shape_str(k.shape()), " and v ", shape_str(v.shape()));
  HEED_CHECK(std::isfinite(scale), name, ": scale must be finite, got ", scale);

  Tensor qc = rows_ready(q.detach()), kc = rows_ready(k.detach()), vc = rows_ready(v.detach());
  Tensor out = heads_interleaved(B, H, nq, dv, q);
  Tensor probs = empty({B, H, nq, nk}, {q.dtype(), q.device()});
  if (out.numel() > 0) backend_of(q).attention(out, probs, qc, kc, vc, scale);
  if (any_requires_grad({&q, &k, &v}))
    record(name, {q, k, v}, out, [qc, kc, vc, probs, scale](const Tensor& g, const Needs& n) {
      const int64_t B = qc.size(0), H = qc.size(1);
      Tensor gq = n[0] ? heads_interleaved(B, H, qc.size(2), qc.size(3), qc) : Tensor();
      Tensor gk = n[1] ? heads_interleaved(B, H, kc.size(2), kc.size(3), kc) : Tensor();
      Tensor gv = n[2] ? heads_interleaved(B, H, vc.size(2), vc.size(3), vc) : Tensor();
      if (qc.size(2) == 0) {  // no queries: nothing flows back
        for (Tensor* t : {&gq, &gk, &gv})
          if (t->defined()) t->zero_();
      } else if (g.numel() > 0) {
        backend_of(g).attention_backward(gq, gk, gv, rows_ready(g), probs, qc, kc, vc, scale);
      }
      return std::vector{gq, gk, gv};
    });
  return {out, probs};
}

}  // namespace heed

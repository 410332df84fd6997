// Indexing ops: index_select, gather, embedding. Every index is checked here,
// with the op's own message, before a kernel reads it; the backward passes
// accumulate with index_add / scatter_add kernels that are safe under
// repeated indices.
//   index_select: dx = zeros_like(x).index_add_(dim, index, g)
//   gather:       dx = zeros_like(x).scatter_add_(dim, index, g)
//   embedding:    dW = zeros_like(W).index_add_(0, indices.flatten(), g.view(-1, D)),
//                 with the padding_idx row zeroed
#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using Needs = std::vector<bool>;

namespace {

void check_index_tensor(const char* op, const Tensor& x, const Tensor& index) {
  ops::check_same_device(op, {&x, &index});
  HEED_CHECK(index.dtype() == kInt64, op, ": index must be int64, got ", index.dtype(),
             " of shape ", shape_str(index.shape()));
}

// Throws describe(value) for the first value of `index` outside [0, size).
template <typename Describe>
void check_range(const Tensor& index, int64_t size, Describe describe) {
  Tensor h = ops::contiguous_data(index.device().is_cpu() ? index : index.to(kCPU));
  const int64_t* p = h.data_ptr<int64_t>();
  const int64_t n = h.numel();
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= (p[i] >= 0) & (p[i] < size);  // branch-free, vectorizes
  if (ok) return;
  for (int64_t i = 0; i < n; ++i)
    if (p[i] < 0 || p[i] >= size) HEED_FAIL(describe(p[i]));
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim_in, const Tensor& index) {
  check_index_tensor("index_select", x, index);
  HEED_CHECK(index.dim() <= 1, "index_select: index must be 1-D, got shape ",
             shape_str(index.shape()));
  HEED_CHECK(x.dim() >= 1, "index_select: input must have at least one dim, got a 0-d tensor");
  const int64_t dim = wrap_dim(dim_in, x.dim(), "index_select");
  const int64_t size = x.shape()[size_t(dim)];
  check_range(index, size, [&](int64_t v) {
    return detail::concat("index_select: index ", v, " is out of range for dimension ", dim,
                          " of size ", size, " (input shape ", shape_str(x.shape()), ")");
  });
  Tensor idx = ops::contiguous_data(index);
  Shape out_shape = x.shape();
  out_shape[size_t(dim)] = idx.numel();
  Tensor out = empty(out_shape, {x.dtype(), x.device()});
  backend_of(x).index_select(out, x, dim, idx);
  if (any_requires_grad({&x})) {
    Shape in_shape = x.shape();
    record("index_select", {x}, out, [in_shape, idx, dim](const Tensor& g, const Needs&) {
      Tensor gx = zeros(in_shape, {g.dtype(), g.device()});
      backend_of(g).index_add(gx, dim, idx, g);
      return std::vector{gx};
    });
  }
  return out;
}

Tensor gather(const Tensor& x_in, int64_t dim_in, const Tensor& index_in) {
  check_index_tensor("gather", x_in, index_in);
  HEED_CHECK(index_in.dim() == x_in.dim(), "gather: index has ", index_in.dim(),
             " dims but input has ", x_in.dim(), " (they must match); index shape ",
             shape_str(index_in.shape()), ", input shape ", shape_str(x_in.shape()));
  // 0-d input and index act as 1-element vectors.
  const bool scalar = x_in.dim() == 0;
  Tensor x = scalar ? reshape(x_in, {1}) : x_in;
  Tensor index = scalar ? index_in.reshape({1}) : index_in;
  const int64_t dim = wrap_dim(dim_in, x.dim(), "gather");
  for (int64_t d = 0; d < x.dim(); ++d)
    HEED_CHECK(d == dim || index.shape()[size_t(d)] <= x.shape()[size_t(d)], "gather: index shape ",
               shape_str(index.shape()), " is larger than input shape ", shape_str(x.shape()),
               " in dimension ", d, " (only dimension ", dim, " may differ)");
  const int64_t size = x.shape()[size_t(dim)];
  check_range(index, size, [&](int64_t v) {
    return detail::concat("gather: index ", v, " is out of range for dimension ", dim, " of size ",
                          size, " (input shape ", shape_str(x.shape()), ")");
  });
  Tensor idx = ops::contiguous_data(index);
  Tensor out = empty(idx.shape(), {x.dtype(), x.device()});
  backend_of(x).gather(out, x, dim, idx);
  if (any_requires_grad({&x})) {
    Shape in_shape = x.shape();
    record("gather", {x}, out, [in_shape, idx, dim](const Tensor& g, const Needs&) {
      Tensor gx = zeros(in_shape, {g.dtype(), g.device()});
      backend_of(g).scatter_add(gx, dim, idx, g);
      return std::vector{gx};
    });
  }
  return scalar ? reshape(out, {}) : out;
}

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx) {
  check_index_tensor("embedding", weight, indices);
  HEED_CHECK(weight.dim() == 2,
             "embedding: weight must be 2-D (num_embeddings, embedding_dim), "
             "got shape ",
             shape_str(weight.shape()));
  ops::check_floating("embedding", weight);
  const int64_t num = weight.shape()[0], D = weight.shape()[1];
  std::optional<int64_t> pad;
  if (padding_idx) {
    HEED_CHECK(*padding_idx >= -num && *padding_idx < num, "embedding: padding_idx ", *padding_idx,
               " is out of range for ", num, " embeddings");
    pad = *padding_idx < 0 ? *padding_idx + num : *padding_idx;
  }
  check_range(indices, num, [&](int64_t v) {
    return detail::concat("embedding: index ", v, " is out of range for ", num,
                          " embeddings (weight shape ", shape_str(weight.shape()), ")");
  });
  Tensor ic = ops::contiguous_data(indices);
  const int64_t n = ic.numel();
  Tensor flat = ops::raw_view(ic, {n}, {1}, ic.offset());  // (n)
  Shape out_shape = indices.shape();
  out_shape.push_back(D);
  Tensor out = empty(out_shape, {weight.dtype(), weight.device()});  // (*, D)
  backend_of(weight).index_select(ops::raw_view(out, {n, D}, {D, 1}, 0), weight, 0, flat);
  if (any_requires_grad({&weight})) {
    Shape w_shape = weight.shape();
    record("embedding", {weight}, out, [w_shape, flat, pad, n, D](const Tensor& g, const Needs&) {
      Tensor gc = ops::contiguous_data(g);
      Tensor gw = zeros(w_shape, {g.dtype(), g.device()});  // (num, D)
      backend_of(g).index_add(gw, 0, flat, ops::raw_view(gc, {n, D}, {D, 1}, gc.offset()));
      // The padding row gets no gradient, however often it was looked up.
      if (pad) backend_of(gw).fill(ops::raw_view(gw, {D}, {1}, *pad * D), 0.0);
      return std::vector{gw};
    });
  }
  return out;
}

}  // namespace heed

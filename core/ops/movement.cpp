// Shape ops. Views (reshape of contiguous data, permute, transpose, narrow,
// slice, select, expand, squeeze, unsqueeze) share storage; cat, stack, pad,
// repeat and non-viewable reshapes copy. Each backward is the inverse move.
#include <algorithm>
#include <numeric>

#include "core/ops/internal.h"

namespace heed {

using autograd::any_requires_grad;
using autograd::record;
using ops::raw_view;
using Needs = std::vector<bool>;

namespace {

// Resolves one -1 in `shape` against numel; checks the element count.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      HEED_CHECK(infer < 0, op, ": only one dimension can be -1 in ", shape_str(shape));
      infer = int64_t(i);
    } else {
      HEED_CHECK(out[i] >= 0, op, ": invalid dimension ", out[i], " in ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    HEED_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(shape),
               " is invalid for input of shape ", shape_str(from));
    out[size_t(infer)] = numel / known;
  }
  HEED_CHECK(numel_of(out) == numel, op, ": shape ", shape_str(shape),
             " is invalid for input of shape ", shape_str(from), " (", numel, " elements)");
  return out;
}

// Strides for viewing x with `shape` without copying, if possible (PyTorch's
// computeStride: works when each group of merged/split dims is contiguous).
bool view_strides(const Tensor& x, const Shape& shape, Shape& out) {
  if (x.is_contiguous()) {
    out = contiguous_strides(shape);
    return true;
  }
  const Shape& old_shape = x.shape();
  const Shape& old_strides = x.strides();
  out.assign(shape.size(), 0);
  if (x.numel() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[size_t(d)];
    if (d == 0 || (old_shape[size_t(d - 1)] != 1 &&
                   old_strides[size_t(d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
        out[size_t(view_d)] = view_numel * chunk_base_stride;
        view_numel *= shape[size_t(view_d)];
        view_d--;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = old_strides[size_t(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// Ops that index a dim need one: wrap_dim accepts dim 0 of a 0-d tensor.
void check_has_dims(const char* op, const Tensor& x) {
  HEED_CHECK(x.dim() > 0, op, ": cannot be applied to a 0-dim tensor");
}

Tensor make_view(const char* name, const Tensor& x, const Shape& shape, const Shape& strides,
                 int64_t offset, std::function<Tensor(const Tensor&)> backward) {
  Tensor out = raw_view(x, shape, strides, offset);
  if (any_requires_grad({&x}))
    record(name, {x}, out, [backward = std::move(backward)](const Tensor& g, const Needs&) {
      return std::vector{backward(g)};
    });
  return out;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  Shape s = infer_shape(shape, x.numel(), "view", x.shape());
  Shape strides;
  HEED_CHECK(view_strides(x, s, strides), "view: size ", shape_str(s),
             " is not compatible with input of shape ", shape_str(x.shape()), " and strides ",
             shape_str(x.strides()), "; use reshape");
  Shape in_shape = x.shape();
  return make_view("reshape", x, s, strides, x.offset(),
                   [in_shape](const Tensor& g) { return reshape(g, in_shape); });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = infer_shape(shape, x.numel(), "reshape", x.shape());
  Shape strides;
  if (view_strides(x, s, strides)) return view(x, s);
  return view(contiguous(x), s);
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).copy(out, x);
  if (any_requires_grad({&x}))
    record("contiguous", {x}, out, [](const Tensor& g, const Needs&) { return std::vector{g}; });
  return out;
}

Tensor permute(const Tensor& x, const Shape& dims) {
  int64_t n = x.dim();
  HEED_CHECK(int64_t(dims.size()) == n, "permute: got ", dims.size(), " dims ", shape_str(dims),
             " for a tensor of ", n, " dims");
  Shape perm(dims.size()), inverse(dims.size());
  std::vector<bool> seen(size_t(n), false);
  Shape shape(static_cast<size_t>(n)), strides(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[size_t(i)], n, "permute");
    HEED_CHECK(!seen[size_t(d)], "permute: dim ", d, " repeats in ", shape_str(dims));
    seen[size_t(d)] = true;
    perm[size_t(i)] = d;
    inverse[size_t(d)] = i;
    shape[size_t(i)] = x.shape()[size_t(d)];
    strides[size_t(i)] = x.strides()[size_t(d)];
  }
  return make_view("permute", x, shape, strides, x.offset(),
                   [inverse](const Tensor& g) { return permute(g, inverse); });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  int64_t n = x.dim();
  d0 = wrap_dim(d0, n, "transpose");
  d1 = wrap_dim(d1, n, "transpose");
  if (n == 0) return x;
  Shape perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[size_t(d0)], perm[size_t(d1)]);
  return permute(x, perm);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  check_has_dims("slice", x);
  dim = wrap_dim(dim, x.dim(), "slice");
  HEED_CHECK(step > 0, "slice: step must be positive, got ", step);
  int64_t size = x.shape()[size_t(dim)];
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  int64_t len = (end - start + step - 1) / step;
  Shape shape = x.shape(), strides = x.strides();
  shape[size_t(dim)] = len;
  strides[size_t(dim)] *= step;
  int64_t offset = x.offset() + start * x.strides()[size_t(dim)];
  Shape in_shape = x.shape();
  return make_view("slice", x, shape, strides, offset,
                   [in_shape, dim, start, end, step](const Tensor& g) {
                     Tensor gi = zeros(in_shape, {g.dtype(), g.device()});
                     gi.slice(dim, start, end, step).copy_(g);
                     return gi;
                   });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_has_dims("narrow", x);
  dim = wrap_dim(dim, x.dim(), "narrow");
  int64_t size = x.shape()[size_t(dim)];
  if (start < 0) start += size;
  HEED_CHECK(start >= 0 && length >= 0 && start + length <= size, "narrow: start ", start,
             " + length ", length, " exceeds dimension ", dim, " of size ", size, " (shape ",
             shape_str(x.shape()), ")");
  return slice(x, dim, start, start + length);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_has_dims("select", x);
  dim = wrap_dim(dim, x.dim(), "select");
  int64_t size = x.shape()[size_t(dim)];
  HEED_CHECK(index >= -size && index < size, "select: index ", index,
             " is out of range for dimension ", dim, " of size ", size);
  if (index < 0) index += size;
  return squeeze(narrow(x, dim, index, 1), dim);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  size_t n = shape.size(), m = size_t(x.dim());
  HEED_CHECK(n >= m, "expand: the target shape ", shape_str(shape), " has fewer dims than ",
             shape_str(x.shape()));
  Shape out_shape(n), strides(n, 0);
  for (size_t i = 0; i < n; ++i) {
    int64_t target = shape[i];
    if (i < n - m) {
      HEED_CHECK(target >= 0, "expand: -1 is not allowed for a new leading dim in ",
                 shape_str(shape));
      out_shape[i] = target;
      continue;
    }
    size_t j = i - (n - m);
    int64_t d = x.shape()[j];
    if (target == -1) target = d;
    HEED_CHECK(target >= 0, "expand: invalid size ", target, " at dim ", i, " in ",
               shape_str(shape));
    HEED_CHECK(d == target || d == 1, "expand: the expanded size ", target,
               " must match the existing size ", d, " at dim ", i, " (", shape_str(x.shape()),
               " to ", shape_str(shape), ")");
    out_shape[i] = target;
    strides[i] = d == target ? x.strides()[j] : 0;
  }
  if (out_shape == x.shape()) return x;
  Shape in_shape = x.shape();
  return make_view("expand", x, out_shape, strides, x.offset(),
                   [in_shape](const Tensor& g) { return sum_to(g, in_shape); });
}

Tensor squeeze(const Tensor& x) {
  Shape shape, strides;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (x.shape()[size_t(i)] == 1) continue;
    shape.push_back(x.shape()[size_t(i)]);
    strides.push_back(x.strides()[size_t(i)]);
  }
  Shape in_shape = x.shape();
  return make_view("squeeze", x, shape, strides, x.offset(),
                   [in_shape](const Tensor& g) { return reshape(g, in_shape); });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "squeeze");
  if (x.dim() == 0) return x;
  if (x.shape()[size_t(dim)] != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return make_view("squeeze", x, shape, strides, x.offset(),
                   [dim](const Tensor& g) { return unsqueeze(g, dim); });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t st = size_t(dim) < strides.size() ? strides[size_t(dim)] * shape[size_t(dim)] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, st);
  return make_view("unsqueeze", x, shape, strides, x.offset(),
                   [dim](const Tensor& g) { return squeeze(g, dim); });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = wrap_dim(start_dim, x.dim(), "flatten");
  end_dim = wrap_dim(end_dim, x.dim(), "flatten");
  HEED_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape shape;
  for (int64_t i = 0; i < start_dim; ++i) shape.push_back(x.shape()[size_t(i)]);
  int64_t merged = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) merged *= x.shape()[size_t(i)];
  shape.push_back(merged);
  for (int64_t i = end_dim + 1; i < x.dim(); ++i) shape.push_back(x.shape()[size_t(i)]);
  return reshape(x, shape);
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  HEED_CHECK(!xs.empty(), "cat: expected a non-empty list of tensors");
  const Tensor& first = xs[0];
  for (size_t i = 0; i < xs.size(); ++i)
    HEED_CHECK(xs[i].dim() > 0, "cat: tensor ", i, " is 0-dim and cannot be concatenated");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  DType dtype = first.dtype();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    HEED_CHECK(x.dim() == first.dim(), "cat: tensor ", i, " has ", x.dim(),
               " dims but tensor 0 has ", first.dim());
    HEED_CHECK(x.device() == first.device(), "cat: tensor ", i, " is on ", x.device(),
               " but tensor 0 is on ", first.device());
    for (int64_t d = 0; d < x.dim(); ++d)
      HEED_CHECK(d == dim || x.shape()[size_t(d)] == shape[size_t(d)],
                 "cat: sizes must match "
                 "except in dim ",
                 dim, "; tensor ", i, " has shape ", shape_str(x.shape()), ", tensor 0 has ",
                 shape_str(first.shape()));
    dtype = ops::promote(dtype, x.dtype());
    total += x.shape()[size_t(dim)];
  }
  shape[size_t(dim)] = total;
  Tensor out = empty(shape, {dtype, first.device()});
  std::vector<int64_t> sizes;
  int64_t off = 0;
  for (const Tensor& x : xs) {
    int64_t len = x.shape()[size_t(dim)];
    sizes.push_back(len);
    Shape st = out.strides();
    Tensor dst = raw_view(out, x.shape(), st, off * out.strides()[size_t(dim)]);
    backend_of(out).copy(dst, x);
    off += len;
  }
  if (any_requires_grad(xs)) {
    std::vector<DType> dtypes;
    for (const Tensor& x : xs) dtypes.push_back(x.dtype());
    autograd::record("cat", xs, std::vector<Tensor>{out},
                     [sizes, dim, dtypes](const std::vector<Tensor>& g, const Needs& n) {
                       std::vector<Tensor> parts = split(g[0], sizes, dim);
                       for (size_t i = 0; i < parts.size(); ++i)
                         parts[i] = n[i] ? parts[i].to(dtypes[i]) : Tensor();
                       return parts;
                     });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  HEED_CHECK(!xs.empty(), "stack: expected a non-empty list of tensors");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    HEED_CHECK(xs[i].shape() == xs[0].shape(),
               "stack: all tensors must have the same shape; "
               "tensor ",
               i, " has ", shape_str(xs[i].shape()), ", tensor 0 has ", shape_str(xs[0].shape()));
    parts.push_back(unsqueeze(xs[i], dim));
  }
  return cat(parts, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_has_dims("split", x);
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    HEED_CHECK(s >= 0, "split: negative size ", s);
    total += s;
  }
  HEED_CHECK(total == x.shape()[size_t(dim)], "split: sizes sum to ", total, " but dimension ", dim,
             " has size ", x.shape()[size_t(dim)]);
  std::vector<Tensor> out;
  int64_t off = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, dim, off, s));
    off += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  HEED_CHECK(split_size > 0, "split: split_size must be positive, got ", split_size);
  check_has_dims("split", x);
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t size = x.shape()[size_t(dim)];
  std::vector<int64_t> sizes;
  for (int64_t off = 0; off < size; off += split_size)
    sizes.push_back(std::min(split_size, size - off));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, dim);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  HEED_CHECK(chunks > 0, "chunk: number of chunks must be positive, got ", chunks);
  check_has_dims("chunk", x);
  dim = wrap_dim(dim, x.dim(), "chunk");
  int64_t size = x.shape()[size_t(dim)];
  // An empty dim still gives `chunks` (empty) pieces, as PyTorch.
  if (size == 0) return split(x, std::vector<int64_t>(size_t(chunks), 0), dim);
  return split(x, std::max<int64_t>((size + chunks - 1) / chunks, 1), dim);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  HEED_CHECK(pads.size() % 2 == 0 && int64_t(pads.size()) / 2 <= x.dim(), "pad: ", pads.size(),
             " padding values for a tensor of ", x.dim(), " dims (need an even count, at most ",
             2 * x.dim(), ")");
  Shape shape = x.shape();
  std::vector<int64_t> lo(size_t(x.dim()), 0);
  for (size_t i = 0; i < pads.size() / 2; ++i) {
    size_t d = size_t(x.dim()) - 1 - i;
    lo[d] = pads[2 * i];
    shape[d] += pads[2 * i] + pads[2 * i + 1];
    HEED_CHECK(shape[d] >= 0, "pad: negative output size in dim ", d);
  }
  // Negative pads crop: take the overlapping region of input and output.
  Tensor out = full(shape, value, {x.dtype(), x.device()});
  Tensor src = x, dst = out;
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t l = lo[size_t(d)];
    int64_t in_start = std::max<int64_t>(0, -l), out_start = std::max<int64_t>(0, l);
    int64_t len = std::min(x.shape()[size_t(d)] - in_start, shape[size_t(d)] - out_start);
    HEED_CHECK(len >= 0, "pad: padding crops away dim ", d, " entirely");
    src = src.detach().narrow(d, in_start, len);
    dst = dst.detach().narrow(d, out_start, len);
  }
  backend_of(out).copy(dst, src);
  if (any_requires_grad({&x})) {
    Shape in_shape = x.shape();
    record("pad", {x}, out, [lo, in_shape, shape](const Tensor& g, const Needs&) {
      Tensor r = g;
      for (int64_t d = 0; d < int64_t(in_shape.size()); ++d) {
        int64_t l = lo[size_t(d)];
        int64_t in_start = std::max<int64_t>(0, -l), out_start = std::max<int64_t>(0, l);
        int64_t len = std::min(in_shape[size_t(d)] - in_start, shape[size_t(d)] - out_start);
        r = narrow(r, d, out_start, len);
        if (len != in_shape[size_t(d)]) {
          std::vector<int64_t> p(2 * (in_shape.size() - size_t(d)), 0);
          p[p.size() - 2] = in_start;
          p[p.size() - 1] = in_shape[size_t(d)] - in_start - len;
          r = pad(r, p, 0.0);
        }
      }
      return std::vector{contiguous(r)};
    });
  }
  return out;
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  HEED_CHECK(int64_t(repeats.size()) >= x.dim(), "repeat: number of repeat dims (", repeats.size(),
             ") can not be smaller than the tensor's dims (", x.dim(), ")");
  // View x as (1, s0, 1, s1, ...), expand the 1s to the repeats, then merge.
  size_t lead = repeats.size() - size_t(x.dim());
  Shape padded(lead, 1);
  padded.insert(padded.end(), x.shape().begin(), x.shape().end());
  Shape inter, expanded, final_shape;
  for (size_t i = 0; i < repeats.size(); ++i) {
    HEED_CHECK(repeats[i] >= 0, "repeat: negative repeat ", repeats[i]);
    inter.push_back(1);
    inter.push_back(padded[i]);
    expanded.push_back(repeats[i]);
    expanded.push_back(padded[i]);
    final_shape.push_back(repeats[i] * padded[i]);
  }
  // clone, not contiguous: the result is always a new tensor, as in PyTorch,
  // even when every repeat is 1.
  return reshape(expand(reshape(x, inter), expanded).clone(), final_shape);
}

}  // namespace heed

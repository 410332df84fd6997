#include "core/tensor.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/backend.h"
#include "core/cuda/cuda.h"
#include "core/ops/ops.h"

namespace heed {
namespace {
std::atomic<int64_t> g_live_tensors{0};
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> storage_, Shape shape_, Shape strides_,
                       int64_t offset_, DType dtype_)
    : storage(std::move(storage_)),
      shape(std::move(shape_)),
      strides(std::move(strides_)),
      offset(offset_),
      dtype(dtype_) {
  g_live_tensors.fetch_add(1, std::memory_order_relaxed);
}

TensorImpl::~TensorImpl() {
  g_live_tensors.fetch_sub(1, std::memory_order_relaxed);
  autograd::release_node(std::move(grad_fn));
}

int64_t live_tensor_count() {
  return g_live_tensors.load();
}

namespace {
// x itself when contiguous, else a contiguous copy on its device (not recorded).
Tensor contiguous_data_of(const Tensor& x) {
  if (x.is_contiguous()) return x.detach();
  Tensor out = empty(x.shape(), {x.dtype(), x.device()});
  backend_of(x).copy(out, x);
  return out;
}
}  // namespace

// wrap_dim accepts dim 0 / -1 for a 0-d tensor (as reductions do); size and
// stride must not, there is no such entry.
int64_t Tensor::size(int64_t d) const {
  HEED_CHECK(dim() > 0, "size: dim ", d, " specified but the tensor has no dimensions");
  return shape()[size_t(wrap_dim(d, dim(), "size"))];
}
int64_t Tensor::stride(int64_t d) const {
  HEED_CHECK(dim() > 0, "stride: dim ", d, " specified but the tensor has no dimensions");
  return strides()[size_t(wrap_dim(d, dim(), "stride"))];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked();
  if (numel() == 0) return true;  // nothing to lay out (as PyTorch)
  int64_t expected = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked();
  return static_cast<char*>(t.storage->data()) + t.offset * int64_t(heed::element_size(t.dtype));
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = detach().to(kCPU).to(dtype_of<T>()).contiguous();
  const T* p = static_cast<const T*>(c.raw_data());
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

double Tensor::item() const {
  HEED_CHECK(numel() == 1, "item: the tensor has ", numel(), " elements (shape ",
             shape_str(shape()), "); only one-element tensors can be converted to a scalar");
  return to_vector<double>()[0];
}

Tensor& Tensor::requires_grad_(bool on) {
  HEED_CHECK(is_leaf(),
             "requires_grad_: only leaf tensors can change requires_grad; use "
             "detach() first");
  HEED_CHECK(!on || is_floating_point(),
             "requires_grad_: only floating-point tensors can "
             "require grad, this one is ",
             dtype());
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  return Tensor(checked().grad);
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined())
    HEED_CHECK(g.shape() == shape(), "set_grad: gradient shape ", shape_str(g.shape()),
               " differs from the tensor's ", shape_str(shape()));
  impl_->grad = g.impl_ptr();
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  return Tensor(std::make_shared<TensorImpl>(t.storage, t.shape, t.strides, t.offset, t.dtype));
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  Tensor g = gradient;
  if (!g.defined()) {
    HEED_CHECK(numel() == 1,
               "backward: grad can be implicitly created only for one-element "
               "outputs; this tensor has shape ",
               shape_str(shape()), ", pass a gradient");
    g = ones(shape(), {dtype(), device()});
  }
  autograd::run_backward({*this}, {g}, retain_graph);
}

Tensor Tensor::contiguous() const {
  return heed::contiguous(*this);
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), {dtype(), device()});
  backend_of(*this).copy(out, *this);
  if (autograd::any_requires_grad({this}))
    autograd::record("clone", {*this}, out,
                     [](const Tensor& g, const std::vector<bool>&) { return std::vector{g}; });
  return out;
}

Tensor Tensor::to(DType t) const {
  return t == dtype() ? *this : cast(*this, t);
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  // A contiguous copy on the source device, then one transfer of its bytes.
  Tensor src = contiguous_data_of(*this);
  Tensor out = empty(shape(), {dtype(), d});
  if (numel() > 0)
    cuda::copy_bytes(out.raw_data(), d, src.raw_data(), device(), size_t(numel()) * element_size());
  if (autograd::any_requires_grad({this}))
    autograd::record("to", {*this}, out,
                     [from = device()](const Tensor& g, const std::vector<bool>&) {
                       return std::vector{g.to(from)};
                     });
  return out;
}

Tensor Tensor::reshape(const Shape& s) const {
  return heed::reshape(*this, s);
}
Tensor Tensor::view(const Shape& s) const {
  return heed::view(*this, s);
}
Tensor Tensor::transpose(int64_t a, int64_t b) const {
  return heed::transpose(*this, a, b);
}
Tensor Tensor::permute(const Shape& d) const {
  return heed::permute(*this, d);
}
Tensor Tensor::narrow(int64_t d, int64_t s, int64_t l) const {
  return heed::narrow(*this, d, s, l);
}
Tensor Tensor::slice(int64_t d, int64_t s, int64_t e, int64_t st) const {
  return heed::slice(*this, d, s, e, st);
}
Tensor Tensor::select(int64_t d, int64_t i) const {
  return heed::select(*this, d, i);
}
Tensor Tensor::expand(const Shape& s) const {
  return heed::expand(*this, s);
}
Tensor Tensor::squeeze() const {
  return heed::squeeze(*this);
}
Tensor Tensor::squeeze(int64_t d) const {
  return heed::squeeze(*this, d);
}
Tensor Tensor::unsqueeze(int64_t d) const {
  return heed::unsqueeze(*this, d);
}
Tensor Tensor::flatten(int64_t s, int64_t e) const {
  return heed::flatten(*this, s, e);
}

Tensor Tensor::sum() const {
  return heed::sum(*this);
}
Tensor Tensor::sum(const Shape& d, bool k) const {
  return heed::sum(*this, d, k);
}
Tensor Tensor::mean() const {
  return heed::mean(*this);
}
Tensor Tensor::mean(const Shape& d, bool k) const {
  return heed::mean(*this, d, k);
}
Tensor Tensor::exp() const {
  return heed::exp(*this);
}
Tensor Tensor::log() const {
  return heed::log(*this);
}
Tensor Tensor::sqrt() const {
  return heed::sqrt(*this);
}
Tensor Tensor::abs() const {
  return heed::abs(*this);
}
Tensor Tensor::pow(double e) const {
  return heed::pow(*this, e);
}
Tensor Tensor::relu() const {
  return heed::relu(*this);
}
Tensor Tensor::sigmoid() const {
  return heed::sigmoid(*this);
}
Tensor Tensor::tanh() const {
  return heed::tanh(*this);
}
Tensor Tensor::matmul(const Tensor& o) const {
  return heed::matmul(*this, o);
}
Tensor Tensor::softmax(int64_t d) const {
  return heed::softmax(*this, d);
}
Tensor Tensor::log_softmax(int64_t d) const {
  return heed::log_softmax(*this, d);
}
Tensor Tensor::argmax(int64_t d, bool k) const {
  return heed::argmax(*this, d, k);
}

void Tensor::check_inplace(const char* op) const {
  HEED_CHECK(!(requires_grad() && grad_mode_enabled()), op,
             ": in-place update of a tensor that requires grad; wrap it in NoGradGuard "
             "(optimizers do) or use the out-of-place op");
}

Tensor& Tensor::zero_() {
  return fill_(0.0);
}

Tensor& Tensor::fill_(double value) {
  check_inplace("fill_");
  backend_of(*this).fill(*this, value);
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace("copy_");
  // Across devices: move the source here first (one transfer), then copy in place.
  Tensor s = src.device() == device() ? src.detach() : src.detach().to(device());
  backend_of(*this).copy(*this, s.expand(shape()));
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  check_inplace("add_");
  Tensor o = other.detach().to(dtype());
  backend_of(*this).binary(BinaryOp::Add, *this, detach(), o.expand(shape()), {alpha, 0});
  return *this;
}

Tensor& Tensor::mul_(double value) {
  check_inplace("mul_");
  backend_of(*this).unary(UnaryOp::MulScalar, *this, detach(), {value, 0});
  return *this;
}

// ---------------------------------------------------------------- factories

Tensor empty(const Shape& shape, TensorOptions o) {
  for (int64_t d : shape)
    HEED_CHECK(d >= 0, "empty: negative dimension in shape ", shape_str(shape));
  int64_t n = numel_of(shape);
  auto storage = std::make_shared<Storage>(size_t(n) * element_size(o.dtype), o.device);
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, contiguous_strides(shape),
                                             0, o.dtype));
}

Tensor full(const Shape& shape, double value, TensorOptions o) {
  Tensor t = empty(shape, o);
  backend_of(t).fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions o) {
  return full(shape, 0.0, o);
}
Tensor ones(const Shape& shape, TensorOptions o) {
  return full(shape, 1.0, o);
}
Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), {t.dtype(), t.device()});
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), {t.dtype(), t.device()});
}
Tensor ones_like(const Tensor& t) {
  return ones(t.shape(), {t.dtype(), t.device()});
}
Tensor full_like(const Tensor& t, double v) {
  return full(t.shape(), v, {t.dtype(), t.device()});
}

Tensor arange(double end, TensorOptions o) {
  return arange(0, end, 1, o);
}

Tensor arange(double start, double end, double step, TensorOptions o) {
  HEED_CHECK(step != 0, "arange: step must be nonzero");
  HEED_CHECK((end - start) / step >= 0, "arange: upper bound and step are inconsistent (start ",
             start, ", end ", end, ", step ", step, ")");
  auto n = int64_t(std::ceil((end - start) / step));
  std::vector<double> v(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = start + double(i) * step;
  return from_vector(v).to(o.dtype).to(o.device);
}

template <typename T>
Tensor from_blob(const T* data, const Shape& shape) {
  Tensor t = empty(shape, dtype_of<T>());
  if (t.numel() > 0) std::memcpy(t.raw_data(), data, size_t(t.numel()) * sizeof(T));
  return t;
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  HEED_CHECK(int64_t(values.size()) == numel_of(shape), "from_vector: ", values.size(),
             " values do not fill shape ", shape_str(shape));
  if constexpr (std::is_same_v<T, bool>) {
    Tensor t = empty(shape, kBool);
    auto* p = t.data_ptr<bool>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
    return t;
  } else {
    return from_blob(values.data(), shape);
  }
}

template Tensor from_blob<float>(const float*, const Shape&);
template Tensor from_blob<double>(const double*, const Shape&);
template Tensor from_blob<int64_t>(const int64_t*, const Shape&);
template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&);

Tensor tensor(std::initializer_list<double> values, TensorOptions o) {
  return from_vector(std::vector<double>(values)).to(o.dtype).to(o.device);
}

Tensor scalar_tensor(double value, TensorOptions o) {
  return full({}, value, o);
}

}  // namespace heed

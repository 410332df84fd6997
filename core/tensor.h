// Tensor: a cheap handle (shared ownership) to a TensorImpl, which holds a
// view (shape, strides, offset in elements) into a shared Storage, plus the
// autograd fields. Views share storage; ops in core/ops create new tensors.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace heed {

namespace autograd {
class Node;
}

struct TensorOptions {
  DType dtype = kFloat32;
  Device device = kCPU;
  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}  // NOLINT: zeros({2}, kFloat64) reads well
  TensorOptions(Device d) : device(d) {}  // NOLINT
  TensorOptions(DType t, Device d) : dtype(t), device(d) {}
};

class Tensor;

struct TensorImpl {
  TensorImpl(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset,
             DType dtype);
  ~TensorImpl();
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype;

  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;  // set on non-leaf outputs of recorded ops
  uint32_t output_nr = 0;                   // which output of grad_fn this is
};

// Number of TensorImpl objects alive (for leak tests).
int64_t live_tensor_count();

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // --- metadata
  const Shape& shape() const { return checked().shape; }
  const Shape& strides() const { return checked().strides; }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return int64_t(shape().size()); }
  int64_t numel() const { return numel_of(shape()); }
  int64_t offset() const { return checked().offset; }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  size_t element_size() const { return heed::element_size(dtype()); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  std::string str() const;  // printed like PyTorch's repr

  // Raw pointer to the first element of this view (device memory for CUDA tensors).
  void* raw_data() const;
  // Typed pointer; checks the dtype and that the tensor lives on the CPU.
  template <typename T>
  T* data_ptr() const {
    HEED_CHECK(dtype() == dtype_of<T>(), "data_ptr: tensor is ", dtype(), ", asked for ",
               dtype_name(dtype_of<T>()));
    HEED_CHECK(device().is_cpu(), "data_ptr: the tensor is on ", device(),
               "; host code needs .to(kCPU) first");
    return static_cast<T*>(raw_data());
  }
  // Copies the elements (in logical order) into a vector of T (converting).
  template <typename T>
  std::vector<T> to_vector() const;
  double item() const;  // single-element tensors
  template <typename T>
  T item() const {
    return static_cast<T>(item());
  }

  // --- autograd
  bool requires_grad() const { return checked().requires_grad; }
  // Marks a leaf as requiring grad; returns *this.
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  // A new tensor sharing storage, cut from the graph.
  Tensor detach() const;
  // Reverse-mode differentiation from this tensor. `gradient` defaults to 1
  // for a single-element tensor.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;

  // --- conversions and copies (recorded by autograd)
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // --- views (share storage; recorded by autograd)
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // like reshape, but never copies
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const Shape& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // --- common ops as methods (defined in core/ops)
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(double exponent) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;

  // --- in-place, not recorded by autograd (optimizers, initialisers, loaders)
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // src is broadcast to this shape; dtype/device converted
  Tensor& add_(const Tensor& other, double alpha = 1.0);
  Tensor& mul_(double value);

 private:
  const TensorImpl& checked() const {
    HEED_CHECK(impl_ != nullptr, "tensor: use of an undefined tensor");
    return *impl_;
  }
  void check_inplace(const char* op) const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---------------------------------------------------------------- factories

Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) in steps; float32 by default like torch.arange with a float start.
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});

// Copies `n` elements of type T into a new tensor of `shape` (converted to options.dtype
// when given, else of T's dtype).
template <typename T>
Tensor from_blob(const T* data, const Shape& shape);
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
template <typename T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{int64_t(values.size())});
}
// tensor({1, 2, 3}) is float32; tensor({1, 2}, kInt64) converts.
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
Tensor scalar_tensor(double value, TensorOptions options = {});

}  // namespace heed

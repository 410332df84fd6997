// Device dispatch, in one place: the backend (kernels) and the allocator
// (memory) of a device. CUDA devices go to core/cuda, which throws a clear
// error when heed was built without CUDA or the device is absent.
#include "core/backend.h"

#include "core/cpu/cpu_backend.h"
#include "core/cuda/cuda.h"
#include "core/tensor.h"

namespace heed {

Backend& backend(Device device) {
  static cpu::CpuBackend cpu_backend;
  if (device.is_cpu()) return cpu_backend;
  return cuda::backend(device.index);
}

void Backend::sum_of_products(const Tensor& out, const Tensor& a, const Tensor& b,
                              const std::vector<int64_t>& dims) {
  Tensor product = empty(a.shape(), {a.dtype(), a.device()});
  binary(BinaryOp::Mul, product, a, b, {1, 0});
  reduce(ReduceOp::Sum, out, product, dims);
}

void Backend::batch_norm_relu(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                              const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const Tensor& residual, const Tensor& running_mean,
                              const Tensor& running_var, bool training, double momentum,
                              double eps) {
  batch_norm(out, save_mean, save_invstd, input, weight, bias, running_mean, running_var, training,
             momentum, eps);
  if (residual.defined())
    binary(BinaryOp::AddRelu, out, out, residual, {});
  else
    unary(UnaryOp::Relu, out, out, {});
}

void Backend::batch_norm_relu_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                       const Tensor& grad_bias, const Tensor& grad_residual,
                                       const Tensor& grad_out, const Tensor& output,
                                       const Tensor& input, const Tensor& weight,
                                       const Tensor& save_mean, const Tensor& save_invstd,
                                       bool training) {
  Tensor masked = grad_through_relu(grad_out, output, grad_residual);
  batch_norm_backward(grad_input, grad_weight, grad_bias, masked, input, weight, save_mean,
                      save_invstd, training);
}

namespace {

// The dims a gate is broadcast over in x: its gradient sums over them.
std::vector<int64_t> broadcast_dims(const Tensor& gate, const Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (gate.size(d) == 1 && x.size(d) != 1) dims.push_back(d);
  return dims;
}

}  // namespace

void Backend::gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& gate,
                            const Tensor& residual) {
  binary(BinaryOp::Mul, out, x, gate.expand(x.shape()), {1, 0});
  binary(BinaryOp::AddRelu, out, out, residual, {1, 0});
}

void Backend::gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                     const Tensor& grad_residual, const Tensor& grad_out,
                                     const Tensor& out, const Tensor& x, const Tensor& gate) {
  Tensor gm = grad_through_relu(grad_out, out, grad_residual);
  if (grad_x.defined()) binary(BinaryOp::Mul, grad_x, gm, gate.expand(x.shape()), {1, 0});
  if (grad_gate.defined()) sum_of_products(grad_gate, gm, x, broadcast_dims(gate, x));
}

Tensor Backend::grad_through_relu(const Tensor& grad_out, const Tensor& output,
                                  const Tensor& into) {
  Tensor masked =
      into.defined() ? into : empty(grad_out.shape(), {grad_out.dtype(), grad_out.device()});
  binary(BinaryOp::ReluBackward, masked, grad_out, output, {});
  return masked;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu::cpu_allocator();
  return cuda::allocator(device.index);
}

}  // namespace heed

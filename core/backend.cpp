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

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu::cpu_allocator();
  return cuda::allocator(device.index);
}

}  // namespace heed

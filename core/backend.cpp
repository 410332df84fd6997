// Device dispatch, in one place: the backend (kernels) and the allocator
// (memory) of a device. CUDA devices go to core/cuda, which throws a clear
// error when heed was built without CUDA or the device is absent.
#include "core/backend.h"

#include "core/cpu/cpu_backend.h"
#include "core/cuda/cuda.h"

namespace heed {

Backend& backend(Device device) {
  static cpu::CpuBackend cpu_backend;
  if (device.is_cpu()) return cpu_backend;
  return cuda::backend(device.index);
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu::cpu_allocator();
  return cuda::allocator(device.index);
}

}  // namespace heed

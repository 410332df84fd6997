#include "core/backend.h"

#include "core/cpu/cpu_backend.h"

namespace heed {

Backend& backend(Device device) {
  static cpu::CpuBackend cpu_backend;
  if (device.is_cpu()) return cpu_backend;
  HEED_FAIL("backend: device ", device, " is not available (heed was built without CUDA)");
}

}  // namespace heed

// heed::cuda without CUDA: nothing is available, everything that needs a
// device says so. Compiled only when HEED_CUDA_ENABLED is OFF.
#include "core/check.h"
#include "core/cuda/cuda.h"

namespace heed::cuda {
namespace {
constexpr const char* kReason =
    "heed was built without CUDA support (HEED_WITH_CUDA=OFF or no nvcc)";
}

bool is_available() {
  return false;
}
int device_count() {
  return 0;
}
std::string unavailable_reason() {
  return kReason;
}
void synchronize(int) {}
AllocatorStats memory_stats(int) {
  return {};
}
void empty_cache(int) {}
void set_allocator_guards(bool) {}
int64_t guard_violations() {
  return 0;
}
std::string last_guard_violation() {
  return "";
}

Backend& backend(int device) {
  HEED_FAIL("backend: device cuda:", device, " is not available (", kReason, ")");
}

Allocator& allocator(int device) {
  HEED_FAIL("allocator: device cuda:", device, " is not available (", kReason, ")");
}

void copy_bytes(void*, Device dst_device, const void*, Device src_device, size_t) {
  HEED_FAIL("to: cannot copy from ", src_device, " to ", dst_device, " (", kReason, ")");
}

}  // namespace heed::cuda

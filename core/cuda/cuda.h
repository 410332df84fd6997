// The CUDA device API that every build has: with HEED_WITH_CUDA off (or no
// driver, or no GPU) is_available() is false and device_count() is 0, and
// everything that needs a device throws a heed::Error saying why.
#pragma once

#include <cstddef>
#include <string>

#include "core/allocator.h"
#include "core/device.h"

namespace heed {
class Backend;
}

namespace heed::cuda {

// True when heed was built with CUDA and at least one device is usable.
bool is_available();
// Devices the driver reports (0 without a driver; never throws).
int device_count();
// Why is_available() is false ("" when it is true), in one line.
std::string unavailable_reason();
// Waits for the work queued on `device` (every device when -1).
void synchronize(int device = -1);

// The caching allocator's numbers for one device, and a way to give its
// cached blocks back to the driver.
AllocatorStats memory_stats(int device = 0);
void empty_cache(int device = 0);

// Testing aid: with guards on, every new allocation gets 256 sentinel bytes
// on both sides and its contents filled with 0xFF (NaN as floats), and each
// free checks the sentinels. guard_violations() counts blocks whose
// sentinels were overwritten (kernel overruns); the last one is described by
// last_guard_violation().
void set_allocator_guards(bool on);
int64_t guard_violations();
std::string last_guard_violation();

// --- internal plumbing for core (backend dispatch, storage, Tensor::to)
Backend& backend(int device);
Allocator& allocator(int device);
// Copies nbytes between two devices (either may be the CPU); waits until done.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

}  // namespace heed::cuda

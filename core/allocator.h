// Memory for tensor storage. The CPU allocator caches freed blocks by size so
// a training loop reuses the same memory every step instead of paying mmap
// page faults for each large activation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace heed {

struct AllocatorStats {
  int64_t allocated_bytes = 0;  // in live tensors
  int64_t reserved_bytes = 0;   // allocated + cached
  int64_t peak_allocated_bytes = 0;
  int64_t system_allocations = 0;  // calls that reached the system allocator
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void empty_cache() = 0;
};

Allocator& allocator_for(Device device);

}  // namespace heed

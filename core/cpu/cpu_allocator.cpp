// Caching CPU allocator: 64-byte aligned blocks, freed blocks kept in
// per-size free lists (sizes rounded up to a class) and reused.
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "core/allocator.h"
#include "core/check.h"
#include "core/cpu/cpu_backend.h"

namespace heed {
namespace {

constexpr size_t kAlignment = 64;

// Rounds to a size class: multiples of 64 bytes up to 4 KiB, then steps of
// 1/8 of the next power of two, so reuse works without wasting over 12.5 %.
size_t size_class(size_t n) {
  if (n <= 4096) return (n + 63) & ~size_t(63);
  size_t p = 1;
  while (p < n) p <<= 1;
  size_t step = p / 8;
  return (n + step - 1) / step * step;
}

class CpuAllocator final : public Allocator {
 public:
  ~CpuAllocator() override { empty_cache(); }

  void* allocate(size_t nbytes) override {
    size_t cls = size_class(nbytes == 0 ? 1 : nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(cls);
    void* p = nullptr;
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      cached_ -= cls;
    } else {
      p = std::aligned_alloc(kAlignment, cls);
      HEED_CHECK(p != nullptr, "cpu allocator: out of memory allocating ", cls, " bytes (",
                 stats_.allocated_bytes, " bytes in use)");
      stats_.system_allocations++;
      stats_.reserved_bytes += cls;
    }
    stats_.allocated_bytes += cls;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes)
      stats_.peak_allocated_bytes = stats_.allocated_bytes;
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    size_t cls = size_class(nbytes == 0 ? 1 : nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.allocated_bytes -= cls;
    free_[cls].push_back(ptr);
    cached_ += cls;
  }

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [cls, blocks] : free_) {
      for (void* p : blocks) std::free(p);
      stats_.reserved_bytes -= int64_t(cls * blocks.size());
    }
    free_.clear();
    cached_ = 0;
  }

 private:
  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
  AllocatorStats stats_;
};

}  // namespace

Allocator& cpu::cpu_allocator() {
  // Leaked on purpose: tensors in static objects may outlive any static allocator.
  static CpuAllocator* a = new CpuAllocator();
  return *a;
}

}  // namespace heed

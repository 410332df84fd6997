// The caching CUDA allocator, one per device. cudaMalloc and cudaFree are
// slow and synchronising, so freed blocks are kept in per-size-class bins
// and handed out again: after the first step of a training loop every
// allocation is served from the bins, with no driver call. Blocks are reused
// in stream order (one stream per device), so a block freed while a kernel
// still reads it is only rewritten by later work on the same stream.
//
// Size classes: multiples of 512 bytes up to 1 MiB, then steps of 1/8 of the
// next power of two (at most 12.5 % waste).
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/cuda/cuda.h"
#include "core/cuda/runtime.h"

namespace heed::cuda {
namespace {

constexpr size_t kGuard = 256;  // sentinel bytes on each side in guard mode
constexpr unsigned char kSentinel = 0xCD;

size_t size_class(size_t n) {
  if (n <= (size_t(1) << 20)) return (n + 511) & ~size_t(511);
  size_t p = 1;
  while (p < n) p <<= 1;
  const size_t step = p / 8;
  return (n + step - 1) / step * step;
}

std::string mib(int64_t bytes) {
  return detail::concat(bytes, " bytes (", double(bytes) / (1024.0 * 1024.0), " MiB)");
}

std::atomic<bool> g_guards{false};
std::atomic<int64_t> g_violations{0};
std::mutex g_violation_mu;
std::string g_last_violation;

class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}

  void* allocate(size_t nbytes) override {
    const bool guard = g_guards.load();
    const size_t want = guard ? nbytes + 2 * kGuard : nbytes;
    const size_t cls = size_class(want == 0 ? 1 : want);
    Ctx ctx = context(device_);
    void* base = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        base = it->second.back();
        it->second.pop_back();
      } else {
        base = system_alloc(cls);
      }
      stats_.allocated_bytes += int64_t(cls);
      if (stats_.allocated_bytes > stats_.peak_allocated_bytes)
        stats_.peak_allocated_bytes = stats_.allocated_bytes;
      if (!guard) return base;
    }
    char* b = static_cast<char*>(base);
    void* user = b + kGuard;
    HEED_CUDA_CHECK(cudaMemsetAsync(b, kSentinel, kGuard, ctx.stream));
    HEED_CUDA_CHECK(cudaMemsetAsync(user, 0xFF, nbytes, ctx.stream));  // NaN: unwritten shows
    HEED_CUDA_CHECK(cudaMemsetAsync(b + kGuard + nbytes, kSentinel, kGuard, ctx.stream));
    std::lock_guard<std::mutex> lock(mu_);
    guarded_[user] = {base, nbytes, cls};
    return user;
  }

  // Never throws: it runs in Storage's destructor.
  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    void* base = ptr;
    size_t cls = size_class(nbytes == 0 ? 1 : nbytes);
    Guarded g{};
    bool guarded = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = guarded_.find(ptr);
      if (it != guarded_.end()) {
        g = it->second;
        guarded = true;
        base = g.base;
        cls = g.cls;
        guarded_.erase(it);
      }
    }
    if (guarded) check_guards(g);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.allocated_bytes -= int64_t(cls);
    free_[cls].push_back(base);
  }

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached();
  }

 private:
  struct Guarded {
    void* base;
    size_t nbytes, cls;
  };

  // Called with mu_ held. On out-of-memory, frees the cache and tries once more.
  void* system_alloc(size_t cls) {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, cls);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached();
      err = cudaMalloc(&p, cls);
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      HEED_FAIL("cuda allocator: out of memory on cuda:", device_, " allocating ",
                mib(int64_t(cls)), "; allocated ", mib(stats_.allocated_bytes), ", reserved ",
                mib(stats_.reserved_bytes), ", peak ", mib(stats_.peak_allocated_bytes), ", ",
                stats_.system_allocations, " cudaMalloc calls; the device has ",
                mib(int64_t(free_b)), " free of ", mib(int64_t(total_b)));
    }
    HEED_CUDA_CHECK(err);
    stats_.system_allocations++;
    stats_.reserved_bytes += int64_t(cls);
    return p;
  }

  // Called with mu_ held.
  void release_cached() {
    for (auto& [cls, blocks] : free_) {
      for (void* p : blocks) {
        if (cudaFree(p) != cudaSuccess) cudaGetLastError();  // e.g. after runtime shutdown
      }
      stats_.reserved_bytes -= int64_t(cls * blocks.size());
    }
    free_.clear();
  }

  void check_guards(const Guarded& g) {
    unsigned char head[kGuard], tail[kGuard];
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess ||
        (cur != device_ && cudaSetDevice(device_) != cudaSuccess)) {
      cudaGetLastError();
      return;
    }
    // Synchronous copies: they wait for the kernels that may have overrun.
    const char* b = static_cast<const char*>(g.base);
    if (cudaDeviceSynchronize() != cudaSuccess ||
        cudaMemcpy(head, b, kGuard, cudaMemcpyDeviceToHost) != cudaSuccess ||
        cudaMemcpy(tail, b + kGuard + g.nbytes, kGuard, cudaMemcpyDeviceToHost) != cudaSuccess) {
      cudaGetLastError();
      return;
    }
    int64_t before = 0, after = 0;
    for (size_t i = 0; i < kGuard; ++i) {
      before += head[i] != kSentinel;
      after += tail[i] != kSentinel;
    }
    if (before == 0 && after == 0) return;
    g_violations.fetch_add(1);
    std::lock_guard<std::mutex> lock(g_violation_mu);
    g_last_violation =
        detail::concat("block of ", g.nbytes, " bytes on cuda:", device_, ": ", before,
                       " guard bytes overwritten before it, ", after, " after it");
  }

  int device_;
  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, Guarded> guarded_;
  AllocatorStats stats_;
};

CudaAllocator& allocator_of(int device) {
  static std::mutex mu;
  // Leaked on purpose, like the CPU allocator: tensors in static objects may
  // outlive any static allocator.
  static auto* allocators = new std::vector<CudaAllocator*>();
  HEED_CHECK(
      device >= 0 && device < device_count(), "allocator: device cuda:", device,
      " is not available (",
      is_available() ? detail::concat(device_count(), " CUDA devices") : unavailable_reason(), ")");
  std::lock_guard<std::mutex> lock(mu);
  if (allocators->size() <= size_t(device)) allocators->resize(size_t(device) + 1, nullptr);
  CudaAllocator*& a = (*allocators)[size_t(device)];
  if (!a) a = new CudaAllocator(device);
  return *a;
}

}  // namespace

Allocator& allocator(int device) {
  return allocator_of(device);
}

AllocatorStats memory_stats(int device) {
  if (!is_available()) return {};
  return allocator_of(device).stats();
}

void empty_cache(int device) {
  if (!is_available()) return;
  allocator_of(device).empty_cache();
}

void set_allocator_guards(bool on) {
  g_guards.store(on);
}
int64_t guard_violations() {
  return g_violations.load();
}
std::string last_guard_violation() {
  std::lock_guard<std::mutex> lock(g_violation_mu);
  return g_last_violation;
}

}  // namespace heed::cuda

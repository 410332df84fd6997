// Counter-based random fills: element i uses counters (counter + i) — or
// (counter + 2i, counter + 2i + 1) for normals — so any thread split gives
// the same numbers.
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/generator.h"
#include "core/parallel.h"

namespace heed::cpu {

void CpuBackend::fill_uniform(const Tensor& out, uint64_t seed, uint64_t counter, double low,
                              double high) {
  dispatch_floating(out.dtype(), "fill_uniform", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    parallel_for(0, out.numel(), 16384, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        o[i] = T(low + (high - low) * random_unit(seed, counter + uint64_t(i)));
    });
  });
}

void CpuBackend::fill_normal(const Tensor& out, uint64_t seed, uint64_t counter, double mean,
                             double std) {
  dispatch_floating(out.dtype(), "fill_normal", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    parallel_for(0, out.numel(), 8192, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        double u1 = 1.0 - random_unit(seed, counter + 2 * uint64_t(i));  // (0, 1]
        double u2 = random_unit(seed, counter + 2 * uint64_t(i) + 1);
        double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
        o[i] = T(mean + std * z);
      }
    });
  });
}

}  // namespace heed::cpu

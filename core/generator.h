// Seedable random numbers that are the same on every machine and for any
// thread count: counter-based (element i of a draw is a hash of the seed and
// the counter i), so kernels can fill in parallel.
#pragma once

#include <cstdint>

#include "core/random_bits.h"
#include "core/tensor.h"

namespace heed {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    counter_ = 0;
  }
  uint64_t seed() const { return seed_; }
  // Where the next draw starts; saved in checkpoints to resume exactly.
  uint64_t counter() const { return counter_; }
  void set_state(uint64_t seed, uint64_t counter) {
    seed_ = seed;
    counter_ = counter;
  }
  // Reserves n counters and returns the first.
  uint64_t advance(uint64_t n) {
    uint64_t c = counter_;
    counter_ += n;
    return c;
  }
  // Scalar draws for host-side code (shuffles, augmentation).
  uint64_t next_u64();
  double next_double();  // [0, 1)
  int64_t next_int(int64_t n);  // [0, n)

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

// The generator used when none is given; heed::manual_seed resets it.
Generator& default_generator();
void manual_seed(uint64_t seed);

// random_bits(seed, counter) and random_unit(seed, counter), the hash behind
// every draw, are in core/random_bits.h (shared with the CUDA kernels).

Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
// Integers in [low, high) as int64.
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen = nullptr);
Tensor randperm(int64_t n, Generator* gen = nullptr);
// In-place fills, not recorded by autograd (initialisers use them).
Tensor& uniform_(Tensor& t, double low, double high, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean, double std, Generator* gen = nullptr);

}  // namespace heed

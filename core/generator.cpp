#include "core/generator.h"

#include "core/backend.h"
#include "core/ops/ops.h"

namespace heed {

uint64_t Generator::next_u64() { return random_bits(seed_, advance(1)); }
double Generator::next_double() { return random_unit(seed_, advance(1)); }

int64_t Generator::next_int(int64_t n) {
  HEED_CHECK(n > 0, "Generator::next_int: n must be positive, got ", n);
  // Rejection sampling: no modulo bias.
  uint64_t un = uint64_t(n);
  uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  for (;;) {
    uint64_t r = next_u64();
    if (r < limit) return int64_t(r % un);
  }
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {
Generator& pick(Generator* g) { return g ? *g : default_generator(); }
}  // namespace

Tensor& uniform_(Tensor& t, double low, double high, Generator* gen) {
  HEED_CHECK(t.is_floating_point(), "uniform_: needs a floating tensor, got ", t.dtype());
  HEED_CHECK(t.is_contiguous(), "uniform_: needs a contiguous tensor");
  Generator& g = pick(gen);
  backend_of(t).fill_uniform(t, g.seed(), g.advance(uint64_t(t.numel())), low, high);
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  HEED_CHECK(t.is_floating_point(), "normal_: needs a floating tensor, got ", t.dtype());
  HEED_CHECK(t.is_contiguous(), "normal_: needs a contiguous tensor");
  HEED_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
  Generator& g = pick(gen);
  // Box-Muller uses two draws per element.
  backend_of(t).fill_normal(t, g.seed(), g.advance(2 * uint64_t(t.numel())), mean, std);
  return t;
}

Tensor rand(const Shape& shape, TensorOptions o, Generator* gen) {
  Tensor t = empty(shape, o);
  return uniform_(t, 0.0, 1.0, gen);
}

Tensor randn(const Shape& shape, TensorOptions o, Generator* gen) {
  Tensor t = empty(shape, o);
  return normal_(t, 0.0, 1.0, gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen) {
  HEED_CHECK(high > low, "randint: empty range [", low, ", ", high, ")");
  Generator& g = pick(gen);
  Tensor t = empty(shape, kInt64);
  int64_t* p = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = low + g.next_int(high - low);
  return t;
}

Tensor randperm(int64_t n, Generator* gen) {
  HEED_CHECK(n >= 0, "randperm: n must be >= 0, got ", n);
  Generator& g = pick(gen);
  Tensor t = empty({n}, kInt64);
  int64_t* p = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.next_int(i + 1)]);  // Fisher-Yates
  return t;
}

}  // namespace heed

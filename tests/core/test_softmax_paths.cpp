// The vectorised float32 softmax rows (core/cpu/softmax_f32*) against the
// float64 kernel on every ISA: short rows (65, the ViT-tiny attention), rows
// shorter than a vector, long rows, -inf entries and NaN, forward and backward.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"

using namespace heed;
using heed::cpu::Isa;
using heed::cpu::IsaCapGuard;

namespace {

const Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

Tensor random_input(const Shape& shape, uint64_t seed, double scale = 4) {
  manual_seed(seed);
  Tensor t = empty(shape);
  uniform_(t, -scale, scale);
  return t;
}

void check_close(const Tensor& got, const Tensor& want, double tol) {
  auto g = got.to_vector<float>();
  auto w = want.to_vector<double>();
  size_t bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const bool ok = std::isnan(w[i]) ? std::isnan(g[i])
                    : std::isinf(w[i])
                        ? double(g[i]) == w[i]
                        : std::abs(double(g[i]) - w[i]) <= tol * (1 + std::abs(w[i]));
    if (!ok && bad++ == 0) UNSCOPED_INFO("at " << i << ": " << g[i] << " vs " << w[i]);
  }
  CHECK(bad == 0);
}

void check_softmax(const Tensor& x, bool log) {
  cpu::CpuBackend be;
  const int64_t dim = x.dim() - 1;
  Tensor x64 = x.to(kFloat64);
  Tensor y = empty(x.shape()), y64 = empty(x.shape(), {kFloat64});
  be.softmax(y, x, dim, log);
  be.softmax(y64, x64, dim, log);
  check_close(y, y64, 1e-6);
  Tensor g = random_input(x.shape(), 99, 1);
  Tensor gx = empty(x.shape()), gx64 = empty(x.shape(), {kFloat64});
  // The backward of both runs from the float64 forward, so only the kernel differs.
  be.softmax_backward(gx, g, y64.to(kFloat32), dim, log);
  be.softmax_backward(gx64, g.to(kFloat64), y64, dim, log);
  check_close(gx, gx64, 2e-6);
}

}  // namespace

TEST_CASE("float32 softmax rows match float64 on every ISA", "[softmax_paths]") {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor masked = random_input({6, 65}, 3);
  for (int64_t j = 40; j < 65; ++j) masked.data_ptr<float>()[65 + j] = -inf;
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    for (bool log : {false, true}) {
      INFO("isa " << cpu::isa_name(cpu::cpu_isa()) << " log " << log);
      check_softmax(random_input({2, 3, 7, 65}, 1), log);
      check_softmax(random_input({9, 5}, 2), log);
      check_softmax(random_input({3, 1000}, 4, 30), log);
      check_softmax(random_input({4, 1}, 5), log);
      check_softmax(masked, log);
    }
  }
}

TEST_CASE("float32 softmax rows: NaN and all -inf rows give NaN", "[softmax_paths]") {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = random_input({3, 20}, 6);
  x.data_ptr<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  for (int64_t j = 0; j < 20; ++j) x.data_ptr<float>()[20 + j] = -inf;
  cpu::CpuBackend be;
  for (Isa isa : kIsas) {
    IsaCapGuard cap(isa);
    INFO("isa " << cpu::isa_name(cpu::cpu_isa()));
    Tensor y = empty(x.shape());
    be.softmax(y, x, 1, false);
    auto v = y.to_vector<float>();
    for (int64_t j = 0; j < 40; ++j) CHECK(std::isnan(v[size_t(j)]));
    double s = 0;
    for (int64_t j = 40; j < 60; ++j) s += v[size_t(j)];
    CHECK(s == Approx(1.0).epsilon(1e-6));
  }
}

// Element-wise ops: values (hand-computed), broadcasting, promotion, errors,
// and their gradcheck cases.
#include <catch2/catch.hpp>

#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {
using In = std::vector<Tensor>;
}

TEST_CASE("add/sub/mul/div broadcast like NumPy", "[elementwise]") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}).reshape({2, 3});
  Tensor b = tensor({10, 20, 30});
  CHECK((a + b).to_vector<float>() == std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK((a - b).to_vector<float>() == std::vector<float>{-9, -18, -27, -6, -15, -24});
  CHECK((a * tensor({2}).reshape({1, 1})).to_vector<float>() ==
        std::vector<float>{2, 4, 6, 8, 10, 12});
  CHECK((b / tensor({10, 5}).reshape({2, 1})).shape() == Shape{2, 3});
  CHECK_THROWS_WITH(a + tensor({1, 2}),
                    Catch::Contains("add: shapes [2, 3] and [2] cannot be broadcast"));
}

TEST_CASE("mixed dtypes promote to the wider float", "[elementwise]") {
  Tensor a = tensor({1.5}, kFloat32), b = tensor({2}, kFloat64);
  CHECK((a * b).dtype() == kFloat64);
  CHECK((a * b).item() == 3.0);
  CHECK((tensor({1, 2}, kInt64) + tensor({0.5})).dtype() == kFloat32);
}

TEST_CASE("comparisons return bool and where selects", "[elementwise]") {
  Tensor a = tensor({1, 5, 3});
  Tensor m = a > 2.0;
  CHECK(m.dtype() == kBool);
  CHECK(m.to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(where(m, a, zeros({})).to_vector<float>() == std::vector<float>{0, 5, 3});
}

TEST_CASE("unary math matches the C library", "[elementwise]") {
  Tensor x = tensor({0.25, 1.0, 4.0}, kFloat64);
  std::vector<double> s = sqrt(x).to_vector<double>();
  CHECK(s == std::vector<double>{0.5, 1.0, 2.0});
  CHECK(rsqrt(x).to_vector<double>() == std::vector<double>{2.0, 1.0, 0.5});
  CHECK(exp(x).to_vector<double>()[1] == std::exp(1.0));
  CHECK(log(x).to_vector<double>()[2] == std::log(4.0));
  CHECK(clamp(tensor({-2, 0.5, 3}), -1.0, 1.0).to_vector<float>() ==
        std::vector<float>{-1, 0.5, 1});
  CHECK(pow(tensor({2, 3}), 3.0).to_vector<float>() == std::vector<float>{8, 27});
  CHECK(maximum(tensor({1, 5}), tensor({3, 2})).to_vector<float>() == std::vector<float>{3, 5});
}

// --- gradcheck cases
HEED_GRADCHECK_CASE({"add", "broadcast",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, -1, 1, 2)};
                     },
                     [](const In& i) { return add(i[0], i[1], 0.5); }});
HEED_GRADCHECK_CASE({"add", "strided",
                     [] {
                       return In{gc_strided_input({3, 4}), gc_input({3, 1}, -1, 1, 2)};
                     },
                     [](const In& i) { return i[0] + i[1]; }});
HEED_GRADCHECK_CASE({"sub", "broadcast",
                     [] {
                       return In{gc_input({2, 1, 3}), gc_input({4, 1}, -1, 1, 2)};
                     },
                     [](const In& i) { return i[0] - i[1]; }});
HEED_GRADCHECK_CASE({"mul", "broadcast+strided",
                     [] {
                       return In{gc_strided_input({3, 2}), gc_input({2}, -1, 1, 2)};
                     },
                     [](const In& i) { return i[0] * i[1]; }});
HEED_GRADCHECK_CASE({"div", "broadcast",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, 0.5, 2, 2)};
                     },
                     [](const In& i) { return i[0] / i[1]; }});
HEED_GRADCHECK_CASE({"neg", "", [] { return In{gc_input({4})}; },
                     [](const In& i) { return -i[0]; }});
HEED_GRADCHECK_CASE({"pow", "tensor exponent",
                     [] {
                       return In{gc_input({2, 3}, 0.5, 2), gc_input({3}, -1, 2, 2)};
                     },
                     [](const In& i) { return pow(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"pow_scalar", "x^2.5", [] { return In{gc_input({5}, 0.5, 2)}; },
                     [](const In& i) { return pow(i[0], 2.5); }});
HEED_GRADCHECK_CASE({"exp", "",
                     [] {
                       return In{gc_input({2, 2})};
                     },
                     [](const In& i) { return exp(i[0]); }});
HEED_GRADCHECK_CASE({"log", "", [] { return In{gc_input({5}, 0.2, 3)}; },
                     [](const In& i) { return log(i[0]); }});
HEED_GRADCHECK_CASE({"sqrt", "", [] { return In{gc_input({5}, 0.2, 3)}; },
                     [](const In& i) { return sqrt(i[0]); }});
HEED_GRADCHECK_CASE({"rsqrt", "", [] { return In{gc_input({5}, 0.2, 3)}; },
                     [](const In& i) { return rsqrt(i[0]); }});
HEED_GRADCHECK_CASE({"abs", "away from 0", [] { return In{gc_input_away_from({6}, {0})}; },
                     [](const In& i) { return abs(i[0]); }});
HEED_GRADCHECK_CASE({"sin", "", [] { return In{gc_input({5}, -3, 3)}; },
                     [](const In& i) { return sin(i[0]); }});
HEED_GRADCHECK_CASE({"cos", "", [] { return In{gc_input({5}, -3, 3)}; },
                     [](const In& i) { return cos(i[0]); }});
HEED_GRADCHECK_CASE({"clamp", "away from bounds",
                     [] {
                       return In{gc_input_away_from({8}, {-0.5, 0.7})};
                     },
                     [](const In& i) { return clamp(i[0], -0.5, 0.7); }});
HEED_GRADCHECK_CASE({"maximum", "broadcast",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, -1, 1, 7)};
                     },
                     [](const In& i) { return maximum(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"minimum", "broadcast",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, -1, 1, 7)};
                     },
                     [](const In& i) { return minimum(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"where", "broadcast",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, -1, 1, 3)};
                     },
                     [](const In& i) { return where(i[0] > 0.0, i[0], i[1]); }});
HEED_GRADCHECK_CASE({"add_scalar", "", [] { return In{gc_input({3})}; },
                     [](const In& i) { return i[0] + 2.0; }});
HEED_GRADCHECK_CASE({"mul_scalar", "", [] { return In{gc_input({3})}; },
                     [](const In& i) { return i[0] * -3.0; }});
HEED_GRADCHECK_CASE({"rsub_scalar", "", [] { return In{gc_input({3})}; },
                     [](const In& i) { return 1.0 - i[0]; }});
HEED_GRADCHECK_CASE({"rdiv_scalar", "", [] { return In{gc_input({3}, 0.5, 2)}; },
                     [](const In& i) { return 2.0 / i[0]; }});
HEED_GRADCHECK_CASE({"cast",
                     "f64->f32->f64",
                     [] { return In{gc_input({3})}; },
                     // Linear through float32: a wide eps keeps float32 rounding out of the
                     // finite difference.
                     [](const In& i) { return i[0].to(kFloat32).to(kFloat64) * 2.0; },
                     {1e-2, 1e-4, 1e-3, 0}});

// A contiguous operand coalesces into one run; the loop splits it into blocks
// shared by the threads. Every element must be computed exactly once, the
// short last block included.
TEST_CASE("element-wise ops over one long contiguous run split across threads", "[elementwise]") {
  const int threads = get_num_threads();
  const int64_t n = 3 * 32768 + 11;
  Tensor a = randn({n}, kFloat64), b = randn({n}, kFloat64);
  const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    INFO(t << " threads");
    const std::vector<double> sum = add(a, b).to_vector<double>();
    const std::vector<double> rel = relu(a).to_vector<double>();
    Tensor filled = empty({n}, kFloat64);
    filled.fill_(2.5);
    const std::vector<double> fv = filled.to_vector<double>();
    bool all_equal = true;
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = size_t(i);
      all_equal &= sum[k] == av[k] + bv[k] && rel[k] == (av[k] > 0 ? av[k] : 0.0) && fv[k] == 2.5;
    }
    CHECK(all_equal);
  }
  set_num_threads(threads);
}

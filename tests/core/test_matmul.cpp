// matmul and linear: hand-computed values, every rank combination against a
// naive triple loop, broadcasting, strided operands, errors, and their
// gradcheck cases. The comparison with PyTorch's numbers (golden fixtures) is
// in test_conv.cpp, which loads tests/fixtures/conv/golden.txt.
#include <catch2/catch.hpp>

#include <array>

#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// The slow, readable reference: c[i, j] = Σ_p a[i, p] · b[p, j] for one
// pair of contiguous row-major matrices.
std::vector<double> naive_mm(const std::vector<double>& a, const std::vector<double>& b, int64_t m,
                             int64_t k, int64_t n) {
  std::vector<double> c(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        c[size_t(i * n + j)] += a[size_t(i * k + p)] * b[size_t(p * n + j)];
  return c;
}

// torch.matmul by hand for a (..., m, k) · b (..., k, n) with the batch dims
// broadcast (both at least 2-D here; 1-D cases are tested on their own).
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, Shape& out_shape) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "naive");
  out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {m, k});
  sb.insert(sb.end(), {k, n});
  std::vector<double> av = a.expand(sa).contiguous().to_vector<double>();
  std::vector<double> bv = b.expand(sb).contiguous().to_vector<double>();
  std::vector<double> out;
  for (int64_t i = 0; i < numel_of(batch); ++i) {
    std::vector<double> am(av.begin() + i * m * k, av.begin() + (i + 1) * m * k);
    std::vector<double> bm(bv.begin() + i * k * n, bv.begin() + (i + 1) * k * n);
    std::vector<double> cm = naive_mm(am, bm, m, k, n);
    out.insert(out.end(), cm.begin(), cm.end());
  }
  return out;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

// matmul(a, b) against the naive loop: the shape, then the values to tol.
void check_matmul_against_naive(const Tensor& a, const Tensor& b, double tol) {
  Shape want_shape;
  const std::vector<double> want = naive_matmul(a, b, want_shape);
  const Tensor got = matmul(a, b);
  CHECK(got.shape() == want_shape);
  check_close(got.to_vector<double>(), want, tol);
}

}  // namespace

TEST_CASE("matmul of small matrices by hand", "[matmul]") {
  // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]]
  //   = [[1·7 + 2·9 + 3·11, 1·8 + 2·10 + 3·12], [4·7 + 5·9 + 6·11, 4·8 + 5·10 + 6·12]]
  //   = [[58, 64], [139, 154]]
  Tensor a = tensor({1, 2, 3, 4, 5, 6}).reshape({2, 3});
  Tensor b = tensor({7, 8, 9, 10, 11, 12}).reshape({3, 2});
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 2});
  CHECK(c.to_vector<float>() == std::vector<float>{58, 64, 139, 154});
  // The method form, and float64.
  CHECK(a.to(kFloat64).matmul(b.to(kFloat64)).to_vector<double>() ==
        std::vector<double>{58, 64, 139, 154});
  // aᵀ as a transposed view (read with a trans flag, no copy):
  // [[1, 4], [2, 5], [3, 6]] · [[1, 2, 3], [4, 5, 6]] = [[17, 22, 27], [22, 29, 36], [27, 36, 45]]
  CHECK(matmul(a.t(), a).to_vector<float>() ==
        std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45});
}

TEST_CASE("matmul with 1-D operands", "[matmul]") {
  Tensor v = tensor({1, 2, 3}), w = tensor({4, 5, 6});
  Tensor dot = matmul(v, w);  // 1·4 + 2·5 + 3·6 = 32
  CHECK(dot.dim() == 0);
  CHECK(dot.item() == 32);
  Tensor m = tensor({1, 2, 3, 4, 5, 6}).reshape({2, 3});
  // (2, 3) · (3): [1·1 + 2·2 + 3·3, 4·1 + 5·2 + 6·3] = [14, 32]
  Tensor mv = matmul(m, v);
  CHECK(mv.shape() == Shape{2});
  CHECK(mv.to_vector<float>() == std::vector<float>{14, 32});
  // (2) · (2, 3): [1·1 + 2·4, 1·2 + 2·5, 1·3 + 2·6] = [9, 12, 15]
  Tensor vm = matmul(tensor({1, 2}), m);
  CHECK(vm.shape() == Shape{3});
  CHECK(vm.to_vector<float>() == std::vector<float>{9, 12, 15});
  // 1-D with a batched operand: (3) · (2, 3, 1) -> (2, 1); (2, 1, 3) · (3) -> (2, 1).
  Tensor bt = arange(6).reshape({2, 3, 1});  // [[0, 1, 2], [3, 4, 5]] as columns
  CHECK(matmul(v, bt).shape() == Shape{2, 1});
  CHECK(matmul(v, bt).to_vector<float>() == std::vector<float>{8, 26});  // 0+2+6, 3+8+15
  CHECK(matmul(bt.reshape({2, 1, 3}), v).to_vector<float>() == std::vector<float>{8, 26});
}

TEST_CASE("matmul matches the naive loop for every rank combination", "[matmul]") {
  struct Case {
    Shape a, b;
  };
  std::vector<Case> cases = {
      {{3, 4}, {4, 5}},
      {{2, 3, 4}, {4, 5}},
      {{3, 4}, {2, 4, 5}},
      {{2, 3, 4}, {2, 4, 5}},
      {{2, 1, 3, 4}, {5, 4, 6}},
      {{1, 3, 4}, {2, 4, 2}},
      {{2, 2, 3, 4}, {2, 1, 4, 2}},
      {{0, 3, 4}, {4, 2}},
      {{3, 0}, {0, 2}},
  };
  for (DType dt : {kFloat64, kFloat32}) {
    for (const Case& c : cases) {
      INFO(shape_str(c.a) << " · " << shape_str(c.b) << " in " << dtype_name(dt));
      // (randn refuses empty shapes: Tensor::is_contiguous is false for some of them.)
      auto make = [dt](const Shape& sh) { return numel_of(sh) ? randn(sh, dt) : zeros(sh, dt); };
      Tensor a = make(c.a), b = make(c.b);
      check_matmul_against_naive(a, b, dt == kFloat64 ? 1e-12 : 1e-5);
    }
  }
  // The example: (2, 1, 3, 4) · (5, 4, 6) -> (2, 5, 3, 6).
  CHECK(matmul(zeros({2, 1, 3, 4}), zeros({5, 4, 6})).shape() == Shape{2, 5, 3, 6});
  // k = 0: an empty sum is 0.
  CHECK(matmul(ones({3, 0}), ones({0, 2})).to_vector<float>() == std::vector<float>(6, 0));
}

// A batch of small products is split over the thread pool (OpenBLAS on one
// thread per product); each thread count must give the naive loop's values.
TEST_CASE("batched small matmul is right for every thread count", "[matmul]") {
  const int threads = get_num_threads();
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    for (DType dt : {kFloat64, kFloat32}) {
      INFO(t << " threads, " << dtype_name(dt));
      Tensor a = randn({7, 2, 13, 9}, dt), b = randn({7, 2, 13, 9}, dt);
      Tensor bt = b.transpose(-2, -1);  // (7, 2, 9, 13), strided like kᵀ in attention
      check_matmul_against_naive(a, bt, dt == kFloat64 ? 1e-12 : 1e-5);
    }
  }
  set_num_threads(threads);
}

// A large product is split over the pool into blocks of the result's rows
// (or columns, when it is wider than tall), one single-threaded OpenBLAS call
// each: every thread count, both split directions and both transposes of
// each operand must give the naive loop's values.
TEST_CASE("large matmul split over the pool is right for every thread count", "[matmul]") {
  const int threads = get_num_threads();
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    for (DType dt : {kFloat64, kFloat32}) {
      // (m, k, n): 4.7M and 6M multiply-adds, above the batched-small limit.
      for (auto [m, k, n] : {std::array<int64_t, 3>{301, 130, 120}, {100, 300, 203}})
        for (bool ta : {false, true})
          for (bool tb : {false, true}) {
            INFO(t << " threads, " << dtype_name(dt) << ", m " << m << " k " << k << " n " << n
                   << ", trans " << ta << tb);
            Tensor a = ta ? randn({2, k, m}, dt).transpose(-2, -1) : randn({2, m, k}, dt);
            Tensor b = tb ? randn({2, n, k}, dt).transpose(-2, -1) : randn({2, k, n}, dt);
            check_matmul_against_naive(a, b, dt == kFloat64 ? 1e-11 : 1e-4);
          }
    }
  }
  set_num_threads(threads);
}

TEST_CASE("matmul reads strided and broadcast operands correctly", "[matmul]") {
  Tensor a = randn({4, 6}, kFloat64), b = randn({6, 5}, kFloat64);
  Shape s;
  // Transposed views (trans flags), a column-sliced view (ld > cols), a view
  // with both strides > 1 (copied) and an expanded batch (stride 0).
  Tensor at = randn({6, 4}, kFloat64).t();
  check_close(matmul(at, b).to_vector<double>(), naive_matmul(at, b, s), 1e-12);
  Tensor bt = randn({5, 6}, kFloat64).t();
  check_close(matmul(a, bt).to_vector<double>(), naive_matmul(a, bt, s), 1e-12);
  Tensor asl = randn({4, 9}, kFloat64).narrow(1, 2, 6);
  check_close(matmul(asl, b).to_vector<double>(), naive_matmul(asl, b, s), 1e-12);
  Tensor bstep = randn({12, 10}, kFloat64).slice(0, 0, 12, 2).slice(1, 0, 10, 2);  // (6, 5)
  check_close(matmul(a, bstep).to_vector<double>(), naive_matmul(a, bstep, s), 1e-12);
  Tensor ab = a.expand({3, 4, 6});
  Tensor bb = randn({3, 6, 5}, kFloat64);
  check_close(matmul(ab, bb).to_vector<double>(), naive_matmul(ab, bb, s), 1e-12);
  // A permuted batch (batch dims that do not merge) is looped correctly.
  Tensor ap = randn({3, 2, 4, 6}, kFloat64).permute({1, 0, 2, 3});  // (2, 3, 4, 6)
  Tensor bp = randn({2, 3, 6, 5}, kFloat64);
  check_close(matmul(ap, bp).to_vector<double>(), naive_matmul(ap, bp, s), 1e-12);
}

TEST_CASE("matmul errors name the shapes", "[matmul]") {
  CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({4, 5})),
                    Catch::Contains("matmul: shapes [2, 3] and [4, 5] cannot be multiplied "
                                    "(3 != 4)"));
  CHECK_THROWS_WITH(matmul(zeros({3}), zeros({4})),
                    Catch::Contains("matmul: shapes [3] and [4] cannot be multiplied (3 != 4)"));
  CHECK_THROWS_WITH(
      matmul(zeros({2, 3}), zeros({3, 4}, kFloat64)),
      Catch::Contains("matmul: expected the same dtype") && Catch::Contains("float32 and float64"));
  CHECK_THROWS_WITH(matmul(zeros({}), zeros({3})),
                    Catch::Contains("matmul: both arguments need at least 1 dimension, got "
                                    "shapes [] and [3]"));
  CHECK_THROWS_WITH(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
                    Catch::Contains("matmul: batch dims of shapes [2, 2, 3] and [3, 3, 4] "
                                    "cannot be broadcast"));
  CHECK_THROWS_WITH(matmul(zeros({2, 2}, kInt64), zeros({2, 2}, kInt64)),
                    Catch::Contains("matmul: expected a floating-point tensor"));
}

TEST_CASE("matmul backward by hand", "[matmul]") {
  // c = a · b with a (1, 2), b (2, 1); dc/da = bᵀ, dc/db = aᵀ.
  Tensor a = tensor({1, 2}, kFloat64).reshape({1, 2}).requires_grad_();
  Tensor b = tensor({3, 4}, kFloat64).reshape({2, 1}).requires_grad_();
  matmul(a, b).sum().backward();
  CHECK(a.grad().to_vector<double>() == std::vector<double>{3, 4});
  CHECK(b.grad().to_vector<double>() == std::vector<double>{1, 2});
  // Broadcast batch: b (2, 1) shared by 3 batches of a gets the sum of their grads.
  Tensor ab = ones({3, 1, 2}, kFloat64).requires_grad_();
  Tensor bb = tensor({3, 4}, kFloat64).reshape({2, 1}).requires_grad_();
  matmul(ab, bb).sum().backward();
  CHECK(bb.grad().to_vector<double>() == std::vector<double>{3, 3});
  CHECK(ab.grad().to_vector<double>() == std::vector<double>{3, 4, 3, 4, 3, 4});
}

TEST_CASE("linear is x · weightᵀ + bias over the leading dims", "[matmul]") {
  // x = [[1, 2], [3, 4]], weight = [[1, 0], [1, 1], [0, 2]], bias = [10, 20, 30]
  // x · weightᵀ = [[1, 3, 4], [3, 7, 8]]; + bias = [[11, 23, 34], [13, 27, 38]]
  Tensor x = tensor({1, 2, 3, 4}).reshape({2, 2});
  Tensor w = tensor({1, 0, 1, 1, 0, 2}).reshape({3, 2});
  Tensor b = tensor({10, 20, 30});
  CHECK(linear(x, w, b).to_vector<float>() == std::vector<float>{11, 23, 34, 13, 27, 38});
  CHECK(linear(x, w).to_vector<float>() == std::vector<float>{1, 3, 4, 3, 7, 8});
  // 3-D input: the same rows in a (2, 1, 2) shape; 1-D input: one row.
  CHECK(linear(x.reshape({2, 1, 2}), w, b).shape() == Shape{2, 1, 3});
  CHECK(linear(x.reshape({2, 1, 2}), w, b).to_vector<float>() ==
        std::vector<float>{11, 23, 34, 13, 27, 38});
  CHECK(linear(tensor({1, 2}), w, b).to_vector<float>() == std::vector<float>{11, 23, 34});
  // A non-contiguous input (xᵀᵀ via a transposed copy) gives the same.
  Tensor xt = x.t().contiguous().t();
  CHECK(linear(xt, w, b).to_vector<float>() == std::vector<float>{11, 23, 34, 13, 27, 38});
  // Random shapes against matmul.
  Tensor xr = randn({4, 5, 7}, kFloat64), wr = randn({3, 7}, kFloat64), br = randn({3}, kFloat64);
  check_close(linear(xr, wr, br).to_vector<double>(), (matmul(xr, wr.t()) + br).to_vector<double>(),
              1e-12);
}

TEST_CASE("linear backward computes only the needed grads", "[matmul]") {
  Tensor x = randn({2, 3, 4}, kFloat64);
  Tensor w = randn({5, 4}, kFloat64).requires_grad_();
  Tensor b = randn({5}, kFloat64);
  linear(x, w, b).sum().backward();
  CHECK(w.grad().defined());
  CHECK_FALSE(x.grad().defined());
  // d(sum)/dw[o, i] = Σ_rows x[row, i]
  check_close(w.grad().to_vector<double>(),
              x.reshape({6, 4}).sum({0}).expand({5, 4}).contiguous().to_vector<double>(), 1e-12);
}

TEST_CASE("linear errors name the shapes", "[matmul]") {
  CHECK_THROWS_WITH(linear(zeros({2, 3}), zeros({4, 5})),
                    Catch::Contains("linear: input [2, 3] has 3 features but weight [4, 5] "
                                    "expects 5"));
  CHECK_THROWS_WITH(linear(zeros({2, 3}), zeros({4, 3}), zeros({3})),
                    Catch::Contains("linear: bias must have shape [4], got [3]"));
  CHECK_THROWS_WITH(linear(zeros({2, 3}), zeros({3})),
                    Catch::Contains("linear: weight must be 2-D"));
  CHECK_THROWS_WITH(linear(zeros({2, 3}), zeros({4, 3}, kFloat64)),
                    Catch::Contains("linear: expected the same dtype"));
}

// --- gradcheck cases
HEED_GRADCHECK_CASE({"matmul", "1-D · 1-D",
                     [] {
                       return In{gc_input({4}), gc_input({4}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "1-D · 2-D",
                     [] {
                       return In{gc_input({3}), gc_input({3, 4}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "2-D · 1-D",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "2-D · 2-D",
                     [] {
                       return In{gc_input({2, 3}), gc_input({3, 4}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "3-D · 2-D (folded batch)",
                     [] {
                       return In{gc_input({2, 3, 4}), gc_input({4, 2}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "2-D · 3-D",
                     [] {
                       return In{gc_input({3, 4}), gc_input({2, 4, 2}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "1-D · 3-D",
                     [] {
                       return In{gc_input({3}), gc_input({2, 3, 2}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "3-D · 1-D",
                     [] {
                       return In{gc_input({2, 2, 3}), gc_input({3}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "broadcast batch (2,1,3,4)·(5,4,2)",
                     [] {
                       return In{gc_input({2, 1, 3, 4}), gc_input({5, 4, 2}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"matmul", "transposed non-contiguous operand",
                     [] {
                       return In{gc_strided_input({3, 4}), gc_input({2, 4, 3}, -1, 1, 2)};
                     },
                     [](const In& i) { return matmul(i[0], i[1]); }});
HEED_GRADCHECK_CASE(
    {"linear", "with bias",
     [] {
       return In{gc_input({3, 4}), gc_input({2, 4}, -1, 1, 2), gc_input({2}, -1, 1, 3)};
     },
     [](const In& i) { return linear(i[0], i[1], i[2]); }});
HEED_GRADCHECK_CASE({"linear", "no bias",
                     [] {
                       return In{gc_input({3, 4}), gc_input({2, 4}, -1, 1, 2)};
                     },
                     [](const In& i) { return linear(i[0], i[1]); }});
HEED_GRADCHECK_CASE(
    {"linear", "3-D input, strided weight",
     [] {
       return In{gc_input({2, 3, 4}), gc_strided_input({5, 4}, -1, 1, 2), gc_input({5}, -1, 1, 3)};
     },
     [](const In& i) { return linear(i[0], i[1], i[2]); }});

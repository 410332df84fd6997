// Indexing ops: index_select, gather, embedding. Hand-computed values,
// repeated indices (forward and the accumulating backward, large enough to
// run on several threads), bounds errors, and gradcheck cases.
#include <catch2/catch.hpp>

#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {
using In = std::vector<Tensor>;

Tensor i64(std::initializer_list<double> v) {
  return tensor(v, kInt64);
}

// Index values drawn uniformly from [0, n), int64, of `shape`.
Tensor random_indices(const Shape& shape, int64_t n, uint64_t seed) {
  Generator gen(seed);
  return randint(0, n, shape, &gen);
}
}  // namespace

TEST_CASE("index_select picks slices along any dim, repeats allowed", "[index]") {
  Tensor x = arange(12.0).reshape({3, 4});  // [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
  CHECK(index_select(x, 0, i64({2, 0, 2})).to_vector<float>() ==
        std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  Tensor cols = index_select(x, -1, i64({3, 3, 1}));
  CHECK(cols.shape() == Shape{3, 3});
  CHECK(cols.to_vector<float>() == std::vector<float>{3, 3, 1, 7, 7, 5, 11, 11, 9});
  // Strided input: x.t() is (4, 3); rows 1 and 0 of it are columns 1 and 0 of x.
  CHECK(index_select(x.t(), 0, i64({1, 0})).to_vector<float>() ==
        std::vector<float>{1, 5, 9, 0, 4, 8});
  // Middle dim of a 3-D tensor, and int64 data.
  Tensor y = arange(24.0, {kInt64}).reshape({2, 3, 4});
  CHECK(index_select(y, 1, i64({2})).to_vector<int64_t>() ==
        std::vector<int64_t>{8, 9, 10, 11, 20, 21, 22, 23});
  // An empty index gives an empty dim.
  CHECK(index_select(x, 0, zeros({0}, kInt64)).shape() == Shape{0, 4});
}

TEST_CASE("index_select backward accumulates repeated indices", "[index]") {
  Tensor x = zeros({3, 2}, kFloat64).requires_grad_();
  // Rows picked: 0, 2, 0, 0 -> row 0 gets three upstream rows, row 1 none.
  Tensor g = tensor({1, 2, 10, 20, 100, 200, 1000, 2000}, kFloat64).reshape({4, 2});
  sum(index_select(x, 0, i64({0, 2, 0, 0})) * g).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1101, 2202, 0, 0, 10, 20});
}

TEST_CASE("gather follows PyTorch's semantics", "[index]") {
  // torch.gather(tensor([[1,2],[3,4]]), 1, tensor([[0,0],[1,0]])) = [[1,1],[4,3]]
  Tensor x = tensor({1, 2, 3, 4}).reshape({2, 2});
  CHECK(gather(x, 1, i64({0, 0, 1, 0}).reshape({2, 2})).to_vector<float>() ==
        std::vector<float>{1, 1, 4, 3});
  // dim 0: out[i][j] = x[idx[i][j]][j]
  CHECK(gather(x, 0, i64({1, 0, 1, 1, 0, 0}).reshape({3, 2})).to_vector<float>() ==
        std::vector<float>{3, 2, 3, 4, 1, 2});
  // The index may be smaller than the input in the other dims: (1, 1) from (2, 2).
  CHECK(gather(x, 1, i64({1}).reshape({1, 1})).to_vector<float>() == std::vector<float>{2});
  // Strided input: x.t() = [[1,3],[2,4]].
  CHECK(gather(x.t(), 1, i64({1, 1, 0, 1}).reshape({2, 2})).to_vector<float>() ==
        std::vector<float>{3, 3, 2, 4});
  // 0-d input and index.
  CHECK(gather(scalar_tensor(7.0), 0, scalar_tensor(0.0, kInt64)).item() == 7.0);
}

TEST_CASE("gather backward adds repeated indices without races", "[index]") {
  // dim 1, rows of 5000 picks from 3 columns: grad[i][j] = count of j in row i
  // (upstream gradient of ones; counts are exact in float64).
  Tensor idx = random_indices({4, 5000}, 3, 11);
  Tensor x = zeros({4, 3}, kFloat64).requires_grad_();
  sum(gather(x, 1, idx)).backward();
  std::vector<int64_t> iv = idx.to_vector<int64_t>();
  std::vector<double> expect(12, 0.0);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t k = 0; k < 5000; ++k) expect[size_t(r * 3 + iv[size_t(r * 5000 + k)])] += 1;
  CHECK(x.grad().to_vector<double>() == expect);

  // dim 0 with many lines (columns) so the scatter runs on several threads.
  Tensor idx0 = random_indices({64, 3000}, 5, 12);
  Tensor x0 = zeros({5, 3000}, kFloat64).requires_grad_();
  sum(gather(x0, 0, idx0)).backward();
  std::vector<int64_t> iv0 = idx0.to_vector<int64_t>();
  std::vector<double> expect0(5 * 3000, 0.0);
  for (int64_t r = 0; r < 64; ++r)
    for (int64_t c = 0; c < 3000; ++c) expect0[size_t(iv0[size_t(r * 3000 + c)] * 3000 + c)] += 1;
  CHECK(x0.grad().to_vector<double>() == expect0);
}

TEST_CASE("embedding looks up rows for any index shape", "[index]") {
  Tensor w = arange(8.0, {kFloat64}).reshape({4, 2});  // rows [0,1],[2,3],[4,5],[6,7]
  Tensor out = embedding(i64({3, 0, 3, 1, 2, 2}).reshape({2, 3}), w);
  CHECK(out.shape() == Shape{2, 3, 2});
  CHECK(out.to_vector<double>() == std::vector<double>{6, 7, 0, 1, 6, 7, 2, 3, 4, 5, 4, 5});
  CHECK(embedding(scalar_tensor(2, kInt64), w).to_vector<double>() == std::vector<double>{4, 5});
}

TEST_CASE("embedding backward: counts per row, padding row gets none", "[index]") {
  // 20000 lookups into 5 rows of width 64 (several threads in index_add):
  // with an upstream gradient of ones, row r's gradient is count(r) everywhere,
  // except the padding row (2), which stays 0 although it is looked up.
  Tensor idx = random_indices({100, 200}, 5, 13);
  Tensor w = zeros({5, 64}, kFloat64).requires_grad_();
  Tensor out = embedding(idx, w, 2);
  CHECK(out.shape() == Shape{100, 200, 64});
  sum(out).backward();
  std::vector<double> counts(5, 0.0);
  for (int64_t v : idx.to_vector<int64_t>()) counts[size_t(v)] += 1;
  REQUIRE(counts[2] > 0);
  std::vector<double> g = w.grad().to_vector<double>();
  for (int64_t r = 0; r < 5; ++r) {
    INFO("row " << r);
    double want = r == 2 ? 0.0 : counts[size_t(r)];
    CHECK(g[size_t(r * 64)] == want);
    CHECK(g[size_t(r * 64 + 63)] == want);
  }
  // A negative padding_idx counts from the end, as in PyTorch: -1 is row 4.
  Tensor w2 = ones({5, 3}, kFloat64).requires_grad_();
  sum(embedding(i64({4, 4, 0}), w2, -1)).backward();
  CHECK(w2.grad().to_vector<double>() ==
        std::vector<double>{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("index errors name the bad value and the size", "[index]") {
  Tensor x = zeros({3, 4});
  CHECK_THROWS_WITH(index_select(x, 0, i64({0, 5})),
                    Catch::Contains("index_select: index 5 is out of range for dimension 0 of "
                                    "size 3 (input shape [3, 4])"));
  CHECK_THROWS_WITH(index_select(x, 1, i64({-1})),
                    Catch::Contains("index_select: index -1 is out of range for dimension 1 of "
                                    "size 4"));
  CHECK_THROWS_WITH(index_select(x, 0, tensor({0, 1})),
                    Catch::Contains("index_select: index must be int64, got float32"));
  CHECK_THROWS_WITH(index_select(x, 0, zeros({2, 2}, kInt64)),
                    Catch::Contains("index_select: index must be 1-D, got shape [2, 2]"));
  CHECK_THROWS_WITH(index_select(x, 2, i64({0})),
                    Catch::Contains("index_select: dim 2 is out of range"));

  CHECK_THROWS_WITH(gather(x, 1, i64({4}).reshape({1, 1})),
                    Catch::Contains("gather: index 4 is out of range for dimension 1 of size 4"));
  CHECK_THROWS_WITH(gather(x, 1, i64({0, 1})),
                    Catch::Contains("gather: index has 1 dims but input has 2"));
  CHECK_THROWS_WITH(gather(x, 1, zeros({4, 1}, kInt64)),
                    Catch::Contains("gather: index shape [4, 1] is larger than input shape "
                                    "[3, 4] in dimension 0"));
  CHECK_THROWS_WITH(gather(x, 0, zeros({1, 1})), Catch::Contains("gather: index must be int64"));

  Tensor w = zeros({10, 4});
  CHECK_THROWS_WITH(embedding(i64({1, 10}), w),
                    Catch::Contains("embedding: index 10 is out of range for 10 embeddings "
                                    "(weight shape [10, 4])"));
  CHECK_THROWS_WITH(embedding(i64({-3}), w),
                    Catch::Contains("embedding: index -3 is out of range for 10 embeddings"));
  CHECK_THROWS_WITH(embedding(i64({1}), w, 10),
                    Catch::Contains("embedding: padding_idx 10 is out of range for 10 embeddings"));
  CHECK_THROWS_WITH(embedding(i64({1}), zeros({10})),
                    Catch::Contains("embedding: weight must be 2-D"));
  CHECK_THROWS_WITH(embedding(tensor({1}), w), Catch::Contains("embedding: index must be int64"));
}

// --- gradcheck cases
HEED_GRADCHECK_CASE({"index_select", "dim 1, repeated",
                     [] {
                       return In{gc_input({3, 4})};
                     },
                     [](const In& i) {
                       return index_select(i[0], 1, i64({3, 0, 3, 1, 3}));
                     }});
HEED_GRADCHECK_CASE({"index_select", "strided, dim 0",
                     [] {
                       return In{gc_strided_input({4, 3})};
                     },
                     [](const In& i) {
                       return index_select(i[0], 0, i64({2, 2, 0}));
                     }});
HEED_GRADCHECK_CASE({"index_select", "middle dim of 3-D",
                     [] {
                       return In{gc_input({2, 3, 2})};
                     },
                     [](const In& i) {
                       return index_select(i[0], -2, i64({1, 1, 2, 0}));
                     }});
HEED_GRADCHECK_CASE({"gather", "dim 1, repeated",
                     [] {
                       return In{gc_input({3, 4})};
                     },
                     [](const In& i) {
                       return gather(i[0], 1, i64({0, 0, 3, 2, 1, 2, 3, 3, 3}).reshape({3, 3}));
                     }});
HEED_GRADCHECK_CASE({"gather", "dim 0, index smaller",
                     [] {
                       return In{gc_input({3, 4})};
                     },
                     [](const In& i) {
                       return gather(i[0], 0, i64({2, 0, 2, 1, 2, 2}).reshape({2, 3}));
                     }});
HEED_GRADCHECK_CASE({"gather", "strided",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) {
                       return gather(i[0], 1, i64({1, 1, 0, 3, 2, 2}).reshape({3, 2}));
                     }});
HEED_GRADCHECK_CASE({"embedding", "2-D indices, repeated",
                     [] {
                       return In{gc_input({5, 3})};
                     },
                     [](const In& i) {
                       return embedding(i64({4, 0, 4, 2, 2, 2}).reshape({2, 3}), i[0]);
                     }});
HEED_GRADCHECK_CASE({"embedding", "padding_idx",
                     [] {
                       return In{gc_input({5, 3})};
                     },
                     [](const In& i) {
                       // Row 1 is padding: by design it gets no gradient although
                       // the loss depends on it, so its lookup (position 2) is masked
                       // out of the output; the other rows must be exact.
                       Tensor mask = tensor({1, 1, 0, 1}, kFloat64).reshape({4, 1});
                       return embedding(i64({4, 0, 1, 4}), i[0], 1) * mask;
                     }});

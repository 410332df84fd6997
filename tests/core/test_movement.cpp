// Shape ops: values (hand-computed or from torch 1.13), storage sharing of
// views, copies where PyTorch copies, errors, and gradcheck cases.
#include <catch2/catch.hpp>

#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;
using Fvec = std::vector<float>;

Fvec values(const Tensor& t) {
  return t.to_vector<float>();
}

bool shares_storage(const Tensor& a, const Tensor& b) {
  return a.impl()->storage == b.impl()->storage;
}

// a = [[0, 1, 2], [3, 4, 5]]
Tensor a23() {
  return arange(6).reshape({2, 3});
}

}  // namespace

TEST_CASE("reshape and view", "[movement]") {
  Tensor x = arange(24);
  Tensor r = x.reshape({2, -1, 4});
  CHECK(r.shape() == Shape{2, 3, 4});
  CHECK(shares_storage(r, x));
  CHECK(values(r) == values(x));
  CHECK(x.view({4, 6}).strides() == Shape{6, 1});
  CHECK(reshape(x, {-1}).shape() == Shape{24});
  CHECK(reshape(scalar_tensor(3), {1, 1}).shape() == Shape{1, 1});
  CHECK(reshape(zeros({0, 4}), {2, 0, 3}).shape() == Shape{2, 0, 3});
  // -1 next to a 0 is ambiguous (PyTorch refuses too).
  CHECK_THROWS_WITH(
      reshape(zeros({0, 4}), {2, 0, -1}),
      Catch::Contains("reshape: shape [2, 0, -1] is invalid for input of shape [0, 4]"));
  CHECK_THROWS_WITH(reshape(x, {2, 0, -1}),
                    Catch::Contains("reshape: shape [2, 0, -1] is invalid"));
  // Non-contiguous but viewable: splitting dim 0 of a column slice.
  Tensor n = zeros({4, 6}).narrow(1, 0, 3);  // (4, 3), strides (6, 1)
  Tensor nv = n.view({2, 2, 3});
  CHECK(nv.strides() == Shape{12, 6, 1});
  CHECK(shares_storage(nv, n));
  // Not viewable: view throws, reshape copies.
  Tensor t = a23().t();
  CHECK_THROWS_WITH(t.view({6}), Catch::Contains("view: size [6] is not compatible with input "
                                                 "of shape [3, 2] and strides [1, 3]; use "
                                                 "reshape"));
  Tensor tr = t.reshape({6});
  CHECK_FALSE(shares_storage(tr, t));
  CHECK(values(tr) == Fvec{0, 3, 1, 4, 2, 5});
  CHECK_THROWS_WITH(x.reshape({5, -1}),
                    Catch::Contains("reshape: shape [5, -1] is invalid for input of shape [24]"));
  CHECK_THROWS_WITH(x.reshape({-2, 12}), Catch::Contains("reshape: invalid dimension -2"));
}

TEST_CASE("permute and transpose", "[movement]") {
  Tensor x = arange(24).reshape({2, 3, 4});  // x[i][j][k] = 12i + 4j + k
  Tensor p = x.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Shape{1, 12, 4});
  CHECK(shares_storage(p, x));
  // p[k][i][j] = 12i + 4j + k: first row k = 0 is 0, 4, 8, 12, 16, 20.
  CHECK(values(p.select(0, 0)) == Fvec{0, 4, 8, 12, 16, 20});
  CHECK(permute(x, {-1, -2, -3}).shape() == Shape{4, 3, 2});
  CHECK(values(a23().transpose(0, -1)) == Fvec{0, 3, 1, 4, 2, 5});
  CHECK(x.transpose(1, 1).impl() != nullptr);
  CHECK(transpose(scalar_tensor(1), 0, -1).dim() == 0);
  CHECK_THROWS_WITH(x.permute({0, 1}),
                    Catch::Contains("permute: got 2 dims [0, 1] for a tensor of 3 dims"));
  CHECK_THROWS_WITH(x.permute({0, 2, -1}), Catch::Contains("permute: dim 2 repeats in [0, 2, -1]"));
  CHECK_THROWS_WITH(x.transpose(0, 3), Catch::Contains("transpose: dim 3 is out of range"));
}

TEST_CASE("narrow, slice with step, and select", "[movement]") {
  Tensor x = arange(10);
  // torch: x[1:9:3] = [1, 4, 7]; x[-3:] = [7, 8, 9]; x[-100:100:4] = [0, 4, 8].
  CHECK(values(x.slice(0, 1, 9, 3)) == Fvec{1, 4, 7});
  CHECK(values(x.slice(0, -3, 10)) == Fvec{7, 8, 9});
  CHECK(values(x.slice(0, -100, 100, 4)) == Fvec{0, 4, 8});
  CHECK(x.slice(0, 5, 2).numel() == 0);
  CHECK(x.slice(0, 1, 9, 3).strides() == Shape{3});
  Tensor m = a23();
  CHECK(values(m.narrow(1, 1, 2)) == Fvec{1, 2, 4, 5});
  CHECK(values(m.narrow(-1, -1, 1)) == Fvec{2, 5});
  CHECK(m.narrow(0, 2, 0).shape() == Shape{0, 3});
  CHECK(values(m.select(1, -1)) == Fvec{2, 5});
  CHECK(m.select(0, 1).shape() == Shape{3});
  CHECK(m.select(0, 1).offset() == 3);
  CHECK_THROWS_WITH(m.narrow(1, 2, 2),
                    Catch::Contains("narrow: start 2 + length 2 exceeds dimension 1 of size 3"));
  CHECK_THROWS_WITH(m.slice(0, 0, 2, 0), Catch::Contains("slice: step must be positive, got 0"));
  CHECK_THROWS_WITH(m.select(1, 3),
                    Catch::Contains("select: index 3 is out of range for dimension 1 of size 3"));
  CHECK_THROWS_WITH(m.select(2, 0), Catch::Contains("select: dim 2 is out of range"));
  CHECK_THROWS_WITH(scalar_tensor(1).select(0, 0),
                    Catch::Contains("select: cannot be applied to a 0-dim tensor"));
  CHECK_THROWS_WITH(scalar_tensor(1).narrow(0, 0, 1),
                    Catch::Contains("narrow: cannot be applied to a 0-dim tensor"));
  CHECK_THROWS_WITH(scalar_tensor(1).slice(-1, 0, 1), Catch::Contains("slice: cannot be applied"));
}

TEST_CASE("expand, squeeze, unsqueeze, flatten", "[movement]") {
  Tensor c = tensor({1, 2, 3}).reshape({3, 1});
  Tensor e = c.expand({2, -1, 4});
  CHECK(e.shape() == Shape{2, 3, 4});
  CHECK(e.strides() == Shape{0, 1, 0});
  CHECK(shares_storage(e, c));
  CHECK(values(e.select(0, 1).select(0, 2)) == Fvec{3, 3, 3, 3});
  CHECK(c.expand({3, 1}).impl() == c.impl());  // nothing to do
  CHECK(c.expand({3, 0}).numel() == 0);
  CHECK(tensor({7}).expand_as(zeros({2, 2})).shape() == Shape{2, 2});
  CHECK_THROWS_WITH(c.expand({2, 4}), Catch::Contains("expand: the expanded size 2 must match "
                                                      "the existing size 3 at dim 0"));
  CHECK_THROWS_WITH(c.expand({3}), Catch::Contains("expand: the target shape [3] has fewer dims "
                                                   "than [3, 1]"));
  CHECK_THROWS_WITH(c.expand({-1, 3, 1}), Catch::Contains("expand: -1 is not allowed for a new "
                                                          "leading dim"));
  CHECK_THROWS_WITH(c.expand({3, -3}), Catch::Contains("expand: invalid size -3 at dim 1"));

  Tensor s = zeros({1, 3, 1, 2});
  CHECK(s.squeeze().shape() == Shape{3, 2});
  CHECK(s.squeeze(0).shape() == Shape{3, 1, 2});
  CHECK(s.squeeze(-2).shape() == Shape{1, 3, 2});
  CHECK(s.squeeze(1).impl() == s.impl());  // size 3: unchanged, like PyTorch
  CHECK(squeeze(zeros({1, 1})).dim() == 0);
  CHECK_THROWS_WITH(s.squeeze(4), Catch::Contains("squeeze: dim 4 is out of range"));
  CHECK(s.unsqueeze(0).shape() == Shape{1, 1, 3, 1, 2});
  CHECK(s.unsqueeze(-1).shape() == Shape{1, 3, 1, 2, 1});
  CHECK(a23().unsqueeze(1).strides() == Shape{3, 3, 1});
  CHECK(scalar_tensor(4).unsqueeze(0).shape() == Shape{1});
  CHECK_THROWS_WITH(s.unsqueeze(5), Catch::Contains("unsqueeze: dim 5 is out of range"));

  Tensor f = zeros({2, 3, 4, 5});
  CHECK(f.flatten().shape() == Shape{120});
  CHECK(f.flatten(1).shape() == Shape{2, 60});
  CHECK(f.flatten(1, 2).shape() == Shape{2, 12, 5});
  CHECK(f.flatten(-2, -1).shape() == Shape{2, 3, 20});
  CHECK(scalar_tensor(1).flatten().shape() == Shape{1});
  Tensor ft = f.transpose(0, 3).flatten(1);  // not viewable: a copy in logical order
  CHECK(ft.shape() == Shape{5, 24});
  CHECK(ft.is_contiguous());
  CHECK_THROWS_WITH(f.flatten(2, 1), Catch::Contains("flatten: start_dim 2 is after end_dim 1"));
}

TEST_CASE("writing through a view changes the base", "[movement]") {
  auto check_writes = [](const char* what, const Tensor& base, Tensor view, float expect_sum) {
    INFO(what);
    CHECK(shares_storage(base, view));
    view.fill_(1);
    CHECK(base.sum().item() == expect_sum);
  };
  // Each view covers a known number of elements of a zero (4, 6) base.
  auto base = [] { return zeros({4, 6}); };
  Tensor b;
  b = base(), check_writes("reshape", b, b.reshape({6, 4}), 24);
  b = base(), check_writes("view", b, b.view({2, 12}).select(0, 1), 12);
  b = base(), check_writes("permute", b, b.permute({1, 0}).select(0, 2), 4);
  b = base(), check_writes("transpose", b, b.t().narrow(1, 1, 2), 12);
  b = base(), check_writes("narrow", b, b.narrow(1, 2, 3), 12);
  b = base(), check_writes("slice", b, b.slice(1, 0, 6, 2), 12);
  b = base(), check_writes("select", b, b.select(1, -1), 4);
  b = base(), check_writes("squeeze", b, b.narrow(0, 1, 1).squeeze(0), 6);
  b = base(), check_writes("unsqueeze", b, b.unsqueeze(1), 24);
  b = base(), check_writes("flatten", b, b.flatten(), 24);
  b = base(), check_writes("split", b, split(b, 4, 1)[1], 8);
  b = base(), check_writes("split sizes", b, split(b, {1, 3}, 0)[1], 18);
  b = base(), check_writes("chunk", b, chunk(b, 2, 0)[0], 12);
  // Writing into the base shows in the view.
  Tensor a = a23();
  Tensor col = a.select(1, 1);
  a.fill_(9);
  CHECK(values(col) == Fvec{9, 9});
}

TEST_CASE("contiguous", "[movement]") {
  Tensor x = a23();
  CHECK(contiguous(x).impl() == x.impl());
  Tensor c = contiguous(x.t());
  CHECK(c.is_contiguous());
  CHECK_FALSE(shares_storage(c, x));
  CHECK(values(c) == Fvec{0, 3, 1, 4, 2, 5});
  // An expanded tensor materialises.
  CHECK(values(contiguous(tensor({1, 2}).expand({2, 2}))) == Fvec{1, 2, 1, 2});
}

TEST_CASE("cat and stack", "[movement]") {
  Tensor a = a23(), b = tensor({6, 7, 8}).reshape({1, 3});
  Tensor c0 = cat({a, b});
  CHECK(c0.shape() == Shape{3, 3});
  CHECK(values(c0) == Fvec{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(values(cat({a, a.narrow(1, 0, 1)}, -1)) == Fvec{0, 1, 2, 0, 3, 4, 5, 3});
  CHECK(values(cat({a.t(), a.t()}, 1)) == Fvec{0, 3, 0, 3, 1, 4, 1, 4, 2, 5, 2, 5});
  CHECK(cat({zeros({0, 3}), a}).shape() == Shape{2, 3});
  CHECK_FALSE(shares_storage(cat({a}), a));
  // Mixed dtypes promote, as torch.cat (int64 + float32 -> float32).
  Tensor m = cat({tensor({1, 2}, kInt64), tensor({0.5})});
  CHECK(m.dtype() == kFloat32);
  CHECK(values(m) == Fvec{1, 2, 0.5});
  CHECK(cat({tensor({1}), tensor({2}, kFloat64)}).dtype() == kFloat64);
  // Gradients go back in each input's dtype.
  Tensor x32 = tensor({1, 2}).requires_grad_();
  Tensor x64 = tensor({3}, kFloat64).requires_grad_();
  (cat({x32, x64}) * tensor({10, 20, 30}, kFloat64)).sum().backward();
  CHECK(x32.grad().dtype() == kFloat32);
  CHECK(values(x32.grad()) == Fvec{10, 20});
  CHECK(x64.grad().item() == 30);
  CHECK_THROWS_WITH(cat({a, b}, 1), Catch::Contains("cat: sizes must match except in dim 1; "
                                                    "tensor 1 has shape [1, 3], tensor 0 has "
                                                    "[2, 3]"));
  CHECK_THROWS_WITH(cat({a, tensor({1})}), Catch::Contains("cat: tensor 1 has 1 dims but tensor "
                                                           "0 has 2"));
  CHECK_THROWS_WITH(cat({}), Catch::Contains("cat: expected a non-empty list of tensors"));
  CHECK_THROWS_WITH(cat({scalar_tensor(1)}),
                    Catch::Contains("cat: tensor 0 is 0-dim and cannot be concatenated"));
  CHECK_THROWS_WITH(cat({a}, 2), Catch::Contains("cat: dim 2 is out of range"));

  Tensor s = stack({tensor({1, 2}), tensor({3, 4}), tensor({5, 6})});
  CHECK(s.shape() == Shape{3, 2});
  CHECK(values(s) == Fvec{1, 2, 3, 4, 5, 6});
  Tensor s1 = stack({tensor({1, 2}), tensor({3, 4})}, -1);
  CHECK(s1.shape() == Shape{2, 2});
  CHECK(values(s1) == Fvec{1, 3, 2, 4});
  CHECK(stack({scalar_tensor(1), scalar_tensor(2)}).shape() == Shape{2});
  CHECK_THROWS_WITH(stack({tensor({1, 2}), tensor({3})}),
                    Catch::Contains("stack: all tensors must have the same shape; tensor 1 has "
                                    "[1], tensor 0 has [2]"));
}

TEST_CASE("split and chunk", "[movement]") {
  Tensor x = arange(10);
  // torch: arange(10).split(4) -> sizes 4, 4, 2; .chunk(4) -> 3, 3, 3, 1.
  std::vector<Tensor> s = split(x, 4);
  REQUIRE(s.size() == 3);
  CHECK(values(s[2]) == Fvec{8, 9});
  std::vector<Tensor> c = chunk(x, 4);
  REQUIRE(c.size() == 4);
  CHECK(c[0].numel() == 3);
  CHECK(values(c[3]) == Fvec{9});
  CHECK(chunk(arange(6), 4).size() == 3);   // ceil(6 / 4) = 2 per chunk -> 3 chunks
  CHECK(chunk(zeros({0}), 3).size() == 3);  // empty dim: still 3 (empty) chunks
  std::vector<Tensor> sz = split(a23(), {1, 2}, -1);
  REQUIRE(sz.size() == 2);
  CHECK(values(sz[0]) == Fvec{0, 3});
  CHECK(values(sz[1]) == Fvec{1, 2, 4, 5});
  CHECK(split(a23(), {3, 0}, 1)[1].shape() == Shape{2, 0});
  CHECK_THROWS_WITH(split(x, {3, 3}), Catch::Contains("split: sizes sum to 6 but dimension 0 "
                                                      "has size 10"));
  CHECK_THROWS_WITH(split(x, 0), Catch::Contains("split: split_size must be positive, got 0"));
  CHECK_THROWS_WITH(chunk(x, 0), Catch::Contains("chunk: number of chunks must be positive"));
  CHECK_THROWS_WITH(split(scalar_tensor(1), 1), Catch::Contains("split: cannot be applied to a "
                                                                "0-dim tensor"));
}

TEST_CASE("pad with positive and negative pads", "[movement]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}).reshape({2, 3});
  // torch.nn.functional.pad results (torch 1.13):
  // pad(x, (1, 2)) = [[0, 1, 2, 3, 0, 0], [0, 4, 5, 6, 0, 0]]
  CHECK(values(pad(x, {1, 2})) == Fvec{0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0});
  // pad(x, (1, 0, 0, 1), value=-1) = [[-1, 1, 2, 3], [-1, 4, 5, 6], [-1, -1, -1, -1]]
  Tensor p2 = pad(x, {1, 0, 0, 1}, -1);
  CHECK(p2.shape() == Shape{3, 4});
  CHECK(values(p2) == Fvec{-1, 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1});
  // pad(x, (-1, 1)) = [[2, 3, 0], [5, 6, 0]]
  CHECK(values(pad(x, {-1, 1})) == Fvec{2, 3, 0, 5, 6, 0});
  // pad(x, (0, -2, 1, -1)) = [[0], [1]]
  CHECK(values(pad(x, {0, -2, 1, -1})) == Fvec{0, 1});
  // Three dims: pad(arange(24).reshape(2, 3, 4), (-1, -1, 1, 0, 0, 1)).shape = (3, 4, 2)
  CHECK(pad(arange(24).reshape({2, 3, 4}), {-1, -1, 1, 0, 0, 1}).shape() == Shape{3, 4, 2});
  CHECK(values(pad(x.t(), {0, 0, 1, 0})) == Fvec{0, 0, 1, 4, 2, 5, 3, 6});  // strided input
  CHECK(pad(tensor({1, 2}, kInt64), {1, 1}, 7).to_vector<int64_t>() ==
        std::vector<int64_t>{7, 1, 2, 7});
  CHECK_THROWS_WITH(pad(x, {1}), Catch::Contains("pad: 1 padding values for a tensor of 2 dims"));
  CHECK_THROWS_WITH(pad(x, {1, 1, 1, 1, 1, 1}), Catch::Contains("pad: 6 padding values"));
  CHECK_THROWS_WITH(pad(x, {-2, -2}), Catch::Contains("pad: negative output size in dim 1"));
}

TEST_CASE("repeat tiles like torch.Tensor.repeat", "[movement]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}).reshape({2, 3});
  // x.repeat(2, 1) = [[1, 2, 3], [4, 5, 6], [1, 2, 3], [4, 5, 6]]
  CHECK(values(repeat(x, {2, 1})) == Fvec{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
  // x.repeat(1, 2, 2): shape (1, 4, 6), rows [1 2 3 1 2 3], [4 5 6 4 5 6], again.
  Tensor r = repeat(x, {1, 2, 2});
  CHECK(r.shape() == Shape{1, 4, 6});
  CHECK(values(r.select(0, 0).select(0, 3)) == Fvec{4, 5, 6, 4, 5, 6});
  CHECK(values(repeat(tensor({1, 2}), {3})) == Fvec{1, 2, 1, 2, 1, 2});
  CHECK(repeat(x, {0, 1}).shape() == Shape{0, 3});
  CHECK(values(repeat(x.t(), {1, 2})) == Fvec{1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6});
  CHECK_FALSE(shares_storage(repeat(x, {1, 1}), x));
  CHECK_THROWS_WITH(repeat(x, {2}), Catch::Contains("repeat: number of repeat dims (1) can not "
                                                    "be smaller than the tensor's dims (2)"));
}

TEST_CASE("movement backward: accumulates through views into the leaf", "[movement]") {
  Tensor x = arange(6).reshape({2, 3}).detach().requires_grad_();
  // y uses x twice through different views: grad = ones(x) + (1 at [0][2], [1][2]).
  Tensor y = x.t().reshape({6}).sum() + x.select(1, 2).sum();
  y.backward();
  CHECK(values(x.grad()) == Fvec{1, 1, 2, 1, 1, 2});
  // expand's backward sums over the broadcast dims.
  Tensor v = tensor({1, 2}).reshape({2, 1}).requires_grad_();
  v.expand({3, 2, 4}).sum().backward();
  CHECK(values(v.grad()) == Fvec{12, 12});
}

// --- gradcheck cases; strided inputs come from gc_strided_input (a transposed leaf)
HEED_GRADCHECK_CASE({"reshape", "viewable",
                     [] {
                       return In{gc_input({2, 3, 4})};
                     },
                     [](const In& i) {
                       return i[0].reshape({4, -1});
                     }});
HEED_GRADCHECK_CASE({"reshape", "strided (copies)",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) {
                       return i[0].reshape({2, 6});
                     }});
HEED_GRADCHECK_CASE({"reshape", "view", [] { return In{gc_input({6})}; },
                     [](const In& i) {
                       return i[0].view({3, 2});
                     }});
HEED_GRADCHECK_CASE({"permute", "strided",
                     [] {
                       return In{gc_strided_input({2, 3, 4})};
                     },
                     [](const In& i) {
                       return i[0].permute({2, 0, 1}) * 1.0;
                     }});
HEED_GRADCHECK_CASE({"transpose", "",
                     [] {
                       return In{gc_input({2, 3, 4})};
                     },
                     [](const In& i) { return i[0].transpose(0, -1); }});
HEED_GRADCHECK_CASE({"narrow", "strided",
                     [] {
                       return In{gc_strided_input({4, 5})};
                     },
                     [](const In& i) { return i[0].narrow(1, 1, 3); }});
HEED_GRADCHECK_CASE({"slice", "step 2",
                     [] {
                       return In{gc_input({7, 3})};
                     },
                     [](const In& i) { return i[0].slice(0, 1, 7, 2); }});
HEED_GRADCHECK_CASE({"slice", "negative start, strided",
                     [] {
                       return In{gc_strided_input({3, 6})};
                     },
                     [](const In& i) { return i[0].slice(1, -4, 6, 3); }});
HEED_GRADCHECK_CASE({"select", "negative index",
                     [] {
                       return In{gc_input({3, 4})};
                     },
                     [](const In& i) { return i[0].select(1, -2); }});
HEED_GRADCHECK_CASE({"select", "strided",
                     [] {
                       return In{gc_strided_input({3, 4, 2})};
                     },
                     [](const In& i) { return i[0].select(0, 2); }});
HEED_GRADCHECK_CASE({"expand", "new dims and -1",
                     [] {
                       return In{gc_input({3, 1})};
                     },
                     [](const In& i) {
                       return i[0].expand({2, -1, 4});
                     }});
HEED_GRADCHECK_CASE({"expand", "strided",
                     [] {
                       return In{gc_strided_input({1, 3})};
                     },
                     [](const In& i) {
                       return i[0].expand({5, 3});
                     }});
HEED_GRADCHECK_CASE({"squeeze", "all",
                     [] {
                       return In{gc_input({1, 3, 1, 2})};
                     },
                     [](const In& i) { return i[0].squeeze(); }});
HEED_GRADCHECK_CASE({"squeeze", "one dim",
                     [] {
                       return In{gc_input({3, 1, 2})};
                     },
                     [](const In& i) { return i[0].squeeze(-2); }});
HEED_GRADCHECK_CASE({"unsqueeze", "strided",
                     [] {
                       return In{gc_strided_input({3, 2})};
                     },
                     [](const In& i) { return i[0].unsqueeze(1); }});
HEED_GRADCHECK_CASE({"flatten", "middle dims",
                     [] {
                       return In{gc_input({2, 3, 2, 2})};
                     },
                     [](const In& i) { return i[0].flatten(1, 2); }});
HEED_GRADCHECK_CASE({"flatten", "strided",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) { return i[0].flatten(); }});
HEED_GRADCHECK_CASE({"contiguous", "strided",
                     [] {
                       return In{gc_strided_input({3, 4})};
                     },
                     [](const In& i) { return contiguous(i[0]); }});
HEED_GRADCHECK_CASE({"cat", "dim 1, one strided",
                     [] {
                       return In{gc_input({3, 2}), gc_strided_input({3, 4}, -1, 1, 2)};
                     },
                     [](const In& i) {
                       return cat({i[0], i[1]}, 1);
                     }});
HEED_GRADCHECK_CASE({"cat", "same input twice, dim 0",
                     [] {
                       return In{gc_input({2, 3})};
                     },
                     [](const In& i) {
                       return cat({i[0], i[0] * 2.0, i[0]});
                     }});
HEED_GRADCHECK_CASE({"stack", "dim -1",
                     [] {
                       return In{gc_input({2, 3}), gc_strided_input({2, 3}, -1, 1, 3)};
                     },
                     [](const In& i) {
                       return stack({i[0], i[1]}, -1);
                     }});
HEED_GRADCHECK_CASE({"split", "sizes, all pieces used",
                     [] {
                       return In{gc_strided_input({3, 5})};
                     },
                     [](const In& i) {
                       std::vector<Tensor> p = split(i[0], {2, 1, 2}, 1);
                       return p[0] * p[2] + p[1];
                     }});
HEED_GRADCHECK_CASE({"split", "split_size, one piece unused",
                     [] {
                       return In{gc_input({7, 2})};
                     },
                     [](const In& i) {
                       std::vector<Tensor> p = split(i[0], 3);
                       return p[0] * p[1];
                     }});
HEED_GRADCHECK_CASE({"chunk", "uneven chunks",
                     [] {
                       return In{gc_input({2, 7})};
                     },
                     [](const In& i) {
                       std::vector<Tensor> p = chunk(i[0], 3, -1);  // 3, 3, 1
                       return p[0] * p[1] + p[2];
                     }});
HEED_GRADCHECK_CASE({"pad", "positive, two dims",
                     [] {
                       return In{gc_input({2, 3})};
                     },
                     [](const In& i) {
                       return pad(i[0], {1, 2, 0, 1}, 0.5);
                     }});
HEED_GRADCHECK_CASE({"pad", "negative and positive, strided",
                     [] {
                       return In{gc_strided_input({4, 5, 3})};
                     },
                     [](const In& i) {
                       return pad(i[0], {-1, 1, 2, -2, -1, 0});
                     }});
HEED_GRADCHECK_CASE({"repeat", "leading dim",
                     [] {
                       return In{gc_input({2, 3})};
                     },
                     [](const In& i) {
                       return repeat(i[0], {2, 1, 3});
                     }});
HEED_GRADCHECK_CASE({"repeat", "strided",
                     [] {
                       return In{gc_strided_input({2, 3})};
                     },
                     [](const In& i) {
                       return repeat(i[0], {3, 2});
                     }});

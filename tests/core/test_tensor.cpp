// Tensor basics: factories, random determinism, conversions, copies,
// contiguity, metadata errors, and printing (compared with PyTorch's repr).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "core/heed_core.h"

using namespace heed;

TEST_CASE("zeros, ones, full and empty make the asked shape and dtype", "[tensor]") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.is_contiguous());
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(ones({2}, kFloat64).to_vector<double>() == std::vector<double>{1, 1});
  CHECK(full({3}, 7, kInt64).to_vector<int64_t>() == std::vector<int64_t>{7, 7, 7});
  CHECK(full({2}, 1, kBool).to_vector<bool>() == std::vector<bool>{true, true});
  Tensor e = empty({4, 0, 2}, kFloat64);
  CHECK(e.numel() == 0);
  CHECK(e.dtype() == kFloat64);
  CHECK(zeros({}).dim() == 0);
  CHECK(zeros({}).numel() == 1);
  CHECK(full_like(e, 1).shape() == e.shape());
  CHECK_THROWS_WITH(zeros({2, -1}), Catch::Contains("empty: negative dimension in shape [2, -1]"));
}

TEST_CASE("arange counts like torch.arange", "[tensor]") {
  CHECK(arange(5).to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4});
  // ceil((2 - 1) / 0.25) = 4 values.
  CHECK(arange(1, 2, 0.25).to_vector<float>() == std::vector<float>{1, 1.25, 1.5, 1.75});
  CHECK(arange(3, 0, -1, kInt64).to_vector<int64_t>() == std::vector<int64_t>{3, 2, 1});
  CHECK(arange(0).numel() == 0);
  CHECK(arange(4, kFloat64).dtype() == kFloat64);
  CHECK_THROWS_WITH(arange(0, 1, 0), Catch::Contains("arange: step must be nonzero"));
  CHECK_THROWS_WITH(arange(0, 5, -1), Catch::Contains("upper bound and step are inconsistent"));
}

TEST_CASE("rand and randn are deterministic for a seed", "[tensor][random]") {
  Generator g1(42), g2(42), g3(43);
  Tensor a = rand({1000}, {}, &g1), b = rand({1000}, {}, &g2), c = rand({1000}, {}, &g3);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
  // The next draw continues the stream: a different block, again equal in both.
  Tensor a2 = randn({500}, kFloat64, &g1), b2 = randn({500}, kFloat64, &g2);
  CHECK(a2.to_vector<double>() == b2.to_vector<double>());
  // manual_seed resets the counter: the first draw comes back.
  g1.manual_seed(42);
  CHECK(rand({1000}, {}, &g1).to_vector<float>() == a.to_vector<float>());
  // The default generator too.
  manual_seed(7);
  Tensor d1 = randn({10});
  manual_seed(7);
  CHECK(randn({10}).to_vector<float>() == d1.to_vector<float>());
  for (float v : a.to_vector<float>()) {
    CHECK(v >= 0.0f);
    CHECK(v < 1.0f);
  }
}

TEST_CASE("randn has mean 0 and std 1, rand mean 1/2", "[tensor][random]") {
  Generator g(2024);
  std::vector<double> v = randn({100000}, kFloat64, &g).to_vector<double>();
  double m = 0, s2 = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  for (double x : v) s2 += (x - m) * (x - m);
  double sd = std::sqrt(s2 / double(v.size() - 1));
  // Standard errors: 1/sqrt(1e5) = 0.0032 for the mean, 0.0022 for the std;
  // the bounds are about 5 of them.
  CHECK(std::abs(m) < 0.016);
  CHECK(std::abs(sd - 1.0) < 0.012);
  // Tails exist but are rare: P(|z| > 4) = 6.3e-5, about 6 in 1e5.
  int64_t far = 0;
  for (double x : v) far += std::abs(x) > 4;
  CHECK(far < 30);
  double mu = rand({100000}, kFloat64, &g).mean().item();
  CHECK(std::abs(mu - 0.5) < 0.005);  // std error 0.29 / sqrt(1e5) = 0.0009
}

TEST_CASE("from_vector and tensor() copy values in", "[tensor]") {
  std::vector<double> v{1, 2, 3, 4, 5, 6};
  Tensor t = from_vector(v, {2, 3});
  CHECK(t.dtype() == kFloat64);
  CHECK(t.shape() == Shape{2, 3});
  v[0] = 100;  // copied, not aliased
  CHECK(t.to_vector<double>()[0] == 1);
  CHECK(from_vector(std::vector<int64_t>{4, 5}).dtype() == kInt64);
  CHECK(from_vector(std::vector<float>{1.5f}).dtype() == kFloat32);
  CHECK(tensor({1, 2}).dtype() == kFloat32);
  CHECK(tensor({1.7, -1.7}, kInt64).to_vector<int64_t>() == std::vector<int64_t>{1, -1});
  CHECK_THROWS_WITH(from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                    Catch::Contains("from_vector: 3 values do not fill shape [2, 2]"));
}

TEST_CASE("to(dtype) converts like PyTorch", "[tensor]") {
  Tensor f = tensor({2.7, -2.7, 0, 0.5});
  // float -> int64 truncates toward zero.
  CHECK(f.to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{2, -2, 0, 0});
  CHECK(f.to(kBool).to_vector<bool>() == std::vector<bool>{true, true, false, true});
  CHECK(f.to(kFloat64).dtype() == kFloat64);
  CHECK(f.to(kFloat64).to_vector<double>()[0] == double(2.7f));
  CHECK(from_vector(std::vector<bool>{true, false}).to(kFloat32).to_vector<float>() ==
        std::vector<float>{1, 0});
  // Same dtype: the same tensor, no copy.
  CHECK(f.to(kFloat32).impl() == f.impl());
  // Non-contiguous source.
  Tensor m = arange(6).reshape({2, 3}).t().to(kInt64);
  CHECK(m.to_vector<int64_t>() == std::vector<int64_t>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("item reads one element", "[tensor]") {
  CHECK(scalar_tensor(2.5).item() == 2.5);
  CHECK(tensor({3}).reshape({1, 1}).item<int>() == 3);
  CHECK(full({1}, 9, kInt64).item<int64_t>() == 9);
  CHECK(arange(6).reshape({2, 3}).select(1, 2).select(0, 1).item() == 5);
  CHECK_THROWS_WITH(tensor({1, 2}).item(),
                    Catch::Contains("item: the tensor has 2 elements (shape [2])"));
}

TEST_CASE("clone is independent and contiguous", "[tensor]") {
  Tensor a = arange(6).reshape({2, 3});
  Tensor b = a.clone();
  CHECK(b.impl()->storage != a.impl()->storage);
  b.fill_(-1);
  CHECK(a.to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4, 5});
  Tensor t = a.t().clone();
  CHECK(t.is_contiguous());
  CHECK(t.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  // clone is differentiable (identity).
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = x.clone();
  CHECK(y.grad_fn() != nullptr);
  (y * tensor({3, 4})).sum().backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{3, 4});
}

TEST_CASE("contiguous copies only when needed", "[tensor]") {
  Tensor a = arange(12).reshape({3, 4});
  CHECK(a.contiguous().impl() == a.impl());
  Tensor t = a.t();
  CHECK_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.strides() == Shape{3, 1});
  CHECK(c.impl()->storage != a.impl()->storage);
  CHECK(c.to_vector<float>() == t.to_vector<float>());
}

TEST_CASE("is_contiguous follows the strides", "[tensor]") {
  Tensor a = zeros({4, 5, 6});
  CHECK(a.is_contiguous());
  CHECK_FALSE(a.transpose(1, 2).is_contiguous());
  CHECK(a.narrow(0, 1, 2).is_contiguous());        // rows of a contiguous block
  CHECK_FALSE(a.narrow(2, 0, 3).is_contiguous());  // gaps inside each row
  CHECK_FALSE(a.slice(0, 0, 4, 2).is_contiguous());
  CHECK(a.select(0, 3).is_contiguous());
  CHECK(a.narrow(1, 2, 1).is_contiguous() == false);  // (4, 1, 6) with row stride 30
  CHECK(zeros({1, 3}).expand({1, 3}).is_contiguous());
  CHECK_FALSE(zeros({1, 3}).expand({2, 3}).is_contiguous());
  CHECK(zeros({3, 1}).t().is_contiguous());  // size-1 dims do not count
}

TEST_CASE("size and stride wrap negative dims and reject bad ones", "[tensor]") {
  Tensor a = zeros({2, 3, 4});
  CHECK(a.size(-1) == 4);
  CHECK(a.size(0) == 2);
  CHECK(a.stride(-3) == 12);
  CHECK(a.dim() == 3);
  CHECK_THROWS_WITH(a.size(3),
                    Catch::Contains("size: dim 3 is out of range for a tensor of 3 dims"));
  CHECK_THROWS_WITH(a.size(-4), Catch::Contains("size: dim -4 is out of range"));
  CHECK_THROWS_WITH(scalar_tensor(1).size(-1),
                    Catch::Contains("size: dim -1 specified but the tensor has no dimensions"));
  CHECK_THROWS_WITH(scalar_tensor(1).stride(0), Catch::Contains("stride: dim 0 specified"));
}

TEST_CASE("bad shapes and misuse give named errors", "[tensor]") {
  CHECK_THROWS_WITH(zeros({2, 3}).reshape({4, 2}),
                    Catch::Contains("reshape: shape [4, 2] is invalid for input of shape [2, 3]"));
  CHECK_THROWS_WITH(zeros({2, 3}).view({-1, -1}),
                    Catch::Contains("view: only one dimension can be -1"));
  CHECK_THROWS_WITH(tensor({1, 2}, kInt64).requires_grad_(),
                    Catch::Contains("only floating-point tensors can require grad"));
  CHECK_THROWS_WITH(tensor({1}).data_ptr<double>(),
                    Catch::Contains("data_ptr: tensor is float32, asked for float64"));
  CHECK_THROWS_WITH(Tensor().shape(), Catch::Contains("use of an undefined tensor"));
  Tensor x = tensor({1, 2}).requires_grad_();
  CHECK_THROWS_WITH(x.fill_(0), Catch::Contains("fill_: in-place update of a tensor that "
                                                "requires grad"));
}

TEST_CASE("in-place helpers write through views", "[tensor]") {
  Tensor a = zeros({2, 3});
  a.select(0, 1).fill_(2);
  a.narrow(1, 0, 1).add_(ones({2, 1}), 3);
  CHECK(a.to_vector<float>() == std::vector<float>{3, 0, 0, 5, 2, 2});
  a.mul_(2);
  CHECK(a.to_vector<float>() == std::vector<float>{6, 0, 0, 10, 4, 4});
  a.t().copy_(tensor({1, 2}));  // broadcast over the rows of the transposed view
  CHECK(a.to_vector<float>() == std::vector<float>{1, 1, 1, 2, 2, 2});
}

// ------------------------------------------------------------------ printing

namespace {
struct PrintCase {
  const char* name;
  Tensor t;
  const char* expected;
};
}  // namespace

TEST_CASE("str() prints like PyTorch's repr", "[tensor][print]") {
  std::vector<double> third18;
  for (int i = 0; i < 18; ++i) third18.push_back(i / 3.0);
  // Expected strings: repr() in torch 1.13 of the torch expression above each
  // case, with `torch.float64` / `torch.int64` written without the `torch.`
  // prefix, as heed prints them.
  std::vector<PrintCase> cases = {
      // torch.tensor([1.0, 2.5])
      {"fixed", tensor({1.0, 2.5}), R"(tensor([1.0000, 2.5000]))"},
      // torch.tensor([1., 2.])
      {"integer-valued floats", tensor({1, 2}), R"(tensor([1., 2.]))"},
      // torch.tensor([-10, 2, 300])
      {"int64", tensor({-10, 2, 300}, kInt64), R"(tensor([-10,   2, 300]))"},
      // torch.tensor([True, False])
      {"bool", from_vector(std::vector<bool>{true, false}), R"(tensor([ True, False]))"},
      // torch.tensor([[1.5, -2.25, 3], [4, 5, 6]])
      {"matrix", tensor({1.5, -2.25, 3, 4, 5, 6}).reshape({2, 3}),
       R"(tensor([[ 1.5000, -2.2500,  3.0000],
        [ 4.0000,  5.0000,  6.0000]]))"},
      // torch.arange(12.).reshape(2, 2, 3)
      {"3-d", arange(12).reshape({2, 2, 3}),
       R"(tensor([[[ 0.,  1.,  2.],
         [ 3.,  4.,  5.]],

        [[ 6.,  7.,  8.],
         [ 9., 10., 11.]]]))"},
      // torch.arange(6.).reshape(2, 3).t()
      {"transposed view", arange(6).reshape({2, 3}).t(),
       R"(tensor([[0., 3.],
        [1., 4.],
        [2., 5.]]))"},
      // torch.tensor([1e-5, 1.0])
      {"sci: small values", tensor({1e-5, 1.0}), R"(tensor([1.0000e-05, 1.0000e+00]))"},
      // torch.tensor([1e9, 1.5])
      {"sci: big values", tensor({1e9, 1.5}), R"(tensor([1.0000e+09, 1.5000e+00]))"},
      // torch.tensor([0.5, 2000.])
      {"sci: wide ratio", tensor({0.5, 2000}), R"(tensor([5.0000e-01, 2.0000e+03]))"},
      // torch.tensor([1., 1e5])
      {"sci: integer-valued", tensor({1, 1e5}), R"(tensor([1.0000e+00, 1.0000e+05]))"},
      // torch.tensor([1., 100., -999.])
      {"integer-valued, padded", tensor({1, 100, -999}), R"(tensor([   1.,  100., -999.]))"},
      // torch.tensor(3.)
      {"scalar", scalar_tensor(3), R"(tensor(3.))"},
      // torch.tensor(2.5)
      {"scalar fraction", scalar_tensor(2.5), R"(tensor(2.5000))"},
      // torch.tensor(7)
      {"scalar int64", scalar_tensor(7, kInt64), R"(tensor(7))"},
      // torch.tensor([])
      {"empty", zeros({0}), R"(tensor([]))"},
      // torch.zeros(0, 3)
      {"empty 2-d", zeros({0, 3}), R"(tensor([], size=(0, 3)))"},
      // torch.zeros(0, dtype=torch.int64)
      {"empty int64", zeros({0}, kInt64), R"(tensor([], dtype=int64))"},
      // torch.tensor([0.1, 0.2], dtype=torch.float64)
      {"float64", tensor({0.1, 0.2}, kFloat64), R"(tensor([0.1000, 0.2000], dtype=float64))"},
      // torch.zeros(2)
      {"zeros", zeros({2}), R"(tensor([0., 0.]))"},
      // torch.arange(30.) * 0.25 + 0.125
      {"wrapped row", arange(30) * 0.25 + 0.125,
       R"(tensor([0.1250, 0.3750, 0.6250, 0.8750, 1.1250, 1.3750, 1.6250, 1.8750, 2.1250,
        2.3750, 2.6250, 2.8750, 3.1250, 3.3750, 3.6250, 3.8750, 4.1250, 4.3750,
        4.6250, 4.8750, 5.1250, 5.3750, 5.6250, 5.8750, 6.1250, 6.3750, 6.6250,
        6.8750, 7.1250, 7.3750]))"},
      // torch.tensor([nan, inf, -inf, 1.5])
      {"non-finite", tensor({NAN, INFINITY, -INFINITY, 1.5}),
       R"(tensor([   nan,    inf,   -inf, 1.5000]))"},
      // torch.tensor([nan, 1., -2.])
      {"non-finite, integer-valued", tensor({NAN, 1, -2}), R"(tensor([nan,  1., -2.]))"},
      // torch.tensor([-0.5, 0.0, 0.25])
      {"negative and zero", tensor({-0.5, 0, 0.25}), R"(tensor([-0.5000,  0.0000,  0.2500]))"},
      // torch.arange(1001.)
      {"summarised 1-d", arange(1001),
       R"(tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.]))"},
      // torch.arange(2000.).reshape(100, 20) * 0.0005
      {"summarised 2-d, sci", arange(2000).reshape({100, 20}) * 0.0005,
       R"(tensor([[0.0000e+00, 5.0000e-04, 1.0000e-03,  ..., 8.5000e-03, 9.0000e-03,
         9.5000e-03],
        [1.0000e-02, 1.0500e-02, 1.1000e-02,  ..., 1.8500e-02, 1.9000e-02,
         1.9500e-02],
        [2.0000e-02, 2.0500e-02, 2.1000e-02,  ..., 2.8500e-02, 2.9000e-02,
         2.9500e-02],
        ...,
        [9.7000e-01, 9.7050e-01, 9.7100e-01,  ..., 9.7850e-01, 9.7900e-01,
         9.7950e-01],
        [9.8000e-01, 9.8050e-01, 9.8100e-01,  ..., 9.8850e-01, 9.8900e-01,
         9.8950e-01],
        [9.9000e-01, 9.9050e-01, 9.9100e-01,  ..., 9.9850e-01, 9.9900e-01,
         9.9950e-01]]))"},
      // torch.arange(1008.).reshape(7, 2, 72) + 10
      {"summarised 3-d", arange(1008).reshape({7, 2, 72}) + 10,
       R"(tensor([[[  10.,   11.,   12.,  ...,   79.,   80.,   81.],
         [  82.,   83.,   84.,  ...,  151.,  152.,  153.]],

        [[ 154.,  155.,  156.,  ...,  223.,  224.,  225.],
         [ 226.,  227.,  228.,  ...,  295.,  296.,  297.]],

        [[ 298.,  299.,  300.,  ...,  367.,  368.,  369.],
         [ 370.,  371.,  372.,  ...,  439.,  440.,  441.]],

        ...,

        [[ 586.,  587.,  588.,  ...,  655.,  656.,  657.],
         [ 658.,  659.,  660.,  ...,  727.,  728.,  729.]],

        [[ 730.,  731.,  732.,  ...,  799.,  800.,  801.],
         [ 802.,  803.,  804.,  ...,  871.,  872.,  873.]],

        [[ 874.,  875.,  876.,  ...,  943.,  944.,  945.],
         [ 946.,  947.,  948.,  ..., 1015., 1016., 1017.]]]))"},
      // torch.arange(2000).reshape(40, 50)
      {"summarised int64", arange(2000, kInt64).reshape({40, 50}),
       R"(tensor([[   0,    1,    2,  ...,   47,   48,   49],
        [  50,   51,   52,  ...,   97,   98,   99],
        [ 100,  101,  102,  ...,  147,  148,  149],
        ...,
        [1850, 1851, 1852,  ..., 1897, 1898, 1899],
        [1900, 1901, 1902,  ..., 1947, 1948, 1949],
        [1950, 1951, 1952,  ..., 1997, 1998, 1999]]))"},
      // torch.arange(2000).reshape(40, 50).t()
      {"summarised, transposed", arange(2000, kInt64).reshape({40, 50}).t(),
       R"(tensor([[   0,   50,  100,  ..., 1850, 1900, 1950],
        [   1,   51,  101,  ..., 1851, 1901, 1951],
        [   2,   52,  102,  ..., 1852, 1902, 1952],
        ...,
        [  47,   97,  147,  ..., 1897, 1947, 1997],
        [  48,   98,  148,  ..., 1898, 1948, 1998],
        [  49,   99,  149,  ..., 1899, 1949, 1999]]))"},
      // torch.arange(3000.).reshape(3, 1000)[:, ::2] * 0.5 - 3
      {"summarised, strided, negative sci",
       arange(3000).reshape({3, 1000}).slice(1, 0, 1000, 2) * 0.5 - 3,
       R"(tensor([[-3.0000e+00, -2.0000e+00, -1.0000e+00,  ...,  4.9400e+02,
          4.9500e+02,  4.9600e+02],
        [ 4.9700e+02,  4.9800e+02,  4.9900e+02,  ...,  9.9400e+02,
          9.9500e+02,  9.9600e+02],
        [ 9.9700e+02,  9.9800e+02,  9.9900e+02,  ...,  1.4940e+03,
          1.4950e+03,  1.4960e+03]]))"},
      // torch.tensor([1., 2.], requires_grad=True)
      {"leaf requiring grad", tensor({1, 2}).requires_grad_(),
       R"(tensor([1., 2.], requires_grad=True))"},
      // (torch.arange(18., dtype=torch.float64) / 3).requires_grad_()
      {"suffixes wrap past the line width", from_vector(third18).requires_grad_(),
       R"(tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,
        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667],
       dtype=float64, requires_grad=True))"},
  };
  for (const PrintCase& c : cases) {
    INFO(c.name);
    CHECK(c.t.str() == std::string(c.expected));
  }
}

TEST_CASE("str() names the grad_fn of non-leaves and works with <<", "[tensor][print]") {
  Tensor x = tensor({-1, 2}).requires_grad_();
  // torch 1.13 prints `grad_fn=<ReluBackward0>`; heed prints its node name.
  CHECK(relu(x).str() == "tensor([0., 2.], grad_fn=<relu>)");
  CHECK((x * 2.0).str() == "tensor([-2.,  4.], grad_fn=<mul_scalar>)");
  {
    NoGradGuard no_grad;
    CHECK(relu(x).str() == "tensor([0., 2.])");
  }
  CHECK(x.detach().str() == "tensor([-1.,  2.])");
  std::ostringstream os;
  os << tensor({0.5}) << ";" << scalar_tensor(1, kBool);
  CHECK(os.str() == "tensor([0.5000]);tensor(True)");
  CHECK(Tensor().str() == "tensor(undefined)");
}

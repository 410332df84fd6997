// Activations: values and gradients against PyTorch, numerically hard
// inputs, errors, and gradcheck cases for every activation op.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;
using Vec = std::vector<double>;

// The inputs and the upstream gradient every PyTorch reference below used:
//   x = torch.tensor([-4, -3.5, -1, -0.5, 0.25, 0.5, 1, 2.5, 3.5, 7], dtype=torch.float64)
//   y = f(x.requires_grad_()); y.backward(torch.arange(1., 11., dtype=torch.float64))
const Vec kX = {-4.0, -3.5, -1.0, -0.5, 0.25, 0.5, 1.0, 2.5, 3.5, 7.0};
const Vec kUpstream = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

void check_close(const Vec& got, const Vec& want, double eps = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).epsilon(eps).margin(1e-15));
  }
}

// Checks y = f(x) and x.grad for the upstream gradient above.
void check_op(const std::function<Tensor(const Tensor&)>& f, const Vec& y, const Vec& gx) {
  Tensor x = from_vector(kX).requires_grad_();
  Tensor out = f(x);
  CHECK(out.dtype() == kFloat64);
  check_close(out.to_vector<double>(), y);
  out.backward(from_vector(kUpstream));
  check_close(x.grad().to_vector<double>(), gx);
}

}  // namespace

TEST_CASE("relu, relu6 and leaky_relu", "[activation]") {
  // Hand-computed: relu keeps x > 0; relu6 clips at 6; leaky multiplies x < 0 by 0.2.
  // Gradients: the upstream value where the slope is 1, 0 (or 0.2 * g) elsewhere.
  check_op([](const Tensor& x) { return relu(x); }, {0, 0, 0, 0, 0.25, 0.5, 1, 2.5, 3.5, 7},
           {0, 0, 0, 0, 5, 6, 7, 8, 9, 10});
  check_op([](const Tensor& x) { return relu6(x); }, {0, 0, 0, 0, 0.25, 0.5, 1, 2.5, 3.5, 6},
           {0, 0, 0, 0, 5, 6, 7, 8, 9, 0});
  check_op([](const Tensor& x) { return leaky_relu(x, 0.2); },
           {-0.8, -0.7, -0.2, -0.1, 0.25, 0.5, 1, 2.5, 3.5, 7},
           {0.2, 0.4, 0.6, 0.8, 5, 6, 7, 8, 9, 10});
  // The default slope is 0.01, as torch.nn.functional.leaky_relu.
  CHECK(leaky_relu(tensor({-2, 3}, kFloat64)).to_vector<double>() == Vec{-0.02, 3});
}

TEST_CASE("add_relu is relu(a + b): values, NaN, broadcast gradients", "[activation]") {
  Generator gen(4);
  for (DType dt : {kFloat32, kFloat64}) {
    INFO("dtype " << dt);
    Tensor a = randn({2, 3, 4, 5}, dt, &gen), b = randn({2, 3, 1, 1}, dt, &gen);
    Tensor a1 = a.clone().requires_grad_(), b1 = b.clone().requires_grad_();
    Tensor a2 = a.clone().requires_grad_(), b2 = b.clone().requires_grad_();
    Tensor y1 = add_relu(a1, b1), y2 = relu(a2 + b2);
    CHECK(max_abs_diff(y1, y2) == 0);
    Tensor g = randn(y1.shape(), dt, &gen);
    sum(y1 * g).backward();
    sum(y2 * g).backward();
    CHECK(max_abs_diff(a1.grad(), a2.grad()) == 0);
    CHECK(max_abs_diff(b1.grad(), b2.grad()) < 1e-6);  // both sum the same masked values
  }
  Tensor nan = full({3}, std::nan(""), kFloat32);
  Tensor y = add_relu(nan, tensor({1.0f, -1.0f, 0.0f}));
  for (float v : y.to_vector<float>()) CHECK(std::isnan(v));
  CHECK_THROWS_WITH(add_relu(zeros({1}, kInt64), zeros({1}, kInt64)), Catch::Contains("add_relu"));
}

TEST_CASE("gate_add_relu is relu(x * gate + residual), channel and spatial gates", "[activation]") {
  Generator gen(6);
  for (DType dt : {kFloat64, kFloat32}) {
    for (bool channel : {true, false}) {
      INFO("dtype " << dt << " channel gate " << channel);
      // 40 values per run: the vector body and a tail.
      Tensor x = randn({3, 4, 5, 8}, dt, &gen), r = randn({3, 4, 5, 8}, dt, &gen);
      Tensor gate = rand(channel ? Shape{3, 4, 1, 1} : Shape{3, 1, 5, 8}, dt, &gen);
      std::vector<Tensor> a, b;
      for (const Tensor& t : {x, gate, r}) {
        a.push_back(t.clone().requires_grad_());
        b.push_back(t.clone().requires_grad_());
      }
      Tensor y1 = gate_add_relu(a[0], a[1], a[2]), y2 = relu(b[0] * b[1] + b[2]);
      // One fused multiply-add against a rounded product: an ulp apart at most.
      const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
      CHECK(max_abs_diff(y1, y2) <= tol);
      Tensor g = randn(y1.shape(), dt, &gen);
      sum(y1 * g).backward();
      sum(y2 * g).backward();
      for (int i = 0; i < 3; ++i) {
        INFO("input " << i);
        CHECK(max_abs_diff(a[size_t(i)].grad(), b[size_t(i)].grad()) <= tol * 10);
      }
    }
  }
  SECTION("non-contiguous inputs, NaN, and clear errors") {
    Tensor x = randn({2, 3, 4, 4}).transpose(2, 3), r = randn({2, 3, 4, 4});
    Tensor gate = rand({2, 3, 1, 1});
    CHECK(max_abs_diff(gate_add_relu(x, gate, r), relu(x * gate + r)) <= 1e-6);
    Tensor nan = full({2, 3, 4, 4}, std::nan(""));
    for (float v : gate_add_relu(nan, gate, r).to_vector<float>()) CHECK(std::isnan(v));
    CHECK_THROWS_WITH(gate_add_relu(randn({2, 3, 4, 4}), rand({2, 3, 4, 1}), r),
                      Catch::Contains("gate has shape [2, 3, 4, 1]"));
    CHECK_THROWS_WITH(gate_add_relu(randn({2, 3, 4, 4}), gate, randn({2, 3, 4, 5})),
                      Catch::Contains("residual has shape"));
  }
}

TEST_CASE("gates_add_relu is relu(x * channel_gate * spatial_gate + residual)", "[activation]") {
  Generator gen(7);
  for (DType dt : {kFloat64, kFloat32}) {
    INFO("dtype " << dt);
    // 40 values per run: the vector body and a tail.
    Tensor x = randn({3, 4, 5, 8}, dt, &gen), r = randn({3, 4, 5, 8}, dt, &gen);
    Tensor cg = rand({3, 4, 1, 1}, dt, &gen), sg = rand({3, 1, 5, 8}, dt, &gen);
    std::vector<Tensor> a, b;
    for (const Tensor& t : {x, cg, sg, r}) {
      a.push_back(t.clone().requires_grad_());
      b.push_back(t.clone().requires_grad_());
    }
    Tensor y1 = gates_add_relu(a[0], a[1], a[2], a[3]);
    Tensor y2 = relu(b[0] * b[1] * b[2] + b[3]);
    const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
    CHECK(max_abs_diff(y1, y2) <= tol);
    Tensor g = randn(y1.shape(), dt, &gen);
    sum(y1 * g).backward();
    sum(y2 * g).backward();
    for (int i = 0; i < 4; ++i) {
      INFO("input " << i);
      CHECK(max_abs_diff(a[size_t(i)].grad(), b[size_t(i)].grad()) <= tol * 10);
    }
  }
  SECTION("only the gates need gradients, and clear errors") {
    Tensor x = randn({2, 3, 4, 4}), r = randn({2, 3, 4, 4});
    Tensor cg = rand({2, 3, 1, 1}).requires_grad_(), sg = rand({2, 1, 4, 4}).requires_grad_();
    sum(gates_add_relu(x, cg, sg, r)).backward();
    Tensor cg2 = cg.detach().requires_grad_(), sg2 = sg.detach().requires_grad_();
    sum(relu(x * cg2 * sg2 + r)).backward();
    CHECK(max_abs_diff(cg.grad(), cg2.grad()) <= 1e-5);
    CHECK(max_abs_diff(sg.grad(), sg2.grad()) <= 1e-5);
    CHECK_THROWS_WITH(gates_add_relu(x, sg, cg, r),
                      Catch::Contains("channel gate has shape [2, 1, 4, 4]"));
    CHECK_THROWS_WITH(gates_add_relu(x, cg, Tensor(), r), Catch::Contains("both gates"));
    CHECK_THROWS_WITH(gates_add_relu(x, cg, sg, randn({2, 3, 4, 4}, kFloat64)),
                      Catch::Contains("residual is float64"));
  }
}

TEST_CASE("sigmoid and tanh match PyTorch", "[activation]") {
  // torch.sigmoid / torch.tanh, float64.
  check_op([](const Tensor& x) { return sigmoid(x); },
           {0.01798620996209156, 0.02931223075135632, 0.2689414213699951, 0.3775406687981454,
            0.5621765008857981, 0.6224593312018546, 0.7310585786300049, 0.9241418199787566,
            0.9706877692486436, 0.9990889488055994},
           {0.017662706213291118, 0.05690604775947112, 0.5898357997244456, 0.940014848806378,
            1.2306704136879918, 1.4100222732095669, 1.3762835326903728, 0.5608297323608645,
            0.25607721491762037, 0.009102211801217841});
  check_op([](const Tensor& x) { return tanh(x); },
           {-0.999329299739067, -0.9981778976111987, -0.7615941559557649, -0.46211715726000974,
            0.24491866240370913, 0.46211715726000974, 0.7615941559557649, 0.9866142981514303,
            0.9981778976111987, 0.9999983369439447},
           {0.0013409506830259165, 0.0072817694409747155, 1.2599230248420783, 3.1457909318637096,
            4.70007424403189, 4.718686397795564, 2.939820391298183, 0.21273781346528456,
            0.03276796248438622, 3.326109344868837e-05});
  // Methods on Tensor reach the same ops.
  Tensor x = tensor({0.0}, kFloat64);
  CHECK(x.sigmoid().item() == 0.5);
  CHECK(x.tanh().item() == 0.0);
  CHECK(x.relu().item() == 0.0);
}

TEST_CASE("gelu, exact and tanh approximation, match PyTorch", "[activation]") {
  // torch.nn.functional.gelu(x) and gelu(x, approximate='tanh'), float64.
  auto exact_y = Vec{-0.00012668496733247991, -0.0008142017766243903, -0.15865525393145702,
                     -0.15426876936299344,    0.14967658142073093,    0.34573123063700656,
                     0.841344746068543,       2.4844758366855597,     3.4991857982233756,
                     6.999999999991041};
  auto exact_g =
      Vec{-0.0005036496612264215, -0.005643520707249241, -0.24994641176305904, 0.5300195013753485,
          3.4768667744181805,     5.204970747936978,     7.583208294113804,    8.30088868726516,
          9.025395843182622,      10.000000000626631};
  check_op([](const Tensor& x) { return gelu(x); }, exact_y, exact_g);
  check_op([](const Tensor& x) { return gelu(x, "none"); }, exact_y, exact_g);
  check_op([](const Tensor& x) { return gelu(x, "tanh"); },
           {-7.024594819227126e-05, -0.0006161976553737403, -0.1588080093917233,
            -0.15428599017485606, 0.149675350701685, 0.34571400982514394, 0.8411919906082768,
            2.484915733910001, 3.499383802344626, 6.999999999999997},
           {-0.00033512319712218684, -0.004845287520233467, -0.24889225153734773,
            0.5305203858614306, 3.476770475755302, 5.2042194212078545, 7.580748586920478,
            8.303612609701329, 9.02180379384105, 10.000000000000277});
  // Hand check: gelu(1) = 1 * Phi(1) = 0.5 * (1 + erf(1 / sqrt 2)).
  CHECK(gelu(tensor({1.0}, kFloat64)).item() == Approx(0.5 * (1 + std::erf(M_SQRT1_2))));
  CHECK_THROWS_WITH(gelu(tensor({1.0}), "erf"),
                    Catch::Contains("gelu: approximate must be \"none\" or \"tanh\", got \"erf\""));
  // The two modes are different ops in the graph.
  Tensor x = tensor({1.0}).requires_grad_();
  CHECK(gelu(x).grad_fn()->name() == "gelu");
  CHECK(gelu(x, "tanh").grad_fn()->name() == "gelu_tanh");
}

TEST_CASE("silu, hardsigmoid and hardswish", "[activation]") {
  // torch.nn.functional.silu, float64.
  check_op([](const Tensor& x) { return silu(x); },
           {-0.07194483984836623, -0.10259280762974712, -0.2689414213699951, -0.1887703343990727,
            0.14054412522144952, 0.3112296656009273, 0.7310585786300049, 2.3103545499468914,
            3.3974071923702525, 6.993622641639196},
           {-0.05266461489107291, -0.14054670565543628, 0.2169884643855398, 1.0401552507893927,
            3.1185501078509885, 4.439767123815911, 6.4936935831004075, 8.795208890732214,
            9.632460175449465, 10.054604970664519});
  // Hand-computed: hardsigmoid = clamp(x + 3, 0, 6) / 6, e.g. (-1 + 3) / 6 = 1/3;
  // gradient g / 6 inside (-3, 3), e.g. 3 / 6 = 0.5. (torch 1.13's float64
  // kernel multiplies by a float32 1/6 and gives 0.5000000149011612.)
  check_op([](const Tensor& x) { return hardsigmoid(x); },
           {0, 0, 2.0 / 6, 2.5 / 6, 3.25 / 6, 3.5 / 6, 4.0 / 6, 5.5 / 6, 1, 1},
           {0, 0, 3.0 / 6, 4.0 / 6, 5.0 / 6, 6.0 / 6, 7.0 / 6, 8.0 / 6, 0, 0});
  // hardswish = x * hardsigmoid(x): -1 * 1/3, -0.5 * 2.5/6 ...; gradient
  // g * (x / 3 + 0.5) inside [-3, 3], g above: 4 * (-0.5/3 + 0.5) = 4/3.
  // (torch.nn.functional.hardswish agrees.)
  check_op([](const Tensor& x) { return hardswish(x); },
           {0, 0, -1.0 / 3, -0.5 * 2.5 / 6, 0.25 * 3.25 / 6, 0.5 * 3.5 / 6, 4.0 / 6, 2.5 * 5.5 / 6,
            3.5, 7},
           {0, 0, 3 * (-1.0 / 3 + 0.5), 4 * (-0.5 / 3 + 0.5), 5 * (0.25 / 3 + 0.5),
            6 * (0.5 / 3 + 0.5), 7 * (1.0 / 3 + 0.5), 8 * (2.5 / 3 + 0.5), 9, 10});
}

TEST_CASE("softplus with beta and threshold matches PyTorch", "[activation]") {
  // torch.nn.functional.softplus(x) (beta 1, threshold 20), float64.
  check_op([](const Tensor& x) { return softplus(x); },
           {0.018149927917809738, 0.029750418272620566, 0.31326168751822286, 0.4740769841801067,
            0.8259394198788436, 0.9740769841801067, 1.3132616875182228, 2.5788897342925496,
            3.5297504182726205, 7.000911466453774},
           {0.017986209962091555, 0.05862446150271263, 0.8068242641099854, 1.5101626751925818,
            2.8108825044289905, 3.7347559872111273, 5.117410050410034, 7.3931345598300515,
            8.736189923237793, 9.990889488055993});
  // softplus(x, beta=2, threshold=3): linear (y = x, slope 1) where 2x > 3,
  // i.e. for 2.5, 3.5 and 7.
  check_op(
      [](const Tensor& x) { return softplus(x, 2.0, 3.0); },
      {0.00016770318644788442, 0.00045573322688712237, 0.06346400552148625, 0.15663084375911143,
       0.48703849209005334, 0.6566308437591114, 1.0634640055214863, 2.5, 3.5, 7.0},
      {0.00033535013046647816, 0.0018221023888012908, 0.35760876606635267, 1.0757656854799804,
       3.1122966560092733, 4.38635147178003, 6.165579545845177, 8.0, 9.0, 10.0});
  // Hand check below the threshold: log(1 + e^(2 * 1)) / 2.
  CHECK(softplus(tensor({1.0}, kFloat64), 2.0, 3.0).item() ==
        Approx(std::log1p(std::exp(2.0)) / 2));
}

TEST_CASE("activations stay finite at extreme inputs", "[activation]") {
  Tensor big = tensor({-1000, -100, 100, 1000});
  // Exact up to float32 denormals (sigmoid(-100) = e^-100 = 3.7e-44).
  auto near = [](const Tensor& t, std::vector<float> want) {
    std::vector<float> got = t.to_vector<float>();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i);
      CHECK(got[i] == Approx(want[i]).margin(1e-30));
    }
  };
  near(sigmoid(big), {0, 0, 1, 1});
  near(tanh(big), {-1, -1, 1, 1});
  near(silu(big), {0, 0, 100, 1000});
  near(softplus(big), {0, 0, 100, 1000});
  near(gelu(big), {0, 0, 100, 1000});
  // Gradients at the extremes: no NaN.
  Tensor x = big.detach().requires_grad_();
  (sigmoid(x) + silu(x) + softplus(x) + gelu(x, "tanh")).sum().backward();
  for (float g : x.grad().to_vector<float>()) CHECK(std::isfinite(g));
}

TEST_CASE("activations keep float32, read strided inputs and reject integers", "[activation]") {
  Tensor a = arange(-3, 3).reshape({2, 3});
  Tensor r = relu(a.t());  // non-contiguous input
  CHECK(r.dtype() == kFloat32);
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.to_vector<float>() == std::vector<float>{0, 0, 0, 1, 0, 2});
  CHECK(hardswish(a).dtype() == kFloat32);
  CHECK_THROWS_WITH(relu(tensor({1, -1}, kInt64)),
                    Catch::Contains("relu: expected a floating-point tensor, got int64"));
  CHECK_THROWS_WITH(softplus(from_vector(std::vector<bool>{true})),
                    Catch::Contains("softplus: expected a floating-point tensor, got bool"));
  // No graph when nothing requires grad or under NoGradGuard.
  CHECK(sigmoid(a).grad_fn() == nullptr);
  Tensor x = tensor({1.0}).requires_grad_();
  {
    NoGradGuard no_grad;
    CHECK(sigmoid(x).grad_fn() == nullptr);
  }
  CHECK(sigmoid(x).grad_fn()->name() == "sigmoid");
}

// --- gradcheck cases (float64; values kept away from the kinks)
// The fused residual joins: seeded inputs whose pre-activations stay clear
// of 0 by far more than gradcheck's step.
HEED_GRADCHECK_CASE({"add_relu", "broadcast (B, C, 1, 1) against (B, C, H, W)",
                     [] {
                       return In{gc_input({2, 3, 2, 2}), gc_input({2, 3, 1, 1}, -1, 1, 2)};
                     },
                     [](const In& i) { return add_relu(i[0], i[1]); }});
HEED_GRADCHECK_CASE({"gate_add_relu", "channel gate",
                     [] {
                       return In{gc_input({2, 3, 2, 3}), gc_input({2, 3, 1, 1}, 0.2, 1, 2),
                                 gc_input({2, 3, 2, 3}, -1, 1, 3)};
                     },
                     [](const In& i) { return gate_add_relu(i[0], i[1], i[2]); }});
HEED_GRADCHECK_CASE({"gate_add_relu", "spatial gate, strided x",
                     [] {
                       return In{gc_strided_input({2, 3, 2, 3}), gc_input({2, 1, 2, 3}, 0.2, 1, 2),
                                 gc_input({2, 3, 2, 3}, -1, 1, 3)};
                     },
                     [](const In& i) { return gate_add_relu(i[0], i[1], i[2]); }});
HEED_GRADCHECK_CASE({"gates_add_relu", "channel and spatial gates",
                     [] {
                       return In{gc_input({2, 3, 2, 3}), gc_input({2, 3, 1, 1}, 0.2, 1, 2),
                                 gc_input({2, 1, 2, 3}, 0.2, 1, 4),
                                 gc_input({2, 3, 2, 3}, -1, 1, 3)};
                     },
                     [](const In& i) { return gates_add_relu(i[0], i[1], i[2], i[3]); }});
HEED_GRADCHECK_CASE({"relu", "away from 0",
                     [] {
                       return In{gc_input_away_from({3, 4}, {0})};
                     },
                     [](const In& i) { return relu(i[0]); }});
HEED_GRADCHECK_CASE({"relu", "strided",
                     [] {
                       return In{gc_strided_input({3, 4}, -1, 1, 5)};
                     },
                     [](const In& i) { return relu(i[0]); }});
HEED_GRADCHECK_CASE({"relu6", "away from 0 and 6",
                     [] {
                       return In{gc_input_away_from({12}, {0, 6}, 0.05, -2, 8)};
                     },
                     [](const In& i) { return relu6(i[0]); }});
HEED_GRADCHECK_CASE({"leaky_relu", "slope 0.1, away from 0",
                     [] { return In{gc_input_away_from({10}, {0})}; },
                     [](const In& i) { return leaky_relu(i[0], 0.1); }});
HEED_GRADCHECK_CASE({"sigmoid", "",
                     [] {
                       return In{gc_input({2, 5}, -4, 4)};
                     },
                     [](const In& i) { return sigmoid(i[0]); }});
HEED_GRADCHECK_CASE({"tanh", "strided",
                     [] {
                       return In{gc_strided_input({3, 4}, -3, 3)};
                     },
                     [](const In& i) { return tanh(i[0]); }});
HEED_GRADCHECK_CASE({"gelu", "exact (erf)", [] { return In{gc_input({10}, -4, 4)}; },
                     [](const In& i) { return gelu(i[0]); }});
HEED_GRADCHECK_CASE({"gelu_tanh", "tanh approximation", [] { return In{gc_input({10}, -4, 4)}; },
                     [](const In& i) { return gelu(i[0], "tanh"); }});
HEED_GRADCHECK_CASE({"silu", "", [] { return In{gc_input({10}, -5, 5)}; },
                     [](const In& i) { return silu(i[0]); }});
HEED_GRADCHECK_CASE({"hardsigmoid", "away from -3 and 3",
                     [] {
                       return In{gc_input_away_from({12}, {-3, 3}, 0.05, -5, 5)};
                     },
                     [](const In& i) { return hardsigmoid(i[0]); }});
HEED_GRADCHECK_CASE({"hardswish", "away from -3 and 3",
                     [] {
                       return In{gc_input_away_from({12}, {-3, 3}, 0.05, -5, 5)};
                     },
                     [](const In& i) { return hardswish(i[0]); }});
HEED_GRADCHECK_CASE({"softplus", "default", [] { return In{gc_input({10}, -5, 5)}; },
                     [](const In& i) { return softplus(i[0]); }});
HEED_GRADCHECK_CASE({"softplus", "beta 2, threshold 3 (both sides, away from x = 1.5)",
                     [] { return In{gc_input_away_from({12}, {1.5}, 0.05, -3, 4)}; },
                     [](const In& i) { return softplus(i[0], 2.0, 3.0); }});

// SimAM (attention/simam.h): PyTorch golden values, gradients, cost, errors.
#include "attention/simam.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("SimAM matches PyTorch", "[attention][zoo][simam]") {
  SimAM m(8);
  check_golden(m, "simam", "simam");
  SimAM m2(4, {.e_lambda = 0.1});
  check_golden(m2, "simam", "simam_lambda");
  CHECK(m->state_dict().empty());
}

TEST_CASE("SimAM by hand on one channel", "[attention][zoo][simam]") {
  // x = [0, 1, 2, 3] (H=2, W=2): μ = 1.5, d = [2.25, 0.25, 0.25, 2.25], Σd/n = 5/3,
  // E⁻¹ = d / (4(5/3 + 1e-4)) + 0.5 = [0.83745, 0.53750, 0.53750, 0.83745] (to 5 places),
  // y = x·σ(E⁻¹).
  SimAM m;
  Tensor x = from_vector(std::vector<float>{0, 1, 2, 3}, Shape{1, 1, 2, 2});
  std::vector<float> y = m(x).to_vector<float>();
  double v = 4 * (5.0 / 3 + 1e-4);
  auto sig = [](double t) { return 1 / (1 + std::exp(-t)); };
  CHECK(y[0] == Approx(0.0));
  CHECK(y[1] == Approx(1 * sig(0.25 / v + 0.5)));
  CHECK(y[2] == Approx(2 * sig(0.25 / v + 0.5)));
  CHECK(y[3] == Approx(3 * sig(2.25 / v + 0.5)));
}

TEST_CASE("SimAM gradcheck, cost, map and errors", "[attention][zoo][simam]") {
  SimAM m(3);
  GradcheckReport r = gradcheck_holder(m, {2, 3, 3, 4});
  INFO(r.message);
  CHECK(r.ok);

  m->to(kFloat32);
  for (Shape s : {Shape{2, 3, 4, 4}, Shape{1, 3, 7, 5}}) {
    Counts c = summary_counts(m, s);
    CHECK(c.params == 0);  // parameter-free
    CHECK(c.macs == 0);
  }
  m->set_keep_maps(true);
  (void)m(randn({2, 3, 4, 4}));
  CHECK(m->maps().at("weights").shape() == Shape{2, 3, 4, 4});

  CHECK_THROWS_WITH(m(randn({2, 3, 1, 1})), Contains("needs more than one pixel"));
  CHECK_THROWS_WITH(m(randn({2, 4, 3, 3})),
                    Contains("input has 4 channels but the module was built for 3"));
  CHECK_THROWS_WITH(m(randn({3, 3, 3})), Contains("SimAM: expected input (B, C, H, W)"));
  CHECK_THROWS_WITH(SimAM(3, {.e_lambda = 0}), Contains("e_lambda must be > 0"));
}

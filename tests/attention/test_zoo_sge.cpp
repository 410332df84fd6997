// Spatial Group-wise Enhance (attention/sge.h).
#include "attention/sge.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("SpatialGroupEnhance matches PyTorch", "[attention][zoo][sge]") {
  SpatialGroupEnhance m(16, {.groups = 4});
  check_golden(m, "sge", "sge");
  SpatialGroupEnhance g1(3, {.groups = 1});
  check_golden(g1, "sge", "sge_g1");
}

TEST_CASE("SpatialGroupEnhance init, gradcheck, cost and errors", "[attention][zoo][sge]") {
  // weight 0, bias 1 (the authors' init): the gate is σ(1) everywhere.
  SpatialGroupEnhance m(8, {.groups = 2});
  Tensor x = randn({2, 8, 3, 4});
  check_close(m(x), x * (1 / (1 + std::exp(-1.0))), "SGE at init");

  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {2, 8, 3, 4});
  INFO(r.message);
  CHECK(r.ok);

  // Params 2G; no MACs.
  for (auto [s, G] : {std::pair{Shape{2, 32, 5, 5}, int64_t(8)}, {Shape{1, 12, 3, 7}, 3}}) {
    SpatialGroupEnhance sge(s[1], {.groups = G});
    Counts c = summary_counts(sge, s);
    CHECK(c.params == 2 * G);
    CHECK(c.macs == 0);
  }
  m->set_keep_maps(true);
  m->to(kFloat32);
  (void)m(randn({2, 8, 3, 4}));
  CHECK(m->maps().at("spatial").shape() == Shape{2, 2, 3, 4});
  CHECK_THROWS_WITH(SpatialGroupEnhance(10, {.groups = 4}), Contains("divisible by groups (4)"));
  CHECK_THROWS_WITH(m(randn({2, 8, 1, 1})), Contains("needs more than one pixel"));
}

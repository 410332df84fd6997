// Criss-Cross attention (attention/criss_cross.h).
#include "attention/criss_cross.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("CrissCrossAttention matches PyTorch", "[attention][zoo][criss_cross]") {
  CrissCrossAttention m(16);
  check_golden(m, "criss_cross", "cc");
  CrissCrossAttention r2(8, {.reduction = 4, .recurrence = 2});
  check_golden(r2, "criss_cross", "cc_r2");
}

TEST_CASE("CrissCrossAttention starts as the identity; gradcheck",
          "[attention][zoo][criss_cross]") {
  Tensor x = randn({2, 8, 3, 4});
  CHECK(max((CrissCrossAttention(8)(x) - x).abs()).item() == 0.0);  // γ = 0

  CrissCrossAttention m(8, {.reduction = 4, .recurrence = 2});
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {2, 8, 3, 4});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("CrissCrossAttention cost, maps and errors", "[attention][zoo][criss_cross]") {
  // Params 2(C·C' + C') + C² + C + 1. MACs per application (R of them):
  // convs 2·B·N·C·C' + B·N·C², energies B·N·(H+W)·C', outputs B·N·(H+W)·C.
  for (auto [s, R] : {std::pair{Shape{2, 16, 4, 5}, int64_t(1)}, {Shape{1, 24, 6, 3}, 2}}) {
    const int64_t B = s[0], C = s[1], H = s[2], W = s[3], N = H * W, Ci = C / 8;
    CrissCrossAttention m(C, {.recurrence = R});
    Counts c = summary_counts(m, s);
    CHECK(c.params == 2 * (C * Ci + Ci) + C * C + C + 1);
    CHECK(c.macs == R * (2 * B * N * C * Ci + B * N * C * C + B * N * (H + W) * (Ci + C)));
  }
  CrissCrossAttention m(8);
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 3, 5}));
  Tensor a = m->maps().at("weights");
  REQUIRE(a.shape() == Shape{2, 3, 5, 8});
  // The pixel itself appears once: its column entry (h' = h) has weight 0.
  CHECK(a.select(0, 0).select(0, 1).select(0, 2).select(0, 1).item() ==
        0.0);  // a[0, h=1, w=2, h'=1]
  CHECK_THROWS_WITH(CrissCrossAttention(4), Contains("in_dim / reduction = 4 / 8 is 0"));
  CHECK_THROWS_WITH(CrissCrossAttention(8, {.recurrence = 0}), Contains("recurrence >= 1"));
}

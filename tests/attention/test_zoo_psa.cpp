// Polarized self-attention (attention/psa.h).
#include "attention/psa.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("PolarizedSelfAttention matches PyTorch", "[attention][zoo][psa]") {
  PolarizedSelfAttention p(16);
  check_golden(p, "psa", "psa_parallel");
  PolarizedSelfAttention s(12, {.mode = "sequential"});
  check_golden(s, "psa", "psa_sequential");
}

TEST_CASE("PolarizedSelfAttention gradcheck", "[attention][zoo][psa]") {
  for (const char* mode : {"parallel", "sequential"}) {
    PolarizedSelfAttention m(6, {.mode = mode});
    perturb(*m);
    GradcheckReport r = gradcheck_holder(m, {2, 6, 3, 4});
    INFO(mode << ": " << r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("PolarizedSelfAttention cost, maps and errors", "[attention][zoo][psa]") {
  // Params: ch_wv, sp_wv, sp_wq 3·(C·C/2 + C/2); ch_wq C + 1; ch_wz C/2·C + C; ln 2C.
  // MACs: the 1×1 convs B·N·(3·C·C/2 + C) + B·C/2·C, and the two matmuls B·N·C/2 each.
  for (Shape s : {Shape{2, 16, 5, 6}, Shape{3, 10, 4, 4}}) {
    const int64_t B = s[0], C = s[1], N = s[2] * s[3], h = C / 2;
    PolarizedSelfAttention m(C);
    Counts c = summary_counts(m, s);
    CHECK(c.params == 3 * (C * h + h) + (C + 1) + (h * C + C) + 2 * C);
    CHECK(c.macs == B * N * (3 * C * h + C) + B * h * C + B * N * C);
  }
  PolarizedSelfAttention m(8, {.mode = "sequential"});
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 3, 5}));
  CHECK(m->maps().at("channel").shape() == Shape{2, 8, 1, 1});
  CHECK(m->maps().at("spatial").shape() == Shape{2, 1, 3, 5});
  CHECK_THROWS_WITH(PolarizedSelfAttention(7), Contains("channels must be even"));
  CHECK_THROWS_WITH(PolarizedSelfAttention(8, {.mode = "both"}),
                    Contains("mode must be 'parallel' or 'sequential', got 'both'"));
}

// Effective SE (attention/ese.h).
#include "attention/ese.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("EffectiveSE matches PyTorch", "[attention][zoo][ese]") {
  EffectiveSE m(12);
  check_golden(m, "ese", "ese");
  EffectiveSE mp(6, {.add_maxpool = true});
  check_golden(mp, "ese", "ese_maxpool");
}

TEST_CASE("EffectiveSE gradcheck, cost and errors", "[attention][zoo][ese]") {
  EffectiveSE m(5, {.add_maxpool = true});
  GradcheckReport r = gradcheck_holder(m, {2, 5, 3, 4});
  INFO(r.message);
  CHECK(r.ok);
  // Params C² + C; MACs B·C² (the 1×1 conv on the pooled vector).
  for (Shape s : {Shape{2, 16, 5, 5}, Shape{3, 7, 2, 9}}) {
    EffectiveSE e(s[1]);
    Counts c = summary_counts(e, s);
    CHECK(c.params == s[1] * s[1] + s[1]);
    CHECK(c.macs == s[0] * s[1] * s[1]);
  }
  EffectiveSE e(4);
  e->set_keep_maps(true);
  (void)e(randn({2, 4, 3, 3}));
  CHECK(e->maps().at("channel").shape() == Shape{2, 4, 1, 1});
  CHECK_THROWS_WITH(e(randn({2, 3, 3, 3})), Contains("EffectiveSE: input has 3 channels"));
}

// Shuffle attention (attention/shuffle.h).
#include "attention/shuffle.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("ShuffleAttention matches PyTorch", "[attention][zoo][shuffle]") {
  ShuffleAttention m(32, {.G = 4});
  check_golden(m, "shuffle", "shuffle");
  ShuffleAttention g1(6, {.G = 1});
  check_golden(g1, "shuffle", "shuffle_g1");
}

TEST_CASE("ShuffleAttention init, gradcheck, cost and errors", "[attention][zoo][shuffle]") {
  ShuffleAttention m(16, {.G = 2});
  CHECK(m->cweight.abs().sum().item() == 0.0);  // cweight = sweight = 0, cbias = sbias = 1
  CHECK(m->cbias.sum().item() == 4.0);
  CHECK(m->sbias.shape() == Shape{1, 4, 1, 1});

  ShuffleAttention g(8, {.G = 2});
  perturb(*g);
  GradcheckReport r = gradcheck_holder(g, {2, 8, 3, 4});
  INFO(r.message);
  CHECK(r.ok);

  // Params 6·C/(2G) (four gate vectors and GN's affine); no MACs.
  for (auto [s, G] : {std::pair{Shape{2, 32, 5, 5}, int64_t(4)}, {Shape{1, 24, 3, 7}, 2}}) {
    ShuffleAttention sa(s[1], {.G = G});
    Counts c = summary_counts(sa, s);
    CHECK(c.params == 6 * s[1] / (2 * G));
    CHECK(c.macs == 0);
  }
  // With the gates at their init (σ(0·x + 1) for both halves) the output is
  // σ(1)·x, shuffled: output channel 2j + i is input channel i·C/2 + j.
  ShuffleAttention id(4, {.G = 1});
  Tensor x = randn({1, 4, 2, 2});
  Tensor y = id(x);
  const double s1 = 1 / (1 + std::exp(-1.0));
  check_close(y.narrow(1, 1, 1), x.narrow(1, 2, 1) * s1, "shuffled channel 1");
  check_close(y.narrow(1, 2, 1), x.narrow(1, 1, 1) * s1, "shuffled channel 2");
  CHECK_THROWS_WITH(ShuffleAttention(12, {.G = 4}), Contains("divisible by 2·G = 8"));
}

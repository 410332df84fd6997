// External attention (attention/external.h).
#include "attention/external.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("ExternalAttention matches PyTorch", "[attention][zoo][external]") {
  ExternalAttention tokens(12, {.S = 5});
  check_golden(tokens, "external", "external_tokens");
  ExternalAttention2d map(8, {.S = 6});
  check_golden(map, "external", "external2d");
  ExternalAttention2d res(8, {.S = 4, .residual = true});
  check_golden(res, "external", "external2d_residual");
}

TEST_CASE("ExternalAttention init and gradcheck", "[attention][zoo][external]") {
  // EA calls init_weights: N(0, 0.001²) for both memories.
  ExternalAttention2d big(64);
  for (const Tensor& w : {big->mk->weight, big->mv->weight}) {
    CHECK(w.shape() == Shape{64, 64});
    CHECK(std::sqrt(w.pow(2.0).mean().item()) == Approx(0.001).epsilon(0.1));
  }
  ExternalAttention t(6, {.S = 4});
  perturb(*t);
  GradcheckReport r = gradcheck_holder(t, {2, 5, 6});
  INFO(r.message);
  CHECK(r.ok);
  ExternalAttention2d m(4, {.S = 3, .residual = true});
  perturb(*m);
  r = gradcheck_holder(m, {2, 4, 3, 3}, 2);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("ExternalAttention cost, maps and errors", "[attention][zoo][external]") {
  // Params 2·C·S; MACs 2·B·N·C·S (mk and mv), N = H·W.
  for (Shape s : {Shape{2, 16, 4, 5}, Shape{3, 8, 7, 7}}) {
    const int64_t B = s[0], C = s[1], N = s[2] * s[3], S = 10;
    ExternalAttention2d m(C, {.S = S});
    Counts c = summary_counts(m, s);
    CHECK(c.params == 2 * C * S);
    CHECK(c.macs == 2 * B * N * C * S);
  }
  ExternalAttention2d m(8, {.S = 6});
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 3, 4}));
  Tensor a = m->maps().at("weights");
  CHECK(a.shape() == Shape{2, 12, 6});
  for (float v : a.sum({2}).to_vector<float>()) CHECK(v == Approx(1.0));  // ℓ1-normalised
  CHECK_THROWS_WITH(ExternalAttention(8)(randn({2, 8, 3, 4})),
                    Contains("ExternalAttention: expected queries (B, N, 8)"));
  CHECK_THROWS_WITH(ExternalAttention(8, {.residual = true}),
                    Contains("residual applies to ExternalAttention2d only"));
}

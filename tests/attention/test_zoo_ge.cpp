// Gather-Excite (attention/ge.h).
#include "attention/ge.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("GatherExcite matches PyTorch", "[attention][zoo][ge]") {
  GatherExcite global(16);
  check_golden(global, "ge", "ge");
  GatherExcite e2(16, {.extent = 2, .rd_ratio = 0.25});
  check_golden(e2, "ge", "ge_extent2");
  GatherExcite e4(8, {.extent = 4, .rd_channels = 3, .add_maxpool = true});
  check_golden(e4, "ge", "ge_extent4_maxpool");
  GatherExcite params(8, {.extent = 4, .extra_params = true, .rd_ratio = 0.25});
  check_golden(params, "ge", "ge_params_train");
  check_golden(params, "ge", "ge_params_eval");
  GatherExcite nomlp(6, {.extent = 2, .use_mlp = false});
  check_golden(nomlp, "ge", "ge_nomlp");
}

TEST_CASE("interpolate_nearest follows PyTorch's index rule", "[attention][zoo][ge]") {
  // 4 -> 7: scale 4/7, sources floor(i·4/7) = 0 0 1 1 2 2 3; 3 -> 6 doubles: i/2.
  Tensor x = arange(12.0).reshape({1, 1, 3, 4});
  Tensor y = interpolate_nearest(x, 6, 7);
  CHECK(y.shape() == Shape{1, 1, 6, 7});
  std::vector<float> row0 = y.select(2, 0).reshape({7}).to_vector<float>();
  CHECK(row0 == std::vector<float>{0, 0, 1, 1, 2, 2, 3});
  std::vector<float> col0 = y.select(3, 0).reshape({6}).to_vector<float>();
  CHECK(col0 == std::vector<float>{0, 0, 4, 4, 8, 8});
  // 5 -> 3 (down): floor(i·5/3) = 0 1 3.
  Tensor d = interpolate_nearest(arange(5.0).reshape({1, 1, 1, 5}), 1, 3);
  CHECK(d.reshape({3}).to_vector<float>() == std::vector<float>{0, 1, 3});
}

TEST_CASE("GatherExcite gradcheck", "[attention][zoo][ge]") {
  GatherExcite m(4, {.extent = 2, .rd_channels = 2, .add_maxpool = true});
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {2, 4, 5, 5});
  INFO(r.message);
  CHECK(r.ok);
  GatherExcite p(4, {.extent = 2, .extra_params = true, .rd_channels = 2});
  perturb(*p);
  r = gradcheck_holder(p, {2, 4, 6, 5}, 2);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("GatherExcite cost and errors", "[attention][zoo][ge]") {
  // Params: MLP 2·C·Cr + Cr + C; extra_params adds per conv 9C (depthwise) + 2C (BN).
  // MACs: MLP 2·B·h·w·C·Cr on the gathered (h, w); each gather conv 9·B·C·h_i·w_i.
  {
    const int64_t B = 2, C = 32, H = 7, W = 6, Cr = 2;  // pooled: (7+2−3)/2+1 = 4, (6+2−3)/2+1 = 3
    GatherExcite m(C, {.extent = 2});
    Counts c = summary_counts(m, {B, C, H, W});
    CHECK(c.params == 2 * C * Cr + Cr + C);
    CHECK(c.macs == 2 * B * 4 * 3 * C * Cr);
  }
  {
    const int64_t B = 3, C = 8, H = 9, W = 8, Cr = 2;  // convs: 9×8 -> 5×4 -> 3×2
    GatherExcite m(C, {.extent = 4, .extra_params = true, .rd_ratio = 0.25});
    Counts c = summary_counts(m, {B, C, H, W});
    CHECK(c.params == 2 * C * Cr + Cr + C + 2 * (9 * C + 2 * C));
    CHECK(c.macs == 2 * B * 3 * 2 * C * Cr + 9 * B * C * (5 * 4 + 3 * 2));
  }
  GatherExcite m(8, {.extent = 2});
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 5, 5}));
  CHECK(m->maps().at("weights").shape() == Shape{2, 8, 5, 5});
  CHECK_THROWS_WITH(GatherExcite(8, {.extent = 3}), Contains("extent must be 0 (global) or even"));
  CHECK_THROWS_WITH(GatherExcite(8, {.extra_params = true}),
                    Contains("extra_params needs extent a power of two"));
  CHECK_THROWS_WITH(GatherExcite(8, {.extent = 6, .extra_params = true}), Contains("got 6"));
}

// Triplet attention (attention/triplet.h).
#include "attention/triplet.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("TripletAttention matches PyTorch in train and eval mode", "[attention][zoo][triplet]") {
  TripletAttention m;
  check_golden(m, "triplet", "triplet_train");
  check_golden(m, "triplet", "triplet_eval");
  TripletAttention ns({.no_spatial = true});
  check_golden(ns, "triplet", "triplet_nospatial_train");
  CHECK_FALSE(ns->hw);
}

TEST_CASE("TripletAttention gradcheck", "[attention][zoo][triplet]") {
  TripletAttention m;
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {2, 3, 4, 5});
  INFO(r.message);
  CHECK(r.ok);
  m->eval();
  r = gradcheck_holder(m, {2, 3, 4, 5}, 2);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("TripletAttention cost, maps and errors", "[attention][zoo][triplet]") {
  // Params: each gate a 2→1 7×7 conv (98) and a BN (2): 3·(98 + 2).
  // MACs: each conv 98 per output pixel of its plane: 98·B·(HW + CW + HC).
  for (Shape s : {Shape{2, 8, 6, 5}, Shape{1, 3, 9, 4}}) {
    const int64_t B = s[0], C = s[1], H = s[2], W = s[3];
    TripletAttention m;
    Counts c = summary_counts(m, s);
    CHECK(c.params == 3 * (98 + 2));
    CHECK(c.macs == 98 * B * (H * W + C * W + H * C));
    TripletAttention ns(C, {.no_spatial = true});
    c = summary_counts(ns, s);
    CHECK(c.params == 2 * (98 + 2));
    CHECK(c.macs == 98 * B * (C * W + H * C));
  }
  TripletAttention m;
  m->set_keep_maps(true);
  (void)m(randn({2, 3, 4, 5}));
  CHECK(m->maps().at("cw").shape() == Shape{2, 3, 1, 5});
  CHECK(m->maps().at("hc").shape() == Shape{2, 3, 4, 1});
  CHECK(m->maps().at("spatial").shape() == Shape{2, 1, 4, 5});
  CHECK(m->state_dict().keys().front() == "cw.conv.conv.weight");
  CHECK(m->cw->conv[1].as<nn::BatchNorm2dImpl>()->options.momentum == 0.01);
  CHECK_THROWS_WITH(m(randn({3, 4, 5})), Contains("TripletAttention: expected input (B, C, H, W)"));
  CHECK_THROWS_WITH(TripletAttention({.kernel_size = 4}), Contains("kernel_size must be odd"));
}

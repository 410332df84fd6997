// BAM (attention/bam.h).
#include "attention/bam.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("BAM matches PyTorch in train and eval mode", "[attention][zoo][bam]") {
  BAM m(32, {.reduction = 8, .dia_val = 2});
  check_golden(m, "bam", "bam_train");
  check_golden(m, "bam", "bam_eval");
  // The paper's setting: dilation 4, one hidden channel layer, two dilated convs.
  BAM paper(16, {.reduction = 4, .dia_val = 4, .channel_layers = 1, .spatial_layers = 2});
  check_golden(paper, "bam", "bam_paper_train");
}

TEST_CASE("BAM gradcheck", "[attention][zoo][bam]") {
  BAM m(8, {.reduction = 2, .dia_val = 2, .channel_layers = 2, .spatial_layers = 1});
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {3, 8, 5, 4});
  INFO(r.message);
  CHECK(r.ok);
  m->eval();
  r = gradcheck_holder(m, {2, 8, 5, 4}, 3);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("BAM cost, shapes and errors", "[attention][zoo][bam]") {
  // Cr = C / r; L channel layers, S spatial layers; N = H·W.
  // Params: channel (C·Cr + Cr) + 2Cr + (L−1)(Cr² + Cr + 2Cr) + (Cr·C + C);
  //         spatial (C·Cr + Cr) + 2Cr + S(9Cr² + Cr + 2Cr) + (Cr + 1).
  // MACs: B·(C·Cr + (L−1)·Cr² + Cr·C) + B·N·(C·Cr + 9·S·Cr² + Cr).
  struct Case {
    int64_t C;
    BAMOptions o;
    Shape s;
  };
  for (const Case& k :
       {Case{32, {}, {2, 32, 7, 6}},
        Case{24,
             {.reduction = 4, .dia_val = 4, .channel_layers = 1, .spatial_layers = 2},
             {3, 24, 9, 9}}}) {
    const int64_t C = k.C, Cr = C / k.o.reduction, L = k.o.channel_layers, S = k.o.spatial_layers,
                  B = k.s[0], N = k.s[2] * k.s[3];
    BAM m(C, k.o);
    Counts c = summary_counts(m, k.s);
    CHECK(c.params == (C * Cr + Cr) + 2 * Cr + (L - 1) * (Cr * Cr + 3 * Cr) + (Cr * C + C) +
                          (C * Cr + Cr) + 2 * Cr + S * (9 * Cr * Cr + 3 * Cr) + (Cr + 1));
    CHECK(c.macs ==
          B * (C * Cr + (L - 1) * Cr * Cr + Cr * C) + B * N * (C * Cr + 9 * S * Cr * Cr + Cr));
  }
  // The map keeps its size (padding = dilation), unlike EA's padding 1.
  BAM m(16);
  m->set_keep_maps(true);
  m->eval();
  CHECK(m(randn({2, 16, 5, 5})).shape() == Shape{2, 16, 5, 5});
  CHECK(m->maps().at("spatial").shape() == Shape{2, 1, 5, 5});
  CHECK(m->maps().at("channel").shape() == Shape{2, 16, 1, 1});
  CHECK_THROWS_WITH(BAM(8), Contains("BAM: channels / reduction = 8 / 16 is 0"));
  CHECK_THROWS_WITH(BAM(16, {.channel_layers = 0}), Contains("channel_layers must be >= 1"));
  CHECK_THROWS_WITH(m(randn({2, 8, 5, 5})), Contains("BAM: input has 8 channels"));
}

// Global Context block (attention/gc.h).
#include "attention/gc.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("GlobalContext matches PyTorch", "[attention][zoo][gc]") {
  GlobalContext add(16);
  // conv_attn.weight's gradient sums ~B·N·C float32 products of mixed sign:
  // its float32 value moves by ~1e-5 with the BLAS kernel's summation order
  // (PyTorch's own float32 run is 2.2e-5 off the float64 reference), so this
  // case gets a wider absolute tolerance.
  check_golden(add, "gc", "gc", 1e-4, 3e-5);
  GlobalContext scale(16, {.fuse_add = false, .fuse_scale = true, .rd_ratio = 0.25});
  check_golden(scale, "gc", "gc_scale");
  GlobalContext both(12, {.use_attn = false, .fuse_scale = true, .rd_channels = 5});
  check_golden(both, "gc", "gc_both_noattn");
}

TEST_CASE("GlobalContext init, widths and gradcheck", "[attention][zoo][gc]") {
  GlobalContext m(64);
  CHECK(m->rd_channels == 8);
  CHECK(m->mlp_add->fc2->weight.abs().sum().item() == 0.0);  // mlp_add.fc2.weight zero
  CHECK(GlobalContext(20)->rd_channels == 3);                // round(2.5) half up
  CHECK(GlobalContext(4)->rd_channels == 1);                 // at least one
  CHECK(GlobalContext(20, {.rd_divisor = 8})->rd_channels == 8);

  GlobalContext g(6, {.fuse_scale = true, .rd_channels = 3});
  perturb(*g);
  GradcheckReport r = gradcheck_holder(g, {2, 6, 3, 4});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("GlobalContext cost, maps and errors", "[attention][zoo][gc]") {
  // Params: conv_attn C + 1 (use_attn); each MLP C·Cr + Cr + 2Cr (LN) + Cr·C + C.
  // MACs: conv_attn B·N·C and the context matmul B·C·N (use_attn); each MLP 2·B·C·Cr.
  struct Case {
    int64_t C;
    GlobalContextOptions o;
    Shape s;
  };
  for (const Case& k :
       {Case{32, {}, {2, 32, 6, 5}},
        Case{24, {.use_attn = false, .fuse_scale = true, .rd_ratio = 0.25}, {3, 24, 4, 7}}}) {
    const int64_t C = k.C, B = k.s[0], N = k.s[2] * k.s[3];
    GlobalContext m(C, k.o);
    const int64_t Cr = m->rd_channels;
    const int64_t mlps = int64_t(k.o.fuse_add) + int64_t(k.o.fuse_scale);
    Counts c = summary_counts(m, k.s);
    CHECK(c.params == (k.o.use_attn ? C + 1 : 0) + mlps * (2 * C * Cr + 3 * Cr + C));
    CHECK(c.macs == (k.o.use_attn ? 2 * B * N * C : 0) + mlps * 2 * B * C * Cr);
  }
  GlobalContext m(8, {.fuse_scale = true});
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 3, 5}));
  CHECK(m->maps().at("spatial").shape() == Shape{2, 1, 3, 5});
  CHECK(m->maps().at("channel").shape() == Shape{2, 8, 1, 1});
  CHECK(m->maps().at("spatial").sum().item() == Approx(2.0));  // a softmax per sample
  CHECK_THROWS_WITH(GlobalContext(8, {.fuse_add = false}),
                    Contains("at least one of fuse_add and fuse_scale"));
  CHECK_THROWS_WITH(m(randn({2, 4, 3, 3})), Contains("GlobalContext: input has 4 channels"));
}

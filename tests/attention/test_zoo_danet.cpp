// DANet position and channel attention (attention/danet.h).
#include "attention/danet.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("DANet matches PyTorch", "[attention][zoo][danet]") {
  DANet both(16);
  check_golden(both, "danet", "danet");
  DANet pos(8, {.mode = "position", .reduction = 4});
  check_golden(pos, "danet", "danet_position");
  DANet ch(6, {.mode = "channel"});
  check_golden(ch, "danet", "danet_channel");
}

TEST_CASE("DANet modules start as the identity; gradcheck", "[attention][zoo][danet]") {
  // γ = β = 0: each module returns x exactly; their sum is 2x.
  Tensor x = randn({2, 8, 3, 4});
  CHECK(max((DAPositionAttention(8)(x) - x).abs()).item() == 0.0);
  CHECK(max((DAChannelAttention(8)(x) - x).abs()).item() == 0.0);
  check_close(DANet(8)(x), x * 2.0, "DANet at init");

  DANet m(8, {.reduction = 4});
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {2, 8, 3, 3});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("DANet cost, maps and errors", "[attention][zoo][danet]") {
  // Position: params 2(C·C' + C') + C² + C + 1, MACs 2·B·N·C·C' + B·N·C² + B·N²·(C' + C).
  // Channel: params 1, MACs 2·B·C²·N.
  for (Shape s : {Shape{2, 16, 4, 5}, Shape{1, 24, 6, 6}}) {
    const int64_t B = s[0], C = s[1], N = s[2] * s[3], Ci = C / 8;
    DANet m(C);
    Counts c = summary_counts(m, s);
    CHECK(c.params == 2 * (C * Ci + Ci) + C * C + C + 1 + 1);
    CHECK(c.macs == 2 * B * N * C * Ci + B * N * C * C + B * N * N * (Ci + C) + 2 * B * C * C * N);
  }
  DANet m(16);
  m->set_keep_maps(true);
  (void)m(randn({2, 16, 3, 4}));
  CHECK(m->maps().at("position").shape() == Shape{2, 12, 12});
  CHECK(m->maps().at("channel").shape() == Shape{2, 16, 16});
  CHECK(m->state_dict().keys().front() == "position_attention_module.gamma");
  CHECK_THROWS_WITH(DANet(4), Contains("in_dim / reduction = 4 / 8 is 0"));
  CHECK_THROWS_WITH(DANet(8, {.mode = "spatial"}), Contains("mode must be 'both'"));
}

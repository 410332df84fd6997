// Selective Kernel attention (attention/sk.h).
#include "attention/sk.h"

#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::zoo_test;
using Catch::Contains;

TEST_CASE("SKAttention matches PyTorch in train and eval mode", "[attention][zoo][sk]") {
  SKAttention m(16, {.kernels = {1, 3, 5}, .reduction = 4, .L = 8});
  check_golden(m, "sk", "sk_train");
  check_golden(m, "sk", "sk_eval");
  // EA's module exactly: no BN + ReLU after fc; grouped convs.
  SKAttention ea(8, {.kernels = {3, 5}, .reduction = 2, .group = 2, .L = 2, .fuse_norm = false});
  check_golden(ea, "sk", "sk_ea_train");
  CHECK_FALSE(ea->bn);
}

TEST_CASE("SKAttention gradcheck", "[attention][zoo][sk]") {
  SKAttention m(4, {.kernels = {1, 3}, .reduction = 2, .L = 3});
  perturb(*m);
  GradcheckReport r = gradcheck_holder(m, {3, 4, 4, 4});
  INFO(r.message);
  CHECK(r.ok);
  m->eval();
  r = gradcheck_holder(m, {2, 4, 3, 4}, 2);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("SKAttention cost, maps and errors", "[attention][zoo][sk]") {
  // Params: Σ_k (C·(C/g)·k² + C + 2C) + C·d + d + 2d (fuse_norm) + K·(d·C + C).
  // MACs: Σ_k B·N·C·(C/g)·k² + B·C·d + K·B·d·C, d = max(L, C/r).
  auto check = [](int64_t C, const SKAttentionOptions& o, const Shape& s) {
    const int64_t B = s[0], N = s[2] * s[3], g = o.group;
    const int64_t d = std::max(o.L, C / o.reduction), K = int64_t(o.kernels.size());
    SKAttention m(C, o);
    CHECK(m->d == d);
    int64_t params = C * d + d + (o.fuse_norm ? 2 * d : 0) + K * (d * C + C);
    int64_t macs = B * C * d + K * B * d * C;
    for (int64_t ks : o.kernels) {
      params += C * (C / g) * ks * ks + 3 * C;
      macs += B * N * C * (C / g) * ks * ks;
    }
    Counts c = summary_counts(m, s);
    CHECK(c.params == params);
    CHECK(c.macs == macs);
  };
  check(64, {}, {2, 64, 5, 6});
  check(16, {.kernels = {3, 5}, .reduction = 2, .group = 4, .L = 4, .fuse_norm = false},
        {3, 16, 7, 4});
  SKAttention m(8, {.kernels = {1, 3}, .L = 4});
  m->set_keep_maps(true);
  (void)m(randn({2, 8, 4, 4}));
  Tensor a = m->maps().at("weights");
  CHECK(a.shape() == Shape{2, 2, 8});
  for (float v : a.sum({1}).to_vector<float>()) CHECK(v == Approx(1.0));  // softmax over branches
  CHECK_THROWS_WITH(SKAttention(8, {.kernels = {1, 2}}), Contains("kernel sizes must be odd"));
  CHECK_THROWS_WITH(SKAttention(6, {.group = 4}), Contains("must be divisible by group"));
  CHECK_THROWS_WITH(SKAttention(8, {.kernels = {}}), Contains("kernels is empty"));
}

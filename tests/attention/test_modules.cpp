// Behaviour of the seed modules beyond the golden values: attention maps,
// identity at initialisation, kernel-size rules, masks, padding, errors.
#include <cmath>

#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::attention_test;

TEST_CASE("placeable modules keep their maps only when asked", "[attention][maps]") {
  Tensor x = randn({2, 16, 6, 5});
  struct Case {
    AttentionModule m;
    std::map<std::string, Shape> maps;
  };
  std::vector<Case> cases = {
      {AttentionModule(SEAttention(16, {.reduction = 4}).ptr()), {{"channel", {2, 16, 1, 1}}}},
      {AttentionModule(CBAM(16, {.ratio = 4}).ptr()),
       {{"channel", {2, 16, 1, 1}}, {"spatial", {2, 1, 6, 5}}}},
      {AttentionModule(ECAAttention(16).ptr()), {{"channel", {2, 16, 1, 1}}}},
      {AttentionModule(CoordAttention(16).ptr()), {{"h", {2, 16, 6, 1}}, {"w", {2, 16, 1, 5}}}},
      {AttentionModule(NonLocalBlock(16).ptr()), {{"weights", {2, 30, 6}}}},  // N' = 3·2
      {AttentionModule(SelfAttention2d(16).ptr()), {{"weights", {2, 30, 30}}}},
  };
  for (auto& c : cases) {
    INFO(c.m->type_name());
    x.requires_grad_();
    c.m(x);
    CHECK(c.m->maps().empty());  // off by default
    c.m->set_keep_maps(true);
    c.m(x);
    REQUIRE(c.m->maps().size() == c.maps.size());
    for (const auto& [name, shape] : c.maps) {
      INFO(name);
      REQUIRE(c.m->maps().count(name));
      const Tensor& map = c.m->maps().at(name);
      CHECK(map.shape() == shape);
      CHECK(!map.requires_grad());  // detached
    }
    c.m->set_keep_maps(false);
    CHECK(c.m->maps().empty());
  }
}

TEST_CASE("forward(x, residual) is relu(forward(x) + residual), gates fused or not",
          "[attention]") {
  Tensor x = randn({2, 16, 6, 5}), r = randn({2, 16, 6, 5});
  std::vector<std::pair<std::string, AttentionModule>> modules = {
      {"se (fused channel gate)", AttentionModule(SEAttention(16, {.reduction = 4}).ptr())},
      {"eca (fused channel gate)", AttentionModule(ECAAttention(16).ptr())},
      {"cbam (fused spatial gate)", AttentionModule(CBAM(16, {.ratio = 4}).ptr())},
      {"cbam residual (default)", AttentionModule(CBAM(16, {.ratio = 4, .residual = true}).ptr())},
      {"coordatt (default)", AttentionModule(CoordAttention(16).ptr())},
  };
  for (auto& [name, m] : modules) {
    INFO(name);
    Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    Tensor r1 = r.clone().requires_grad_(), r2 = r.clone().requires_grad_();
    m->zero_grad();
    Tensor y1 = m(x1, r1);
    sum(y1 * x).backward();
    std::vector<Tensor> g1;
    for (const Tensor& p : m->parameters()) g1.push_back(p.grad().clone());
    m->zero_grad();
    Tensor y2 = relu(m(x2) + r2);
    sum(y2 * x).backward();
    CHECK(max(abs(y1 - y2)).item() <= 1e-5);
    CHECK(max(abs(x1.grad() - x2.grad())).item() <= 1e-4);
    CHECK(max(abs(r1.grad() - r2.grad())).item() <= 1e-6);
    size_t i = 0;
    for (const Tensor& p : m->parameters()) CHECK(max(abs(g1[i++] - p.grad())).item() <= 1e-4);
  }
}

TEST_CASE("gate_from_mean(mean(x, {2, 3})) is the gate of forward(x)",
          "[attention][spatial_mean]") {
  Tensor x = randn({2, 16, 6, 5});
  struct Case {
    std::string name;
    AttentionModule m;
    bool gates;
  };
  std::vector<Case> cases = {
      {"se", AttentionModule(SEAttention(16, {.reduction = 4}).ptr()), true},
      {"se conv form", AttentionModule(SEAttention(16, {.reduction = 4, .conv = true}).ptr()),
       true},
      {"eca", AttentionModule(ECAAttention(16).ptr()), true},
      {"cbam (its spatial gate needs x)", AttentionModule(CBAM(16, {.ratio = 4}).ptr()), false},
  };
  for (auto& c : cases) {
    INFO(c.name);
    CHECK(c.m->gates_from_spatial_mean() == c.gates);
    if (!c.gates) {
      CHECK_THROWS_WITH(c.m->gate_from_mean(mean(x, {2, 3})),
                        Catch::Contains("gate_from_mean: this module's gate is not a function"));
      continue;
    }
    // forward(x) = x · gate_from_mean(mean(x)): values and parameter gradients.
    Tensor x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
    c.m->zero_grad();
    Tensor y1 = x1 * c.m->gate_from_mean(mean(x1, {2, 3}));
    REQUIRE(c.m->gate_from_mean(mean(x, {2, 3})).shape() == Shape{2, 16, 1, 1});
    sum(y1 * x).backward();
    std::vector<Tensor> g1;
    for (const Tensor& p : c.m->parameters()) g1.push_back(p.grad().clone());
    c.m->zero_grad();
    Tensor y2 = c.m(x2);
    sum(y2 * x).backward();
    CHECK(max(abs(y1 - y2)).item() <= 1e-6);
    CHECK(max(abs(x1.grad() - x2.grad())).item() <= 1e-5);
    size_t i = 0;
    for (const Tensor& p : c.m->parameters()) CHECK(max(abs(g1[i++] - p.grad())).item() <= 1e-4);
  }
  SEAttention se(16, {.reduction = 4});
  CHECK_THROWS_WITH(se->gate_from_mean(randn({2, 8})),
                    Catch::Contains("SEAttention: gate_from_mean expects a (B, C) spatial mean "
                                    "with C = 16, got shape [2, 8]"));
  ECAAttention eca(16);
  CHECK_THROWS_WITH(eca->gate_from_mean(randn({2, 16, 1, 1})),
                    Catch::Contains("ECAAttention: gate_from_mean expects a (B, C) spatial mean"));
}

TEST_CASE("CBAM's gate functions are its channel and spatial attention", "[attention][cbam]") {
  Tensor x = randn({2, 16, 6, 5});
  for (bool max_first : {false, true}) {
    INFO((max_first ? "max_first" : "mean_first"));
    CBAM cbam(16, {.ratio = 4, .max_first = max_first});
    const CbamGateFns fns = cbam->cbam_gates();
    REQUIRE(fns.channel);
    CHECK(fns.max_first == max_first);
    Tensor gc = fns.channel(mean(x, {2, 3}), amax(x, {2, 3}));
    CHECK(max(abs(gc - cbam->ca(x))).item() <= 1e-6);
    Tensor d = channel_mean_max(x, gc, max_first);
    CHECK(max(abs(fns.spatial(d) - cbam->sa(x, gc))).item() <= 1e-6);
  }
  CHECK_FALSE(CBAM(16, {.ratio = 4, .residual = true})->cbam_gates().channel);
  CBAM hooked(16, {.ratio = 4});
  hooked->ca->register_forward_hook(
      [](nn::Module&, const std::vector<Tensor>&, const std::vector<Tensor>&) {});
  CHECK_FALSE(hooked->cbam_gates().channel);
  CHECK_FALSE(AttentionModule(SEAttention(16).ptr())->cbam_gates().channel);
}

TEST_CASE("sequence modules keep attention weights when asked", "[attention][maps]") {
  ScaledDotProductAttention sdpa(8, 4, 4, 2);
  sdpa->set_keep_maps(true);
  sdpa(randn({2, 3, 8}), randn({2, 5, 8}), randn({2, 5, 8}));
  CHECK(sdpa->maps().at("weights").shape() == Shape{2, 2, 3, 5});

  TransformerEncoderLayer block(8, 2);
  block(randn({2, 4, 8}));
  CHECK(block->maps().empty());
  block->set_keep_maps(true);
  block(randn({2, 4, 8}));
  CHECK(block->maps().at("weights").shape() == Shape{2, 2, 4, 4});

  AttentionPooling pool(6);
  pool->set_keep_maps(true);
  pool(randn({3, 4, 6}));
  CHECK(pool->maps().at("weights").shape() == Shape{3, 4});

  MultiheadAttention mha(8, 2);
  mha->set_keep_maps(true);
  mha(randn({4, 2, 8}), randn({5, 2, 8}), randn({5, 2, 8}));
  CHECK(mha->maps().at("weights").shape() == Shape{2, 2, 4, 5});
}

TEST_CASE("NonLocalBlock and SelfAttention2d start as the identity", "[attention]") {
  // Zero-initialised W (BN weight 0) and gamma = 0: the output equals the
  // input, and theta, phi, g / q, k, v get no gradient until the gate opens.
  Tensor x = randn({2, 8, 4, 4}).requires_grad_();
  NonLocalBlock nl(8);
  Tensor y = nl(x);
  CHECK(max(abs(y - x)).item() == 0.0);
  sum(y * randn({2, 8, 4, 4})).backward();
  CHECK(max(abs(nl->theta->weight.grad())).item() == 0.0);

  SelfAttention2d sa(8);
  Tensor y2 = sa(x);
  CHECK(max(abs(y2 - x)).item() == 0.0);
  sum(y2 * randn({2, 8, 4, 4})).backward();
  CHECK(max(abs(sa->query_conv->weight.grad())).item() == 0.0);
  CHECK(sa->gamma.grad().item() != 0.0);  // the gate itself learns
}

TEST_CASE("ECA kernel size and SE hidden width rules", "[attention]") {
  // t = int((log2 C + 1) / 2), bumped to odd: C = 16 -> 2.5 -> 2 -> 3; 128 -> 4 -> 5;
  // 2048 -> 6 -> 7; C = 4 -> 1.5 -> 1 (no floor of 3, unlike timm).
  for (int64_t c : {16, 32, 64}) CHECK(eca_kernel_size(c) == 3);
  for (int64_t c : {128, 256, 512, 1024}) CHECK(eca_kernel_size(c) == 5);
  CHECK(eca_kernel_size(2048) == 7);
  CHECK(eca_kernel_size(4) == 1);
  CHECK(eca_kernel_size(1) == 1);
  CHECK(eca_kernel_size(64, 1.0, 1.0) == 7);  // (6 + 1) / 1 = 7
  // Floor (paper, EA) against timm's make_divisible(C / 16, 8).
  CHECK(se_hidden_channels(64, 16, 1) == 4);
  CHECK(se_hidden_channels(32, 16, 8) == 8);    // max(8, int(2 + 4) // 8 * 8 = 0)
  CHECK(se_hidden_channels(200, 16, 8) == 16);  // int(12.5 + 4) = 16
  CHECK(se_hidden_channels(512, 16, 8) == 32);
  CHECK(CoordAttention(64)->mip == 8);  // max(8, 64 / 32 = 2)
  CHECK(CoordAttention(512)->mip == 16);
  CHECK(NonLocalBlock(1)->inter_channels == 1);
}

TEST_CASE("h_swish is composed as x * relu6(x + 3) / 6", "[attention]") {
  Tensor x = tensor({-4.0, -3.0, -1.0, 0.5, 3.0, 5.0}, kFloat64).requires_grad_();
  Tensor y = h_swish(x);
  // -1 * 2 / 6 = -1/3; 0.5 * 3.5 / 6 = 0.291666...; 3 * 6 / 6 = 3; 5 * 6 / 6 = 5.
  std::vector<double> v = y.to_vector<double>();
  CHECK(v[0] == 0.0);
  CHECK(v[1] == 0.0);
  CHECK(v[2] == Approx(-1.0 / 3));
  CHECK(v[3] == Approx(0.5 * 3.5 / 6));
  CHECK(v[4] == 3.0);
  CHECK(v[5] == 5.0);
  sum(y).backward();
  // d/dx = relu6(x+3)/6 + x·[0 < x+3 < 6]/6: at -3 -> 0, at 3 -> 1 (the
  // builtin hardswish gives -0.5 and 1.5 there).
  std::vector<double> g = x.grad().to_vector<double>();
  CHECK(g[1] == 0.0);
  CHECK(g[4] == 1.0);
  CHECK(g[2] == Approx(2.0 / 6 - 1.0 / 6));
}

TEST_CASE("PositionalEncoding: odd widths, layouts, the closed form", "[attention]") {
  for (int64_t d : {1, 6, 7}) {
    INFO("d = " << d);
    PositionalEncoding pe(d, {.dropout = 0.0, .max_len = 40});
    std::vector<float> t = pe->pe.to_vector<float>();
    REQUIRE(pe->pe.shape() == Shape{1, 40, d});
    double worst = 0;
    for (int64_t p = 0; p < 40; ++p)
      for (int64_t j = 0; j < d; ++j) {
        double w = std::pow(10000.0, -double(j - j % 2) / double(d));
        double ref = j % 2 == 0 ? std::sin(p * w) : std::cos(p * w);
        worst = std::max(worst, std::abs(double(t[size_t(p * d + j)]) - ref));
      }
    CHECK(worst < 2e-5);  // the float32 recipe against the float64 closed form
  }
  PositionalEncoding seq_first(4, {.dropout = 0.0, .max_len = 10, .batch_first = false});
  CHECK(seq_first->pe.shape() == Shape{10, 1, 4});
  Tensor x = zeros({3, 2, 4});  // (T, B, d)
  Tensor y = seq_first(x);
  CHECK(max(abs(y.select(1, 1) - seq_first->pe.narrow(0, 0, 3).select(1, 0))).item() == 0.0);
  CHECK(seq_first->state_dict().contains("pe"));
  CHECK_THROWS_WITH(seq_first(zeros({11, 2, 4})), Catch::Contains("exceeds max_len 10"));
  CHECK_THROWS_WITH(seq_first(zeros({3, 2, 5})), Catch::Contains("expected (T, B, 4)"));
  // Dropout only in training.
  PositionalEncoding drop(4, {.dropout = 0.5, .max_len = 10});
  drop->eval();
  CHECK(max(abs(drop(zeros({2, 3, 4})) - drop->pe.narrow(1, 0, 3))).item() == 0.0);
}

TEST_CASE("MultiheadAttention equals ScaledDotProductAttention with packed weights",
          "[attention]") {
  // With h·d_k = h·d_v = d_model the two are the same function (spec §6).
  const int64_t E = 8, h = 2;
  MultiheadAttention mha(E, h, {.batch_first = true});
  perturb(*mha);
  ScaledDotProductAttention sdpa(E, E / h, E / h, h, 0.0);
  {
    NoGradGuard g;
    sdpa->fc_q->weight.copy_(mha->in_proj_weight.narrow(0, 0, E));
    sdpa->fc_k->weight.copy_(mha->in_proj_weight.narrow(0, E, E));
    sdpa->fc_v->weight.copy_(mha->in_proj_weight.narrow(0, 2 * E, E));
    sdpa->fc_q->bias.copy_(mha->in_proj_bias.narrow(0, 0, E));
    sdpa->fc_k->bias.copy_(mha->in_proj_bias.narrow(0, E, E));
    sdpa->fc_v->bias.copy_(mha->in_proj_bias.narrow(0, 2 * E, E));
    sdpa->fc_o->weight.copy_(mha->out_proj->weight);
    sdpa->fc_o->bias.copy_(mha->out_proj->bias);
  }
  Tensor q = randn({2, 3, E}), k = randn({2, 5, E}), v = randn({2, 5, E});
  Tensor mask = from_vector<bool>({false, true, false, false, true, false, false, false, false,
                                   false, true, true, false, false, false},
                                  {3, 5});  // true = masked in both
  auto [out, w] = mha(q, k, v, Tensor(), true, mask);
  check_close(sdpa(q, k, v, mask), out, "sdpa vs mha", 1e-5, 1e-6);
  // Averaged weights: rows sum to 1, masked keys get 0.
  CHECK(w.shape() == Shape{2, 3, 5});
  check_close(sum(w, {2}), ones({2, 3}), "weight rows", 1e-6, 1e-6);
  CHECK(w.to_vector<float>()[1] == 0.0f);
}

TEST_CASE("MultiheadAttention: unbatched input, need_weights, 3-D masks, errors", "[attention]") {
  MultiheadAttention mha(6, 3);
  Tensor x = randn({4, 6});  // (L, E) unbatched
  auto [out, w] = mha(x, x, x);
  CHECK(out.shape() == Shape{4, 6});
  CHECK(w.shape() == Shape{4, 4});
  auto [out_b, w_b] = mha(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1));  // (L, 1, E)
  check_close(out, out_b.squeeze(1), "unbatched vs batch of 1", 1e-5, 1e-6);
  auto [o2, none] = mha(x, x, x, Tensor(), /*need_weights=*/false);
  CHECK(!none.defined());
  // A (N·heads, L, S) mask masking key 0 for every head equals key padding of key 0.
  Tensor xb = randn({4, 2, 6});
  Tensor m3 = zeros({6, 4, 4}, kBool);
  {
    Tensor col = m3.narrow(2, 0, 1);
    col.fill_(1.0);
  }
  Tensor kpm = from_vector<bool>({true, false, false, false, true, false, false, false}, {2, 4});
  auto [a, wa] = mha(xb, xb, xb, Tensor(), true, m3);
  auto [b, wb] = mha(xb, xb, xb, kpm);
  check_close(a, b, "3-D mask vs key padding", 1e-5, 1e-6);
  CHECK_THROWS_WITH(MultiheadAttention(10, 3),
                    Catch::Contains("embed_dim (10) must be divisible by num_heads (3)"));
  CHECK_THROWS_WITH(mha(xb, xb, xb, Tensor(), true, zeros({3, 4}, kBool)),
                    Catch::Contains("the 2-D attn_mask has shape [3, 4], expected (4, 4)"));
  CHECK_THROWS_WITH(mha(xb, xb, xb, zeros({4, 2}, kBool)),
                    Catch::Contains("key_padding_mask has shape [4, 2], expected (N, S) = (2, 4)"));
  CHECK_THROWS_WITH(mha(xb, xb, randn({4, 2, 5})), Catch::Contains("embed_dim = 6"));
}

TEST_CASE("ScaledDotProductAttention: masks, init and errors", "[attention]") {
  ScaledDotProductAttention sdpa(8, 4, 4, 2, 0.0);
  // EA's init: N(0, 0.001²) weights, zero biases.
  CHECK(max(abs(sdpa->fc_q->bias)).item() == 0.0);
  CHECK(max(abs(sdpa->fc_o->weight)).item() < 0.01);
  perturb(*sdpa, 3, 1.0);
  Tensor q = randn({1, 2, 8}), kv = randn({1, 3, 8});
  auto [out, att] =
      sdpa->forward_with_weights(q, kv, kv, from_vector<bool>({false, true, false}, {1, 1, 1, 3}));
  std::vector<float> a = att.to_vector<float>();  // (1, 2, 2, 3): key 1 masked everywhere
  for (int r = 0; r < 4; ++r) CHECK(a[size_t(r * 3 + 1)] == 0.0f);
  // A fully masked row gives NaN, as PyTorch.
  Tensor all = sdpa(q, kv, kv, ones({1, 1, 1, 3}, kBool));
  CHECK(std::isnan(all.to_vector<float>()[0]));
  CHECK_THROWS_WITH(sdpa(q, kv, kv, zeros({1, 1, 1, 3})),
                    Catch::Contains("attention_mask must be bool (true = masked)"));
  CHECK_THROWS_WITH(sdpa(randn({1, 2, 7}), kv, kv), Catch::Contains("(B, N, d_model = 8)"));
  CHECK_THROWS_WITH(sdpa(q, kv, randn({1, 4, 8})), Catch::Contains("disagree"));
  // Dropout is active only in training (p = 0.1 by default, as EA).
  ScaledDotProductAttention drop(8, 4, 4, 2);
  drop->eval();
  CHECK(max(abs(drop(q, kv, kv) - drop(q, kv, kv))).item() == 0.0);
}

TEST_CASE("AttentionPooling ignores padded steps", "[attention]") {
  AttentionPooling pool(4, {.attn_dim = 3});
  Tensor h = randn({2, 5, 4});
  Tensor lengths = from_vector<int64_t>({3, 5});
  auto [c, e] = pool->forward_with_weights(h, lengths);
  std::vector<float> ev = e.to_vector<float>();
  CHECK(ev[3] == 0.0f);
  CHECK(ev[4] == 0.0f);
  // Changing the padding changes nothing.
  Tensor h2 = h.clone();
  h2.narrow(1, 3, 2).narrow(0, 0, 1).fill_(100.0);
  check_close(pool(h2, lengths), c, "padding ignored", 0, 1e-12);
  // A bool mask (true = valid) equals the lengths.
  check_close(pool(h, lengths_to_mask(lengths, 5)), c, "mask vs lengths", 0, 1e-12);
  CHECK_THROWS_WITH(pool(h, from_vector<int64_t>({0, 5})), Catch::Contains("in [1, 5]"));
  CHECK_THROWS_WITH(pool(h, from_vector<int64_t>({6, 5})), Catch::Contains("got 6"));
  CHECK_THROWS_WITH(pool(h, zeros({2, 5}, kBool)), Catch::Contains("a mask row has no valid step"));
  CHECK_THROWS_WITH(pool(h, zeros({2, 5})), Catch::Contains("int64 lengths (B) or a bool mask"));
  CHECK_THROWS_WITH(pool(randn({2, 5, 3})), Catch::Contains("expected (B, T, 4)"));
}

TEST_CASE("constructors take the seeds' positional arguments", "[attention]") {
  // seeds/000: SEAttention(in_dim=512, reduction=16), CBAM(in_planes=512, ratio=16,
  // kernel_size=7), ScaledDotProductAttention(d_model=512, d_k=64, d_v=64, num_heads=8).
  Tensor x = randn({2, 64, 7, 7});
  SEAttention se(64, 8);
  CHECK(se->hidden == 8);
  CHECK(se(x).shape() == x.shape());
  CBAM cbam(64, 8, 3);
  CHECK(cbam->ca->hidden == 8);
  CHECK(cbam->sa->kernel_size == 3);
  CHECK(cbam(x).shape() == x.shape());
  CHECK(ECAAttention(64, 5)->k_size == 5);
  CHECK(CoordAttention(64, 64, 8)->mip == 8);
  ScaledDotProductAttention sa(64, 16, 16, 4);
  Tensor inp = randn({2, 10, 64});
  CHECK(sa(inp, inp, inp).shape() == Shape{2, 10, 64});
}

TEST_CASE("modules reject wrong inputs with clear messages", "[attention]") {
  CHECK_THROWS_WITH(SEAttention(16)(randn({2, 8, 4, 4})),
                    Catch::Contains("SEAttention: input has 8 channels (shape [2, 8, 4, 4]) but "
                                    "the module was built for 16"));
  CHECK_THROWS_WITH(CBAM(16)(randn({2, 16, 4})), Catch::Contains("CBAM: expected a (B, C, H, W)"));
  CHECK_THROWS_WITH(CoordAttention(16, 32), Catch::Contains("oup (32) must equal inp (16)"));
  CHECK_THROWS_WITH(CBAM(16, {.kernel_size = 4}), Catch::Contains("kernel_size must be odd"));
  CHECK_THROWS_WITH(ECAAttention(16, {.k_size = 2}), Catch::Contains("k_size must be odd"));
  CHECK_THROWS_WITH(SelfAttention2d(4), Catch::Contains("4 // 8 = 0"));
  CHECK_THROWS_WITH(NonLocalBlock(4)(randn({1, 4, 1, 5})),
                    Catch::Contains("sub_sample needs H, W >= 2"));
  CHECK_THROWS_WITH(PatchEmbedding(32, 4, 3, 8)(randn({1, 3, 28, 28})),
                    Catch::Contains("expected (B, 3, 32, 32), got [1, 3, 28, 28]"));
  CHECK_THROWS_WITH(PatchEmbedding(30, 4, 3, 8), Catch::Contains("multiple of patch_size"));
  CHECK_THROWS_WITH(TransformerEncoderLayer(10, 4), Catch::Contains("dim (10) must be divisible"));
  CHECK_THROWS_WITH(TransformerEncoderLayer(8, 2)(randn({2, 8})),
                    Catch::Contains("expected (B, N, dim = 8)"));
}

TEST_CASE("nn::summary shows the modules inside an attention block", "[attention]") {
  nn::Summary s = nn::summary(CBAM(32, {.ratio = 4}), {2, 32, 8, 8});
  std::vector<std::string> names;
  for (const auto& r : s.rows) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"", "ca", "ca.fc1", "ca.fc2", "sa", "sa.conv1"});
  CHECK(s.rows[0].output_shapes[0] == Shape{2, 32, 8, 8});
}

// Float64 gradchecks of every seed module: the input and every parameter
// (moved away from its init so zero gates pass gradient), random upstream
// gradient, central differences. Inputs are random, so max pools, ReLUs and
// h_swish sit away from their kinks.
#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::attention_test;

namespace {

template <typename H>
void gradcheck_x(const H& m, const Shape& shape, const std::string& what, uint64_t seed = 1) {
  m->to(kFloat64);
  perturb(*m, seed + 10);
  Tensor x = input64(shape, seed);
  GradcheckReport r = gradcheck_module(
      *m, [&](const Tensor& in) { return m(in); }, x);
  INFO(what << ": " << r.message);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("placeable modules pass gradcheck", "[attention][gradcheck]") {
  gradcheck_x(SEAttention(16, {.reduction = 4}), {2, 16, 3, 4}, "se");
  gradcheck_x(SEAttention(16, {.conv = true, .divisor = 8}), {2, 16, 3, 3}, "se conv");
  gradcheck_x(CBAM(8, {.ratio = 2, .kernel_size = 3}), {2, 8, 4, 5}, "cbam");
  gradcheck_x(CBAM(8, {.ratio = 4,
                       .kernel_size = 5,
                       .max_first = true,
                       .residual = true,
                       .spatial_bias = true}),
              {2, 8, 4, 3}, "cbam ea");
  gradcheck_x(ECAAttention(16), {2, 16, 3, 3}, "eca");
  gradcheck_x(ECAAttention(8, {.k_size = 5, .bias = true}), {2, 8, 2, 3}, "eca k5 bias");
  gradcheck_x(CoordAttention(8), {3, 8, 4, 5}, "coord train");
  CoordAttention ca_eval(8, {.reduction = 4});
  ca_eval->eval();
  gradcheck_x(ca_eval, {2, 8, 3, 4}, "coord eval");
  gradcheck_x(NonLocalBlock(6), {2, 6, 4, 5}, "nonlocal");
  NonLocalBlock nl_eval(6, {.inter_channels = 2, .sub_sample = false, .bn_layer = true});
  nl_eval->eval();
  gradcheck_x(nl_eval, {2, 6, 3, 3}, "nonlocal eval, no sub-sampling");
  gradcheck_x(NonLocalBlock(4, {.sub_sample = false, .bn_layer = false}), {2, 4, 3, 2},
              "nonlocal plain");
  gradcheck_x(SelfAttention2d(8, {.reduction = 4}), {2, 8, 3, 4}, "sa2d");
}

TEST_CASE("sequence modules pass gradcheck", "[attention][gradcheck]") {
  gradcheck_x(TransformerEncoderLayer(8, 2, {.mlp_ratio = 2, .qkv_bias = true}), {2, 4, 8},
              "block pre-norm");
  gradcheck_x(TransformerEncoderLayer(8, 4, {.mlp_ratio = 1, .pre_norm = false}), {2, 3, 8},
              "block post-norm");
  gradcheck_x(PatchEmbedding(nn::Size2{4, 6}, 2, 2, 3), {2, 2, 4, 6}, "patch embedding");
  gradcheck_x(PositionalEncoding(5, {.dropout = 0.0, .max_len = 8}), {2, 6, 5},
              "positional encoding");

  SECTION("ScaledDotProductAttention with mask and attention_weights") {
    ScaledDotProductAttention m(6, 3, 4, 2, 0.0);
    m->to(kFloat64);
    perturb(*m, 3, 1.0);
    Tensor q = input64({2, 3, 6}, 1), k = input64({2, 4, 6}, 2), v = input64({2, 4, 6}, 3);
    Tensor w = input64({2, 2, 3, 4}, 4);
    Tensor mask = from_vector<bool>(
        {false, true, false, false, false, false, true, true, false, false, false, true},
        {1, 1, 3, 4});  // (1, 1, nq, nk) broadcasts
    std::vector<Tensor> in{q, k, v, w};
    for (const Tensor& p : m->parameters()) in.push_back(p);
    GradcheckReport r = gradcheck(
        [&](const std::vector<Tensor>& t) { return m(t[0], t[1], t[2], mask, t[3]); }, in);
    INFO(r.message);
    CHECK(r.ok);
  }
  SECTION("MultiheadAttention with key padding and attention masks") {
    MultiheadAttention m(6, 2, {.batch_first = true});
    m->to(kFloat64);
    perturb(*m, 5);
    Tensor q = input64({2, 3, 6}, 1), kv = input64({2, 4, 6}, 2);
    Tensor kpm = from_vector<bool>({false, false, false, true, false, false, false, false}, {2, 4});
    Tensor am = input64({3, 4}, 3).detach();  // float, added to the logits
    std::vector<Tensor> in{q, kv};
    for (const Tensor& p : m->parameters()) in.push_back(p);
    GradcheckReport r = gradcheck(
        [&](const std::vector<Tensor>& t) {
          auto [out, w] = m(t[0], t[1], t[1], kpm, true, am);
          return cat({out.flatten(), w.flatten()});
        },
        in);
    INFO(r.message);
    CHECK(r.ok);
  }
  SECTION("AttentionPooling with lengths") {
    AttentionPooling m(5, {.attn_dim = 3});
    m->to(kFloat64);
    perturb(*m, 6);
    Tensor lengths = from_vector<int64_t>({4, 2, 1});
    Tensor h = input64({3, 4, 5}, 1);
    std::vector<Tensor> in{h};
    for (const Tensor& p : m->parameters()) in.push_back(p);
    GradcheckReport r = gradcheck(
        [&](const std::vector<Tensor>& t) {
          auto [c, e] = m->forward_with_weights(t[0], lengths);
          return cat({c.flatten(), e.flatten()});
        },
        in);
    INFO(r.message);
    CHECK(r.ok);
  }
}

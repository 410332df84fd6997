// Parameters and MACs reported by nn::summary against attention_spec.md's
// formulas, on two shapes per module.
#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;

namespace {

struct Map {
  int64_t B, C, H, W;
  Shape shape() const { return {B, C, H, W}; }
  int64_t N() const { return H * W; }
};

template <typename H>
void check_cost(const H& m, const Shape& input, int64_t params, int64_t macs) {
  nn::Summary s = nn::summary(m, input);
  INFO(m->type_name() << " on " << shape_str(input));
  CHECK(s.total_params == params);
  CHECK(s.total_macs == macs);
}

}  // namespace

TEST_CASE("SEAttention params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 64, 5, 7}}) {
    const int64_t C = s.C, Cr = C / 16;
    check_cost(SEAttention(C), s.shape(), 2 * C * Cr, 2 * s.B * C * Cr);
    const int64_t Cr8 = se_hidden_channels(C, 16, 8);
    check_cost(SEAttention(C, {.conv = true, .divisor = 8}), s.shape(), 2 * C * Cr8 + Cr8 + C,
               2 * s.B * C * Cr8);
  }
}

TEST_CASE("CBAM params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 64, 5, 7}}) {
    const int64_t C = s.C, Cr = C / 16, k = 7;
    check_cost(CBAM(C), s.shape(), 2 * C * Cr + 2 * k * k,
               4 * s.B * C * Cr + 2 * k * k * s.B * s.N());
    check_cost(CBAM(C, {.ratio = 8, .kernel_size = 3, .spatial_bias = true}), s.shape(),
               2 * C * (C / 8) + 2 * 9 + 1, 4 * s.B * C * (C / 8) + 2 * 9 * s.B * s.N());
  }
}

TEST_CASE("ECAAttention params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 256, 5, 7}}) {
    const int64_t k = eca_kernel_size(s.C);
    check_cost(ECAAttention(s.C), s.shape(), k, s.B * s.C * k);
  }
}

TEST_CASE("CoordAttention params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 512, 5, 7}}) {
    const int64_t inp = s.C, oup = s.C, mip = std::max<int64_t>(8, inp / 32);
    check_cost(CoordAttention(inp), s.shape(), inp * mip + mip + 2 * mip + 2 * (mip * oup + oup),
               s.B * (s.H + s.W) * mip * (inp + oup));
  }
}

TEST_CASE("NonLocalBlock params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 16, 5, 7}}) {
    const int64_t C = s.C, Ci = C / 2, N = s.N();
    const int64_t params = 3 * (C * Ci + Ci) + Ci * C + C + 2 * C;
    const int64_t Np = (s.H / 2) * (s.W / 2);
    check_cost(NonLocalBlock(C), s.shape(), params, 4 * s.B * N * C * Ci + 2 * s.B * N * Np * Ci);
    check_cost(NonLocalBlock(C, {.sub_sample = false}), s.shape(), params,
               4 * s.B * N * C * Ci + 2 * s.B * N * N * Ci);
  }
}

TEST_CASE("SelfAttention2d params and MACs", "[attention][cost]") {
  for (Map s : {Map{2, 32, 8, 8}, Map{3, 16, 5, 7}}) {
    const int64_t C = s.C, Cq = C / 8, N = s.N();
    check_cost(SelfAttention2d(C), s.shape(), 2 * (C * Cq + Cq) + C * C + C + 1,
               s.B * N * C * (2 * Cq + C) + s.B * N * N * (Cq + C));
  }
}

TEST_CASE("ScaledDotProductAttention params and MACs", "[attention][cost]") {
  struct Case {
    int64_t B, nq, nk, d, dk, dv, h;
  };
  for (Case c : {Case{2, 5, 7, 16, 8, 12, 4}, Case{3, 10, 10, 32, 8, 8, 4}}) {
    ScaledDotProductAttention m(c.d, c.dk, c.dv, c.h);
    nn::Summary s = nn::summarize(*m, [&] {
      m(zeros({c.B, c.nq, c.d}), zeros({c.B, c.nk, c.d}), zeros({c.B, c.nk, c.d}));
    });
    CHECK(s.total_params == 2 * (c.d * c.h * c.dk + c.h * c.dk) + (c.d * c.h * c.dv + c.h * c.dv) +
                                (c.h * c.dv * c.d + c.d));
    CHECK(s.total_macs ==
          c.B * (c.nq * c.d * c.h * c.dk + c.nk * c.d * c.h * c.dk + c.nk * c.d * c.h * c.dv +
                 c.h * c.nq * c.nk * (c.dk + c.dv) + c.nq * c.h * c.dv * c.d));
  }
}

TEST_CASE("MultiheadAttention params and MACs", "[attention][cost]") {
  struct Case {
    int64_t B, L, S, E, h;
    bool batch_first;
  };
  for (Case c : {Case{2, 5, 7, 16, 4, true}, Case{3, 6, 4, 12, 3, false}}) {
    MultiheadAttention m(c.E, c.h, {.batch_first = c.batch_first});
    Shape q = c.batch_first ? Shape{c.B, c.L, c.E} : Shape{c.L, c.B, c.E};
    Shape kv = c.batch_first ? Shape{c.B, c.S, c.E} : Shape{c.S, c.B, c.E};
    nn::Summary s = nn::summarize(*m, [&] { m(zeros(q), zeros(kv), zeros(kv)); });
    CHECK(s.total_params == 4 * c.E * c.E + 4 * c.E);
    // in-projections, q kᵀ and att v, out_proj
    CHECK(s.total_macs == c.B * (c.L * c.E * c.E + 2 * c.S * c.E * c.E) +
                              2 * c.B * c.L * c.S * c.E + c.B * c.L * c.E * c.E);
  }
}

TEST_CASE("TransformerEncoderLayer params and MACs", "[attention][cost]") {
  struct Case {
    int64_t B, N, D, heads;
    double ratio;
    bool qkv_bias;
  };
  for (Case c : {Case{2, 65, 48, 3, 4.0, true}, Case{3, 10, 32, 4, 2.0, false}}) {
    TransformerEncoderLayer m(c.D, c.heads, {.mlp_ratio = c.ratio, .qkv_bias = c.qkv_bias});
    const int64_t D = c.D, Hm = int64_t(double(D) * c.ratio);
    check_cost(m, {c.B, c.N, D},
               4 * D * D + 2 * D * Hm + (c.qkv_bias ? 3 * D : 0) + D + Hm + D + 4 * D,
               c.B * (4 * c.N * D * D + 2 * c.N * D * Hm + 2 * c.N * c.N * D));
  }
  // ViT-B/16 block count from the spec: 12D² + 13D with mlp_ratio 4 and qkv bias.
  TransformerEncoderLayer vit(768, 12, {.qkv_bias = true});
  int64_t params = 0;
  for (const Tensor& p : vit->parameters()) params += p.numel();
  CHECK(params == 12 * 768 * 768 + 13 * 768);
}

TEST_CASE("AttentionPooling, PatchEmbedding, PositionalEncoding params and MACs",
          "[attention][cost]") {
  for (int64_t B : {2, 5}) {
    const int64_t T = 7 + B, D = 10, A = 6;
    check_cost(AttentionPooling(D, {.attn_dim = A}), {B, T, D}, D * A + A + A, B * T * (D * A + A));
    check_cost(AttentionPooling(D), {B, T, D}, D + 1, B * T * D);
    const int64_t p = 4, Cin = 3, E = 12 + B, img = 8 * B, Np = (img / p) * (img / p);
    check_cost(PatchEmbedding(img, p, Cin, E), {B, Cin, img, img}, Cin * p * p * E + E,
               B * Np * Cin * p * p * E);
    check_cost(PositionalEncoding(D, {.max_len = 20}), {B, T, D}, 0, 0);
  }
}

// Every seed module against PyTorch (tests/fixtures/attention/modules.safetensors
// from tools/gen_attention_fixtures.py): outputs, input gradients, every
// parameter gradient (parameters moved away from their init, so zero gates
// are exercised), running statistics after training steps, eval mode, and the
// state_dict keys in PyTorch's order.
#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;
using namespace heed::attention_test;

namespace {

// For modules called as m(x).
template <typename H>
void golden_x(const std::string& c, const H& m, double rtol = 1e-4, double atol = 1e-5) {
  check_golden(
      c, *m, [&](const Inputs& in) { return std::vector<Tensor>{m(in.at("x"))}; }, rtol, atol);
}

}  // namespace

TEST_CASE("SEAttention matches EA's SEAttention and timm's SEModule", "[attention][golden]") {
  golden_x("se", SEAttention(32, {.reduction = 8}));
  SEAttention timm(32, {.conv = true, .divisor = 8});
  CHECK(timm->hidden == 8);  // make_divisible(32 / 16, 8) = 8
  golden_x("se_conv", timm);
}

TEST_CASE("CBAM matches PyTorch, max ties included", "[attention][golden]") {
  // The input has a channel-wise tie and a constant channel (adaptive max pool
  // ties at every position): the gradient goes to the first maximum, as PyTorch.
  golden_x("cbam", CBAM(16, {.ratio = 4, .kernel_size = 7}));
  golden_x("cbam_ea", CBAM(16, {.ratio = 8,
                                .kernel_size = 3,
                                .max_first = true,
                                .residual = true,
                                .spatial_bias = true}));
  golden_x("spatial_ties", SpatialAttention(7));
}

TEST_CASE("ECAAttention matches ECANet's eca_layer", "[attention][golden]") {
  ECAAttention eca(64);
  CHECK(eca->k_size == 3);
  golden_x("eca", eca);
  ECAAttention eca128(128);
  CHECK(eca128->k_size == 5);
  golden_x("eca_k5", eca128);
  golden_x("eca_fixed_bias", ECAAttention(16, {.k_size = 7, .bias = true}));
}

TEST_CASE("CoordAttention matches CoordAtt in train and eval mode", "[attention][golden]") {
  CoordAttention ca(16);
  CHECK(ca->mip == 8);
  golden_x("coord", ca);  // BN statistics over the concatenated H+W strip, 3 steps
  CHECK(ca->bn1->num_batches_tracked.item() == 3);
  golden_x("coord_eval", CoordAttention(16, 16, {.reduction = 32}));
}

TEST_CASE("NonLocalBlock matches NONLocalBlock2D", "[attention][golden]") {
  // Odd W: the pooled keys drop the last column. In train mode the biases of
  // phi (softmax is shift-invariant), g and W.0 (BN removes the shift) have a
  // zero gradient in exact arithmetic; float32 leaves noise of ~3e-5 there.
  golden_x("nonlocal", NonLocalBlock(8), 1e-4, 1e-4);
  golden_x("nonlocal_eval", NonLocalBlock(8));
  golden_x("nonlocal_plain",
           NonLocalBlock(6, {.inter_channels = 4, .sub_sample = false, .bn_layer = false}));
}

TEST_CASE("SelfAttention2d matches SAGAN's Self_Attn", "[attention][golden]") {
  golden_x("sa2d", SelfAttention2d(16));
}

TEST_CASE("ScaledDotProductAttention matches EA's, mask and attention_weights included",
          "[attention][golden]") {
  ScaledDotProductAttention sdpa(16, 8, 12, 4, 0.0);
  check_golden("sdpa", *sdpa, [&](const Inputs& in) {
    return std::vector<Tensor>{
        sdpa(in.at("q"), in.at("k"), in.at("v"), in.at("mask"), in.at("aw"))};
  });
  check_golden("sdpa_self", *sdpa, [&](const Inputs& in) {
    const Tensor& x = in.at("x");
    return std::vector<Tensor>{sdpa(x, x, x)};
  });
}

TEST_CASE("MultiheadAttention matches torch.nn.MultiheadAttention", "[attention][golden]") {
  MultiheadAttention mha(16, 4);
  check_golden("mha", *mha, [&](const Inputs& in) {
    const Tensor& x = in.at("x");
    auto [out, w] = mha(x, x, x, in.at("kpm"), true, in.at("am"));
    return std::vector<Tensor>{out, w};
  });
  MultiheadAttention cross(12, 3, {.batch_first = true});
  check_golden("mha_cross", *cross, [&](const Inputs& in) {
    auto [out, w] = cross(in.at("q"), in.at("k"), in.at("v"), Tensor(), true, in.at("am"),
                          /*average_attn_weights=*/false);
    return std::vector<Tensor>{out, w};
  });
}

TEST_CASE("AttentionPooling matches the reference, padded steps weigh 0", "[attention][golden]") {
  AttentionPooling add(10, {.attn_dim = 6});
  check_golden("attnpool_add", *add, [&](const Inputs& in) {
    auto [c, e] = add->forward_with_weights(in.at("h"), in.at("lengths"));
    return std::vector<Tensor>{c, e};
  });
  AttentionPooling lin(10);
  check_golden("attnpool_lin", *lin, [&](const Inputs& in) {
    auto [c, e] = lin->forward_with_weights(in.at("h"), in.at("mask"));
    CHECK(e.to_vector<float>()[2] == 0.0f);  // row 0, step 2 is padding
    return std::vector<Tensor>{c, e};
  });
}

TEST_CASE("PositionalEncoding matches the tutorial's table, odd width", "[attention][golden]") {
  PositionalEncoding pe(7, {.dropout = 0.0, .max_len = 50});
  // The table as built (before load_state_dict replaces it) against PyTorch's.
  check_close(pe->pe, fixtures()("posenc/param/pe"), "pe as built", 1e-5, 2e-6);
  golden_x("posenc", pe);
}

TEST_CASE("TransformerEncoderLayer matches timm's Block, pre- and post-norm",
          "[attention][golden]") {
  golden_x("block_pre", TransformerEncoderLayer(16, 4, {.mlp_ratio = 2, .qkv_bias = true}));
  // The generator checks that this post-norm block equals
  // torch.nn.TransformerEncoderLayer(norm_first=False, activation="gelu").
  golden_x("block_post",
           TransformerEncoderLayer(16, 2, {.mlp_ratio = 1.5, .qkv_bias = true, .pre_norm = false}));
}

TEST_CASE("PatchEmbedding matches timm's PatchEmbed", "[attention][golden]") {
  PatchEmbedding pe(nn::Size2{8, 12}, 4, 3, 10);
  CHECK(pe->num_patches == 6);
  golden_x("patch", pe);
}

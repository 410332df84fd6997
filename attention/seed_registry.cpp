// Registry entries of the seed modules (se, cbam, eca, coord, nonlocal, sa2d).
#include "attention/cbam.h"
#include "attention/coord_attention.h"
#include "attention/eca.h"
#include "attention/non_local.h"
#include "attention/registry.h"
#include "attention/se.h"
#include "attention/self_attention2d.h"

namespace heed::attention {

namespace {

template <typename Holder>
AttentionModule as_attention(const Holder& m) {
  return AttentionModule(std::static_pointer_cast<AttentionModuleImpl>(m.ptr()));
}

}  // namespace

void register_seed_modules(std::vector<ModuleInfo>& table) {
  table.push_back(
      {"se",
       "Squeeze-and-Excitation (Hu et al. 2018): GAP -> FC -> ReLU -> FC -> sigmoid, rescales "
       "channels",
       {{"reduction", "16", "hidden width C // reduction"},
        {"conv", "false", "timm form: 1x1 convs with bias (fc1/fc2) instead of bias-free Linear"},
        {"divisor", "1", "round the hidden width to a multiple of this (timm: 8); 1 floors"},
        {"bias", "false", "biases in the two Linear layers (PyTorch nn.Linear reference models)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(SEAttention(c, {.reduction = o.get_int("reduction"),
                                             .conv = o.get_bool("conv"),
                                             .divisor = o.get_int("divisor"),
                                             .bias = o.get_bool("bias")}));
       }});
  table.push_back(
      {"cbam",
       "CBAM (Woo et al. 2018): channel gate from avg+max pooled MLP, then a spatial gate from a "
       "k x k conv over [mean_c; max_c]",
       {{"ratio", "16", "channel MLP hidden width C // ratio"},
        {"kernel_size", "7", "spatial conv kernel (odd)"},
        {"max_first", "false", "spatial descriptor order [max; mean] (EA, authors' code)"},
        {"residual", "false", "add the input to the output (EA's CBAMBlock)"},
        {"spatial_bias", "false", "bias in the spatial conv (EA)"},
        {"mlp_bias", "false", "biases in the channel MLP (the authors' nn.Linear)"},
        {"spatial_bn", "false", "BatchNorm after the spatial conv (the authors' BasicConv)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(CBAM(c, {.ratio = o.get_int("ratio"),
                                      .kernel_size = o.get_int("kernel_size"),
                                      .max_first = o.get_bool("max_first"),
                                      .residual = o.get_bool("residual"),
                                      .spatial_bias = o.get_bool("spatial_bias"),
                                      .mlp_bias = o.get_bool("mlp_bias"),
                                      .spatial_bn = o.get_bool("spatial_bn")}));
       }});
  table.push_back(
      {"eca",
       "ECA (Wang et al. 2020): GAP -> 1-D conv across channels -> sigmoid, rescales channels",
       {{"k_size", "", "odd kernel size; default from C: t = int((log2 C + b) / gamma), made odd"},
        {"gamma", "2", "gamma of the adaptive kernel size"},
        {"b", "1", "b of the adaptive kernel size"},
        {"bias", "false", "bias in the 1-D conv (EA)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(ECAAttention(c, {.k_size = o.given("k_size") ? o.get_int("k_size") : 0,
                                              .gamma = o.get_double("gamma"),
                                              .b = o.get_double("b"),
                                              .bias = o.get_bool("bias")}));
       }});
  table.push_back(
      {"coord",
       "Coordinate attention (Hou et al. 2021): strip pools along H and W, shared 1x1 conv + BN "
       "+ h_swish, per-direction gates",
       {{"reduction", "32", "hidden width mip = max(8, C // reduction)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(CoordAttention(c, {.reduction = o.get_int("reduction")}));
       }});
  table.push_back(
      {"nonlocal",
       "Non-local block, embedded Gaussian (Wang et al. 2018): softmax(theta^T phi) g, zero-init "
       "W + BN, residual",
       {{"inter_channels", "", "inner width; default C // 2 (at least 1)"},
        {"sub_sample", "true", "2x2 max pool on phi and g (4x fewer keys)"},
        {"bn_layer", "true", "BatchNorm after W (zero-initialised); else a zero-initialised conv"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(NonLocalBlock(
             c, {.inter_channels = o.given("inter_channels") ? o.get_int("inter_channels") : 0,
                 .sub_sample = o.get_bool("sub_sample"),
                 .bn_layer = o.get_bool("bn_layer")}));
       }});
  table.push_back(
      {"sa2d",
       "SAGAN self-attention (Zhang et al. 2019): softmax over all positions, learned gamma "
       "residual (init 0)",
       {{"reduction", "8", "query/key width C // reduction"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(SelfAttention2d(c, {.reduction = o.get_int("reduction")}));
       }});
}

}  // namespace heed::attention

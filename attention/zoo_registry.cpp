// Registry entries of the further modules (attention_spec.md §12): simam,
// triplet, bam, gc, ge, sk, external, ese, shuffle, psa, danet, sge, criss_cross.
#include <algorithm>
#include <sstream>

#include "attention/registry.h"
#include "attention/zoo.h"

namespace heed::attention {

namespace {

template <typename Holder>
AttentionModule as_attention(const Holder& h) {
  return AttentionModule(std::static_pointer_cast<AttentionModuleImpl>(h.ptr()));
}

// "1/3/5/7" -> {1, 3, 5, 7}. Slashes, because placement specs
// ("sk(kernels=3/5):stages=2") separate options with commas; commas are
// accepted too when calling create() directly.
std::vector<int64_t> int_list(const std::string& module, const std::string& option,
                              std::string text) {
  std::replace(text.begin(), text.end(), ',', '/');
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, '/')) {
    char* end = nullptr;
    long long v = std::strtoll(item.c_str(), &end, 10);
    HEED_CHECK(!item.empty() && end && *end == '\0', "attention '", module, "': option '", option,
               "' must be integers separated by '/', got '", text, "'");
    out.push_back(int64_t(v));
  }
  HEED_CHECK(!out.empty(), "attention '", module, "': option '", option, "' is empty");
  return out;
}

// rd_channels: 0 (derived) unless given.
int64_t rd_channels(const OptionReader& o) {
  return o.given("rd_channels") ? o.get_int("rd_channels") : 0;
}

}  // namespace

void register_zoo_modules(std::vector<ModuleInfo>& table) {
  table.push_back(
      {"simam",
       "SimAM: parameter-free energy-based attention, x·σ(d / 4(σ²+λ) + ½) (Yang et al. 2021)",
       {{"e_lambda", "1e-4", "λ added to the channel variance"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(SimAM(c, {.e_lambda = o.get_double("e_lambda")}));
       }});

  table.push_back(
      {"triplet",
       "Triplet attention: Z-pool + 7×7 conv gates over the (C,W), (H,C) and (H,W) planes "
       "(Misra et al. 2021)",
       {{"no_spatial", "false", "drop the (H, W) gate (average the other two)"},
        {"kernel_size", "7", "odd size of the gate convs"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(TripletAttention(
             c, {.no_spatial = o.get_bool("no_spatial"), .kernel_size = o.get_int("kernel_size")}));
       }});

  table.push_back(
      {"bam",
       "BAM: x·(1 + σ(channel MLP + dilated-conv spatial map)) (Park et al. 2018)",
       {{"reduction", "16", "hidden width C / reduction"},
        {"dia_val", "2", "dilation of the spatial 3×3 convs (the paper: 4)"},
        {"channel_layers", "3", "hidden layers of the channel MLP (the paper: 1)"},
        {"spatial_layers", "3", "dilated conv layers of the spatial branch (the paper: 2)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(BAM(c, {.reduction = o.get_int("reduction"),
                                     .dia_val = o.get_int("dia_val"),
                                     .channel_layers = o.get_int("channel_layers"),
                                     .spatial_layers = o.get_int("spatial_layers")}));
       }});

  table.push_back(
      {"gc",
       "Global Context block: softmax attention pooling, bottleneck transform with LayerNorm, "
       "fused by addition (Cao et al. 2019)",
       {{"use_attn", "true", "attention pooling (false: global average)"},
        {"fuse_add", "true", "add the transformed context (the paper)"},
        {"fuse_scale", "false", "scale by σ(transformed context) (timm's default)"},
        {"rd_ratio", "0.125", "bottleneck width C·rd_ratio"},
        {"rd_channels", "", "bottleneck width; default round(C·rd_ratio), at least 1"},
        {"rd_divisor", "1", "round the bottleneck width to a multiple of this"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(GlobalContext(c, {.use_attn = o.get_bool("use_attn"),
                                               .fuse_add = o.get_bool("fuse_add"),
                                               .fuse_scale = o.get_bool("fuse_scale"),
                                               .rd_ratio = o.get_double("rd_ratio"),
                                               .rd_channels = rd_channels(o),
                                               .rd_divisor = o.get_int("rd_divisor")}));
       }});

  table.push_back(
      {"ge",
       "Gather-Excite: pooled context over an extent, MLP, nearest upsampling, sigmoid gate "
       "(Hu et al. 2018)",
       {{"extent", "0", "0: global (SE); else even, pooling kernel 2e−1 and stride e"},
        {"extra_params", "false",
         "gather with depthwise stride-2 convs + BN (extent a power of 2)"},
        {"use_mlp", "true", "the excite MLP"},
        {"rd_ratio", "0.0625", "MLP hidden width C·rd_ratio"},
        {"rd_channels", "", "MLP hidden width; default round(C·rd_ratio), at least 1"},
        {"rd_divisor", "1", "round the hidden width to a multiple of this"},
        {"add_maxpool", "false", "average max and mean pooling when gathering"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(GatherExcite(c, {.extent = o.get_int("extent"),
                                              .extra_params = o.get_bool("extra_params"),
                                              .use_mlp = o.get_bool("use_mlp"),
                                              .rd_ratio = o.get_double("rd_ratio"),
                                              .rd_channels = rd_channels(o),
                                              .rd_divisor = o.get_int("rd_divisor"),
                                              .add_maxpool = o.get_bool("add_maxpool")}));
       }});

  table.push_back(
      {"sk",
       "Selective Kernel: conv branches of several kernel sizes mixed by a softmax over "
       "branches (Li et al. 2019)",
       {{"kernels", "1/3/5/7", "odd kernel sizes separated by '/', one branch each"},
        {"reduction", "16", "fuse width d = max(L, C / reduction)"},
        {"group", "1", "groups of the branch convs"},
        {"L", "32", "lower bound of the fuse width"},
        {"fuse_norm", "true", "BN + ReLU after the fuse layer (the paper; EA omits them)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(
             SKAttention(c, {.kernels = int_list("sk", "kernels", o.get_string("kernels")),
                             .reduction = o.get_int("reduction"),
                             .group = o.get_int("group"),
                             .L = o.get_int("L"),
                             .fuse_norm = o.get_bool("fuse_norm")}));
       }});

  table.push_back(
      {"external",
       "External attention over the H·W tokens with two learned memories (Guo et al. 2021)",
       {{"S", "64", "memory size"}, {"residual", "false", "add the input to the output"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(
             ExternalAttention2d(c, {.S = o.get_int("S"), .residual = o.get_bool("residual")}));
       }});

  table.push_back({"ese",
                   "Effective SE: one 1×1 conv C→C on the pooled features, hard-sigmoid gate "
                   "(Lee & Park 2020)",
                   {{"add_maxpool", "false", "average the global average and max pools"}},
                   [](int64_t c, const OptionReader& o) {
                     return as_attention(
                         EffectiveSE(c, {.add_maxpool = o.get_bool("add_maxpool")}));
                   }});

  table.push_back(
      {"shuffle",
       "Shuffle attention: channel and spatial gates on half-groups, then a channel shuffle "
       "(Zhang & Yang 2021)",
       {{"G", "8", "groups; channels must be divisible by 2·G"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(ShuffleAttention(c, {.G = o.get_int("G")}));
       }});

  table.push_back(
      {"psa",
       "Polarized self-attention: channel-only and spatial-only branches (Liu et al. 2021)",
       {{"mode", "parallel", "'parallel' (sum of the branches) or 'sequential'"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(PolarizedSelfAttention(c, {.mode = o.get_string("mode")}));
       }});

  table.push_back({"danet",
                   "DANet position (pixel×pixel) and channel (C×C) attention with learned residual "
                   "scales, summed (Fu et al. 2019)",
                   {{"mode", "both", "'both' (sum), 'position' or 'channel'"},
                    {"reduction", "8", "query/key width C / reduction of the position module"}},
                   [](int64_t c, const OptionReader& o) {
                     return as_attention(DANet(
                         c, {.mode = o.get_string("mode"), .reduction = o.get_int("reduction")}));
                   }});

  table.push_back(
      {"sge",
       "Spatial group-wise enhance: per group, a spatial gate from each pixel's similarity to "
       "the group's mean feature (Li et al. 2019)",
       {{"groups", "8", "groups; channels must be divisible by it"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(SpatialGroupEnhance(c, {.groups = o.get_int("groups")}));
       }});

  table.push_back(
      {"criss_cross",
       "Criss-cross attention: each pixel attends to its row and column, learned residual "
       "scale (Huang et al. 2019)",
       {{"reduction", "8", "query/key width C / reduction"},
        {"recurrence", "1", "applications with shared weights (the paper: 2)"}},
       [](int64_t c, const OptionReader& o) {
         return as_attention(CrissCrossAttention(
             c, {.reduction = o.get_int("reduction"), .recurrence = o.get_int("recurrence")}));
       }});
}

}  // namespace heed::attention

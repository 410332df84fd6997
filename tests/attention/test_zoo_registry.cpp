// The zoo's registry entries (attention/zoo_registry.cpp): each module by name
// with its options.
#include "attention/placement.h"
#include "attention/zoo.h"
#include "zoo_util.h"

using namespace heed;
using namespace heed::attention;
using Catch::Contains;

TEST_CASE("every zoo module is creatable by name with its options", "[attention][zoo][registry]") {
  const std::vector<std::pair<std::string, Options>> cases = {
      {"simam", {{"e_lambda", "0.01"}}},
      {"triplet", {{"no_spatial", "true"}, {"kernel_size", "3"}}},
      {"bam",
       {{"reduction", "4"}, {"dia_val", "4"}, {"channel_layers", "1"}, {"spatial_layers", "2"}}},
      {"gc", {{"fuse_scale", "true"}, {"rd_channels", "4"}, {"use_attn", "false"}}},
      {"ge", {{"extent", "2"}, {"extra_params", "true"}, {"rd_ratio", "0.25"}}},
      {"sk", {{"kernels", "3/5"}, {"reduction", "4"}, {"L", "8"}, {"fuse_norm", "false"}}},
      {"external", {{"S", "16"}, {"residual", "true"}}},
      {"ese", {{"add_maxpool", "true"}}},
      {"shuffle", {{"G", "4"}}},
      {"psa", {{"mode", "sequential"}}},
      {"danet", {{"mode", "both"}, {"reduction", "4"}}},
      {"sge", {{"groups", "4"}}},
      {"criss_cross", {{"reduction", "4"}, {"recurrence", "2"}}},
  };
  Tensor x = randn({2, 16, 6, 5});
  for (const auto& [name, options] : cases) {
    INFO(name);
    const ModuleInfo& mi = info(name);
    CHECK(!mi.description.empty());
    for (const auto& o : mi.options) CHECK(!o.help.empty());
    AttentionModule with_defaults = create(name, 16);
    CHECK(with_defaults(x).shape() == x.shape());
    AttentionModule m = create(name, 16, options);
    CHECK(m(x).shape() == x.shape());
  }
  // The options reach the modules.
  auto sk_ptr = std::dynamic_pointer_cast<SKAttentionImpl>(
      create("sk", 16, {{"kernels", "3,5"}, {"fuse_norm", "false"}}).ptr());  // commas work too
  REQUIRE(sk_ptr);
  CHECK(sk_ptr->options.kernels == std::vector<int64_t>{3, 5});
  CHECK_FALSE(sk_ptr->bn);
  auto ge = std::dynamic_pointer_cast<GatherExciteImpl>(create("ge", 32).ptr());
  REQUIRE(ge);
  CHECK(ge->rd_channels == 2);  // derived: 32 / 16
  auto danet =
      std::dynamic_pointer_cast<DANetImpl>(create("danet", 16, {{"mode", "channel"}}).ptr());
  REQUIRE(danet);
  CHECK_FALSE(danet->position_attention_module);
  CHECK(create("triplet", 8)->type_name() == "TripletAttention");
}

TEST_CASE("zoo registry errors name the module, the option and the value",
          "[attention][zoo][registry]") {
  CHECK_THROWS_WITH(create("sk", 16, {{"kernels", "3/x"}}),
                    Contains("attention 'sk': option 'kernels' must be integers separated by '/'"));
  CHECK_THROWS_WITH(create("sk", 16, {{"kernels", "3//5"}}), Contains("got '3//5'"));
  CHECK_THROWS_WITH(create("bam", 16, {{"ratio", "4"}}),
                    Contains("attention 'bam': unknown option 'ratio'"));
  CHECK_THROWS_WITH(create("gc", 16, {{"fuse_add", "maybe"}}),
                    Contains("option 'fuse_add' must be true or false, got 'maybe'"));
  CHECK_THROWS_WITH(create("shuffle", 12), Contains("divisible by 2·G = 16"));
  CHECK_THROWS_WITH(create("psa", 16, {{"mode", "serial"}}), Contains("got 'serial'"));
}

TEST_CASE("zoo modules can be placed by spec text", "[attention][zoo][registry]") {
  Placement p = Placement::parse("sk(kernels=3/5, fuse_norm=false):stages=2:pos=post");
  AttentionModule m = p.make(16);
  auto sk = std::dynamic_pointer_cast<SKAttentionImpl>(m.ptr());
  REQUIRE(sk);
  CHECK(sk->options.kernels == std::vector<int64_t>{3, 5});
  CHECK(Placement::parse(p.str()) == p);
  Tensor x = randn({2, 16, 4, 4});
  CHECK(Placement::parse("danet(mode=channel)").make(16)(x).shape() == x.shape());
}

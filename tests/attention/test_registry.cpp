// The by-name registry of the seed modules: creation with options, defaults,
// errors that list the valid names and options.
#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;

TEST_CASE("the registry lists the seed modules with documented options", "[attention][registry]") {
  std::vector<std::string> names;
  for (const ModuleInfo& m : list()) names.push_back(m.name);
  for (const char* n : {"se", "cbam", "eca", "coord", "nonlocal", "sa2d"}) {
    INFO(n);
    CHECK(std::count(names.begin(), names.end(), n) == 1);
    const ModuleInfo& m = info(n);
    CHECK(!m.description.empty());
    CHECK(!m.options.empty());
    for (const OptionSpec& o : m.options) {
      INFO(n << "." << o.name);
      CHECK(!o.help.empty());
    }
  }
  auto option_names = [](const std::string& n) {
    std::vector<std::string> v;
    for (const OptionSpec& o : info(n).options) v.push_back(o.name + "=" + o.default_value);
    return v;
  };
  CHECK(option_names("se") ==
        std::vector<std::string>{"reduction=16", "conv=false", "divisor=1", "bias=false"});
  CHECK(option_names("cbam") ==
        std::vector<std::string>{"ratio=16", "kernel_size=7", "max_first=false", "residual=false",
                                 "spatial_bias=false", "mlp_bias=false", "spatial_bn=false"});
  CHECK(option_names("eca") == std::vector<std::string>{"k_size=", "gamma=2", "b=1", "bias=false"});
  CHECK(option_names("coord") == std::vector<std::string>{"reduction=32"});
  CHECK(option_names("nonlocal") ==
        std::vector<std::string>{"inter_channels=", "sub_sample=true", "bn_layer=true"});
  CHECK(option_names("sa2d") == std::vector<std::string>{"reduction=8"});
}

TEST_CASE("create builds each seed module with its options", "[attention][registry]") {
  Tensor x = randn({2, 64, 6, 6});
  for (const char* n : {"se", "cbam", "eca", "coord", "nonlocal", "sa2d"}) {
    INFO(n);
    AttentionModule m = create(n, 64);
    CHECK(m(x).shape() == x.shape());
  }
  auto se = create("se", 64, {{"reduction", "4"}}).ptr();
  REQUIRE(std::dynamic_pointer_cast<SEAttentionImpl>(se));
  CHECK(std::dynamic_pointer_cast<SEAttentionImpl>(se)->hidden == 16);

  auto cbam = std::dynamic_pointer_cast<CBAMImpl>(
      create("cbam", 64, {{"ratio", "8"}, {"kernel_size", "3"}, {"residual", "true"}}).ptr());
  REQUIRE(cbam);
  CHECK(cbam->ca->hidden == 8);
  CHECK(cbam->sa->kernel_size == 3);
  CHECK(cbam->options.residual);

  // The PyTorch reference forms (bench/torch/models.py): Linear biases, the spatial BN.
  auto se_b = create("se", 64, {{"bias", "true"}});
  CHECK(se_b->state_dict().contains("fc.0.bias"));
  CHECK(se_b->state_dict().contains("fc.2.bias"));
  auto cbam_ref = create("cbam", 64, {{"mlp_bias", "true"}, {"spatial_bn", "true"}});
  CHECK(cbam_ref->state_dict().contains("ca.fc1.bias"));
  CHECK(cbam_ref->state_dict().contains("ca.fc2.bias"));
  CHECK(cbam_ref->state_dict().contains("sa.bn.weight"));
  CHECK(cbam_ref->state_dict().contains("sa.bn.running_var"));
  CHECK(cbam_ref(x).shape() == x.shape());

  auto eca = std::dynamic_pointer_cast<ECAAttentionImpl>(create("eca", 256).ptr());
  CHECK(eca->k_size == 5);  // adaptive: (8 + 1) / 2 = 4 -> 5
  eca = std::dynamic_pointer_cast<ECAAttentionImpl>(create("eca", 256, {{"k_size", "9"}}).ptr());
  CHECK(eca->k_size == 9);

  auto coord = std::dynamic_pointer_cast<CoordAttentionImpl>(
      create("coord", 512, {{"reduction", "16"}}).ptr());
  CHECK(coord->mip == 32);

  auto nl = std::dynamic_pointer_cast<NonLocalBlockImpl>(
      create("nonlocal", 64, {{"inter_channels", "8"}, {"sub_sample", "no"}}).ptr());
  CHECK(nl->inter_channels == 8);
  CHECK(!nl->options.sub_sample);
  CHECK(nl->state_dict().contains("phi.weight"));  // not phi.0.weight without sub-sampling

  auto sa = std::dynamic_pointer_cast<SelfAttention2dImpl>(
      create("sa2d", 64, {{"reduction", "4"}}).ptr());
  CHECK(sa->qk_dim == 16);
}

TEST_CASE("registry errors name the module and list what is valid", "[attention][registry]") {
  CHECK_THROWS_WITH(create("squeeze", 16),
                    Catch::Contains("unknown module 'squeeze'") &&
                        Catch::Contains("se, cbam, eca, coord, nonlocal, sa2d"));
  CHECK_THROWS_WITH(create("cbam", 16, {{"reduction", "4"}}),
                    Catch::Contains("unknown option 'reduction'") &&
                        Catch::Contains("ratio, kernel_size, max_first, residual, spatial_bias, "
                                        "mlp_bias, spatial_bn"));
  CHECK_THROWS_WITH(create("se", 16, {{"reduction", "four"}}),
                    Catch::Contains("'reduction' must be an integer, got 'four'"));
  CHECK_THROWS_WITH(create("nonlocal", 16, {{"sub_sample", "maybe"}}),
                    Catch::Contains("must be true or false, got 'maybe'"));
  CHECK_THROWS_WITH(create("se", 8), Catch::Contains("8 // 16 = 0"));
  CHECK_THROWS_WITH(create("eca", 16, {{"k_size", "4"}}), Catch::Contains("must be odd"));
  CHECK_THROWS_WITH(create("cbam", 16, {{"kernel_size", "6"}}), Catch::Contains("must be odd"));
  CHECK_THROWS_WITH(create("se", 0), Catch::Contains("channels must be positive"));
}

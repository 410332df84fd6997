// Placement specs: parsing, canonical text, errors for every malformed part,
// and the helpers host networks call.
#include "attention_test_util.h"

using namespace heed;
using namespace heed::attention;

TEST_CASE("Placement::parse reads module, options, stages, blocks and position",
          "[attention][placement]") {
  Placement p = Placement::parse("cbam(ratio=8):stages=2,3:pos=standard");
  CHECK(p.module == "cbam");
  CHECK(p.options == Options{{"ratio", "8"}});
  CHECK(p.stages == std::set<int>{2, 3});
  CHECK(!p.blocks);
  CHECK(p.position == Position::Standard);
  CHECK(p.str() == "cbam(ratio=8):stages=2,3");

  Placement none = Placement::parse("none");
  CHECK(!none.enabled());
  CHECK(none == Placement::none());
  CHECK(none.str() == "none");
  CHECK(!none.applies(1, 0));

  Placement se = Placement::parse("se");
  CHECK(se.enabled());
  CHECK(se.options.empty());
  CHECK(!se.stages);
  CHECK(se.str() == "se");

  Placement eca = Placement::parse("eca(k_size=5):pos=post");
  CHECK(eca.options == Options{{"k_size", "5"}});
  CHECK(eca.position == Position::Post);
  CHECK(eca.str() == "eca(k_size=5):pos=post");

  Placement b = Placement::parse("se:stages=1:blocks=0,2:pos=identity");
  CHECK(b.blocks == std::set<int>{0, 2});
  CHECK(b.position == Position::Identity);
  CHECK(Placement::parse(" coord( reduction = 16 ) : pos=pre ").str() ==
        "coord(reduction=16):pos=pre");
  CHECK(Placement::parse("se:stages=all:blocks=all") == Placement::parse("se"));
  CHECK(Placement::parse("cbam()").options.empty());
}

TEST_CASE("Placement::str round-trips", "[attention][placement]") {
  for (const char* s :
       {"none", "se", "cbam(kernel_size=3,ratio=8):stages=2,3", "eca(k_size=5):pos=post",
        "se:stages=1:blocks=0,2:pos=identity", "nonlocal(sub_sample=false):stages=3:blocks=1",
        "sa2d:pos=pre", "coord(reduction=16):blocks=0"}) {
    INFO(s);
    Placement p = Placement::parse(s);
    CHECK(p.str() == s);
    CHECK(Placement::parse(p.str()) == p);
  }
  // Options come out sorted; defaults are left out.
  CHECK(Placement::parse("cbam(ratio=8,kernel_size=3):pos=standard").str() ==
        "cbam(kernel_size=3,ratio=8)");
}

TEST_CASE("Placement::applies and make", "[attention][placement]") {
  Placement p = Placement::parse("se(reduction=4):stages=2,3:blocks=0,2");
  CHECK(!p.applies(1, 0));
  CHECK(p.applies(2, 0));
  CHECK(!p.applies(2, 1));
  CHECK(p.applies(3, 2));
  Placement all = Placement::parse("eca");
  for (int s = 1; s <= 3; ++s)
    for (int b = 0; b < 3; ++b) CHECK(all.applies(s, b));
  AttentionModule m = p.make(32);
  auto se = std::dynamic_pointer_cast<SEAttentionImpl>(m.ptr());
  REQUIRE(se);
  CHECK(se->hidden == 8);
  CHECK_THROWS_WITH(Placement::none().make(16), Catch::Contains("make() on 'none'"));
  CHECK_THROWS_WITH(Placement::parse("se(reduction=x)").make(16),
                    Catch::Contains("must be an integer, got 'x'"));
  CHECK(parse_position("identity") == Position::Identity);
  CHECK_THROWS_WITH(parse_position("middle"),
                    Catch::Contains("valid: standard, pre, post, identity"));
}

TEST_CASE("Placement::parse names each malformed part", "[attention][placement]") {
  auto fails = [](const std::string& spec, const std::string& text) {
    INFO(spec);
    CHECK_THROWS_WITH(Placement::parse(spec), Catch::Contains(text));
  };
  fails("", "empty spec; write 'none'");
  fails("squeeze", "unknown module 'squeeze'");
  fails("cbam(ratio=8", "missing ')'");
  fails("cbam(ratio=8:stages=2", "missing ')'");
  fails("cbam(ratio=8:stages=2)", "':' inside the options");
  fails("cbam(ratio=8)x", "unexpected 'x' after ')'");
  fails("cbam(ratio)", "option 'ratio' must be key=value");
  fails("cbam(ratio=)", "option 'ratio=' must be key=value");
  fails("cbam(reduction=8)", "'cbam' has no option 'reduction'; valid options: ratio, kernel_size");
  fails("cbam(ratio=8,ratio=4)", "option 'ratio' given twice");
  fails("cbam((ratio=8))", "nested '('");
  fails("(ratio=8)", "missing module name before '('");
  fails("se)", "')' without '('");
  fails(":stages=1", "missing module name");
  fails("none:stages=1", "'none' takes no sections");
  fails("se:", "empty section after ':'");
  fails("se(reduction=4):", "empty section after ':'");
  fails("se::pos=pre", "empty section");
  fails("se:stages", "section 'stages' must be key=value");
  fails("se:where=2", "unknown section 'where'; valid: stages, blocks, pos");
  fails("se:stages=1:stages=2", "'stages' given twice");
  fails("se:stages=", "stages= needs 'all' or indices");
  fails("se:stages=0", "stages are 1-based, got 0");
  fails("se:blocks=-1", "blocks are 0-based, got -1");
  fails("se:stages=2,x", "has 'x', which is not an integer");
  fails("se:stages=2,,3", "has '', which is not an integer");
  fails("se:stages=2,2", "lists 2 twice");
  fails("se:pos=after", "unknown pos 'after'; valid: standard, pre, post, identity");
  fails("se:pos=", "unknown pos ''");
}

// The gradcheck sweep: every registered case in float64, and every
// differentiable op in the op table must have at least one case.
#include <catch2/catch.hpp>

#include <set>

#include "support/gradcheck_cases.h"

using namespace heed;
using heed::testing::gradcheck_cases;

TEST_CASE("every differentiable op has a gradcheck case", "[gradcheck]") {
  std::set<std::string> covered;
  for (const auto& c : gradcheck_cases()) covered.insert(c.op);
  std::vector<std::string> missing;
  for (const OpInfo& op : op_table())
    if (op.differentiable && !covered.count(std::string(op.name)))
      missing.emplace_back(op.name);
  INFO("ops without a gradcheck case: " << Catch::Detail::stringify(missing));
  CHECK(missing.empty());
  // And no case names an op the table does not know.
  std::set<std::string> known;
  for (const OpInfo& op : op_table()) known.insert(std::string(op.name));
  for (const auto& c : gradcheck_cases()) {
    INFO("case " << c.op << " / " << c.label);
    CHECK(known.count(c.op) == 1);
  }
}

TEST_CASE("gradcheck sweep over every op", "[gradcheck]") {
  REQUIRE(!gradcheck_cases().empty());
  for (const auto& c : gradcheck_cases()) {
    DYNAMIC_SECTION(c.op << " / " << c.label) {
      std::vector<Tensor> inputs = c.make_inputs();
      GradcheckReport r = gradcheck(c.fn, inputs, c.options);
      INFO(r.message);
      CHECK(r.ok);
    }
  }
}

TEST_CASE("gradcheck reports a wrong backward", "[gradcheck]") {
  // A deliberately wrong gradient: forward 2x, backward claims 3.
  Tensor x = heed::testing::gc_input({3});
  auto wrong = [](const std::vector<Tensor>& in) {
    Tensor out = in[0].detach() * 2.0;
    autograd::record("wrong", {in[0]}, out, [](const Tensor& g, const std::vector<bool>&) {
      return std::vector<Tensor>{g * 3.0};
    });
    return out;
  };
  GradcheckReport r = gradcheck(wrong, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.analytic == Approx(1.5 * r.numeric));
  CHECK_THAT(r.message, Catch::Contains("FAILED"));
}

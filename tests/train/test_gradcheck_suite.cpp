// The library's gradcheck suite (behind `heed gradcheck`): it covers every
// differentiable op of the op table and every registered attention module,
// and every case passes.
#include "attention/registry.h"
#include "train/gradcheck_suite.h"
#include "train_test_util.h"

using namespace heed::train;

TEST_CASE("Every differentiable op has a case in the gradcheck suite", "[train][gradcheck]") {
  CHECK(ops_without_gradcheck_case() == std::vector<std::string>{});
  CHECK(module_gradcheck_cases().size() == heed::attention::list().size());
}

TEST_CASE("Every op case of the gradcheck suite passes", "[train][gradcheck]") {
  auto rows = run_gradcheck_suite({.ops = true, .modules = false});
  REQUIRE(rows.size() == op_gradcheck_cases().size());
  for (const auto& r : rows) {
    INFO(r.name << " (" << r.label << "): " << r.message);
    CHECK(r.ok);
  }
  std::string table = gradcheck_table(rows);
  CHECK_THAT(table, Catch::Contains("conv2d") && Catch::Contains(" passed"));
}

TEST_CASE("Every registered attention module passes gradcheck", "[train][gradcheck]") {
  auto rows = run_gradcheck_suite({.ops = false, .modules = true});
  for (const auto& r : rows) {
    INFO(r.name << ": " << r.message);
    CHECK(r.ok);
  }
}

// The float64 gradient checks behind `heed gradcheck`: at least one case per
// differentiable op of core's op table (core/ops/op_list.def) and one per
// registered attention module (input and parameter gradients, training
// mode), each run through heed::gradcheck (central differences).
//
//   for (const auto& row : train::run_gradcheck_suite({.all = true})) ...
//   std::cout << train::gradcheck_table(rows);
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/autograd/gradcheck.h"

namespace heed::train {

struct GradcheckSuiteCase {
  std::string kind;   // "op" or "module"
  std::string name;   // the op_list.def name or the registry name
  std::string label;  // what the case exercises (broadcast, strided, ...)
  std::function<GradcheckReport()> run;
};

// Every op case (one or more per differentiable op in op_table()).
const std::vector<GradcheckSuiteCase>& op_gradcheck_cases();
// One case per module in attention::list(), built on a (2, C, 6, 6) input
// with the smallest C in {16, 32, 64} the module accepts.
std::vector<GradcheckSuiteCase> module_gradcheck_cases();
// The differentiable ops of op_table() that have no case (should be empty).
std::vector<std::string> ops_without_gradcheck_case();

struct GradcheckRow {
  std::string kind, name, label;
  bool ok = false;
  double max_abs_error = 0, max_rel_error = 0;
  double seconds = 0;
  std::string message = {};  // the report's message, or the error it threw
};

struct GradcheckSuiteOptions {
  bool ops = true;
  bool modules = true;
  std::string only = {};  // run only the cases with this name ("" = all)
};

// Runs the selected cases; `progress` (optional) is called after each.
std::vector<GradcheckRow> run_gradcheck_suite(
    const GradcheckSuiteOptions& options,
    const std::function<void(const GradcheckRow&)>& progress = nullptr);

std::string gradcheck_table(const std::vector<GradcheckRow>& rows);

}  // namespace heed::train

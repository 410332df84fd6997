// The CUDA-vs-CPU op sweep (ggml's test-backend-ops for heed): a table of
// cases, at least one per op of core/ops/op_list.def, each with input
// builders (broadcast and non-contiguous inputs among them) and a function
// of the inputs. The runner computes the case on the CPU and on a target
// device, compares the outputs, the gradients of every input that requires
// grad (for a random upstream gradient) and the inputs themselves afterwards
// (in-place updates such as batch norm's running stats), each within the
// case's tolerance for the dtype.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/heed_core.h"

namespace heed::testing {

using In = std::vector<Tensor>;

struct SweepCase {
  std::string op;     // the op_list.def name covered
  std::string label;  // what is special about it
  // CPU inputs: floating ones in float64 (converted to the dtype under test),
  // int64/bool ones as they are; floating leaves with requires_grad get
  // their gradients compared. Auxiliary tensors (indices, masks, targets,
  // running stats) are inputs too, so they live on the device under test.
  std::function<In()> inputs;
  std::function<Tensor(const In&)> fn;
  // |got - want| <= atol + rtol·|want| per element.
  double rtol32 = 1e-5, atol32 = 1e-6;
  double rtol64 = 1e-11, atol64 = 1e-12;
  bool backward = true;
};

const std::vector<SweepCase>& sweep_cases();

struct SweepResult {
  bool ok = true;
  std::string message;  // what differs, where, by how much
  int compared = 0;     // tensors compared
};

// Runs `c` with floating inputs in `dtype`, on the CPU and on `device`.
SweepResult run_sweep_case(const SweepCase& c, DType dtype, Device device);

}  // namespace heed::testing

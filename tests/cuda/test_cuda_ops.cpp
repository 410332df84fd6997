// The CUDA-vs-CPU op sweep (tests/cuda/sweep.h): every op of the op table,
// forward and backward, float64 and float32, with the allocator's guard
// bytes around every CUDA buffer to catch kernels writing out of bounds.
#include <set>

#include "cuda_test.h"
#include "sweep.h"

using namespace heed;
using namespace heed::testing;

TEST_CASE("every op of the op table has a CUDA sweep case", "[cuda_host]") {
  std::set<std::string> covered;
  for (const SweepCase& c : sweep_cases()) covered.insert(c.op);
  std::vector<std::string> missing;
  for (const OpInfo& op : op_table())
    if (!covered.count(std::string(op.name))) missing.emplace_back(op.name);
  INFO("ops without a CUDA sweep case (add one in tests/cuda/sweep.cpp): "
       << Catch::Detail::stringify(missing));
  CHECK(missing.empty());
  std::set<std::string> known;
  for (const OpInfo& op : op_table()) known.insert(std::string(op.name));
  for (const SweepCase& c : sweep_cases()) {
    INFO("case " << c.op << " / " << c.label);
    CHECK(known.count(c.op) == 1);
  }
}

// The runner against itself on the CPU: every case builds, runs forward and
// backward, and compares equal. Checks the table on machines without a GPU.
TEST_CASE("the CUDA sweep's cases run on the CPU", "[cuda_host]") {
  for (const SweepCase& c : sweep_cases())
    for (DType dt : {kFloat64, kFloat32}) {
      SweepResult r = run_sweep_case(c, dt, kCPU);
      INFO(c.op << " / " << c.label << " / " << dt << "\n" << r.message);
      CHECK(r.ok);
      CHECK(r.compared > 0);
    }
}

TEST_CASE("CUDA vs CPU: every op, forward and backward", "[cuda]") {
  HEED_REQUIRE_CUDA();
  CudaGuards guards;
  for (const SweepCase& c : sweep_cases())
    for (DType dt : {kFloat64, kFloat32}) {
      const int64_t violations = cuda::guard_violations();
      SweepResult r = run_sweep_case(c, dt, Device::cuda(0));
      cuda::synchronize();
      INFO(c.op << " / " << c.label << " / " << dt << "\n" << r.message);
      CHECK(r.ok);
      INFO("guard bytes overwritten: " << cuda::last_guard_violation());
      CHECK(cuda::guard_violations() == violations);
    }
}

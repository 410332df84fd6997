// The per-op profiler: where a training step's time goes, by op type, split
// into forward ops and backward nodes, so the next bottleneck is visible.
//
//   autograd::profiler::set_enabled(true);   // or HEED_PROFILE=1 in the environment
//   profiler::mark();                        // the step starts: restart the forward clock
//   Tensor loss = cross_entropy(model(x), y);
//   loss.backward();
//   profiler::add("optimizer step", Phase::Other, ms);   // the caller's own phases
//   std::printf("%s", profiler::take().table(1, step_ms).c_str());
//
// Forward: record() (node.cpp) charges each recorded op the time since the
// previous mark or recorded op on its thread: its kernels plus the module
// glue just before it. Only ops that autograd records are seen, so the
// forward is profiled in training (grad mode), not under NoGradGuard; after a
// backward the first op is counted but not timed until someone marks.
// Backward: the engine times each node's backward closure (engine.cpp).
// Off, each hook costs one relaxed atomic load.
//
// With HEED_PROFILE=1 in the environment the profiler starts enabled; what
// no one take()s by the end of the process is printed to stderr at exit
// (totals of the whole run, e.g. of `heed train`).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heed::autograd::profiler {

namespace detail {
extern std::atomic<bool> g_enabled;
}  // namespace detail

inline bool enabled() {
  return detail::g_enabled.load(std::memory_order_relaxed);
}
void set_enabled(bool on);
// Whether HEED_PROFILE is set to something other than "" or "0".
bool requested_by_env();

enum class Phase : uint8_t { Forward, Backward, Other };
const char* phase_name(Phase p);  // "fwd", "bwd", "other"

// Restarts this thread's forward clock (the start of a step, the end of work
// that is not an op).
void mark();
// Unsets it: the next forward op counts but is not timed. The engine calls it
// after a backward, since what follows (optimizer, data) is no op's time.
void clear_mark();
// Charges `name` (a forward op) with the time since this thread's last mark,
// then marks. Called by autograd::record when enabled.
void forward_op(const char* name);
// Adds one call of `ms` milliseconds to the entry (name, phase).
void add(std::string_view name, Phase phase, double ms);

struct Entry {
  std::string name;
  Phase phase = Phase::Other;
  int64_t count = 0;
  double ms = 0;
};

struct Profile {
  std::vector<Entry> entries;  // by total time, longest first
  double total_ms() const;
  // One row per entry: phase, name, calls per step, ms per step, % of
  // `step_ms` (or of the total when step_ms is 0), over `steps` steps.
  std::string table(int64_t steps, double step_ms) const;
};

// What was collected so far (all threads); the profiler starts empty again.
Profile take();

}  // namespace heed::autograd::profiler

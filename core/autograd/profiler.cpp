#include "core/autograd/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace heed::autograd::profiler {

namespace detail {
std::atomic<bool> g_enabled{false};
}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

// Namespace-scope, in this order: the exit report (last) is destroyed first,
// while the table it prints still exists.
std::mutex g_mutex;
std::unordered_map<std::string, Entry> g_entries;  // key: phase letter + name

// The time of this thread's last mark; unset (epoch) until the first mark.
thread_local Clock::time_point t_last{};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct ExitReport {
  ExitReport() {
    if (requested_by_env()) set_enabled(true);
  }
  ~ExitReport() {
    if (!requested_by_env()) return;
    Profile p = take();
    if (!p.entries.empty())
      std::fprintf(stderr, "HEED_PROFILE: per-op totals of the whole run\n%s",
                   p.table(1, 0).c_str());
  }
};
ExitReport g_exit_report;

}  // namespace

void set_enabled(bool on) {
  detail::g_enabled.store(on, std::memory_order_relaxed);
  if (on) mark();
}

bool requested_by_env() {
  const char* v = std::getenv("HEED_PROFILE");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Forward:
      return "fwd";
    case Phase::Backward:
      return "bwd";
    case Phase::Other:
      break;
  }
  return "other";
}

void mark() {
  t_last = Clock::now();
}

void clear_mark() {
  t_last = Clock::time_point{};
}

void forward_op(const char* name) {
  const Clock::time_point now = Clock::now();
  // Before any mark the start is unknown: the call counts, its time does not.
  const double ms = t_last == Clock::time_point{} ? 0.0 : ms_between(t_last, now);
  add(name, Phase::Forward, ms);
  t_last = Clock::now();  // the bookkeeping above is no op's time
}

void add(std::string_view name, Phase phase, double ms) {
  std::string key;
  key.reserve(name.size() + 1);
  key += phase_name(phase)[0];
  key += name;
  std::lock_guard<std::mutex> lock(g_mutex);
  Entry& e = g_entries[key];
  if (e.count == 0) {
    e.name = std::string(name);
    e.phase = phase;
  }
  e.count += 1;
  e.ms += ms;
}

Profile take() {
  Profile p;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    p.entries.reserve(g_entries.size());
    for (auto& [key, e] : g_entries) p.entries.push_back(std::move(e));
    g_entries.clear();
  }
  std::sort(p.entries.begin(), p.entries.end(), [](const Entry& a, const Entry& b) {
    return a.ms != b.ms ? a.ms > b.ms : a.name < b.name;
  });
  return p;
}

double Profile::total_ms() const {
  double t = 0;
  for (const Entry& e : entries) t += e.ms;
  return t;
}

std::string Profile::table(int64_t steps, double step_ms) const {
  const double n = double(std::max<int64_t>(steps, 1));
  const double whole = step_ms > 0 ? step_ms : total_ms() / n;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "  %-5s %-34s %9s %10s %7s\n", "phase", "op",
                steps > 1 ? "calls/step" : "calls", steps > 1 ? "ms/step" : "ms",
                step_ms > 0 ? "% step" : "% total");
  out += line;
  double fwd = 0, bwd = 0, other = 0;
  for (const Entry& e : entries) {
    const double ms = e.ms / n;
    (e.phase == Phase::Forward ? fwd : e.phase == Phase::Backward ? bwd : other) += ms;
    std::snprintf(line, sizeof line, "  %-5s %-34.34s %9.4g %10.3f %6.1f%%\n", phase_name(e.phase),
                  e.name.c_str(), double(e.count) / n, ms, whole > 0 ? 100.0 * ms / whole : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "  sum: fwd %.1f ms, bwd %.1f ms, other %.1f ms%s\n", fwd, bwd,
                other, steps > 1 ? " per step" : "");
  out += line;
  return out;
}

}  // namespace heed::autograd::profiler

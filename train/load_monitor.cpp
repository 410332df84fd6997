#include "train/load_monitor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace heed::train {

namespace {

// Non-idle jiffies of the whole machine: user nice system irq softirq steal.
int64_t machine_busy() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  long long v[8] = {};
  const int n = std::fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

// This process's CPU time (all threads), in jiffies.
double self_busy() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double s = double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                   1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  return s * double(sysconf(_SC_CLK_TCK));
}

}  // namespace

void LoadMonitor::start() {
  machine0_ = machine_busy();
  self0_ = self_busy();
}

double LoadMonitor::stop(double wall_seconds) const {
  const double capacity = wall_seconds * double(sysconf(_SC_CLK_TCK)) *
                          double(std::max(1u, std::thread::hardware_concurrency()));
  if (machine0_ == 0 || capacity <= 0) return 0;  // no /proc/stat
  const int64_t machine = machine_busy() - machine0_;
  const double self = self_busy() - self0_;
  return std::max(0.0, (double(machine) - self) / capacity);
}

}  // namespace heed::train

// How much of the machine other processes used during a timed region, so a
// benchmark can set aside the repetitions a neighbour disturbed (the same
// rule as bench/torch/loadmon.py, so heed and PyTorch are judged alike):
//
//   LoadMonitor mon;
//   mon.start();  ...timed work...;  double foreign = mon.stop(wall_seconds);
//   bool clean = foreign <= LoadMonitor::kCleanMax;
//
// foreign = (machine busy jiffies - this process's user+system jiffies)
//           / (wall * HZ * cores), from /proc/stat and getrusage; 0 where
// /proc/stat cannot be read.
#pragma once

#include <cstdint>

namespace heed::train {

class LoadMonitor {
 public:
  static constexpr double kCleanMax = 0.05;
  void start();
  double stop(double wall_seconds) const;

 private:
  int64_t machine0_ = 0;
  double self0_ = 0;
};

}  // namespace heed::train

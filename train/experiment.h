// Experiment grids: every combination of the grid's values, times seeds,
// trained one after another with run_training, then summarised as a CSV, a
// Markdown table and SVG charts.
//
//   heed experiment --grid "attention=none,se,cbam,eca,coord; pos=standard,post"
//                   --model resnet20 --epochs 2 --seeds 3 --out runs/study
//
// Grid keys are RunConfig fields (attention, model, width, lr, epochs,
// batch_size, optimizer, schedule, label_smoothing, ...) plus pos, stages
// and blocks, which are appended to the attention spec ("cbam" + pos=post
// -> "cbam:pos=post"; ignored for attention=none, so duplicates collapse).
// Values are separated by commas outside parentheses: "cbam(ratio=8,
// kernel_size=3),se".
//
// Resumable: a run whose folder has result.json is read back, not rerun; a
// run with only last.safetensors continues from it.
//
// Files in `out`: runs/<name>/ (each run's own files), results.csv (one row
// per run), results.md (mean ± std over seeds per grid point, params, MACs,
// img/s, step-time overhead vs attention=none), accuracy_vs_cost.svg
// (accuracy against params and MACs), accuracy_vs_throughput.svg,
// curves.svg (test accuracy per epoch of each grid point, mean over seeds).
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "train/run.h"

namespace heed::train {

// One axis of the grid.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};

// "attention=none,se; pos=standard,post" -> axes; errors name the bad part.
std::vector<GridAxis> parse_grid(const std::string& grid);

struct ExperimentRun {
  std::string name;                           // "attention=se,pos=post,seed=0"
  std::string point;                          // the name without the seed
  std::map<std::string, std::string> values;  // grid key -> value
  uint64_t seed = 0;
  RunConfig config;
};

// The runs of a grid on top of `base` (duplicates removed, in grid order,
// seeds innermost): cfg.seed = base.seed + i for i < seeds.
std::vector<ExperimentRun> expand_grid(const RunConfig& base, const std::vector<GridAxis>& axes,
                                       int64_t seeds, const std::string& out);

struct ExperimentRow {  // one grid point, over its seeds
  std::string point;
  std::map<std::string, std::string> values;
  std::vector<double> accuracies;
  double mean = 0, std = 0;
  int64_t params = 0, macs = 0;
  double images_per_second = 0;
  double cpu_seconds_per_epoch = 0;  // process CPU time of an epoch's training, mean
  // Time per step vs the attention=none point with the same other values, in
  // % (NaN without one): from CPU time when known (steadier on a shared
  // machine), else from wall-clock img/s.
  double overhead = 0;
  std::vector<double> curve;  // test accuracy per epoch, mean over seeds
};

struct ExperimentSummary {
  std::vector<ExperimentRow> rows;
  std::string markdown;
};

// Runs (or reads back) every run, then writes the summary files.
ExperimentSummary run_experiment(const RunConfig& base, const std::string& grid, int64_t seeds,
                                 const std::string& out, std::FILE* log = stdout);

}  // namespace heed::train

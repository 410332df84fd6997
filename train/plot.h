// Small SVG charts with no dependencies: line charts (training curves) and
// labelled scatter plots (experiment results: accuracy vs params/MACs/speed).
//
//   plot::Chart c{.title = "loss", .x_label = "epoch", .y_label = "loss"};
//   c.series.push_back({.name = "train", .x = {1, 2}, .y = {0.6, 0.4}});
//   plot::write_svg("curves.svg", {c});        // charts side by side
#pragma once

#include <string>
#include <vector>

namespace heed::train::plot {

struct Series {
  std::string name = {};
  std::vector<double> x = {}, y = {};
  std::vector<double> y_err = {};        // optional error bars (± y_err)
  std::vector<std::string> labels = {};  // optional text beside each point
};

struct Chart {
  std::string title = {}, x_label = {}, y_label = {};
  std::vector<Series> series = {};
  bool lines = true;  // connect the points of a series
  bool log_x = false;
};

// One SVG with the charts side by side, each width × height pixels.
std::string svg(const std::vector<Chart>& charts, int width = 480, int height = 340);
void write_svg(const std::string& path, const std::vector<Chart>& charts, int width = 480,
               int height = 340);

// "Nice" axis ticks covering [lo, hi] (about `count` of them).
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

}  // namespace heed::train::plot

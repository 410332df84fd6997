// Confusion matrix arithmetic, CSV logging, and the SVG plots.
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/tensor.h"
#include "train/callbacks.h"
#include "train/metrics.h"
#include "train/plot.h"
#include "train_test_util.h"

using namespace heed;
using namespace heed::train;
using heed::testing::TrainTempDir;

TEST_CASE("ConfusionMatrix counts, accuracy and per-class recall", "[train][metrics]") {
  ConfusionMatrix m(3);
  // logits argmax: 0, 2, 1, 1 against targets 0, 2, 2, 1
  Tensor logits = from_vector(std::vector<float>{5, 1, 0, 0, 1, 3, 0, 2, 1, 1, 4, 0}, {4, 3});
  m.add(logits, from_vector(std::vector<int64_t>{0, 2, 2, 1}));
  CHECK(m.total() == 4);
  CHECK(m.correct() == 3);
  CHECK(m.accuracy() == 0.75);
  CHECK(m.at(2, 1) == 1);
  auto pc = m.per_class_accuracy();
  CHECK(pc[0] == 1.0);
  CHECK(pc[1] == 1.0);
  CHECK(pc[2] == 0.5);  // class 2: one of two right
  ConfusionMatrix empty(2);
  CHECK(std::isnan(empty.accuracy()));
  CHECK(std::isnan(empty.per_class_accuracy()[0]));
  std::string t = m.table({"a", "b", "c"});
  CHECK_THAT(t, Catch::Contains(" 50.00%") && Catch::Contains("rows: true class"));
  CHECK_THROWS_WITH(m.add(3, 0), Catch::Contains("class out of range [0, 3)"));
}

TEST_CASE("nice_ticks and SVG charts", "[train][plot]") {
  CHECK(plot::nice_ticks(0, 1, 5) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  CHECK(plot::nice_ticks(0.13, 0.87, 4).front() == Approx(0.2));
  CHECK(plot::nice_ticks(1, 1).empty());
  plot::Chart c{.title = "a<b", .x_label = "epoch", .y_label = "loss"};
  c.series.push_back({.name = "train", .x = {1, 2, 3}, .y = {1.0, 0.5, NAN}});
  std::string svg = plot::svg({c, c});
  CHECK_THAT(svg, Catch::StartsWith("<svg") && Catch::Contains("a&lt;b") &&
                      Catch::Contains("<polyline") && Catch::EndsWith("</svg>\n"));
  CHECK_THAT(svg, Catch::Contains("width=\"960\""));
  plot::Chart empty{.title = "none"};
  CHECK_THAT(plot::svg({empty}), Catch::Contains("no data"));
}

TEST_CASE("write_curves_svg draws loss and accuracy", "[train][plot]") {
  TrainTempDir dir;
  std::vector<EpochRecord> h(2);
  h[0] = {
      .epoch = 1, .train_loss = 0.9, .train_accuracy = 0.7, .val_loss = 0.8, .val_accuracy = 0.72};
  h[1] = {
      .epoch = 2, .train_loss = 0.6, .train_accuracy = 0.8, .val_loss = 0.7, .val_accuracy = 0.75};
  write_curves_svg(dir / "sub/curves.svg", h, "net");
  std::ifstream f(dir / "sub/curves.svg");
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK_THAT(ss.str(), Catch::Contains("net: loss") && Catch::Contains("net: accuracy") &&
                           Catch::Contains("validation"));
  CHECK(format_duration(3725) == "1:02:05");
  CHECK(format_duration(65) == "01:05");
}

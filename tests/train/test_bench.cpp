// `heed bench`: repetitions, modes, the key=value lines bench/compare_torch.sh
// reads, the profile, and the models it compares with bench/torch/models.py.
#include <algorithm>

#include "nn/summary.h"
#include "train/bench.h"
#include "train/models/factory.h"
#include "train_test_util.h"

using namespace heed;
using namespace heed::train;

namespace {
BenchOptions tiny(const std::string& mode) {
  return {.model = "resnet8",
          .input = "1,8,8",
          .mode = mode,
          .batch_size = 2,
          .warmup = 1,
          .reps = 2,
          .steps = 1};
}
}  // namespace

TEST_CASE("bench times the asked modes in repetitions", "[train][bench]") {
  BenchResult r = bench_model(tiny("train"));
  CHECK(r.train.ran());
  CHECK_FALSE(r.infer.ran());
  // Two clean reps, or on a busy machine up to 3 x 2 reps in all.
  CHECK(r.train.clean.size() + r.train.dirty.size() >= 2);
  CHECK(r.train.clean.size() + r.train.dirty.size() <= 6);
  CHECK(r.train.min <= r.train.median);
  CHECK(r.train.median <= r.train.max);
  CHECK(r.train.median > 0);
  CHECK(r.peak_rss_mib > 0);
  CHECK(r.profile.empty());
  const std::string line = r.lines();
  CHECK_THAT(line, Catch::StartsWith("heed model=resnet8 attention=none mode=train") &&
                       Catch::Contains(" params=" + std::to_string(r.params) + " ") &&
                       Catch::Contains(" median=") && Catch::Contains(" peak_rss_mib="));
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);

  r = bench_model(tiny("both"));
  CHECK(r.train.ran());
  CHECK(r.infer.ran());
  CHECK_THAT(r.str(),
             Catch::Contains("train:") && Catch::Contains("infer:") && Catch::Contains("peak RSS"));
  CHECK_THROWS_WITH(bench_model(tiny("eval")), Catch::Contains("--mode must be train, infer"));
}

TEST_CASE("bench --profile lists the step's ops", "[train][bench][profiler]") {
  BenchOptions o = tiny("infer");
  o.profile = true;
  BenchResult r = bench_model(o);
  CHECK_THAT(r.profile, Catch::Contains("profile of 1 training steps") &&
                            Catch::Contains("conv2d") && Catch::Contains("batch_norm") &&
                            Catch::Contains("optimizer.step") &&
                            Catch::Contains("autograd engine"));
}

TEST_CASE("the compared models have models.py's parameter counts", "[train][bench][models]") {
  // /usr/bin/python3 bench/torch/bench_torch.py MODEL train 1 --line, params=
  // (models.build(MODEL)); the attention specs are bench/compare_torch.sh's.
  const std::pair<const char*, int64_t> resnets[] = {
      {"none", 269722},
      {"se(bias=true)", 272095},
      {"cbam(mlp_bias=true,spatial_bn=true)", 272995},
      {"eca", 269749}};
  for (const auto& [attention, params] : resnets) {
    INFO(attention);
    nn::AnyModule m = create_model({.name = "resnet20", .attention = attention});
    CHECK(nn::summary(m, {1, 3, 32, 32}).total_params == params);
  }
  nn::AnyModule vit = create_model({.name = "vit-tiny", .image_size = 32});
  CHECK(nn::summary(vit, {1, 3, 32, 32}).total_params == 1806538);
}

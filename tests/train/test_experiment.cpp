// Experiment grids: parsing, expansion (attention keys, dedupe, seeds), and
// an end-to-end run of the command line on a small slice of Fashion-MNIST:
// train, resume, eval, attention-map, experiment (resumable).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "train/attention_map.h"
#include "train/command.h"
#include "train/experiment.h"
#include "train/tensorboard.h"
#include "train_test_util.h"

using namespace heed::train;
using heed::testing::TrainTempDir;
namespace fs = std::filesystem;

TEST_CASE("parse_grid splits keys and values outside parentheses", "[train][experiment]") {
  auto axes = parse_grid("attention=none, se, cbam(ratio=8,kernel_size=3); pos=standard,post");
  REQUIRE(axes.size() == 2);
  CHECK(axes[0].key == "attention");
  CHECK(axes[0].values == std::vector<std::string>{"none", "se", "cbam(ratio=8,kernel_size=3)"});
  CHECK(axes[1].values == std::vector<std::string>{"standard", "post"});
  CHECK_THROWS_WITH(parse_grid(""), Catch::Contains("the grid is empty"));
  CHECK_THROWS_WITH(parse_grid("attention"), Catch::Contains("is not key=value"));
  CHECK_THROWS_WITH(parse_grid("lr=0.1;lr=0.2"), Catch::Contains("appears twice"));
  CHECK_THROWS_WITH(parse_grid("lr=0.1,"), Catch::Contains("empty value"));
}

TEST_CASE("expand_grid builds configs, collapses duplicates and adds seeds",
          "[train][experiment]") {
  RunConfig base;
  base.epochs = 3;
  base.seed = 10;
  auto runs = expand_grid(base, parse_grid("attention=none,se; pos=standard,post; lr=0.1,0.05"), 2,
                          "/tmp/x");
  // none ignores pos: 2 (lr) + se: 2 (pos) x 2 (lr) = 6 points, x 2 seeds.
  REQUIRE(runs.size() == 12);
  CHECK(runs[0].name == "attention=none,lr=0.1,seed=10");
  CHECK(runs[1].name == "attention=none,lr=0.1,seed=11");
  CHECK(runs[1].config.seed == 11);
  CHECK(runs[0].config.attention == "none");
  CHECK(runs[4].name == "attention=se,pos=standard,lr=0.1,seed=10");
  CHECK(runs[4].config.attention == "se");
  CHECK(runs[4].config.lr == 0.1);
  CHECK(runs[4].config.epochs == 3);
  CHECK(runs[8].config.attention == "se:pos=post");
  CHECK(runs[8].config.out == "/tmp/x/runs/attention-se_pos-post_lr-0.1_seed-10");
  CHECK_THROWS_WITH(expand_grid(base, parse_grid("colour=red"), 1, "/tmp/x"),
                    Catch::Contains("unknown grid key 'colour'"));
  CHECK_THROWS_WITH(expand_grid(base, parse_grid("epochs=two"), 1, "/tmp/x"),
                    Catch::Contains("epochs must be a number"));
  CHECK_THROWS_WITH(expand_grid(base, parse_grid("attention=sse"), 1, "/tmp/x"),
                    Catch::Contains("sse"));
}

namespace {
int run_heed(std::vector<std::string> args) {
  args.insert(args.begin(), "heed");
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  int status = run_command_line(args, out, err);
  std::rewind(err);
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf - 1, err);
  buf[n] = 0;
  if (status != 0) UNSCOPED_INFO("stderr: " << buf);
  std::fclose(out);
  std::fclose(err);
  return status;
}
std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("heed train, resume, eval, attention-map and experiment end to end",
          "[train][cli][e2e]") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist); skipped");
    return;
  }
  TrainTempDir dir;
  const std::string out = dir / "run";
  const std::vector<std::string> quick = {"--model",       "resnet8", "--attention",  "cbam",
                                          "--train-limit", "512",     "--test-limit", "200",
                                          "--batch-size",  "64",      "--progress",   "quiet",
                                          "--schedule",    "none",    "--out",        out};
  auto with = [&](std::vector<std::string> a, std::vector<std::string> more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  REQUIRE(run_heed(with({"train", "--epochs", "1"}, quick)) == 0);
  for (const char* f : {"last.safetensors", "best.safetensors", "metrics.csv", "metrics.jsonl",
                        "curves.svg", "config.json", "result.json"})
    CHECK(fs::exists(fs::path(out) / f));
  // Resuming with more epochs continues at epoch 2 and appends to the logs.
  REQUIRE(run_heed(with({"train", "--epochs", "2", "--resume"}, quick)) == 0);
  // A run whose schedule spans its epochs cannot be stretched.
  std::vector<std::string> cosine = quick;
  cosine.back() = dir / "cosine";
  cosine[std::find(cosine.begin(), cosine.end(), "none") - cosine.begin()] = "cosine";
  cosine.insert(cosine.end(), {"--max-batches", "2"});
  REQUIRE(run_heed(with({"train", "--epochs", "1"}, cosine)) == 0);
  CHECK(run_heed(with({"train", "--epochs", "2", "--resume"}, cosine)) == 1);
  CHECK(run_heed(with({"train", "--epochs", "1", "--resume"}, cosine)) == 0);
  std::string csv = slurp(fs::path(out) / "metrics.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);  // header + 2 epochs
  int events = 0;
  for (const auto& e : fs::directory_iterator(fs::path(out) / "tb")) {
    EventFile ef = read_event_file(e.path().string());
    events += int(ef.scalars.size());
  }
  CHECK(events > 0);

  CHECK(run_heed({"eval", "--checkpoint", out + "/best.safetensors", "--dataset",
                  "fashion-mnist"}) == 0);
  CHECK(run_heed({"attention-map", "--checkpoint", out + "/last.safetensors", "--index", "3",
                  "--out", dir / "maps"}) == 0);
  CHECK(fs::exists(fs::path(dir / "maps") / "attention_maps.png"));
  CHECK(fs::exists(fs::path(dir / "maps") / "layer3.0.attention.spatial.png"));

  // An experiment with two points; running it again reads the results back.
  const std::vector<std::string> exp = {"experiment",
                                        "--grid",
                                        "attention=none,eca",
                                        "--model",
                                        "resnet8",
                                        "--epochs",
                                        "1",
                                        "--train-limit",
                                        "256",
                                        "--test-limit",
                                        "100",
                                        "--max-batches",
                                        "2",
                                        "--progress",
                                        "quiet",
                                        "--out",
                                        dir / "exp"};
  REQUIRE(run_heed(exp) == 0);
  std::string md = slurp(fs::path(dir / "exp") / "results.md");
  CHECK_THAT(md, Catch::Contains("| none |") && Catch::Contains("| eca |"));
  for (const char* f :
       {"results.csv", "accuracy_vs_cost.svg", "accuracy_vs_throughput.svg", "curves.svg"})
    CHECK(fs::exists(fs::path(dir / "exp") / f));
  const auto stamp = fs::last_write_time(fs::path(dir / "exp") / "runs" / "attention-eca_seed-0" /
                                         "last.safetensors");
  REQUIRE(run_heed(exp) == 0);
  CHECK(fs::last_write_time(fs::path(dir / "exp") / "runs" / "attention-eca_seed-0" /
                            "last.safetensors") == stamp);
}

TEST_CASE("heed train on an image folder", "[train][cli]") {
  // Two classes of 12x12 RGB PNGs (red-ish vs blue-ish), 8 per class and split.
  TrainTempDir dir;
  for (const char* split : {"train", "test"})
    for (int cls = 0; cls < 2; ++cls) {
      fs::path folder = fs::path(dir / "imgs") / split / (cls ? "blue" : "red");
      fs::create_directories(folder);
      for (int i = 0; i < 8; ++i) {
        std::vector<uint8_t> rgb(12 * 12 * 3);
        for (size_t p = 0; p < rgb.size(); p += 3) {
          rgb[p] = uint8_t(cls ? 30 + 5 * i : 220 - 5 * i);
          rgb[p + 1] = uint8_t(100 + i);
          rgb[p + 2] = uint8_t(cls ? 220 - 5 * i : 30 + 5 * i);
        }
        write_png((folder / (std::to_string(i) + ".png")).string(), rgb, 12, 12);
      }
    }
  const std::string out = dir / "run";
  REQUIRE(run_heed({"train", "--dataset", "folder", "--data", dir / "imgs", "--image-size", "16",
                    "--model", "cnn", "--epochs", "3", "--batch-size", "4", "--lr", "0.05",
                    "--progress", "quiet", "--out", out}) == 0);
  std::string result = slurp(fs::path(out) / "result.json");
  CHECK_THAT(result, Catch::Contains("\"blue\"") && Catch::Contains("\"red\""));
  CHECK(run_heed({"eval", "--checkpoint", out + "/last.safetensors"}) == 0);
  CHECK(run_heed({"train", "--dataset", "folder", "--data", dir / "missing", "--out", out}) == 1);
}

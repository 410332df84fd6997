// The heed command line, run in-process: bad flags, unknown names, missing
// data and unreadable checkpoints give one line on stderr and a non-zero
// status; summary and gradcheck print their tables.
#include <cstdio>
#include <fstream>

#include "train/command.h"
#include "train_test_util.h"

using namespace heed::train;
using heed::testing::TrainTempDir;

namespace {

struct Result {
  int status;
  std::string out, err;
};

std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

Result run(std::vector<std::string> args) {
  args.insert(args.begin(), "heed");
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  int status = run_command_line(args, out, err);
  return {status, slurp(out), slurp(err)};
}

int lines(const std::string& s) {
  return int(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("CLI: usage errors are one line and status 2", "[train][cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                {"frobnicate"},
                                                                {"train", "--bogus"},
                                                                {"train", "--epochs", "two"},
                                                                {"train", "--dataset", "imagenet"},
                                                                {"train", "--optimizer", "lbfgs"},
                                                                {"train", "--schedule", "wavy"},
                                                                {"eval"},
                                                                {"summary", "--classes"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined);
    Result r = run(args);
    CHECK(r.status == 2);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::StartsWith("heed"));
    CHECK(r.out.empty());
  }
  Result r = run({"train", "--dataset", "imagenet"});
  CHECK_THAT(r.err, Catch::Contains("imagenet") && Catch::Contains("fashion-mnist"));
}

TEST_CASE("CLI: bad names, data and checkpoints are one line and status 1", "[train][cli]") {
  TrainTempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  {
    std::ofstream junk(dir / "junk.safetensors");
    junk << "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all";
  }
  for (const Case& c : std::vector<Case>{
           {{"train", "--model", "resnet21"}, "unknown model 'resnet21'"},
           {{"train", "--attention", "squeeze"}, "unknown module 'squeeze'"},
           {{"train", "--attention", "cbam(ratio=x)"}, "ratio"},
           {{"train", "--epochs", "0", "--out", dir / "x"}, "--epochs must be >= 1"},
           {{"train", "--dataset", "mnist", "--data", dir / "nope", "--out", dir / "x"},
            "does not exist"},
           {{"train", "--dataset", "cifar10", "--out", dir / "x"}, "needs --data"},
           {{"train", "--resume", "--out", dir / "empty"}, "no checkpoint"},
           {{"eval", "--checkpoint", dir / "missing.safetensors"}, "does not exist"},
           {{"eval", "--checkpoint", dir / "junk.safetensors"}, "junk.safetensors"},
           {{"summary", "--model", "vgg"}, "unknown model 'vgg'"},
           {{"summary", "--input", "1,28"}, "--input must be C,H,W"},
           {{"gradcheck", "--module", "nope"}, "nope"}}) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    INFO(joined);
    Result r = run(c.args);
    CHECK(r.status == 1);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::StartsWith("heed: error: ") && Catch::Contains(c.expect));
  }
}

TEST_CASE("CLI: help, summary and gradcheck", "[train][cli]") {
  Result help = run({"--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("train") && Catch::Contains("experiment"));
  Result th = run({"train", "--help"});
  CHECK(th.status == 0);
  CHECK_THAT(th.out, Catch::Contains("--attention") && Catch::Contains("--resume"));

  Result s = run({"summary", "--model", "resnet20", "--input", "3,32,32"});
  CHECK(s.status == 0);
  CHECK_THAT(s.out, Catch::Contains("269,722") && Catch::Contains("40,551,040"));

  Result g = run({"gradcheck", "--module", "se"});
  CHECK(g.status == 0);
  CHECK_THAT(g.out, Catch::Contains("se") && Catch::Contains("1 of 1 passed"));
  Result op = run({"gradcheck", "--op", "conv2d"});
  CHECK(op.status == 0);
  CHECK_THAT(op.out, Catch::Contains("conv2d") && Catch::Contains("1 of 1 passed"));
}

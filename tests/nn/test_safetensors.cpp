// Safetensors: round trips, the byte layout, PyTorch interop both ways,
// atomic saves, and one error per kind of corrupt file.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh empty folder under the system temp dir, removed at scope end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "heed_st_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// A safetensors byte string from a header text (padded here) and data bytes.
std::vector<uint8_t> make_file(std::string header, const std::vector<uint8_t>& data,
                               bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  uint64_t n = header.size();
  std::vector<uint8_t> out(8 + header.size() + data.size());
  std::memcpy(out.data(), &n, 8);
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + long(n));
  return out;
}

nn::StateDict parse(const std::vector<uint8_t>& bytes) {
  return nn::safetensors_parse(bytes.data(), bytes.size(), "bad.safetensors");
}

nn::StateDict sample_tensors() {
  Tensor t = arange(6.0).reshape({2, 3});
  nn::StateDict sd;
  sd.insert("a.weight", t);
  sd.insert("a.transposed", t.t());  // non-contiguous: saved in logical order
  sd.insert("b.f64", tensor({1.0 / 3, -1e-300, 6.02e23}, kFloat64));
  sd.insert("steps", scalar_tensor(12, kInt64));
  sd.insert("ids", tensor({-5, 0, 1LL << 40}, kInt64));
  sd.insert("mask", tensor({1, 0, 1, 1}) > 0.5);
  sd.insert("empty", zeros({0, 4}));
  return sd;
}

void check_same(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.keys() == b.keys());
  for (const auto& [k, t] : a) {
    INFO(k);
    const Tensor& u = b.at(k);
    CHECK(u.dtype() == t.dtype());
    CHECK(u.shape() == t.shape());
    CHECK(u.to_vector<double>() == t.to_vector<double>());
  }
}

bool python_with_torch() {
  return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  REQUIRE(::pclose(p) == 0);
  return out;
}

}  // namespace

TEST_CASE("safetensors round-trips every dtype, scalars, empty and strided tensors",
          "[nn][safetensors]") {
  TempDir dir;
  nn::StateDict sd = sample_tensors();
  nn::save(sd, dir / "x.safetensors", {{"epoch", "3"}, {"note", "héllo"}});
  nn::Metadata meta;
  nn::StateDict back = nn::load(dir / "x.safetensors", &meta);
  check_same(sd, back);
  CHECK(back.at("a.transposed").to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(meta == nn::Metadata{{"epoch", "3"}, {"format", "pt"}, {"note", "héllo"}});
}

TEST_CASE("safetensors files have the documented layout", "[nn][safetensors]") {
  nn::StateDict sd;
  sd.insert("w", tensor({1, 2, 3}));
  sd.insert("n", scalar_tensor(7, kInt64));
  std::vector<uint8_t> bytes = nn::safetensors_serialize(sd);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  // 8 + header + 3·4 bytes (w) + 8 bytes (n), tensors back to back.
  REQUIRE(bytes.size() == 8 + n + 12 + 8);
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  auto j = nlohmann::json::parse(header);
  CHECK(j["__metadata__"] == nlohmann::json{{"format", "pt"}});
  CHECK(j["w"] == nlohmann::json{{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 12}}});
  CHECK(j["n"] == nlohmann::json{{"dtype", "I64"},
                                 {"shape", nlohmann::json::array()},
                                 {"data_offsets", {12, 20}}});
  CHECK(header.rfind("{\"__metadata__\"", 0) == 0);  // metadata first
  float w1 = 0;
  std::memcpy(&w1, bytes.data() + 8 + n + 4, 4);
  CHECK(w1 == 2.0f);
}

TEST_CASE("safetensors reads a file PyTorch wrote", "[nn][safetensors]") {
  nn::Metadata meta;
  nn::StateDict sd = nn::load(fixture_path("torch_written.safetensors"), &meta);
  CHECK(meta.at("format") == "pt");
  CHECK(meta.at("source").rfind("torch ", 0) == 0);
  CHECK(sd.keys() == std::vector<std::string>{"f32", "f64", "i64", "flags", "count", "empty",
                                              "nested.name.weight"});
  // f32 = arange(12).reshape(3, 4) / 4 - 1
  CHECK(sd.at("f32").shape() == Shape{3, 4});
  CHECK(sd.at("f32").to_vector<float>()[5] == 0.25f);
  CHECK(sd.at("f64").to_vector<double>() == std::vector<double>{1.0 / 3, -2.5, 1e-300, 6.02e23});
  CHECK(sd.at("i64").to_vector<int64_t>() ==
        std::vector<int64_t>{-(1LL << 62), -1, 0, 7, (1LL << 62) + 5});
  CHECK(sd.at("flags").dtype() == kBool);
  CHECK(sd.at("flags").to_vector<bool>() ==
        std::vector<bool>{true, false, true, false, false, true});
  CHECK(sd.at("count").dim() == 0);
  CHECK(sd.at("count").item() == 42);
  CHECK(sd.at("empty").shape() == Shape{0, 3});
}

TEST_CASE("PyTorch reads a file heed wrote", "[nn][safetensors]") {
  if (!python_with_torch()) {
    WARN("skipped: /usr/bin/python3 with torch is not available");
    return;
  }
  TempDir dir;
  nn::StateDict sd = sample_tensors();
  std::string path = dir / "heed.safetensors";
  nn::save(sd, path, {{"source", "heed"}});
  std::string script = std::string(HEED_FIXTURES_DIR) + "/../../tools/read_safetensors.py";
  auto j = nlohmann::json::parse(run_capture("/usr/bin/python3 " + script + " " + path));
  CHECK(j["__metadata__"] == nlohmann::json{{"format", "pt"}, {"source", "heed"}});
  for (const auto& [k, t] : sd) {
    INFO(k);
    REQUIRE(j.contains(k));
    CHECK(j[k]["shape"].get<Shape>() == t.shape());
    if (t.dtype() == kBool) {
      std::vector<bool> v = j[k]["values"].get<std::vector<bool>>();
      CHECK(v == t.to_vector<bool>());
    } else if (t.dtype() == kInt64) {
      CHECK(j[k]["values"].get<std::vector<int64_t>>() == t.to_vector<int64_t>());
    } else {
      CHECK(j[k]["values"].get<std::vector<double>>() == t.to_vector<double>());
    }
  }
  CHECK(j["mask"]["dtype"] == "BOOL");
  CHECK(j["b.f64"]["dtype"] == "F64");
}

TEST_CASE("modules save and load through safetensors", "[nn][safetensors]") {
  TempDir dir;
  BasicBlock a(3, 4, 2), b(3, 4, 2);
  {
    NoGradGuard g;
    a->bn1->running_mean.fill_(0.25);
    a->bn1->num_batches_tracked.fill_(5);
  }
  nn::save(*a, dir / "block.safetensors");
  b->load_state_dict(nn::load(dir / "block.safetensors"));
  CHECK(b->conv1->weight.to_vector<float>() == a->conv1->weight.to_vector<float>());
  CHECK(b->bn1->running_mean.to_vector<float>() == std::vector<float>(4, 0.25f));
  CHECK(b->bn1->num_batches_tracked.item() == 5);
}

TEST_CASE("a failed save leaves the previous file intact", "[nn][safetensors]") {
  TempDir dir;
  std::string path = dir / "ckpt.safetensors";
  nn::StateDict good;
  good.insert("w", tensor({1, 2}));
  nn::save(good, path);
  auto before = fs::file_size(path);
  // Serialisation fails (a name that is not UTF-8): nothing is written.
  nn::StateDict bad;
  bad.insert(std::string("w\xff"), tensor({3}));
  CHECK_THROWS_WITH(nn::save(bad, path), Contains("must be UTF-8"));
  // The rename fails (the target is a folder): the temporary file is removed.
  fs::create_directory(dir / "folder");
  fs::create_directory(dir / "folder/inner");
  CHECK_THROWS_WITH(nn::save(good, dir / "folder"), Contains("rename failed"));
  CHECK_THROWS_WITH(nn::save(good, dir / "missing/x.safetensors"),
                    Contains("cannot create a temporary file"));
  CHECK(fs::file_size(path) == before);
  CHECK(nn::load(path).at("w").to_vector<float>() == std::vector<float>{1, 2});
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary file left behind
  // Overwriting replaces the old file whole.
  nn::StateDict other;
  other.insert("v", ones({8}));
  nn::save(other, path);
  CHECK(nn::load(path).keys() == std::vector<std::string>{"v"});
}

TEST_CASE("corrupt safetensors files give errors naming file and problem", "[nn][safetensors]") {
  const std::vector<uint8_t> f32x2(8, 0);  // two float32 zeros
  auto hdr = [](const std::string& body) { return "{" + body + "}"; };
  const std::string w = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  // The well-formed base case parses.
  CHECK(parse(make_file(hdr(w), f32x2)).at("w").shape() == Shape{2});

  CHECK_THROWS_WITH(parse({1, 2, 3}),
                    Contains("safetensors: bad.safetensors: the file has 3 bytes, fewer than"));
  {
    std::vector<uint8_t> b = make_file(hdr(w), f32x2);
    uint64_t huge = 1ULL << 63;
    std::memcpy(b.data(), &huge, 8);
    CHECK_THROWS_WITH(parse(b), Contains("header length 9223372036854775808 exceeds"));
    uint64_t beyond = b.size() - 7;
    std::memcpy(b.data(), &beyond, 8);
    CHECK_THROWS_WITH(parse(b), Contains("exceeds the"));
  }
  CHECK_THROWS_WITH(parse(make_file("[1, 2]", {})), Contains("does not start with '{'"));
  CHECK_THROWS_WITH(parse(make_file("{\"w\": ", {})), Contains("invalid JSON header"));
  CHECK_THROWS_WITH(parse(make_file(hdr("\"w\xc3\x28\":{}"), {})), Contains("invalid JSON header"));
  CHECK_THROWS_WITH(parse(make_file(hdr(w + "," + w), f32x2)),
                    Contains("duplicate tensor name \"w\""));
  CHECK_THROWS_WITH(
      parse(
          make_file(hdr("\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}"), f32x2)),
      Contains("tensor \"w\": unsupported dtype \"F16\""));
  CHECK_THROWS_WITH(
      parse(
          make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), f32x2)),
      Contains("shape [3] of F32 needs 12 bytes, data_offsets give 8"));
  CHECK_THROWS_WITH(
      parse(
          make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), f32x2)),
      Contains("data_offsets [0, 16] lie outside the data block of 8 bytes"));
  CHECK_THROWS_WITH(
      parse(
          make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), f32x2)),
      Contains("holds a non-integer or negative size"));
  CHECK_THROWS_WITH(
      parse(make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}"),
                      f32x2)),
      Contains("non-integer"));
  CHECK_THROWS_WITH(
      parse(make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                          "\"data_offsets\":[0,8]}"),
                      f32x2)),
      Contains("needs more than 2^64 bytes"));
  CHECK_THROWS_WITH(
      parse(make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}"), f32x2)),
      Contains("is not [begin, end]"));
  CHECK_THROWS_WITH(parse(make_file(hdr("\"w\":{\"dtype\":\"F32\",\"shape\":[2]}"), f32x2)),
                    Contains("tensor \"w\" has no \"data_offsets\""));
  CHECK_THROWS_WITH(parse(make_file(hdr("\"w\":[]"), {})),
                    Contains("tensor \"w\" is not an object"));
  CHECK_THROWS_WITH(parse(make_file(hdr("\"__metadata__\":{\"a\":1}"), {})),
                    Contains("metadata \"a\" is not a string"));
  // Two tensors over the same bytes, a gap, trailing bytes.
  const std::string a = "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
  const std::string b_overlap = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  const std::string b_gap = "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}";
  CHECK_THROWS_WITH(parse(make_file(hdr(a + "," + b_overlap), f32x2)),
                    Contains("tensors \"a\" and \"b\" overlap"));
  CHECK_THROWS_WITH(parse(make_file(hdr(a + "," + b_gap), std::vector<uint8_t>(12, 0))),
                    Contains("a gap of 4 bytes before tensor \"b\""));
  CHECK_THROWS_WITH(parse(make_file(hdr(w), std::vector<uint8_t>(9, 0))),
                    Contains("the tensors cover 8 bytes but the data block has 9"));
  CHECK_THROWS_WITH(nn::load("/nonexistent/heed.safetensors"),
                    Contains("safetensors: cannot open /nonexistent/heed.safetensors"));
  // Deep nesting is parsed without recursion and rejected.
  std::string deep = "\"w\":" + std::string(100000, '[') + std::string(100000, ']');
  CHECK_THROWS_WITH(parse(make_file(hdr(deep), {})), Contains("tensor \"w\" is not an object"));
  // BOOL bytes other than 0 and 1 are read as true, never as invalid bools.
  auto flags = parse(
      make_file(hdr("\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}"), {0, 1, 7}));
  CHECK(flags.at("m").to_vector<bool>() == std::vector<bool>{false, true, true});
}

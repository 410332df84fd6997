// ImageFolder and the stb_image decoder wrapper on PNG/JPEG/BMP files written
// with stb_image_write (known pixels), resizing, color conversion, errors.
#include <catch2/catch.hpp>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cstdlib>

#include "data/data.h"
#include "data_test_util.h"

using namespace heed;
using namespace heed::data;
using namespace heed::testing;
using Catch::Contains;

namespace {

// Interleaved (H, W, C) test pattern: value (y*w + x)*c + ch times 5, mod 256.
std::vector<uint8_t> pattern(int w, int h, int c) {
  std::vector<uint8_t> v(size_t(w * h * c));
  for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t((i * 5) % 256);
  return v;
}

void png(const fs::path& p, int w, int h, int c, const std::vector<uint8_t>& px) {
  fs::create_directories(p.parent_path());
  REQUIRE(stbi_write_png(p.c_str(), w, h, c, px.data(), w * c) != 0);
}
void bmp(const fs::path& p, int w, int h, const std::vector<uint8_t>& px) {
  fs::create_directories(p.parent_path());
  REQUIRE(stbi_write_bmp(p.c_str(), w, h, 3, px.data()) != 0);
}
void jpg(const fs::path& p, int w, int h, const std::vector<uint8_t>& px) {
  fs::create_directories(p.parent_path());
  REQUIRE(stbi_write_jpg(p.c_str(), w, h, 3, px.data(), 95) != 0);
}

// Pixel (c, y, x) of a (C, H, W) tensor.
float at(const Tensor& t, int64_t c, int64_t y, int64_t x) {
  return t.to_vector<float>()[size_t((c * t.size(1) + y) * t.size(2) + x)];
}

// The standard three-class folder: bird (one PNG in a sub-folder), cat (two
// PNGs), dog (a BMP and a JPEG).
void make_folder(const TempDir& d) {
  png(d / "cat/b.png", 4, 3, 3, pattern(4, 3, 3));
  png(d / "cat/a.png", 4, 3, 3, pattern(4, 3, 3));
  bmp(d / "dog/x.bmp", 4, 3, pattern(4, 3, 3));
  jpg(d / "dog/y.jpg", 8, 8, std::vector<uint8_t>(8 * 8 * 3, 120));
  png(d / "bird/sub/z.png", 4, 3, 3, pattern(4, 3, 3));
  write_text(d / "cat/.hidden", "not an image, but hidden");
}

}  // namespace

TEST_CASE("ImageFolder finds sorted classes and files, decodes PNG/BMP/JPEG", "[data][folder]") {
  TempDir d;
  make_folder(d);
  for (bool preload : {false, true}) {
    DYNAMIC_SECTION("preload " << preload) {
      ImageFolder f(d.path(), {.preload = preload});
      CHECK(f.classes() == std::vector<std::string>{"bird", "cat", "dog"});
      REQUIRE(f.size() == 5);
      CHECK(f.path(0).filename() == "z.png");
      CHECK(f.path(1).filename() == "a.png");
      CHECK(f.path(2).filename() == "b.png");
      CHECK(f.path(3).filename() == "x.bmp");
      CHECK(f.path(4).filename() == "y.jpg");
      CHECK(std::vector<int64_t>{f.label(0), f.label(1), f.label(2), f.label(3), f.label(4)} ==
            std::vector<int64_t>{0, 1, 1, 2, 2});
      // PNG and BMP are lossless: (c, y, x) = ((y*4 + x)*3 + c) * 5.
      for (int64_t i : {1, 3}) {
        Example e = f.get(i);
        REQUIRE(e.image.shape() == Shape{3, 3, 4});
        CHECK(at(e.image, 0, 0, 0) == 0);
        CHECK(at(e.image, 2, 0, 0) == 10);
        CHECK(at(e.image, 1, 2, 3) == float((((2 * 4 + 3) * 3 + 1) * 5) % 256));
      }
      // JPEG is lossy: a flat 120 stays within a few levels.
      Example j = f.get(4);
      CHECK(j.image.shape() == Shape{3, 8, 8});
      for (float v : j.image.to_vector<float>()) CHECK(std::abs(v - 120) <= 3);
    }
  }
}

TEST_CASE("ImageFolder converts color and resizes", "[data][folder]") {
  TempDir d;
  // One RGB pixel row: red, green, blue.
  png(d / "rgb/p.png", 3, 1, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255});
  // A 2x2 gray image: 0 100 / 200 255.
  png(d / "zgray/q.png", 2, 2, 1, {0, 100, 200, 255});

  ImageFolder gray(d.path(), {.color = ColorMode::Gray});
  Tensor g = gray.get(0).image;
  REQUIRE(g.shape() == Shape{1, 1, 3});
  // stb_image's luma: (77 r + 150 g + 29 b) >> 8: 19635>>8 = 76, 38250>>8 = 149, 7395>>8 = 28.
  CHECK(g.to_vector<float>() == std::vector<float>{76, 149, 28});
  // A gray file read as RGB repeats the value in 3 channels.
  ImageFolder rgb(d.path());
  Tensor q = rgb.get(1).image;
  REQUIRE(q.shape() == Shape{3, 2, 2});
  CHECK(q.to_vector<float>() ==
        std::vector<float>{0, 100, 200, 255, 0, 100, 200, 255, 0, 100, 200, 255});

  // Resize 2x2 -> 4x4. Expected values from PyTorch 1.13:
  //   F.interpolate(x, (4, 4), mode='bilinear', align_corners=False), rounded;
  //   F.interpolate(x, (4, 4), mode='nearest').
  ImageFolder bil(
      d.path(),
      {.color = ColorMode::Gray, .resize = {4, 4}, .interpolation = Interpolation::Bilinear});
  CHECK(bil.get(1).image.to_vector<float>() == std::vector<float>{0, 25, 75, 100, 50, 72, 117, 139,
                                                                  150, 167, 200, 216, 200, 214, 241,
                                                                  255});
  ImageFolder nn(d.path(), {.color = ColorMode::Gray,
                            .resize = {4, 4},
                            .interpolation = Interpolation::Nearest,
                            .preload = true});
  CHECK(nn.get(1).image.to_vector<float>() ==
        std::vector<float>{0, 0, 100, 100, 0, 0, 100, 100, 200, 200, 255, 255, 200, 200, 255, 255});
  // Downsampling, nearest: source index floor(dst * 3 / 1)... 1x3 -> 1x2 takes x = 0, 1.
  ImageFolder down(
      d.path(),
      {.color = ColorMode::Gray, .resize = {1, 2}, .interpolation = Interpolation::Nearest});
  CHECK(down.get(0).image.to_vector<float>() == std::vector<float>{76, 149});
}

TEST_CASE("ImageFolder rejects bad folders and files with their names", "[data][folder][errors]") {
  TempDir d;
  CHECK_THROWS_WITH(ImageFolder(d / "none"),
                    Contains("ImageFolder: root folder") && Contains("does not exist"));
  write_text(d / "readme.txt", "no class folders here");
  CHECK_THROWS_WITH(ImageFolder(d.path()), Contains("has no class folders"));
  CHECK_THROWS_WITH(ImageFolder(d / "readme.txt"), Contains("is not a folder"));

  png(d / "a/1.png", 2, 2, 3, pattern(2, 2, 3));
  fs::create_directories(d / "b");
  CHECK_THROWS_WITH(ImageFolder(d.path()),
                    Contains("ImageFolder: class folder") && Contains("/b is empty"));

  // A file that is not an image (type is read from the signature).
  write_text(d / "b/notes.png", "these are notes, not a PNG");
  CHECK_THROWS_WITH(ImageFolder(d.path()), Contains("b/notes.png: not a PNG, JPEG or BMP image"));
  fs::remove(d / "b/notes.png");

  // An unreadable entry: a dangling symbolic link.
  fs::create_symlink(d / "does-not-exist.png", d / "b/link.png");
  CHECK_THROWS_WITH(ImageFolder(d.path()),
                    Contains("b/link.png: no such file (broken symbolic link)"));
  fs::remove(d / "b/link.png");

  // A PNG with a valid header but cut-off data: found at decode time.
  png(d / "b/cut.png", 16, 16, 3, pattern(16, 16, 3));
  {
    std::vector<uint8_t> bytes;
    std::ifstream in(d / "b/cut.png", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    bytes.resize(bytes.size() / 2);
    write_bytes(d / "b/cut.png", bytes);
  }
  ImageFolder lazy(d.path());  // headers are fine
  CHECK_THROWS_WITH(lazy.get(1), Contains("b/cut.png: corrupt PNG: chunk 'IDAT' declares"));
  CHECK_THROWS_WITH(ImageFolder(d.path(), {.preload = true}),
                    Contains("b/cut.png: corrupt PNG: chunk 'IDAT' declares"));

  // Over the pixel limit: checked from the header, before decoding.
  fs::remove(d / "b/cut.png");
  png(d / "b/big.png", 16, 16, 3, pattern(16, 16, 3));
  CHECK_THROWS_WITH(ImageFolder(d.path(), {.max_pixels = 100}),
                    Contains("b/big.png: 16x16 = 256 pixels is over the limit of 100 pixels"));
  // An empty file.
  write_bytes(d / "b/empty.png", {});
  CHECK_THROWS_WITH(ImageFolder(d.path()), Contains("b/empty.png: the file is empty"));

  CHECK_THROWS_WITH(ImageFolder(d.path(), {.resize = {0, 5}}),
                    Contains("resize must be {0, 0} (keep) or positive"));
}

TEST_CASE("ImageFolder skip_bad skips bad files with a warning", "[data][folder][errors]") {
  TempDir d;
  png(d / "a/1.png", 2, 2, 3, pattern(2, 2, 3));
  write_text(d / "a/2.png", "junk");
  png(d / "a/3.png", 2, 2, 3, pattern(2, 2, 3));
  png(d / "b/big.png", 16, 16, 3, pattern(16, 16, 3));
  png(d / "b/ok.png", 2, 2, 3, pattern(2, 2, 3));
  ImageFolder f(d.path(), {.skip_bad = true, .max_pixels = 100});
  CHECK(f.size() == 3);
  REQUIRE(f.skipped().size() == 2);
  CHECK(f.skipped()[0].first.filename() == "2.png");
  CHECK_THAT(f.skipped()[0].second, Contains("not a PNG, JPEG or BMP image"));
  CHECK(f.skipped()[1].first.filename() == "big.png");
  CHECK(f.label(2) == 1);

  // A class whose files are all bad is still an error.
  fs::remove(d / "b/ok.png");
  CHECK_THROWS_WITH(ImageFolder(d.path(), {.skip_bad = true, .max_pixels = 100}),
                    Contains("/b has no readable images (1 files skipped)"));
}

TEST_CASE("decode_image checks the header before decoding", "[data][folder][errors]") {
  std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  CHECK_THROWS_WITH(decode_image(gif.data(), gif.size(), "x.gif"),
                    Contains("x.gif: not a PNG, JPEG or BMP image"));
  // A PNG signature followed by garbage.
  std::vector<uint8_t> fake = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 1, 'X'};
  CHECK_THROWS_WITH(decode_image(fake.data(), fake.size(), "fake.png"),
                    Contains("fake.png: corrupt or unsupported PNG header"));
  CHECK_THROWS_WITH(decode_image(fake.data(), fake.size(), "f", {.channels = 2}),
                    Contains("channels must be 0, 1, 3 or 4"));
}

// Inputs that stb_image 2.27 mishandles (found by fuzz/fuzz_image.cpp); the
// wrapper rejects them before stb sees them.
TEST_CASE("decode_image guards stb_image 2.27's known weaknesses", "[data][folder][errors]") {
  // A DHT whose 16 code counts are 255 each: 4080 codes overflow stb's tables.
  std::vector<uint8_t> dht = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00};
  dht.insert(dht.end(), 16, 0xFF);
  dht.insert(dht.end(), 64, 0x00);
  CHECK_THROWS_WITH(decode_image(dht.data(), dht.size(), "dht.jpg"),
                    Contains("dht.jpg: corrupt JPEG: a Huffman table defines 4080 codes (at most "
                             "256)"));
  // A baseline 8x8 gray JPEG whose scan uses DC/AC table 0, never defined.
  std::vector<uint8_t> nodht = {0xFF, 0xD8,                                                  // SOI
                                0xFF, 0xC0, 0x00, 0x0B, 8,   0, 8,    0, 8,  1, 1, 0x11, 0,  // SOF0
                                0xFF, 0xDA, 0x00, 0x08, 1,   1, 0x00, 0, 63, 0,              // SOS
                                0x12, 0x34, 0x56, 0xFF, 0xD9};                               // EOI
  CHECK_THROWS_WITH(decode_image(nodht.data(), nodht.size(), "nodht.jpg"),
                    Contains("nodht.jpg: corrupt JPEG: a scan uses a Huffman table that no DHT "
                             "segment defines"));
  // A 1x1 PNG whose IDAT chunk claims 2 GiB - 1: stb would allocate it first.
  std::vector<uint8_t> idat = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1A, '\n',  // signature
                               0,    0,    0,    13,   'I',  'H',  'D',  'R',  0, 0, 0,
                               1,    0,    0,    0,    1,    8,    2,    0,    0, 0, 0x90,
                               0x77, 0x53, 0xDE,  // IHDR CRC
                               0x7F, 0xFF, 0xFF, 0xFF, 'I',  'D',  'A',  'T',  1, 2, 3};
  CHECK(image_info(idat.data(), idat.size(), "idat.png").width == 1);  // the header is fine
  CHECK_THROWS_WITH(decode_image(idat.data(), idat.size(), "idat.png"),
                    Contains("idat.png: corrupt PNG: chunk 'IDAT' declares 2147483647 bytes but "
                             "only 3 follow"));
}

TEST_CASE("DataLoader on an ImageFolder of mixed sizes names the odd sample",
          "[data][folder][loader][errors]") {
  TempDir d;
  png(d / "a/1.png", 2, 2, 3, pattern(2, 2, 3));
  png(d / "a/2.png", 3, 2, 3, pattern(3, 2, 3));
  ImageFolder f(d.path());
  DataLoader loader(f, {.batch_size = 2});
  CHECK_THROWS_WITH(loader.begin(), Contains("DataLoader: sample 1 is [3, 2, 3] after transforms "
                                             "but sample 0 in the same batch is [3, 2, 2]"));
  ImageFolder fixed(d.path(), {.resize = {2, 2}});
  DataLoader ok(fixed, {.batch_size = 2});
  int batches = 0;
  for (auto& [x, y] : ok) {
    CHECK(x.shape() == Shape{2, 3, 2, 2});
    ++batches;
  }
  CHECK(batches == 1);
}

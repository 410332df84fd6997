// CIFAR-10/100 binary and MNIST IDX readers on small generated files with
// known pixels and labels, and every malformed-input error they report.
#include <catch2/catch.hpp>

#include "data/data.h"
#include "data_test_util.h"

using namespace heed;
using namespace heed::data;
using namespace heed::testing;
using Catch::Contains;

namespace {

// A CIFAR-10 folder: 5 train batches of `per` records, a test batch of 3.
void make_cifar10(const TempDir& d, int64_t per = 4, bool meta = true) {
  for (int b = 1; b <= 5; ++b)
    write_bytes(d / ("data_batch_" + std::to_string(b) + ".bin"),
                cifar10_records((b - 1) * per, per));
  write_bytes(d / "test_batch.bin", cifar10_records(1000, 3));
  if (meta)
    write_text(d / "batches.meta.txt",
               "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
}

void make_mnist(const fs::path& dir, bool gz, uint32_t n = 5, uint32_t h = 4, uint32_t w = 3) {
  auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    if (gz)
      write_gz(dir / (name + ".gz"), bytes);
    else
      write_bytes(dir / name, bytes);
  };
  write("train-images-idx3-ubyte", idx_images(n, h, w));
  write("train-labels-idx1-ubyte", idx_labels(n));
  write("t10k-images-idx3-ubyte", idx_images(2, h, w));
  write("t10k-labels-idx1-ubyte", idx_labels(2));
}

}  // namespace

TEST_CASE("CIFAR10 reads records, pixels and class names", "[data][cifar]") {
  TempDir d;
  make_cifar10(d);
  CIFAR10 train(d.path(), true);
  REQUIRE(train.size() == 20);
  CHECK(train.name() == "cifar10");
  CHECK(train.classes().size() == 10);
  CHECK(train.classes()[9] == "truck");
  // Record 13 (batch 4, third record): label 13 % 10 = 3.
  Example e = train.get(13);
  CHECK(e.label == 3);
  CHECK(e.image.shape() == Shape{3, 32, 32});
  CHECK(e.image.dtype() == kFloat32);
  std::vector<float> px = e.image.to_vector<float>();
  // Channel c, row y, col x is byte c*1024 + y*32 + x of the record's pixels.
  for (int64_t j : {0, 1, 31, 32, 1023, 1024, 2048, 3071})
    CHECK(px[size_t(j)] == float(cifar_pixel(13, j)));
  // load() gives the same as get().
  Image img;
  CHECK(train.load(13, img) == 3);
  CHECK(img.shape() == Shape{3, 32, 32});
  CHECK(img.data == px);
  CHECK(train.label(19) == 9);

  CIFAR10 test(d.path(), false);
  REQUIRE(test.size() == 3);
  CHECK(test.label(0) == 0);  // record 1000
  CHECK(test.get(2).image.to_vector<float>()[5] == float(cifar_pixel(1002, 5)));
  CHECK_THROWS_WITH(test.get(3), Contains("cifar10: index 3 is out of range"));
}

TEST_CASE("CIFAR10 finds the extracted folder and falls back to built-in names", "[data][cifar]") {
  TempDir d;
  fs::create_directories(d / "cifar-10-batches-bin");
  for (int b = 1; b <= 5; ++b)
    write_bytes(d / "cifar-10-batches-bin" / ("data_batch_" + std::to_string(b) + ".bin"),
                cifar10_records(0, 1));
  write_bytes(d / "cifar-10-batches-bin" / "test_batch.bin", cifar10_records(0, 1));
  write_text(d / "cifar-10-batches-bin" / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n");
  CHECK(CIFAR10(d.path()).classes()[0] == "a");
  fs::remove(d / "cifar-10-batches-bin" / "batches.meta.txt");
  CIFAR10 c(d / "cifar-10-batches-bin");
  CHECK(c.size() == 5);
  CHECK(c.classes()[0] == "airplane");
}

TEST_CASE("CIFAR100 reads fine and coarse labels", "[data][cifar]") {
  TempDir d;
  write_bytes(d / "train.bin", cifar100_records(7));
  write_bytes(d / "test.bin", cifar100_records(2));
  std::string fine, coarse;
  for (int i = 0; i < 100; ++i) fine += "fine" + std::to_string(i) + "\n";
  for (int i = 0; i < 20; ++i) coarse += "coarse" + std::to_string(i) + "\r\n";
  write_text(d / "fine_label_names.txt", fine);
  write_text(d / "coarse_label_names.txt", coarse);

  CIFAR100 f(d.path(), true);
  REQUIRE(f.size() == 7);
  CHECK(f.name() == "cifar100");
  CHECK(f.label(5) == 15);  // fine = 5 * 3
  CHECK(f.classes().size() == 100);
  CHECK(f.classes()[15] == "fine15");
  CHECK(f.get(6).image.to_vector<float>()[3071] == float(cifar_pixel(6, 3071)));

  CIFAR100 c(d.path(), true, /*coarse=*/true);
  CHECK(c.label(5) == 5);
  CHECK(c.classes().size() == 20);
  CHECK(c.classes()[19] == "coarse19");  // "\r\n" stripped
  CHECK(CIFAR100(d.path(), false).size() == 2);
}

TEST_CASE("CIFAR readers reject bad input with the file name", "[data][cifar][errors]") {
  TempDir d;
  CHECK_THROWS_WITH(CIFAR10(d / "nope"), Contains("CIFAR10: root folder") && Contains("nope") &&
                                             Contains("does not exist"));
  make_cifar10(d);
  fs::remove(d / "data_batch_3.bin");
  CHECK_THROWS_WITH(CIFAR10(d.path()),
                    Contains("CIFAR10: missing file") && Contains("data_batch_3.bin"));

  // Size not a multiple of 3073: one byte short.
  std::vector<uint8_t> short_file = cifar10_records(0, 2);
  short_file.pop_back();
  write_bytes(d / "data_batch_3.bin", short_file);
  CHECK_THROWS_WITH(CIFAR10(d.path()),
                    Contains("data_batch_3.bin: size 6145 bytes is not a multiple of the "
                             "3073-byte record"));

  // Label 10 in a CIFAR-10 record.
  std::vector<uint8_t> bad_label = cifar10_records(0, 3);
  bad_label[3073 * 2] = 10;
  write_bytes(d / "data_batch_3.bin", bad_label);
  CHECK_THROWS_WITH(CIFAR10(d.path()), Contains("data_batch_3.bin: record 2 has label 10, "
                                                "outside [0, 10)"));

  write_bytes(d / "data_batch_3.bin", {});
  CHECK_THROWS_WITH(CIFAR10(d.path()), Contains("data_batch_3.bin: the file is empty"));

  // A names file with too few names.
  write_bytes(d / "data_batch_3.bin", cifar10_records(0, 1));
  write_text(d / "batches.meta.txt", "a\nb\n");
  CHECK_THROWS_WITH(CIFAR10(d.path()),
                    Contains("batches.meta.txt: expected 10 names (one per line), found 2"));

  // CIFAR-100: 3073-byte records are not 3074-byte ones; fine label 100.
  TempDir e;
  write_bytes(e / "train.bin", cifar10_records(0, 2));
  CHECK_THROWS_WITH(CIFAR100(e.path()),
                    Contains("train.bin: size 6146 bytes is not a multiple of the 3074-byte "
                             "record (coarse label, fine label + 3072 pixels)"));
  std::vector<uint8_t> r = cifar100_records(2);
  r[3074 + 1] = 100;
  write_bytes(e / "train.bin", r);
  CHECK_THROWS_WITH(CIFAR100(e.path()),
                    Contains("train.bin: record 1 has fine label 100, outside [0, 100)"));
  r = cifar100_records(2);
  r[0] = 20;
  write_bytes(e / "train.bin", r);
  CHECK_THROWS_WITH(CIFAR100(e.path()),
                    Contains("train.bin: record 0 has coarse label 20, outside [0, 20)"));
  CHECK_THROWS_WITH(CIFAR100(e.path(), false),
                    Contains("CIFAR100: missing file") && Contains("test.bin"));
}

TEST_CASE("MNIST reads IDX files, plain and gzip", "[data][mnist]") {
  for (bool gz : {false, true}) {
    DYNAMIC_SECTION((gz ? "gz" : "plain")) {
      TempDir d;
      make_mnist(d.path(), gz);
      MNIST m(d.path(), true);
      REQUIRE(m.size() == 5);
      CHECK(m.name() == "mnist");
      CHECK(m.classes()[3] == "3 - three");
      Example e = m.get(4);
      CHECK(e.label == 2);  // 4 * 3 % 10
      CHECK(e.image.shape() == Shape{1, 4, 3});
      std::vector<float> px = e.image.to_vector<float>();
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 3; ++x) CHECK(px[size_t(y * 3 + x)] == float(idx_pixel(4, y, x)));
      MNIST t(d.path(), false);
      CHECK(t.size() == 2);
      CHECK(t.label(1) == 3);
    }
  }
}

TEST_CASE("MNIST accepts the dotted file names of some mirrors", "[data][mnist]") {
  TempDir d;
  write_bytes(d / "train-images.idx3-ubyte", idx_images(2, 2, 2));
  write_gz(d / "train-labels.idx1-ubyte.gz", idx_labels(2));
  CHECK(MNIST(d.path()).size() == 2);
}

TEST_CASE("MNIST rejects bad IDX files with the file name", "[data][mnist][errors]") {
  TempDir d;
  CHECK_THROWS_WITH(MNIST(d / "missing"),
                    Contains("MNIST: root folder") && Contains("does not exist"));
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("MNIST: cannot find train-images-idx3-ubyte[.gz] in"));

  make_mnist(d.path(), false);
  const fs::path images = d / "train-images-idx3-ubyte";
  const fs::path labels = d / "train-labels-idx1-ubyte";

  // Wrong magic: a label file where images are expected.
  write_bytes(images, idx_labels(5));
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("train-images-idx3-ubyte: wrong magic number 0x00000801 (expected "
                             "0x00000803 for an image file)"));
  // A gzip file saved without the .gz suffix is read through zlib anyway.
  write_bytes(images, gzip_bytes(idx_images(5, 4, 3), d / "tmp.gz"));
  CHECK(MNIST(d.path()).size() == 5);
  // Element type other than unsigned byte (0x0D = float).
  std::vector<uint8_t> v = idx_images(5, 4, 3);
  v[2] = 0x0D;
  write_bytes(images, v);
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("wrong magic number 0x00000D03"));

  // Truncated data: the header promises 5*4*3 = 60 bytes.
  v = idx_images(5, 4, 3);
  v.resize(v.size() - 7);
  write_bytes(images, v);
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("truncated: the header promises 60 bytes of data (dims [5, 4, 3]) "
                             "but only 53 follow"));
  // Trailing bytes.
  v = idx_images(5, 4, 3);
  v.push_back(0);
  write_bytes(images, v);
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("1 unexpected bytes after the data"));
  // Zero-sized image dims.
  write_bytes(images, idx_images(5, 0, 3));
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("invalid image size 0x3"));
  // Too short for the header.
  write_bytes(images, {0, 0, 8, 3, 0, 0});
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("too short for a 3-dimensional header"));

  // Image/label count mismatch.
  write_bytes(images, idx_images(5, 4, 3));
  write_bytes(labels, idx_labels(4));
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("MNIST: image/label count mismatch") &&
                                         Contains("has 5 images but") && Contains("has 4 labels"));
  // Label out of range.
  v = idx_labels(5);
  v[8 + 3] = 10;
  write_bytes(labels, v);
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("train-labels-idx1-ubyte: label 3 is 10, outside [0, 10)"));
  // No images.
  write_bytes(images, idx_images(0, 4, 3));
  write_bytes(labels, idx_labels(0));
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("contains no images"));
}

TEST_CASE("MNIST reports truncated and corrupt gzip files", "[data][mnist][errors]") {
  TempDir d;
  make_mnist(d.path(), true, 50, 28, 28);
  const fs::path images = d / "train-images-idx3-ubyte.gz";
  std::ifstream in(images, std::ios::binary);
  std::vector<uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();

  // Cut in the middle of the deflate stream.
  write_bytes(images, std::vector<uint8_t>(gz.begin(), gz.begin() + std::ptrdiff_t(gz.size() / 2)));
  CHECK_THROWS_WITH(MNIST(d.path()), Contains("MNIST: ") &&
                                         Contains("train-images-idx3-ubyte.gz") &&
                                         Contains("truncated gzip data"));
  // Cut inside the 8-byte trailer (CRC, size).
  write_bytes(images, std::vector<uint8_t>(gz.begin(), gz.end() - 3));
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("train-images-idx3-ubyte.gz") && Contains("gzip data"));
  // A flipped byte in the compressed data: CRC or stream error.
  std::vector<uint8_t> bad = gz;
  bad[bad.size() / 2] ^= 0x55;
  write_bytes(images, bad);
  CHECK_THROWS_WITH(MNIST(d.path()),
                    Contains("train-images-idx3-ubyte.gz") && Contains("gzip data"));
}

TEST_CASE("InMemoryDataset holds synthetic images", "[data]") {
  std::vector<uint8_t> px(2 * 2 * 1 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 10);
  InMemoryDataset ds(px, {2, 1, 3}, {1, 0}, {"a", "b"}, "toy");
  CHECK(ds.size() == 2);
  CHECK(ds.get(1).image.to_vector<float>() == std::vector<float>{60, 70, 80, 90, 100, 110});
  CHECK(ds.get(1).label == 0);
  CHECK_THROWS_WITH(InMemoryDataset(px, {2, 1, 3}, {1}),
                    Contains("1 labels of [2, 1, 3] images need 6 pixel bytes, got 12"));
  CHECK_THROWS_WITH(InMemoryDataset(px, {2, 1, 3}, {1, 2}, {"a", "b"}),
                    Contains("label 1 is 2, outside [0, 2)"));
  CHECK_THROWS_WITH(ds.get(-1), Contains("toy: index -1 is out of range"));
}

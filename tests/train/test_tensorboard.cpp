// TensorBoard event files: CRC-32C, the record framing, and a read-back of
// what the writer wrote with both CRCs checked.
#include <fstream>
#include <iterator>

#include "train/tensorboard.h"
#include "train_test_util.h"

using namespace heed::train;
using heed::testing::TrainTempDir;

TEST_CASE("crc32c matches the Castagnoli check values", "[train][tensorboard]") {
  // RFC 3720 B.4 / the standard check value of CRC-32C.
  const std::string digits = "123456789";
  CHECK(crc32c(reinterpret_cast<const uint8_t*>(digits.data()), digits.size()) == 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff);
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c(ones.data(), ones.size()) == 0x62A8AB43u);
  // TFRecord masking: ((c >> 15) | (c << 17)) + 0xa282ead8.
  CHECK(mask_crc(0) == 0xa282ead8u);
  CHECK(mask_crc(0xE3069283u) ==
        uint32_t(((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u));
}

TEST_CASE("Event files read back with valid CRCs", "[train][tensorboard]") {
  TrainTempDir dir;
  std::string path;
  {
    TensorBoardWriter w(dir / "tb");
    w.add_scalar("train/loss", 0.5, 1, 1000.25);
    w.add_scalar("train/loss", 0.25, 2, 1001.5);
    w.add_scalar("epoch/val_accuracy", 0.875, 300, 1002.0);
    path = w.path();
  }
  CHECK_THAT(path, Catch::Contains("events.out.tfevents."));
  EventFile f = read_event_file(path);
  CHECK(f.file_version == "brain.Event:2");
  REQUIRE(f.scalars.size() == 3);
  CHECK(f.scalars[0].tag == "train/loss");
  CHECK(f.scalars[0].value == 0.5f);
  CHECK(f.scalars[0].step == 1);
  CHECK(f.scalars[0].wall_time == 1000.25);
  CHECK(f.scalars[2].tag == "epoch/val_accuracy");
  CHECK(f.scalars[2].value == 0.875f);
  CHECK(f.scalars[2].step == 300);  // a two-byte varint

  // The first record: length 8 bytes LE, its masked CRC, data, data CRC.
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = len << 8 | bytes[size_t(i)];
  uint32_t len_crc = uint32_t(bytes[8]) | uint32_t(bytes[9]) << 8 | uint32_t(bytes[10]) << 16 |
                     uint32_t(bytes[11]) << 24;
  CHECK(len_crc == mask_crc(crc32c(bytes.data(), 8)));
  // wall_time (tag 0x09, 8 bytes) + step (0x10, varint 0) + file_version (0x1a, 13, text)
  CHECK(len == 9 + 2 + 2 + 13);

  // A flipped data byte fails the data CRC; a cut file is truncated.
  std::vector<uint8_t> bad = bytes;
  bad[14] ^= 1;
  {
    std::ofstream out(dir / "bad", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bad.data()), std::streamsize(bad.size()));
  }
  CHECK_THROWS_WITH(read_event_file(dir / "bad"),
                    Catch::Contains("bad data CRC") && Catch::Contains("record 0"));
  {
    std::ofstream out(dir / "cut", std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size() - 3));
  }
  CHECK_THROWS_WITH(read_event_file(dir / "cut"), Catch::Contains("truncated"));
}

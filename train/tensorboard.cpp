#include "train/tensorboard.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/check.h"

namespace heed::train {

namespace {

// Table for the reflected Castagnoli polynomial 0x82F63B78.
struct Crc32cTable {
  uint32_t t[256];
  Crc32cTable() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
  }
};

// --- protobuf wire format: varints, tagged fields.
void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}
void put_tag(std::vector<uint8_t>& out, int field, int wire_type) {
  put_varint(out, uint64_t(field) << 3 | uint64_t(wire_type));
}
template <typename T>
void put_fixed(std::vector<uint8_t>& out, T v) {  // little-endian (x86, aarch64)
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}
void put_bytes(std::vector<uint8_t>& out, int field, const std::vector<uint8_t>& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void put_string(std::vector<uint8_t>& out, int field, const std::string& s) {
  put_bytes(out, field, std::vector<uint8_t>(s.begin(), s.end()));
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::vector<uint8_t> event(double wall_time, int64_t step) {
  std::vector<uint8_t> e;
  put_tag(e, 1, 1);
  put_fixed(e, wall_time);
  put_tag(e, 2, 0);
  put_varint(e, uint64_t(step));
  return e;
}

// --- reading
struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  const std::string& where;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      HEED_CHECK(p < end, "tensorboard: truncated varint in ", where);
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    HEED_FAIL("tensorboard: varint too long in ", where);
  }
  template <typename T>
  T fixed() {
    HEED_CHECK(size_t(end - p) >= sizeof(T), "tensorboard: truncated field in ", where);
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  std::pair<const uint8_t*, size_t> bytes() {
    uint64_t n = varint();
    HEED_CHECK(n <= uint64_t(end - p), "tensorboard: truncated bytes field in ", where);
    const uint8_t* b = p;
    p += n;
    return {b, size_t(n)};
  }
  void skip(int wire_type) {
    if (wire_type == 0)
      varint();
    else if (wire_type == 1)
      fixed<uint64_t>();
    else if (wire_type == 2)
      bytes();
    else if (wire_type == 5)
      fixed<uint32_t>();
    else
      HEED_FAIL("tensorboard: unsupported wire type ", wire_type, " in ", where);
  }
};

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t size) {
  static const Crc32cTable table;
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table.t[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  HEED_CHECK(!ec, "tensorboard: cannot create folder '", dir, "': ", ec.message());
  const double t = now_seconds();
  path_ =
      (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(int64_t(t)) + ".heed"))
          .string();
  file_ = std::fopen(path_.c_str(), "wb");
  HEED_CHECK(file_ != nullptr, "tensorboard: cannot open '", path_, "' for writing");
  std::vector<uint8_t> e = event(t, 0);
  put_string(e, 3, "brain.Event:2");
  write_record(e);
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step,
                                   double wall_time) {
  std::vector<uint8_t> v;  // Summary.Value
  put_string(v, 1, tag);
  put_tag(v, 2, 5);
  put_fixed(v, float(value));
  std::vector<uint8_t> summary;
  put_bytes(summary, 1, v);
  std::vector<uint8_t> e = event(wall_time < 0 ? now_seconds() : wall_time, step);
  put_bytes(e, 5, summary);
  write_record(e);
}

void TensorBoardWriter::write_record(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> rec;
  put_fixed(rec, uint64_t(data.size()));
  put_fixed(rec, mask_crc(crc32c(rec.data(), 8)));
  rec.insert(rec.end(), data.begin(), data.end());
  put_fixed(rec, mask_crc(crc32c(data.data(), data.size())));
  HEED_CHECK(std::fwrite(rec.data(), 1, rec.size(), file_) == rec.size(), "tensorboard: write to '",
             path_, "' failed");
}

void TensorBoardWriter::flush() {
  std::fflush(file_);
}

EventFile read_event_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  HEED_CHECK(in.good(), "tensorboard: cannot open '", path, "'");
  std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EventFile out;
  size_t pos = 0;
  for (int64_t record = 0; pos < buf.size(); ++record) {
    const std::string where = path + " record " + std::to_string(record);
    HEED_CHECK(buf.size() - pos >= 12, "tensorboard: truncated header in ", where);
    uint64_t len;
    uint32_t len_crc;
    std::memcpy(&len, &buf[pos], 8);
    std::memcpy(&len_crc, &buf[pos + 8], 4);
    HEED_CHECK(len_crc == mask_crc(crc32c(&buf[pos], 8)), "tensorboard: bad length CRC in ", where);
    pos += 12;
    HEED_CHECK(len <= buf.size() - pos && buf.size() - pos - len >= 4,
               "tensorboard: truncated data in ", where);
    uint32_t data_crc;
    std::memcpy(&data_crc, &buf[pos + len], 4);
    HEED_CHECK(data_crc == mask_crc(crc32c(&buf[pos], len)), "tensorboard: bad data CRC in ",
               where);
    Reader r{&buf[pos], &buf[pos] + len, where};
    ScalarEvent ev;
    bool has_summary = false;
    while (r.p < r.end) {
      uint64_t key = r.varint();
      int field = int(key >> 3), wt = int(key & 7);
      if (field == 1 && wt == 1) {
        ev.wall_time = r.fixed<double>();
      } else if (field == 2 && wt == 0) {
        ev.step = int64_t(r.varint());
      } else if (field == 3 && wt == 2) {
        auto [b, n] = r.bytes();
        out.file_version.assign(reinterpret_cast<const char*>(b), n);
      } else if (field == 5 && wt == 2) {
        auto [b, n] = r.bytes();
        Reader s{b, b + n, where};
        while (s.p < s.end) {
          uint64_t k = s.varint();
          if ((k >> 3) != 1 || (k & 7) != 2) {
            s.skip(int(k & 7));
            continue;
          }
          auto [vb, vn] = s.bytes();
          Reader v{vb, vb + vn, where};
          while (v.p < v.end) {
            uint64_t vk = v.varint();
            if (vk == (1u << 3 | 2)) {
              auto [tb, tn] = v.bytes();
              ev.tag.assign(reinterpret_cast<const char*>(tb), tn);
            } else if (vk == (2u << 3 | 5)) {
              ev.value = v.fixed<float>();
              has_summary = true;
            } else {
              v.skip(int(vk & 7));
            }
          }
        }
      } else {
        r.skip(wt);
      }
    }
    if (has_summary) out.scalars.push_back(ev);
    pos += len + 4;
  }
  return out;
}

}  // namespace heed::train

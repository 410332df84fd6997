// TensorBoard scalar event files, written directly (no protobuf library).
//
// A file is a sequence of records: u64 length, u32 masked crc32c(length
// bytes), `length` bytes of a serialized tensorflow.Event, u32 masked
// crc32c(data). The first Event holds file_version "brain.Event:2"; each
// scalar is an Event {wall_time = 1 (double), step = 2 (int64), summary = 5
// {value = 1 {tag = 1 (string), simple_value = 2 (float)}}}.
//
//   train::TensorBoardWriter tb("runs/x");     // runs/x/events.out.tfevents.<time>.heed
//   tb.add_scalar("train/loss", 0.51, step);
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace heed::train {

// CRC-32C (Castagnoli), as TFRecord uses.
uint32_t crc32c(const uint8_t* data, size_t size);
// TFRecord's masking: rotate right by 15 and add 0xa282ead8.
inline uint32_t mask_crc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

class TensorBoardWriter {
 public:
  // Creates `dir` if needed and opens a new event file in it.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step, double wall_time = -1);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::vector<uint8_t>& event);
  std::string path_;
  std::FILE* file_ = nullptr;
};

struct ScalarEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string tag;
  float value = 0;
};

struct EventFile {
  std::string file_version;  // "brain.Event:2"
  std::vector<ScalarEvent> scalars;
};

// Reads an event file back, checking both CRCs of every record; a bad CRC or
// a truncated record throws heed::Error naming the file and record.
EventFile read_event_file(const std::string& path);

}  // namespace heed::train

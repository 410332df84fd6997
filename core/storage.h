// A block of device memory shared by a tensor and its views.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

namespace heed {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  // Non-owning: wraps memory someone else keeps alive (e.g. a caller's buffer).
  Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> keep_alive);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool owned_ = true;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace heed

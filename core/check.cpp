#include "core/check.h"

#include <cstring>

namespace heed::detail {

void throw_error(const char* file, int line, const std::string& message) {
  // Keep the message first (what users read); the source location follows.
  const char* base = std::strrchr(file, '/');
  throw Error(concat(message, " [", base ? base + 1 : file, ":", line, "]"));
}

}  // namespace heed::detail

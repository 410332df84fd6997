// heed::Error and HEED_CHECK: always-on checks on user input that throw with values.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace heed {

// The one exception type heed throws for bad input. The message names the op
// and prints the values involved.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {

template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace detail
}  // namespace heed

// HEED_CHECK(cond, "op: message ", value, ...) throws heed::Error when cond is
// false. It stays on in release builds: it guards user input, not invariants.
#define HEED_CHECK(cond, ...)                                                       \
  do {                                                                              \
    if (!(cond)) [[unlikely]] {                                                     \
      ::heed::detail::throw_error(__FILE__, __LINE__, ::heed::detail::concat(__VA_ARGS__)); \
    }                                                                               \
  } while (0)

#define HEED_FAIL(...) \
  ::heed::detail::throw_error(__FILE__, __LINE__, ::heed::detail::concat(__VA_ARGS__))

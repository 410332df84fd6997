#include "data/io.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "core/check.h"

namespace heed::data {
namespace fs = std::filesystem;

namespace {

// Distinguishes "missing" from "not a regular file" before opening.
void check_readable(const fs::path& path, std::string_view who) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  HEED_CHECK(fs::exists(st), who, ": ", path.string(), ": no such file",
             fs::is_symlink(fs::symlink_status(path, ec)) ? " (broken symbolic link)" : "");
  HEED_CHECK(!fs::is_directory(st), who, ": ", path.string(), ": is a directory, not a file");
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Appends at most max_bytes of the file to `out`, reading straight into it.
size_t read_stdio(const fs::path& path, size_t max_bytes, std::vector<uint8_t>& out,
                  std::string_view who) {
  check_readable(path, who);
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  HEED_CHECK(f != nullptr, who, ": ", path.string(), ": cannot open: ", std::strerror(errno));
  const size_t start = out.size();
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  // One read of the expected size, then small reads in case the file grew.
  size_t chunk = ec ? size_t(1) << 16 : size_t(std::min<uintmax_t>(size, max_bytes)) + 1;
  for (;;) {
    const size_t have = out.size() - start;
    if (have >= max_bytes) break;
    const size_t want = std::min(chunk, max_bytes - have);
    out.resize(start + have + want);
    const size_t got = std::fread(out.data() + start + have, 1, want, f.get());
    out.resize(start + have + got);
    if (got < want) {
      HEED_CHECK(!std::ferror(f.get()), who, ": ", path.string(),
                 ": read error: ", std::strerror(errno));
      break;
    }
    chunk = size_t(1) << 16;
  }
  return out.size() - start;
}

}  // namespace

std::vector<uint8_t> read_file(const fs::path& path, std::string_view who) {
  std::vector<uint8_t> out;
  read_stdio(path, SIZE_MAX, out, who);
  return out;
}

size_t append_file(const fs::path& path, std::vector<uint8_t>& out, std::string_view who) {
  return read_stdio(path, SIZE_MAX, out, who);
}

std::vector<uint8_t> read_file_prefix(const fs::path& path, size_t max_bytes,
                                      std::string_view who) {
  std::vector<uint8_t> out;
  read_stdio(path, max_bytes, out, who);
  return out;
}

std::vector<uint8_t> read_file_gz(const fs::path& path, std::string_view who) {
  check_readable(path, who);
  gzFile f = gzopen(path.c_str(), "rb");
  HEED_CHECK(f != nullptr, who, ": ", path.string(), ": cannot open: ", std::strerror(errno));
  gzbuffer(f, 1 << 17);
  std::vector<uint8_t> out;
  size_t used = 0;
  for (;;) {
    if (out.size() - used < (1 << 20)) out.resize(std::max<size_t>(out.size() * 2, 1 << 20));
    const unsigned want = unsigned(std::min<size_t>(out.size() - used, 1u << 30));
    const int got = gzread(f, out.data() + used, want);
    if (got <= 0) {
      int err = Z_OK;
      const char* msg = gzerror(f, &err);
      if (got < 0 || err != Z_OK) {
        std::string m = msg ? msg : "unknown error";
        gzclose(f);
        HEED_FAIL(who, ": ", path.string(), ": corrupt or truncated gzip data (zlib: ", m, ")");
      }
      break;
    }
    used += size_t(got);
  }
  // gzclose reports a stream that stopped in the middle (Z_BUF_ERROR).
  const int rc = gzclose(f);
  HEED_CHECK(rc == Z_OK, who, ": ", path.string(),
             ": truncated gzip data (the stream ends before its end marker)");
  out.resize(used);
  out.shrink_to_fit();
  return out;
}

}  // namespace heed::data

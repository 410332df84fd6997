#include "nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_set>

namespace heed::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Headers larger than this are refused (safetensors' own limit is 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kDTypes[] = {
    {"F32", kFloat32}, {"F64", kFloat64}, {"I64", kInt64}, {"BOOL", kBool}};

const char* safetensors_dtype(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.name;
  HEED_FAIL("safetensors: dtype ", t, " has no safetensors name");
}

std::string errno_str() {
  return std::strerror(errno);
}

// Writes all bytes, retrying on partial writes and EINTR.
bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}

std::vector<uint8_t> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  HEED_CHECK(fd >= 0, "safetensors: cannot open ", path, ": ", errno_str());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    HEED_FAIL("safetensors: ", path, " is not a regular file");
  }
  std::vector<uint8_t> bytes(size_t(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      std::string why = r < 0 ? errno_str() : "the file shrank while reading";
      ::close(fd);
      HEED_FAIL("safetensors: cannot read ", path, ": ", why);
    }
    got += size_t(r);
  }
  ::close(fd);
  return bytes;
}

// A JSON value as a non-negative integer, or false.
bool as_u64(const json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = uint64_t(v.get<int64_t>());
    return true;
  }
  return false;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

}  // namespace

// ------------------------------------------------------------------- writing

std::vector<uint8_t> safetensors_serialize(const StateDict& tensors, const Metadata& metadata) {
  ordered_json header = ordered_json::object();
  ordered_json meta = ordered_json::object();
  meta["format"] = "pt";
  for (const auto& [k, v] : metadata) meta[k] = v;
  header["__metadata__"] = meta;

  std::vector<Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    HEED_CHECK(!name.empty() && name != "__metadata__", "safetensors: invalid tensor name \"", name,
               "\"");
    HEED_CHECK(t.defined(), "safetensors: tensor \"", name, "\" is undefined");
    HEED_CHECK(t.device().is_cpu(), "safetensors: tensor \"", name, "\" is on ", t.device(),
               "; move it to the CPU first");
    Tensor c = t.detach().contiguous();
    uint64_t nbytes = uint64_t(c.numel()) * c.element_size();
    header[name] = {{"dtype", safetensors_dtype(c.dtype())},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(c);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    HEED_FAIL("safetensors: cannot encode the header (names and metadata must be UTF-8): ",
              e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + text.size() + offset);
  uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* p = out.data() + 8 + text.size();
  for (const Tensor& c : data) {
    size_t nbytes = size_t(c.numel()) * c.element_size();
    if (nbytes) std::memcpy(p, c.raw_data(), nbytes);
    p += nbytes;
  }
  return out;
}

void save(const StateDict& tensors, const std::string& path, const Metadata& metadata) {
  std::vector<uint8_t> bytes = safetensors_serialize(tensors, metadata);
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp_name = target.filename().string();
  tmp_name.insert(0, 1, '.');
  tmp_name += ".tmp.XXXXXX";
  std::string tmpl = (dir / tmp_name).string();
  std::vector<char> tmp(tmpl.begin(), tmpl.end());
  tmp.push_back('\0');
  int fd = ::mkstemp(tmp.data());
  HEED_CHECK(fd >= 0, "safetensors: cannot create a temporary file in ", dir.string(), " to save ",
             path, ": ", errno_str());
  std::string why;
  if (!write_all(fd, bytes.data(), bytes.size()))
    why = "write failed: " + errno_str();
  else if (::fchmod(fd, 0644) != 0)
    why = "chmod failed: " + errno_str();
  else if (::fsync(fd) != 0)
    why = "fsync failed: " + errno_str();
  if (::close(fd) != 0 && why.empty()) why = "close failed: " + errno_str();
  if (why.empty() && std::rename(tmp.data(), path.c_str()) != 0)
    why = "rename failed: " + errno_str();
  if (!why.empty()) {
    ::unlink(tmp.data());
    HEED_FAIL("safetensors: cannot save ", path, " (", why, "); the previous file is unchanged");
  }
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void save(const Module& module, const std::string& path, const Metadata& metadata) {
  save(module.state_dict(), path, metadata);
}

// ------------------------------------------------------------------- reading

StateDict safetensors_parse(const uint8_t* data, size_t size, const std::string& name,
                            Metadata* metadata) {
#define ST_FAIL(...) HEED_FAIL("safetensors: ", name, ": ", __VA_ARGS__)
  if (size < 8) ST_FAIL("the file has ", size, " bytes, fewer than the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, data, 8);
  if (n > size - 8)
    ST_FAIL("the header length ", n, " exceeds the ", size - 8, " bytes after the length field");
  if (n > kMaxHeaderBytes)
    ST_FAIL("the header length ", n, " exceeds the limit of ", kMaxHeaderBytes);
  const char* text = reinterpret_cast<const char*>(data + 8);
  if (n == 0 || text[0] != '{') ST_FAIL("the header does not start with '{'");

  // Duplicate top-level keys would silently overwrite each other in the DOM.
  std::unordered_set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t track = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, text + n, track);
  } catch (const json::exception& e) {
    ST_FAIL("invalid JSON header: ", e.what());
  }
  if (!duplicate.empty()) ST_FAIL("duplicate tensor name \"", duplicate, "\"");
  if (!header.is_object()) ST_FAIL("the header is not a JSON object");

  const uint64_t data_size = size - 8 - n;
  std::vector<Entry> entries;
  Metadata meta;
  for (const auto& item : header.items()) {
    // Named references, not a structured binding: lambdas below capture them.
    const std::string& key = item.key();
    const json& value = item.value();
    if (key == "__metadata__") {
      if (!value.is_object()) ST_FAIL("\"__metadata__\" is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) ST_FAIL("metadata \"", mk, "\" is not a string");
        meta[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) ST_FAIL("tensor \"", key, "\" is not an object");
    auto field = [&](const char* f) -> const json& {
      auto it = value.find(f);
      if (it == value.end()) ST_FAIL("tensor \"", key, "\" has no \"", f, "\"");
      return *it;
    };
    Entry e{key, kFloat32, {}, 0, 0};
    const json& dt = field("dtype");
    if (!dt.is_string()) ST_FAIL("tensor \"", key, "\": dtype is not a string");
    bool known = false;
    for (const auto& d : kDTypes)
      if (dt.get_ref<const std::string&>() == d.name) {
        e.dtype = d.dtype;
        known = true;
      }
    if (!known)
      ST_FAIL("tensor \"", key, "\": unsupported dtype ", dt.dump(),
              " (heed reads F32, F64, I64, BOOL)");
    const json& shape = field("shape");
    if (!shape.is_array()) ST_FAIL("tensor \"", key, "\": shape is not an array");
    uint64_t numel = 1;
    bool overflow = false;
    for (const json& d : shape) {
      uint64_t v = 0;
      if (!as_u64(d, v) || v > uint64_t(INT64_MAX))
        ST_FAIL("tensor \"", key, "\": shape ", shape.dump(),
                " holds a non-integer or negative size");
      e.shape.push_back(int64_t(v));
      overflow |= __builtin_mul_overflow(numel, v, &numel);
    }
    const json& offs = field("data_offsets");
    if (!offs.is_array() || offs.size() != 2 || !as_u64(offs[0], e.begin) ||
        !as_u64(offs[1], e.end))
      ST_FAIL("tensor \"", key, "\": data_offsets ", offs.dump(), " is not [begin, end]");
    if (e.begin > e.end || e.end > data_size)
      ST_FAIL("tensor \"", key, "\": data_offsets [", e.begin, ", ", e.end,
              "] lie outside the data block of ", data_size, " bytes");
    uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, uint64_t(element_size(e.dtype)), &nbytes);
    if (overflow || nbytes != e.end - e.begin)
      ST_FAIL("tensor \"", key, "\": shape ", shape.dump(), " of ", dt.get<std::string>(),
              " needs ", overflow ? std::string("more than 2^64") : std::to_string(nbytes),
              " bytes, data_offsets give ", e.end - e.begin);
    entries.push_back(std::move(e));
  }

  // The tensors must tile the data block: sorted by offset, each starts where
  // the previous ended, the last ends at the end of the file.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < expected)
      ST_FAIL("tensors \"", prev->name, "\" and \"", e.name, "\" overlap (bytes ", e.begin, " to ",
              expected, ")");
    if (e.begin > expected)
      ST_FAIL("a gap of ", e.begin - expected, " bytes before tensor \"", e.name, "\" (offset ",
              expected, ")");
    expected = e.end;
    prev = &e;
  }
  if (expected != data_size)
    ST_FAIL("the tensors cover ", expected, " bytes but the data block has ", data_size,
            " (trailing bytes)");

  StateDict out;
  const uint8_t* base = data + 8 + n;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    size_t nbytes = size_t(e.end - e.begin);
    if (e.dtype == kBool) {
      // Any byte other than 0 or 1 would be an invalid C++ bool: normalise.
      auto* dst = static_cast<uint8_t*>(t.raw_data());
      for (size_t i = 0; i < nbytes; ++i) dst[i] = base[e.begin + i] != 0;
    } else if (nbytes) {
      std::memcpy(t.raw_data(), base + e.begin, nbytes);
    }
    out.insert(e.name, t);
  }
#undef ST_FAIL
  if (metadata) metadata->insert(meta.begin(), meta.end());
  return out;
}

StateDict load(const std::string& path, Metadata* metadata) {
  std::vector<uint8_t> bytes = read_file(path);
  return safetensors_parse(bytes.data(), bytes.size(), path, metadata);
}

}  // namespace heed::nn

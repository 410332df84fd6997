#include "data/cifar.h"

#include <string>
#include <system_error>

#include "core/check.h"
#include "data/formats.h"
#include "data/io.h"

namespace heed::data {
namespace fs = std::filesystem;

namespace {

// `root` may be the extracted folder or its parent.
fs::path resolve_root(const fs::path& root, const char* subfolder, const char* probe,
                      const char* who) {
  std::error_code ec;
  HEED_CHECK(fs::exists(root, ec), who, ": root folder ", root.string(), " does not exist");
  HEED_CHECK(fs::is_directory(root, ec), who, ": root ", root.string(), " is not a folder");
  if (!fs::exists(root / probe, ec) && fs::exists(root / subfolder / probe, ec))
    return root / subfolder;
  return root;
}

struct Records {
  std::vector<uint8_t> bytes;  // (N, record) all files back to back
  int64_t count = 0;
};

Records read_records(const fs::path& dir, const std::vector<std::string>& files, CifarFormat format,
                     const char* who) {
  std::error_code ec;
  uintmax_t total = 0;
  for (const std::string& f : files) {
    HEED_CHECK(fs::exists(dir / f, ec), who, ": missing file ", (dir / f).string());
    uintmax_t s = fs::file_size(dir / f, ec);
    if (!ec) total += s;
  }
  Records r;
  r.bytes.reserve(size_t(total));
  for (const std::string& f : files) {
    const size_t start = r.bytes.size();
    const size_t n = append_file(dir / f, r.bytes, who);
    r.count += check_cifar_records(r.bytes.data() + start, n, format, (dir / f).string());
  }
  return r;
}

std::vector<std::string> names_or(const fs::path& file, int64_t count,
                                  std::vector<std::string> fallback) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return fallback;
  std::vector<uint8_t> text = read_file(file, "CIFAR");
  return parse_class_names(
      std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), count,
      file.string());
}

std::vector<std::string> numbered(int64_t n) {
  std::vector<std::string> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(std::to_string(i));
  return v;
}

}  // namespace

CIFAR10::CIFAR10(const fs::path& root, bool train) {
  root_ = resolve_root(root, "cifar-10-batches-bin", "batches.meta.txt", "CIFAR10");
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  Records r = read_records(root_, files, CifarFormat::Cifar10, "CIFAR10");
  std::vector<int64_t> labels(size_t(r.count));
  for (int64_t i = 0; i < r.count; ++i) labels[size_t(i)] = r.bytes[size_t(i * 3073)];
  std::vector<std::string> classes = names_or(
      root_ / "batches.meta.txt", 10,
      {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"});
  init(std::move(r.bytes), 1, 3073, {3, 32, 32}, std::move(labels), std::move(classes), "cifar10");
}

CIFAR100::CIFAR100(const fs::path& root, bool train, bool coarse) : coarse_(coarse) {
  root_ = resolve_root(root, "cifar-100-binary", "fine_label_names.txt", "CIFAR100");
  Records r =
      read_records(root_, {train ? "train.bin" : "test.bin"}, CifarFormat::Cifar100, "CIFAR100");
  const int64_t which = coarse ? 0 : 1;  // byte 0: coarse label, byte 1: fine label
  std::vector<int64_t> labels(size_t(r.count));
  for (int64_t i = 0; i < r.count; ++i) labels[size_t(i)] = r.bytes[size_t(i * 3074 + which)];
  std::vector<std::string> classes =
      coarse ? names_or(root_ / "coarse_label_names.txt", 20, numbered(20))
             : names_or(root_ / "fine_label_names.txt", 100, numbered(100));
  init(std::move(r.bytes), 2, 3074, {3, 32, 32}, std::move(labels), std::move(classes), "cifar100");
}

}  // namespace heed::data

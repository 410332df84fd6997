#include "attention/registry.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace heed::attention {
namespace {

std::string option_names(const std::vector<OptionSpec>& specs) {
  std::string s;
  for (const auto& o : specs) s += (s.empty() ? "" : ", ") + o.name;
  return s.empty() ? "(none)" : s;
}

const std::vector<ModuleInfo>& table() {
  static const std::vector<ModuleInfo> t = [] {
    std::vector<ModuleInfo> v;
    register_seed_modules(v);
    register_zoo_modules(v);
    return v;
  }();
  return t;
}

}  // namespace

OptionReader::OptionReader(std::string module, const std::vector<OptionSpec>& specs,
                           const Options& given)
    : module_(std::move(module)) {
  for (const auto& s : specs) {
    values_[s.name] = s.default_value;
    given_[s.name] = false;
  }
  for (const auto& [k, v] : given) {
    HEED_CHECK(values_.count(k), "attention '", module_, "': unknown option '", k,
               "'; valid options: ", option_names(specs));
    values_[k] = v;
    given_[k] = true;
  }
}

const std::string& OptionReader::raw(const std::string& name) const {
  auto it = values_.find(name);
  HEED_CHECK(it != values_.end(), "attention '", module_, "': no option '", name, "'");
  return it->second;
}

int64_t OptionReader::get_int(const std::string& name) const {
  const std::string& v = raw(name);
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  HEED_CHECK(!v.empty() && end && *end == '\0', "attention '", module_, "': option '", name,
             "' must be an integer, got '", v, "'");
  return int64_t(x);
}

double OptionReader::get_double(const std::string& name) const {
  const std::string& v = raw(name);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  HEED_CHECK(!v.empty() && end && *end == '\0', "attention '", module_, "': option '", name,
             "' must be a number, got '", v, "'");
  return x;
}

bool OptionReader::get_bool(const std::string& name) const {
  std::string v = raw(name);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  HEED_FAIL("attention '", module_, "': option '", name, "' must be true or false, got '", v, "'");
}

std::string OptionReader::get_string(const std::string& name) const {
  return raw(name);
}

bool OptionReader::given(const std::string& name) const {
  auto it = given_.find(name);
  return it != given_.end() && it->second;
}

const std::vector<ModuleInfo>& list() {
  return table();
}

const ModuleInfo& info(const std::string& name) {
  for (const auto& m : table())
    if (m.name == name) return m;
  std::string names;
  for (const auto& m : table()) names += (names.empty() ? "" : ", ") + m.name;
  HEED_FAIL("attention: unknown module '", name, "'; valid names: ", names);
}

AttentionModule create(const std::string& name, int64_t channels, const Options& options) {
  const ModuleInfo& m = info(name);
  HEED_CHECK(channels > 0, "attention '", name, "': channels must be positive, got ", channels);
  OptionReader reader(name, m.options, options);
  return m.make(channels, reader);
}

}  // namespace heed::attention

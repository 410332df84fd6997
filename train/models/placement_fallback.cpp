// The stand-in Placement of placement.h, compiled only while
// attention/placement.h does not exist.
#include "train/models/placement.h"

#ifdef HEED_TRAIN_PLACEMENT_FALLBACK
#include <algorithm>
#include <sstream>

namespace heed::attention {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, sep)) out.push_back(trim(cur));
  return out;
}

std::vector<int64_t> parse_ints(const std::string& key, const std::string& v) {
  std::vector<int64_t> out;
  for (const std::string& item : split_on(v, ',')) {
    char* end = nullptr;
    long long x = std::strtoll(item.c_str(), &end, 10);
    HEED_CHECK(!item.empty() && *end == '\0' && x >= 0, "placement: ", key,
               " must be a comma-separated list of non-negative integers, got '", v, "'");
    out.push_back(x);
  }
  return out;
}

}  // namespace

Placement Placement::parse(const std::string& spec) {
  Placement p;
  std::vector<std::string> parts = split_on(spec, ':');
  if (parts.empty() || parts[0].empty() || parts[0] == "none") return p;
  std::string head = parts[0];
  size_t open = head.find('(');
  if (open != std::string::npos) {
    HEED_CHECK(head.back() == ')', "placement: missing ')' in '", head, "'");
    for (const std::string& kv : split_on(head.substr(open + 1, head.size() - open - 2), ',')) {
      size_t eq = kv.find('=');
      HEED_CHECK(eq != std::string::npos, "placement: option '", kv, "' is not name=value");
      p.options[trim(kv.substr(0, eq))] = trim(kv.substr(eq + 1));
    }
    head = trim(head.substr(0, open));
  }
  p.module = head;
  (void)info(p.module);  // unknown names fail here, listing the valid ones
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    HEED_CHECK(eq != std::string::npos, "placement: '", parts[i], "' is not key=value");
    std::string key = parts[i].substr(0, eq), value = parts[i].substr(eq + 1);
    if (key == "stages") {
      p.stages = parse_ints(key, value);
    } else if (key == "blocks") {
      p.blocks = parse_ints(key, value);
    } else if (key == "pos") {
      if (value == "standard") p.position = Position::Standard;
      else if (value == "pre") p.position = Position::Pre;
      else if (value == "post") p.position = Position::Post;
      else if (value == "identity") p.position = Position::Identity;
      else HEED_FAIL("placement: pos must be standard, pre, post or identity, got '", value, "'");
    } else {
      HEED_FAIL("placement: unknown key '", key, "'; valid keys: stages, blocks, pos");
    }
  }
  return p;
}

bool Placement::applies(int64_t stage, int64_t block) const {
  if (!enabled()) return false;
  auto in = [](const std::vector<int64_t>& v, int64_t x) {
    return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
  };
  return in(stages, stage) && in(blocks, block);
}

std::string Placement::str() const {
  if (!enabled()) return "none";
  std::string s = module;
  return s;
}

}  // namespace heed::attention
#endif

#include "attention/placement.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace heed::attention {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// "all" -> nullopt; else a comma-separated list of distinct integers >= min_index.
std::optional<std::set<int>> parse_indices(const std::string& spec, const std::string& key,
                                           const std::string& value, int min_index) {
  if (value == "all") return std::nullopt;
  HEED_CHECK(!value.empty(), "placement '", spec, "': ", key, "= needs 'all' or indices, e.g. ",
             key, "=", min_index, ",", min_index + 1);
  std::set<int> out;
  for (const std::string& raw : split_on(value, ',')) {
    std::string item = trim(raw);
    char* end = nullptr;
    long v = item.empty() ? 0 : std::strtol(item.c_str(), &end, 10);
    HEED_CHECK(!item.empty() && end && *end == '\0' && v <= 1000000, "placement '", spec,
               "': ", key, "='", value, "' has '", item, "', which is not an integer");
    HEED_CHECK(v >= min_index, "placement '", spec, "': ", key, " are ",
               min_index == 1 ? "1-based" : "0-based", ", got ", v);
    HEED_CHECK(out.insert(int(v)).second, "placement '", spec, "': ", key, " lists ", v, " twice");
  }
  return out;
}

std::string join(const std::set<int>& xs) {
  std::string s;
  for (int x : xs) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

}  // namespace

const char* position_name(Position p) {
  switch (p) {
    case Position::Standard:
      return "standard";
    case Position::Pre:
      return "pre";
    case Position::Post:
      return "post";
    case Position::Identity:
      return "identity";
  }
  return "?";
}

namespace {
std::optional<Position> find_position(const std::string& s) {
  for (Position p : {Position::Standard, Position::Pre, Position::Post, Position::Identity})
    if (s == position_name(p)) return p;
  return std::nullopt;
}
}  // namespace

Position parse_position(const std::string& s) {
  std::optional<Position> p = find_position(s);
  HEED_CHECK(p, "placement: unknown position '", s, "'; valid: standard, pre, post, identity");
  return *p;
}

Placement Placement::parse(const std::string& spec_in) {
  const std::string spec = trim(spec_in);
  HEED_CHECK(!spec.empty(),
             "placement: empty spec; write 'none' for no attention, or e.g. "
             "'se', 'cbam(ratio=8):stages=2,3:pos=standard'");
  if (spec == "none") return none();
  Placement p;

  // module[(options)]
  size_t colon = spec.find(':');
  size_t paren = spec.find('(');
  std::string head = spec.substr(0, colon), rest, after;
  if (paren != std::string::npos && paren < colon) {
    // The options may not contain ':' but the closing ')' must come before the first ':'.
    size_t close = spec.find(')', paren);
    HEED_CHECK(close != std::string::npos, "placement '", spec, "': missing ')' after the options");
    head = spec.substr(0, paren);
    std::string opts = spec.substr(paren + 1, close - paren - 1);
    HEED_CHECK(opts.find('(') == std::string::npos, "placement '", spec,
               "': nested '(' in the options");
    HEED_CHECK(opts.find(':') == std::string::npos, "placement '", spec,
               "': ':' inside the options; close them with ')' before the sections");
    after = trim(spec.substr(close + 1));
    HEED_CHECK(after.empty() || after[0] == ':', "placement '", spec, "': unexpected '", after,
               "' after ')'; sections start with ':'");
    p.module = trim(head);
    HEED_CHECK(!p.module.empty(), "placement '", spec, "': missing module name before '('");
    const ModuleInfo& module_info = info(p.module);  // unknown names list the valid ones
    if (!trim(opts).empty()) {
      for (const std::string& raw : split_on(opts, ',')) {
        std::string item = trim(raw);
        size_t eq = item.find('=');
        HEED_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), "placement '", spec,
                   "': option '", item, "' must be key=value");
        std::string key = trim(item.substr(0, eq)), value = trim(item.substr(eq + 1));
        bool known = std::any_of(module_info.options.begin(), module_info.options.end(),
                                 [&](const OptionSpec& o) { return o.name == key; });
        if (!known) {
          std::string names;
          for (const auto& o : module_info.options) {
            if (!names.empty()) names += ", ";
            names += o.name;
          }
          HEED_FAIL("placement '", spec, "': '", p.module, "' has no option '", key,
                    "'; valid options: ", names.empty() ? "(none)" : names);
        }
        HEED_CHECK(p.options.emplace(key, value).second, "placement '", spec, "': option '", key,
                   "' given twice");
      }
    }
    rest = after.empty() ? "" : after.substr(1);
    HEED_CHECK(after.empty() || !trim(rest).empty(), "placement '", spec,
               "': empty section after ':'");
  } else {
    HEED_CHECK(head.find(')') == std::string::npos, "placement '", spec, "': ')' without '('");
    p.module = trim(head);
    HEED_CHECK(!p.module.empty(), "placement '", spec, "': missing module name");
    HEED_CHECK(p.module != "none", "placement '", spec, "': 'none' takes no sections");
    info(p.module);
    if (colon != std::string::npos) {
      rest = spec.substr(colon + 1);
      HEED_CHECK(!rest.empty(), "placement '", spec, "': empty section after ':'");
    }
  }

  // :key=value sections
  if (!rest.empty()) {
    std::set<std::string> seen;
    for (const std::string& raw : split_on(rest, ':')) {
      std::string section = trim(raw);
      HEED_CHECK(!section.empty(), "placement '", spec, "': empty section (two ':' in a row?)");
      size_t eq = section.find('=');
      HEED_CHECK(eq != std::string::npos, "placement '", spec, "': section '", section,
                 "' must be key=value with key stages, blocks or pos");
      std::string key = trim(section.substr(0, eq)), value = trim(section.substr(eq + 1));
      HEED_CHECK(key == "stages" || key == "blocks" || key == "pos", "placement '", spec,
                 "': unknown section '", key, "'; valid: stages, blocks, pos");
      HEED_CHECK(seen.insert(key).second, "placement '", spec, "': '", key, "' given twice");
      if (key == "stages") {
        p.stages = parse_indices(spec, key, value, 1);
      } else if (key == "blocks") {
        p.blocks = parse_indices(spec, key, value, 0);
      } else {
        std::optional<Position> q = find_position(value);
        HEED_CHECK(q, "placement '", spec, "': unknown pos '", value,
                   "'; valid: standard, pre, post, identity");
        p.position = *q;
      }
    }
  }
  return p;
}

std::string Placement::str() const {
  if (!enabled()) return "none";
  std::string s = module;
  if (!options.empty()) {
    s += "(";
    bool first = true;
    for (const auto& [k, v] : options) {
      if (!first) s += ',';
      s += k;
      s += '=';
      s += v;
      first = false;
    }
    s += ")";
  }
  if (stages) s += ":stages=" + join(*stages);
  if (blocks) s += ":blocks=" + join(*blocks);
  if (position != Position::Standard) s += std::string(":pos=") + position_name(position);
  return s;
}

bool Placement::applies(int stage, int block) const {
  if (!enabled()) return false;
  if (stages && !stages->count(stage)) return false;
  if (blocks && !blocks->count(block)) return false;
  return true;
}

AttentionModule Placement::make(int64_t channels) const {
  HEED_CHECK(enabled(), "placement: make() on 'none' (check enabled() or applies() first)");
  return create(module, channels, options);
}

}  // namespace heed::attention

// Attention modules by name, so the CLI and experiment grids can name them:
//
//   auto m = attention::create("cbam", 64, {{"ratio", "8"}, {"kernel_size", "7"}});
//   for (const auto& info : attention::list()) std::cout << info.name << "\n";
//
// Names are snake_case (se, cbam, eca, coord, nonlocal, sa2d, simam, ...).
// Unknown names or options are heed::Errors listing the valid ones.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attention/attention_module.h"

namespace heed::attention {

using Options = std::map<std::string, std::string>;

struct OptionSpec {
  std::string name;
  std::string default_value;  // as text; "" = derived from channels (help says how)
  std::string help;
};

// Typed access to a module's options; rejects names not in the spec and
// values that do not parse, naming the module, the option and the value.
class OptionReader {
 public:
  OptionReader(std::string module, const std::vector<OptionSpec>& specs, const Options& given);
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  bool get_bool(const std::string& name) const;  // true/false/1/0/yes/no
  std::string get_string(const std::string& name) const;
  bool given(const std::string& name) const;  // set explicitly (not the default)

 private:
  const std::string& raw(const std::string& name) const;
  std::string module_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
};

struct ModuleInfo {
  std::string name;
  std::string description;
  std::vector<OptionSpec> options;
  std::function<AttentionModule(int64_t channels, const OptionReader& options)> make;
};

AttentionModule create(const std::string& name, int64_t channels, const Options& options = {});
const std::vector<ModuleInfo>& list();
const ModuleInfo& info(const std::string& name);

// Filled by the two groups of module files (an explicit table, not static
// self-registration, so a static library never drops a module).
void register_seed_modules(std::vector<ModuleInfo>& table);  // seed_registry.cpp
void register_zoo_modules(std::vector<ModuleInfo>& table);   // zoo_registry.cpp

}  // namespace heed::attention

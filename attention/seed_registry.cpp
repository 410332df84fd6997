// Registry entries of the seed modules (se, cbam, eca, coord, nonlocal, sa2d).
#include "attention/registry.h"

namespace heed::attention {

void register_seed_modules(std::vector<ModuleInfo>& /*table*/) {}

}  // namespace heed::attention

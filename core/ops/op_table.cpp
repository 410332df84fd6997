#include "core/ops/ops.h"

namespace heed {

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = {
#define HEED_OP(name, family, differentiable) {#name, #family, differentiable},
#include "core/ops/op_list.def"
#undef HEED_OP
  };
  return table;
}

}  // namespace heed

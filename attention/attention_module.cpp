#include "attention/attention_module.h"

namespace heed::attention {

Tensor AttentionModuleImpl::forward(const Tensor& x, const Tensor& residual) {
  return add_relu(forward(x), residual);
}

Tensor AttentionModuleImpl::gate_from_mean(const Tensor&) {
  HEED_FAIL(type_name(),
            ": gate_from_mean: this module's gate is not a function of the spatial "
            "mean (gates_from_spatial_mean() is false)");
}

}  // namespace heed::attention

#include "attention/attention_module.h"

namespace heed::attention {

Tensor AttentionModuleImpl::forward(const Tensor& x, const Tensor& residual) {
  return add_relu(forward(x), residual);
}

Tensor AttentionModuleImpl::forward(const Tensor& x, const Tensor& residual, const Tensor&) {
  return forward(x, residual);
}

}  // namespace heed::attention

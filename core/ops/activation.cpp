#include "core/ops/internal.h"

namespace heed {

Tensor relu(const Tensor& /*x*/) {
  HEED_FAIL("relu is not implemented yet");
}

Tensor relu6(const Tensor& /*x*/) {
  HEED_FAIL("relu6 is not implemented yet");
}

Tensor leaky_relu(const Tensor& /*x*/, double /*negative_slope*/) {
  HEED_FAIL("leaky_relu is not implemented yet");
}

Tensor sigmoid(const Tensor& /*x*/) {
  HEED_FAIL("sigmoid is not implemented yet");
}

Tensor tanh(const Tensor& /*x*/) {
  HEED_FAIL("tanh is not implemented yet");
}

Tensor gelu(const Tensor& /*x*/, std::string_view /*approximate*/) {
  HEED_FAIL("gelu is not implemented yet");
}

Tensor silu(const Tensor& /*x*/) {
  HEED_FAIL("silu is not implemented yet");
}

Tensor hardsigmoid(const Tensor& /*x*/) {
  HEED_FAIL("hardsigmoid is not implemented yet");
}

Tensor hardswish(const Tensor& /*x*/) {
  HEED_FAIL("hardswish is not implemented yet");
}

Tensor softplus(const Tensor& /*x*/, double /*beta*/, double /*threshold*/) {
  HEED_FAIL("softplus is not implemented yet");
}

}  // namespace heed

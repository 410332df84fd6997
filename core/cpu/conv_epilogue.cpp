#include "core/cpu/conv_epilogue.h"

#include "core/cpu/pointwise_f32.h"

namespace heed::cpu::conv {

void OutputEpilogue::operator()(float* y, int64_t offset, int64_t n) const {
  if (!relu || n <= 0) return;
  float* out = y + offset;
  if (residual) {
    const BinaryRowF32 row = binary_row_f32(BinaryOp::AddRelu, {});
    if (row) return row(out, out, 1, residual + offset, 1, n, {});
    for (int64_t i = 0; i < n; ++i) {
      const float v = out[i] + residual[offset + i];
      out[i] = v <= 0.0f ? 0.0f : v;  // NaN stays NaN, as AddRelu
    }
    return;
  }
  const UnaryRowF32 row = unary_row_f32(UnaryOp::Relu, {});
  if (row) return row(out, out, n, {});
  for (int64_t i = 0; i < n; ++i) out[i] = out[i] <= 0.0f ? 0.0f : out[i];
}

}  // namespace heed::cpu::conv

// Portable micro-kernels of the shifted-tap convolution (see conv_kernels.h),
// and the choice of kernel set for cpu_isa(). Plain loops over a small tile
// of 4 rows × one slot of 8 positions that the compiler may vectorise for the build's
// target; they are also the readable statement of what the SIMD kernels do.
#include "core/cpu/conv_kernels.h"

namespace heed::cpu::conv {
namespace {

constexpr int kMr = 4;  // rows per panel
constexpr int kNr = 8;  // positions per tile

void forward(const float* panel, int m_rows, const int64_t* off, int64_t taps, const float* x,
             const DirectSlot* slots, int64_t n_slots, const float* bias, float* y, int64_t ldy) {
  for (int64_t s = 0; s < n_slots; ++s) {
    const DirectSlot& slot = slots[s];
    float acc[kMr][kNr] = {};
    for (int64_t t = 0; t < taps; ++t) {
      const float* xt = x + slot.q + off[t];
      const float* a = panel + t * kMr;
      for (int i = 0; i < kMr; ++i)
        for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * xt[j];
    }
    for (int i = 0; i < m_rows; ++i)
      for (int j = 0; j < slot.width; ++j)
        y[slot.y_off + i * ldy + j] = acc[i][j] + (bias ? bias[i] : 0.0f);
  }
}

void weight_grad(const float* g, int64_t ldg, int m_rows, const int64_t* off, int64_t taps,
                 const float* x, int64_t q, float* gw, int64_t ldw) {
  for (int i = 0; i < m_rows; ++i)
    for (int64_t t = 0; t < taps; ++t) {
      const float* gi = g + i * ldg;
      const float* xt = x + off[t];
      float lanes[kNr] = {};  // q is a multiple of kNr
      for (int64_t p = 0; p < q; p += kNr)
        for (int j = 0; j < kNr; ++j) lanes[j] += gi[p + j] * xt[p + j];
      float s = 0;
      for (float l : lanes) s += l;
      gw[i * ldw + t] += s;
    }
}

}  // namespace

const ShiftedKernels& scalar_kernels() {
  static const ShiftedKernels k{Isa::Scalar, kMr, kNr, kNr, forward, weight_grad};
  return k;
}

const ShiftedKernels& shifted_kernels() {
#if HEED_X86_KERNELS
  switch (cpu_isa()) {
    case Isa::Avx512:
      return avx512_kernels();
    case Isa::Avx2:
      return avx2_kernels();
    case Isa::Scalar:
      break;
  }
#endif
  return scalar_kernels();
}

}  // namespace heed::cpu::conv

// Micro-kernels of the shifted-tap convolution (conv_shifted.cpp), one set
// per instruction set. Both work on one chunk of a laid-out input X (see
// conv_shifted.h): tap t of the convolution reads X at q + off[t] for output
// position q, so a convolution is a GEMM whose B operand is never built:
//   forward-style  Y[m][q]  = Σ_t A[m][t] · X[q + off[t]]  (per DirectSlot)
//   weight-grad    gW[m][t] += Σ_q G[m][q] · X[q + off[t]]
// A is packed in panels of `mr` rows (see pack_panels); Q (columns of Y and G)
// is padded by the caller to a multiple of `q_align`, with G zero there.
#pragma once

#include <cstdint>

#include "core/cpu/isa.h"

namespace heed::cpu::conv {

// One vector of the forward: chunk positions [q, q + width) of Y go to
// y + y_off (panel row i at + i·ldy). The direct forward's slots cover only
// the real outputs of each row and point into the output tensor (no gap
// position computed, no copy after); the gapped forward's slots cover all of
// Y's positions in a scratch buffer. width ≤ vec.
struct DirectSlot {
  int64_t q, y_off;
  int width;
};

struct ShiftedKernels {
  Isa isa;
  int mr;       // rows of A per panel (the forward register tile's height)
  int q_align;  // Q must be a multiple of this (a whole forward tile; wgrad vector width)
  int vec;      // positions per slot of forward (the SIMD width)
  // For each slot: y[y_off + i·ldy + j] = bias[i] (0 when null) + Σ_t panel[t][i] ·
  // X[q + j + off[t]], i < m_rows ≤ mr, j < width. Reads X up to q + vec + off[t].
  void (*forward)(const float* panel, int m_rows, const int64_t* off, int64_t taps, const float* x,
                  const DirectSlot* slots, int64_t n_slots, const float* bias, float* y,
                  int64_t ldy);
  // gw (m_rows × taps, row stride ldw) += G (m_rows × q, row stride ldg) · X shiftedᵀ.
  void (*weight_grad)(const float* g, int64_t ldg, int m_rows, const int64_t* off, int64_t taps,
                      const float* x, int64_t q, float* gw, int64_t ldw);
};

const ShiftedKernels& scalar_kernels();
#if HEED_X86_KERNELS
const ShiftedKernels& avx2_kernels();
const ShiftedKernels& avx512_kernels();
#endif

// The best set for cpu_isa().
const ShiftedKernels& shifted_kernels();

}  // namespace heed::cpu::conv

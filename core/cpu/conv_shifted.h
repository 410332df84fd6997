// float32 conv2d without im2col: the "shifted-tap" convolution.
//
// A chunk of images is copied once into a zero-gapped layout X in which every
// tap (c, ki, kj) of the convolution is a constant shift: output position q
// reads X[q + off[t]]. Forward and backward-input are then GEMMs
// Y = A · X_shifted whose B operand is never materialised, and the weight
// gradient is a set of dot products gW[o][t] = Σ_q G[o][q] · X[q + off[t]]
// (conv_kernels.h has the micro-kernels). Strides are folded in by splitting
// each input channel into its stride phases (stride² virtual channels of
// stride 1); backward-input of a strided conv runs once per phase of the
// input gradient with the taps that land on it.
//
// Images are split among the pool's threads in fixed contiguous ranges; each
// thread reuses its own scratch buffers across calls, and the weight gradient
// is summed from per-range partials in range order (deterministic for a given
// thread count).
#pragma once

#include <cstdint>

#include "core/cpu/conv_epilogue.h"

namespace heed::cpu::conv {

// x (B, C, H, W), w (O, C, KH, KW), y (B, O, OH, OW); groups = 1.
struct ConvShape {
  int64_t B, C, H, W, O, KH, KW, OH, OW;
  int64_t sh, sw, ph, pw, dh, dw;
};

// Whether the shifted-tap kernels handle this convolution.
bool shifted_supported(const ConvShape& s);

// y = epilogue(conv(x, w) (+ bias when not null)).
void shifted_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                     const OutputEpilogue& epilogue, float* y);
// gx = the gradient of the forward with respect to x, given gy.
void shifted_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);
// gw = the gradient with respect to w (overwritten).
void shifted_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw);

}  // namespace heed::cpu::conv

// float32 conv2d with few channels on both sides, as a stencil along the
// rows (AVX-512 only): CBAM's and triplet attention's 2→1 7×7 spatial convs.
//
// The shifted-tap kernels tile 8 or more output channels, and the output-
// channel kernels fill 16-wide vectors with them: with one output channel
// most of either tile idles (14–33 % of peak on CBAM's conv). Here a vector
// holds 16 consecutive output columns of one output channel, and a register
// tile is R such vectors on consecutive output rows. Each padded input row
// segment, loaded once per horizontal tap, is multiplied into every row of
// the tile that it reaches (kernel row = input row - output row), with the
// weight broadcast from memory. Backward-input is the same stencil run on
// gy with the kernel flipped and its channels swapped. The weight
// gradient's tile is the horizontal taps of two kernel rows of one (output,
// input) channel pair, summed over an image; images' sums are added in
// image order (the same bits for any thread count).
#pragma once

#include "core/cpu/conv_shifted.h"

namespace heed::cpu::conv {

// AVX-512, stride 1, no dilation, at most 4 input and 4 output channels,
// square 3×3, 5×5 or 7×7 kernels, padding below the kernel size (so that
// backward-input's flipped stencil has padding ≥ 0).
bool stencil_supported(const ConvShape& s);

// As shifted_forward / shifted_backward_input / shifted_backward_weight.
void stencil_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                     const OutputEpilogue& epilogue, float* y);
void stencil_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);
void stencil_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw);

}  // namespace heed::cpu::conv

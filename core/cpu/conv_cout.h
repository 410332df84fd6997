// float32 conv2d on small images, vectorised across output channels
// (AVX-512 only).
//
// The shifted-tap kernels (conv_shifted.h) vectorise across output positions
// and pay for it with zero gap positions between rows and images: 21 % of the
// computed positions on 8×8 images, 13 % on 16×16. Here a register tile is
// 32 output channels × 8 output pixels of one row: each input value is
// broadcast and multiplied into two 16-channel weight vectors, so only real
// pixels are computed and image borders cost nothing but a small zero-padded
// copy of each image. Backward-input of a stride-1 convolution is the same
// computation on gy with the kernel flipped and transposed. Stride 2 (forward
// only) reads every other input of a padded row. The weight gradient's tile
// is 32 output channels × the 9 taps of one input channel, summed over the
// pixels of an image (no horizontal sums).
#pragma once

#include "core/cpu/conv_shifted.h"

namespace heed::cpu::conv {

// Whether the output-channel kernels take this convolution: AVX-512, no
// dilation, outputs up to 16 wide; forward with stride 1 or 2,
// backward-input with stride 1; rows of exactly 16 at stride 1 go to the
// shifted-tap direct forward instead (conv_shifted.h).
bool cout_forward_supported(const ConvShape& s);
bool cout_backward_input_supported(const ConvShape& s);
// Weight gradient: as the forward, 3×3 kernels only.
bool cout_backward_weight_supported(const ConvShape& s);

// As shifted_forward / shifted_backward_input.
void cout_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                  const OutputEpilogue& epilogue, float* y);
void cout_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);
void cout_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw);

}  // namespace heed::cpu::conv

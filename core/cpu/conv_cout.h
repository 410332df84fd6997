// float32 stride-1 conv2d on small images, vectorised across output channels
// (AVX-512 only).
//
// The shifted-tap kernels (conv_shifted.h) vectorise across output positions
// and pay for it with zero gap positions between rows and images: 21 % of the
// computed positions on 8×8 images, 13 % on 16×16. Here a register tile is
// 32 output channels × 8 output pixels of one row: each input value is
// broadcast and multiplied into two 16-channel weight vectors, so only real
// pixels are computed and image borders cost nothing but a small zero-padded
// copy of each image. Backward-input of a stride-1 convolution is the same
// computation on gy with the kernel flipped and transposed.
#pragma once

#include "core/cpu/conv_shifted.h"

namespace heed::cpu::conv {

// Whether the output-channel kernels take this convolution (forward and
// backward-input): AVX-512, stride 1, no dilation, small images.
bool cout_supported(const ConvShape& s);

// As shifted_forward / shifted_backward_input.
void cout_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);
void cout_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);

}  // namespace heed::cpu::conv

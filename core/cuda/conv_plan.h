// The GEMMs of the CUDA conv2d (see nn.cu): geometry, chunking and the
// GemmArgs of each pass, over the im2col buffer col (R, N) and the
// channel-major output buffer buf (O, N), N = nb·P columns ordered (image,
// oh, ow). Host code free of CUDA headers, so tests/cuda/test_cuda_host.cpp
// runs the same plan through the CPU's gemm and compares with the CPU conv.
//
// Glossary: B batch, C input channels, O output channels, G groups, Cg = C/G,
// Og = O/G, (H, W) input, (KH, KW) kernel, (OH, OW) output, P = OH·OW,
// K = Cg·KH·KW, R = C·KH·KW, nb images per chunk.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/backend.h"
#include "core/cuda/window.h"

namespace heed::cuda {

// Bytes of col per chunk: large enough for big GEMMs, small enough to leave
// memory for the network.
inline constexpr int64_t kConvColBytes = int64_t(256) << 20;

struct ConvPlan {
  int64_t B, C, H, W, O, KH, KW, OH, OW, G;
  Conv2dParams p;
  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t P() const { return OH * OW; }
  int64_t K() const { return Cg() * KH * KW; }
  int64_t R() const { return C * KH * KW; }
  // 1×1, stride 1, no padding: x itself is the GEMM operand (no im2col).
  bool pointwise() const {
    return KH == 1 && KW == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 && p.pad_w == 0;
  }
  win::Conv win() const {
    return {C,          H,          W,       KH,      KW,           OH,          OW,
            p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h, p.dilation_w};
  }
  int64_t chunk_images(size_t elem, int64_t col_bytes = kConvColBytes) const {
    const int64_t per_image = std::max<int64_t>(R() * P() * int64_t(elem), 1);
    return std::clamp<int64_t>(col_bytes / per_image, 1, std::max<int64_t>(B, 1));
  }

  // One GEMM per group, as a strided batch over the groups.
  GemmArgs group_gemm(DType dtype) const {
    GemmArgs a;
    a.dtype = dtype;
    a.batch = G;
    return a;
  }

  // buf_g (Og × N) = W_g (Og × K) · col_g (K × N)
  GemmArgs forward(DType dt, const void* w, const void* col, void* buf, int64_t N) const {
    GemmArgs a = group_gemm(dt);
    a.m = Og(), a.n = N, a.k = K();
    a.a = w, a.lda = K(), a.stride_a = Og() * K();
    a.b = col, a.ldb = N, a.stride_b = K() * N;
    a.c = buf, a.ldc = N, a.stride_c = Og() * N;
    return a;
  }
  // col_g (K × N) = W_gᵀ (K × Og) · buf_g (Og × N)
  GemmArgs backward_input(DType dt, const void* w, const void* buf, void* col, int64_t N) const {
    GemmArgs a = group_gemm(dt);
    a.trans_a = true;
    a.m = K(), a.n = N, a.k = Og();
    a.a = w, a.lda = K(), a.stride_a = Og() * K();
    a.b = buf, a.ldb = N, a.stride_b = Og() * N;
    a.c = col, a.ldc = N, a.stride_c = K() * N;
    return a;
  }
  // gW_g (Og × K) (+)= buf_g (Og × N) · col_gᵀ (N × K); accumulate after the first chunk.
  GemmArgs backward_weight(DType dt, const void* buf, const void* col, void* gw, int64_t N,
                           bool accumulate) const {
    GemmArgs a = group_gemm(dt);
    a.trans_b = true;
    a.beta = accumulate ? 1 : 0;
    a.m = Og(), a.n = K(), a.k = N;
    a.a = buf, a.lda = N, a.stride_a = Og() * N;
    a.b = col, a.ldb = N, a.stride_b = K() * N;
    a.c = gw, a.ldc = K(), a.stride_c = Og() * K();
    return a;
  }
  // Pointwise, group gi: y[n]_g (Og × P) = W_g (Og × Cg) · x[n]_g (Cg × P),
  // batched over the B images (W broadcast). Pointers are element 0 of w, x, y.
  GemmArgs pointwise_forward(DType dt, int64_t gi, const char* w, const char* x, char* y) const {
    const int64_t es = int64_t(element_size(dt));
    GemmArgs a = group_gemm(dt);
    a.batch = B;
    a.m = Og(), a.n = P(), a.k = Cg();
    a.a = w + gi * Og() * Cg() * es, a.lda = Cg(), a.stride_a = 0;
    a.b = x + gi * Cg() * P() * es, a.ldb = P(), a.stride_b = C * P();
    a.c = y + gi * Og() * P() * es, a.ldc = P(), a.stride_c = O * P();
    return a;
  }
  // Pointwise, group gi: gx[n]_g (Cg × P) = W_gᵀ (Cg × Og) · gy[n]_g (Og × P).
  GemmArgs pointwise_backward_input(DType dt, int64_t gi, const char* w, const char* gy,
                                    char* gx) const {
    const int64_t es = int64_t(element_size(dt));
    GemmArgs a = group_gemm(dt);
    a.batch = B;
    a.trans_a = true;
    a.m = Cg(), a.n = P(), a.k = Og();
    a.a = w + gi * Og() * Cg() * es, a.lda = Cg(), a.stride_a = 0;
    a.b = gy + gi * Og() * P() * es, a.ldb = P(), a.stride_b = O * P();
    a.c = gx + gi * Cg() * P() * es, a.ldc = P(), a.stride_c = C * P();
    return a;
  }
};

// input (B, C, H, W), weight (O, C/G, KH, KW), out (B, O, OH, OW).
inline ConvPlan make_conv_plan(const char* where, const Tensor& input, const Tensor& weight,
                               const Tensor& out, const Conv2dParams& p) {
  HEED_CHECK(input.is_contiguous() && weight.is_contiguous() && out.is_contiguous(), where,
             ": expected contiguous tensors");
  HEED_CHECK(input.dtype() == weight.dtype() && input.dtype() == out.dtype() &&
                 (input.dtype() == kFloat32 || input.dtype() == kFloat64),
             where, ": expected float32 or float64 tensors of one dtype, got ", input.dtype(), ", ",
             weight.dtype(), ", ", out.dtype());
  HEED_CHECK(input.dim() == 4 && weight.dim() == 4 && out.dim() == 4 && p.groups > 0, where,
             ": expected 4-D tensors");
  ConvPlan g{input.size(0),
             input.size(1),
             input.size(2),
             input.size(3),
             weight.size(0),
             weight.size(2),
             weight.size(3),
             out.size(2),
             out.size(3),
             p.groups,
             p};
  HEED_CHECK(out.size(0) == g.B && out.size(1) == g.O && weight.size(1) * g.G == g.C, where,
             ": inconsistent shapes input ", shape_str(input.shape()), ", weight ",
             shape_str(weight.shape()), ", output ", shape_str(out.shape()));
  return g;
}

}  // namespace heed::cuda

// CUDA kernels of the network layers: conv2d (im2col + cuBLAS GEMM, forward
// and both backwards), pooling, and indexing. Mirrors core/cpu/conv.cpp,
// pool.cpp and index.cpp; the per-element index math is in window.h (tested
// on the host against the CPU backend).
//
// conv2d, per chunk of nb images whose im2col buffer col (R, nb·P) stays
// under kConvColBytes (columns ordered (image, oh, ow), as the CPU's chunked path):
//   forward          buf_g (Og × N) = W_g (Og × K) · col_g (K × N), then buf -> y (+ bias)
//   backward input   col_g (K × N)  = W_gᵀ (K × Og) · gy_g (Og × N), then col2im
//   backward weight  gW_g (Og × K) += gy_g (Og × N) · col_gᵀ (N × K)
// with one strided-batched GEMM over the G groups (the GemmArgs are in
// conv_plan.h). 1×1 stride-1 unpadded convs skip im2col in the forward and
// backward-input passes: x itself is the GEMM operand.
//
// Glossary: B batch, C input channels, O output channels, G groups, Cg = C/G,
// Og = O/G, (H, W) input, (KH, KW) kernel, (OH, OW) output, P = OH·OW,
// K = Cg·KH·KW, R = C·KH·KW, N = nb·P.
#include <algorithm>

#include "core/cuda/conv_plan.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels.cuh"
#include "core/cuda/window.h"
#include "core/ops/internal.h"

namespace heed::cuda {

namespace nnk {

constexpr int kThreads = 256;

#define HEED_GRID_STRIDE(i, n)                                              \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

// ------------------------------------------------------------ conv

// col (R, N) from images x (nb, C, H, W).
template <typename T>
__global__ void im2col_kernel(T* col, const T* x, win::Conv g, int64_t R, int64_t N) {
  HEED_GRID_STRIDE(i, R * N) {
    const int64_t r = i / N, j = i - r * N;
    col[i] = win::im2col_at(x, g, r, j);
  }
}

// gx (nb, C, H, W) from col (R, N).
template <typename T>
__global__ void col2im_kernel(T* gx, const T* col, win::Conv g, int64_t nb, int64_t N) {
  const int64_t HW = g.H * g.W;
  HEED_GRID_STRIDE(i, nb * g.C * HW) {
    const int64_t nc = i / HW, hw = i - nc * HW;
    const int64_t nl = nc / g.C, c = nc - nl * g.C;
    const int64_t ih = hw / g.W, iw = hw - ih * g.W;
    gx[i] = win::col2im_at(col, g, N, nl, c, ih, iw);
  }
}

char* at(const Tensor& t, int64_t elements) {
  return static_cast<char*>(t.raw_data()) + elements * int64_t(t.element_size());
}

// A view of buf (O, N) as (nb, O, P): element (nl, o, p) at o·N + nl·P + p.
Tensor buf_as_images(const Tensor& buf, const ConvPlan& g, int64_t nb) {
  const int64_t P = g.P(), N = nb * P;
  return ops::raw_view(buf, {nb, g.O, P}, {P, N, 1}, buf.offset());
}

// Images [n0, n0 + nb) of a contiguous (B, X, P) tensor as (nb, X, P).
Tensor images(const Tensor& t, int64_t n0, int64_t nb, int64_t X, int64_t P) {
  return ops::raw_view(t, {nb, X, P}, {X * P, P, 1}, t.offset() + n0 * X * P);
}

void im2col(const Ctx& c, const ConvPlan& g, const Tensor& x, int64_t n0, int64_t nb,
            const Tensor& col) {
  const int64_t R = g.R(), N = nb * g.P();
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.raw_data()) + n0 * g.C * g.H * g.W;
    im2col_kernel<T><<<grid_for(c, R * N, kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(col.raw_data()), xp, g.win(), R, N);
    check_launch("conv2d im2col", c);
  });
}

void col2im(const Ctx& c, const ConvPlan& g, const Tensor& col, int64_t n0, int64_t nb,
            const Tensor& gx) {
  const int64_t N = nb * g.P();
  dispatch_floating(gx.dtype(), "conv2d", [&]<typename T>() {
    T* gp = static_cast<T*>(gx.raw_data()) + n0 * g.C * g.H * g.W;
    col2im_kernel<T><<<grid_for(c, nb * g.C * g.H * g.W, kThreads), kThreads, 0, c.stream>>>(
        gp, static_cast<const T*>(col.raw_data()), g.win(), nb, N);
    check_launch("conv2d col2im", c);
  });
}

// ------------------------------------------------------------ pooling

template <typename T>
__global__ void max_pool_kernel(T* y, int64_t* ix, const T* x, int64_t planes, int64_t H, int64_t W,
                                int64_t OH, int64_t OW, win::Pool p) {
  const int64_t OP = OH * OW;
  HEED_GRID_STRIDE(i, planes * OP) {
    const int64_t pl = i / OP, o = i - pl * OP, oh = o / OW, ow = o - oh * OW;
    win::max_pool_at(x + pl * H * W, H, W, oh, ow, p, y + i, ix + i);
  }
}

template <typename T>
__global__ void adaptive_max_kernel(T* y, int64_t* ix, const T* x, int64_t planes, int64_t H,
                                    int64_t W, int64_t OH, int64_t OW) {
  const int64_t OP = OH * OW;
  HEED_GRID_STRIDE(i, planes * OP) {
    const int64_t pl = i / OP, o = i - pl * OP, oh = o / OW, ow = o - oh * OW;
    win::adaptive_max_at(x + pl * H * W, H, W, OH, OW, oh, ow, y + i, ix + i);
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) {
  atomicAdd(p, v);
}
__device__ __forceinline__ void atomic_add(double* p, double v) {
  atomicAdd(p, v);
}
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  // Two's complement: an unsigned add is a signed add.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

// grad_input (zeroed before) += grad_out at the saved indices. Atomic: with
// overlapping windows two outputs can pick the same input.
template <typename T>
__global__ void max_pool_backward_kernel(T* gi, const T* go, const int64_t* ix, int64_t planes,
                                         int64_t plane, int64_t oplane) {
  HEED_GRID_STRIDE(i, planes * oplane) {
    const int64_t pl = i / oplane, k = ix[i];
    if (k >= 0 && k < plane) atomic_add(gi + pl * plane + k, go[i]);  // -1: empty window
  }
}

template <typename T>
__global__ void avg_pool_kernel(T* y, const T* x, int64_t planes, int64_t H, int64_t W, int64_t OH,
                                int64_t OW, win::Pool p) {
  const int64_t OP = OH * OW;
  HEED_GRID_STRIDE(i, planes * OP) {
    const int64_t pl = i / OP, o = i - pl * OP, oh = o / OW, ow = o - oh * OW;
    y[i] = win::avg_pool_at(x + pl * H * W, H, W, oh, ow, p);
  }
}

template <typename T>
__global__ void avg_pool_backward_kernel(T* gi, const T* go, int64_t planes, int64_t H, int64_t W,
                                         int64_t OH, int64_t OW, win::Pool p) {
  const int64_t HW = H * W;
  HEED_GRID_STRIDE(i, planes * HW) {
    const int64_t pl = i / HW, k = i - pl * HW, h = k / W, w = k - h * W;
    gi[i] = win::avg_pool_backward_at(go + pl * OH * OW, H, W, OH, OW, h, w, p);
  }
}

template <typename T>
__global__ void adaptive_avg_kernel(T* y, const T* x, int64_t planes, int64_t H, int64_t W,
                                    int64_t OH, int64_t OW) {
  const int64_t OP = OH * OW;
  HEED_GRID_STRIDE(i, planes * OP) {
    const int64_t pl = i / OP, o = i - pl * OP, oh = o / OW, ow = o - oh * OW;
    y[i] = win::adaptive_avg_at(x + pl * H * W, H, W, OH, OW, oh, ow);
  }
}

template <typename T>
__global__ void adaptive_avg_backward_kernel(T* gi, const T* go, int64_t planes, int64_t H,
                                             int64_t W, int64_t OH, int64_t OW) {
  const int64_t HW = H * W;
  HEED_GRID_STRIDE(i, planes * HW) {
    const int64_t pl = i / HW, k = i - pl * HW, h = k / W, w = k - h * W;
    gi[i] = win::adaptive_avg_backward_at(go + pl * OH * OW, H, W, OH, OW, h, w);
  }
}

struct Planes {
  int64_t P, H, W, OH, OW;
};

// Every leading dim of (..., H, W) is a plane, as the CPU's planes_of.
Planes planes_of(const Tensor& in, const Tensor& out) {
  const int64_t nd = in.dim();
  Planes g{};
  g.H = in.shape()[size_t(nd - 2)];
  g.W = in.shape()[size_t(nd - 1)];
  g.OH = out.shape()[size_t(nd - 2)];
  g.OW = out.shape()[size_t(nd - 1)];
  g.P =
      g.OH * g.OW > 0 ? out.numel() / (g.OH * g.OW) : in.numel() / std::max<int64_t>(g.H * g.W, 1);
  return g;
}

win::Pool pool_params(const Pool2dParams& p) {
  return {p.kernel_h, p.kernel_w,   p.stride_h,   p.stride_w,         p.pad_h,
          p.pad_w,    p.dilation_h, p.dilation_w, p.count_include_pad};
}

void check_pool(const char* op, std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    HEED_CHECK(t->is_contiguous(), op, " (cuda): expected contiguous tensors");
}

// ------------------------------------------------------------ indexing

// out (outer, N, inner) = x (outer, D, inner) at idx (N).
template <typename T>
__global__ void index_select_kernel(T* out, const T* x, const int64_t* idx, int64_t outer,
                                    int64_t D, int64_t N, int64_t inner) {
  HEED_GRID_STRIDE(i, outer * N * inner) {
    const int64_t r = i / inner, b = i - r * inner;
    const int64_t o = r / N, n = r - o * N;
    out[i] = x[(o * D + idx[n]) * inner + b];
  }
}

// out (outer, D, inner)[:, idx[n], :] += src (outer, N, inner)[:, n, :]
template <typename T>
__global__ void index_add_kernel(T* out, const T* src, const int64_t* idx, int64_t outer, int64_t D,
                                 int64_t N, int64_t inner) {
  HEED_GRID_STRIDE(i, outer * N * inner) {
    const int64_t r = i / inner, b = i - r * inner;
    const int64_t o = r / N, n = r - o * N;
    atomic_add(out + (o * D + idx[n]) * inner + b, src[i]);
  }
}

// Over the index's shape: operands (out, index, in with its stride along dim
// zeroed); in's element is then moved idx · sx bytes along dim.
template <typename T>
struct GatherOp {
  int64_t sx;  // bytes
  __device__ void operator()(char* const* p) const {
    const int64_t k = *reinterpret_cast<const int64_t*>(p[1]);
    *reinterpret_cast<T*>(p[0]) = *reinterpret_cast<const T*>(p[2] + k * sx);
  }
};

// Operands (out with its stride along dim zeroed, index, src).
template <typename T>
struct ScatterAddOp {
  int64_t so;  // bytes
  __device__ void operator()(char* const* p) const {
    const int64_t k = *reinterpret_cast<const int64_t*>(p[1]);
    atomic_add(reinterpret_cast<T*>(p[0] + k * so), *reinterpret_cast<const T*>(p[2]));
  }
};

void outer_inner(const Shape& shape, int64_t dim, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[size_t(d)];
  for (size_t d = size_t(dim) + 1; d < shape.size(); ++d) inner *= shape[d];
}

template <typename Fn>
void dispatch_addable(DType t, const char* op, Fn&& fn) {
  HEED_CHECK(t != kBool, op, ": not defined for bool tensors");
  dispatch_all(t, [&]<typename T>() {
    if constexpr (!std::is_same_v<T, bool>) fn.template operator()<T>();
  });
}

OperandDesc with_dim_stride(const Tensor& t, int64_t dim, int64_t stride) {
  OperandDesc d = kern::desc(t);
  d.strides[size_t(dim)] = stride;
  return d;
}

}  // namespace nnk

using namespace nnk;

// ------------------------------------------------------------ conv2d

void CudaBackend::conv2d(const Tensor& out, const Tensor& input, const Tensor& weight,
                         const Tensor& bias, const Conv2dParams& p) {
  const ConvPlan g = make_conv_plan("conv2d (cuda)", input, weight, out, p);
  HEED_CHECK(!bias.defined() ||
                 (bias.is_contiguous() && bias.dtype() == out.dtype() && bias.numel() == g.O),
             "conv2d (cuda): bias must be a contiguous (", g.O, ") tensor of the output's dtype");
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  const DType dt = out.dtype();
  const int64_t P = g.P();
  // bias (O) broadcast over (nb, O, P)
  auto bias_view = [&](int64_t nb) {
    return ops::raw_view(bias, {nb, g.O, P}, {0, 1, 0}, bias.offset());
  };
  if (g.pointwise()) {
    for (int64_t gi = 0; gi < g.G; ++gi)
      gemm(g.pointwise_forward(dt, gi, at(weight, 0), at(input, 0), at(out, 0)));
    if (bias.defined()) {
      Tensor y = images(out, 0, g.B, g.O, P);
      binary(BinaryOp::Add, y, y, bias_view(g.B), {1.0, 0.0});
    }
    return;
  }
  const int64_t nb_max = g.chunk_images(out.element_size());
  Tensor col = empty({g.R() * nb_max * P}, {dt, device()});  // (R, nb·P)
  Tensor buf = empty({g.O * nb_max * P}, {dt, device()});    // (O, nb·P)
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(c, g, input, n0, nb, col);
    gemm(g.forward(dt, weight.raw_data(), col.raw_data(), buf.raw_data(), N));
    Tensor y = images(out, n0, nb, g.O, P);
    if (bias.defined())
      binary(BinaryOp::Add, y, buf_as_images(buf, g, nb), bias_view(nb), {1.0, 0.0});
    else
      copy(y, buf_as_images(buf, g, nb));
  }
}

void CudaBackend::conv2d_backward_input(const Tensor& grad_input, const Tensor& grad_out,
                                        const Tensor& weight, const Conv2dParams& p) {
  const ConvPlan g =
      make_conv_plan("conv2d_backward_input (cuda)", grad_input, weight, grad_out, p);
  if (grad_input.numel() == 0) return;
  if (grad_out.numel() == 0) {
    fill(grad_input, 0);
    return;
  }
  const Ctx c = context(index_);
  const DType dt = grad_out.dtype();
  const int64_t P = g.P();
  if (g.pointwise()) {
    for (int64_t gi = 0; gi < g.G; ++gi)
      gemm(g.pointwise_backward_input(dt, gi, at(weight, 0), at(grad_out, 0), at(grad_input, 0)));
    return;
  }
  const int64_t nb_max = g.chunk_images(grad_out.element_size());
  Tensor col = empty({g.R() * nb_max * P}, {dt, device()});  // (R, nb·P)
  Tensor buf = empty({g.O * nb_max * P}, {dt, device()});    // (O, nb·P)
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    copy(buf_as_images(buf, g, nb), images(grad_out, n0, nb, g.O, P));
    gemm(g.backward_input(dt, weight.raw_data(), buf.raw_data(), col.raw_data(), N));
    col2im(c, g, col, n0, nb, grad_input);
  }
}

void CudaBackend::conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_bias,
                                         const Tensor& grad_out, const Tensor& input,
                                         const Conv2dParams& p) {
  const ConvPlan g =
      make_conv_plan("conv2d_backward_weight (cuda)", input, grad_weight, grad_out, p);
  HEED_CHECK(
      !grad_bias.defined() || (grad_bias.is_contiguous() && grad_bias.dtype() == grad_out.dtype() &&
                               grad_bias.numel() == g.O),
      "conv2d_backward_weight (cuda): grad_bias must be a contiguous (", g.O,
      ") tensor of grad_out's dtype");
  const Ctx c = context(index_);
  const DType dt = grad_out.dtype();
  const int64_t P = g.P();
  if (grad_bias.defined()) {
    // gb[o] = Σ_n Σ_p gy[n, o, p], accumulated in double by the reduce kernel.
    reduce(ReduceOp::Sum, ops::raw_view(grad_bias, {1, g.O, 1}, {g.O, 1, 1}, grad_bias.offset()),
           ops::raw_view(grad_out, {g.B, g.O, P}, {g.O * P, P, 1}, grad_out.offset()), {0, 2});
  }
  if (g.B == 0 || P == 0) {
    fill(grad_weight, 0);
    return;
  }
  const int64_t nb_max = g.chunk_images(grad_out.element_size());
  Tensor col = empty({g.R() * nb_max * P}, {dt, device()});  // (R, nb·P)
  Tensor buf = empty({g.O * nb_max * P}, {dt, device()});    // (O, nb·P)
  for (int64_t n0 = 0; n0 < g.B; n0 += nb_max) {
    const int64_t nb = std::min(nb_max, g.B - n0), N = nb * P;
    im2col(c, g, input, n0, nb, col);
    copy(buf_as_images(buf, g, nb), images(grad_out, n0, nb, g.O, P));
    gemm(g.backward_weight(dt, buf.raw_data(), col.raw_data(), grad_weight.raw_data(), N,
                           /*accumulate=*/n0 > 0));
  }
}

// ------------------------------------------------------------ pooling

void CudaBackend::max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& input,
                             const Pool2dParams& p) {
  check_pool("max_pool2d", {&out, &indices, &input});
  const Planes g = planes_of(input, out);
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "max_pool2d", [&]<typename T>() {
    max_pool_kernel<T><<<grid_for(c, out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<int64_t*>(indices.raw_data()),
        static_cast<const T*>(input.raw_data()), g.P, g.H, g.W, g.OH, g.OW, pool_params(p));
    check_launch("max_pool2d", c);
  });
}

void CudaBackend::adaptive_max_pool2d(const Tensor& out, const Tensor& indices,
                                      const Tensor& input) {
  check_pool("adaptive_max_pool2d", {&out, &indices, &input});
  const Planes g = planes_of(input, out);
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "adaptive_max_pool2d", [&]<typename T>() {
    adaptive_max_kernel<T><<<grid_for(c, out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<int64_t*>(indices.raw_data()),
        static_cast<const T*>(input.raw_data()), g.P, g.H, g.W, g.OH, g.OW);
    check_launch("adaptive_max_pool2d", c);
  });
}

void CudaBackend::max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                      const Tensor& indices) {
  check_pool("max_pool2d_backward", {&grad_input, &grad_out, &indices});
  const Planes g = planes_of(grad_input, grad_out);
  if (grad_input.numel() == 0) return;
  fill(grad_input, 0);
  if (grad_out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(grad_out.dtype(), "max_pool2d_backward", [&]<typename T>() {
    max_pool_backward_kernel<T><<<grid_for(c, grad_out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(grad_input.raw_data()), static_cast<const T*>(grad_out.raw_data()),
        static_cast<const int64_t*>(indices.raw_data()), g.P, g.H * g.W, g.OH * g.OW);
    check_launch("max_pool2d_backward", c);
  });
}

void CudaBackend::avg_pool2d(const Tensor& out, const Tensor& input, const Pool2dParams& p) {
  check_pool("avg_pool2d", {&out, &input});
  const Planes g = planes_of(input, out);
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "avg_pool2d", [&]<typename T>() {
    avg_pool_kernel<T><<<grid_for(c, out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<const T*>(input.raw_data()), g.P, g.H, g.W,
        g.OH, g.OW, pool_params(p));
    check_launch("avg_pool2d", c);
  });
}

void CudaBackend::avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                      const Pool2dParams& p) {
  check_pool("avg_pool2d_backward", {&grad_input, &grad_out});
  const Planes g = planes_of(grad_input, grad_out);
  if (grad_input.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(grad_out.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    avg_pool_backward_kernel<T>
        <<<grid_for(c, grad_input.numel(), kThreads), kThreads, 0, c.stream>>>(
            static_cast<T*>(grad_input.raw_data()), static_cast<const T*>(grad_out.raw_data()), g.P,
            g.H, g.W, g.OH, g.OW, pool_params(p));
    check_launch("avg_pool2d_backward", c);
  });
}

void CudaBackend::adaptive_avg_pool2d(const Tensor& out, const Tensor& input) {
  check_pool("adaptive_avg_pool2d", {&out, &input});
  const Planes g = planes_of(input, out);
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(input.dtype(), "adaptive_avg_pool2d", [&]<typename T>() {
    adaptive_avg_kernel<T><<<grid_for(c, out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<const T*>(input.raw_data()), g.P, g.H, g.W,
        g.OH, g.OW);
    check_launch("adaptive_avg_pool2d", c);
  });
}

void CudaBackend::adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out) {
  check_pool("adaptive_avg_pool2d_backward", {&grad_input, &grad_out});
  const Planes g = planes_of(grad_input, grad_out);
  if (grad_input.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_floating(grad_out.dtype(), "adaptive_avg_pool2d_backward", [&]<typename T>() {
    adaptive_avg_backward_kernel<T>
        <<<grid_for(c, grad_input.numel(), kThreads), kThreads, 0, c.stream>>>(
            static_cast<T*>(grad_input.raw_data()), static_cast<const T*>(grad_out.raw_data()), g.P,
            g.H, g.W, g.OH, g.OW);
    check_launch("adaptive_avg_pool2d_backward", c);
  });
}

// ------------------------------------------------------------ indexing

void CudaBackend::index_select(const Tensor& out, const Tensor& in, int64_t dim,
                               const Tensor& index) {
  HEED_CHECK(out.is_contiguous(), "index_select: the cuda kernel expects a contiguous output");
  Tensor x = ops::contiguous_data(in);
  int64_t outer, inner;
  outer_inner(x.shape(), dim, outer, inner);
  const int64_t D = x.shape()[size_t(dim)], N = index.numel();
  if (out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_all(x.dtype(), [&]<typename T>() {
    index_select_kernel<T><<<grid_for(c, out.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<const T*>(x.raw_data()),
        static_cast<const int64_t*>(index.raw_data()), outer, D, N, inner);
    check_launch("index_select", c);
  });
}

void CudaBackend::index_add(const Tensor& out, int64_t dim, const Tensor& index,
                            const Tensor& src_in) {
  HEED_CHECK(out.is_contiguous(), "index_add: the cuda kernel expects a contiguous output");
  Tensor src = ops::contiguous_data(src_in);
  int64_t outer, inner;
  outer_inner(out.shape(), dim, outer, inner);
  const int64_t D = out.shape()[size_t(dim)], N = index.numel();
  if (N == 0 || out.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_addable(out.dtype(), "index_add", [&]<typename T>() {
    index_add_kernel<T><<<grid_for(c, src.numel(), kThreads), kThreads, 0, c.stream>>>(
        static_cast<T*>(out.raw_data()), static_cast<const T*>(src.raw_data()),
        static_cast<const int64_t*>(index.raw_data()), outer, D, N, inner);
    check_launch("index_add", c);
  });
}

void CudaBackend::gather(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) {
  if (index.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_all(in.dtype(), [&]<typename T>() {
    const GatherOp<T> op{in.strides()[size_t(dim)] * int64_t(sizeof(T))};
    kern::apply<3>(c, "gather",
                   make_host_geom<3>(index.shape(), {kern::desc(out), kern::desc(index),
                                                     with_dim_stride(in, dim, 0)}),
                   op);
  });
}

void CudaBackend::scatter_add(const Tensor& out, int64_t dim, const Tensor& index,
                              const Tensor& src) {
  if (index.numel() == 0) return;
  const Ctx c = context(index_);
  dispatch_addable(out.dtype(), "scatter_add", [&]<typename T>() {
    const ScatterAddOp<T> op{out.strides()[size_t(dim)] * int64_t(sizeof(T))};
    kern::apply<3>(c, "scatter_add",
                   make_host_geom<3>(index.shape(), {with_dim_stride(out, dim, 0),
                                                     kern::desc(index), kern::desc(src)}),
                   op);
  });
}

}  // namespace heed::cuda

// Internal CUDA plumbing for core/cuda (not public API): error checks that
// throw heed::Error, the per-device stream and cuBLAS handle (created lazily,
// on first use, never in static initializers), and the launch check.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/check.h"

namespace heed::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* what, const char* file,
                                     int line);

}  // namespace heed::cuda

// HEED_CUDA_CHECK(cudaMemcpyAsync(...)) throws heed::Error naming the call and
// the CUDA error (name and string) when it does not return cudaSuccess.
#define HEED_CUDA_CHECK(expr)                                                    \
  do {                                                                           \
    const cudaError_t heed_cuda_err_ = (expr);                                   \
    if (heed_cuda_err_ != cudaSuccess) [[unlikely]]                              \
      ::heed::cuda::throw_cuda_error(heed_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define HEED_CUBLAS_CHECK(expr)                                                     \
  do {                                                                              \
    const cublasStatus_t heed_cublas_st_ = (expr);                                  \
    if (heed_cublas_st_ != CUBLAS_STATUS_SUCCESS) [[unlikely]]                      \
      ::heed::cuda::throw_cublas_error(heed_cublas_st_, #expr, __FILE__, __LINE__); \
  } while (0)

namespace heed::cuda {

// What a kernel launch needs: the device's stream and a cap on grid-stride grids.
struct Ctx {
  int device = 0;
  cudaStream_t stream = nullptr;
  int64_t max_blocks = 1;  // enough resident blocks to fill the device
};

// Makes `device` current for this thread and returns its launch context
// (creating the stream on first use). Throws for an absent device.
Ctx context(int device);
// The device's cuBLAS handle, bound to its stream (created on first use).
cublasHandle_t cublas_handle(int device);

// After every launch: a launch error becomes a heed::Error naming the kernel.
// With HEED_CUDA_LAUNCH_BLOCKING=1 in the environment it also waits for the
// kernel, so faults inside it are reported with its name too.
void check_launch(const char* kernel, const Ctx& ctx);

// Blocks for a grid-stride loop over `work` items with `threads` per block.
inline unsigned grid_for(const Ctx& ctx, int64_t work, int threads) {
  int64_t b = (work + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > ctx.max_blocks) b = ctx.max_blocks;
  return unsigned(b);
}

}  // namespace heed::cuda

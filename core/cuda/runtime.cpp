// Device discovery, per-device state (stream, cuBLAS handle, backend), error
// reporting and host<->device copies. Everything is created on first use:
// Catch2's test discovery runs the test binaries at build time, where no
// CUDA call may happen. The state is leaked on purpose: destroying streams
// and handles after the CUDA runtime has shut down (static destruction
// order) fails.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/cuda/cublas_api.h"
#include "core/cuda/cuda.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/runtime.h"

namespace heed::cuda {

void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
  detail::throw_error(file, line,
                      detail::concat("cuda: ", what, " failed: ", cudaGetErrorName(err), " (",
                                     cudaGetErrorString(err), ", error ", int(err), ")"));
}

void throw_cublas_error(cublasStatus_t status, const char* what, const char* file, int line) {
  detail::throw_error(
      file, line,
      detail::concat("cublas: ", what, " failed: ", cublas().get_status_name(status), " (",
                     cublas().get_status_string(status), ")"));
}

namespace {

struct Discovery {
  int count = 0;
  std::string reason;  // why count is 0
};

const Discovery& discovery() {
  static const Discovery d = [] {
    Discovery r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear it: this is an answer, not a failure
      r.reason = detail::concat("no usable CUDA driver or device (cudaGetDeviceCount: ",
                                cudaGetErrorString(err), ", error ", int(err), ")");
      return r;
    }
    r.count = n;
    if (n == 0) r.reason = "the CUDA driver reports no device";
    return r;
  }();
  return d;
}

struct DeviceState {
  std::once_flag stream_once, blas_once;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  int64_t max_blocks = 1;
  CudaBackend backend;
  explicit DeviceState(int i) : backend(i) {}
};

DeviceState& state(int device) {
  static std::mutex mu;
  static std::vector<DeviceState*>* states = new std::vector<DeviceState*>();
  const int n = device_count();
  HEED_CHECK(device >= 0 && device < n, "cuda: device cuda:", device, " is not available (",
             n == 0 ? unavailable_reason() : detail::concat(n, " CUDA devices"), ")");
  std::lock_guard<std::mutex> lock(mu);
  if (states->empty()) states->resize(size_t(n), nullptr);
  DeviceState*& s = (*states)[size_t(device)];
  if (!s) s = new DeviceState(device);
  return *s;
}

void set_current(int device) {
  int cur = -1;
  HEED_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != device) HEED_CUDA_CHECK(cudaSetDevice(device));
}

bool launch_blocking() {
  static const bool on = [] {
    const char* v = std::getenv("HEED_CUDA_LAUNCH_BLOCKING");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

}  // namespace

int device_count() {
  return discovery().count;
}
bool is_available() {
  return device_count() > 0;
}
std::string unavailable_reason() {
  return is_available() ? "" : discovery().reason;
}

Ctx context(int device) {
  DeviceState& s = state(device);
  set_current(device);
  std::call_once(s.stream_once, [&] {
    HEED_CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    int sms = 1;
    HEED_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    s.max_blocks = int64_t(sms) * 32;  // grid-stride loops: a few waves of blocks
  });
  return {device, s.stream, s.max_blocks};
}

cublasHandle_t cublas_handle(int device) {
  Ctx ctx = context(device);
  DeviceState& s = state(device);
  std::call_once(s.blas_once, [&] {
    HEED_CUBLAS_CHECK(cublas().create(&s.blas));
    HEED_CUBLAS_CHECK(cublas().set_stream(s.blas, ctx.stream));
  });
  return s.blas;
}

void check_launch(const char* kernel, const Ctx& ctx) {
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && launch_blocking()) err = cudaStreamSynchronize(ctx.stream);
  if (err != cudaSuccess)
    HEED_FAIL("cuda: kernel ", kernel, " on cuda:", ctx.device, " failed: ", cudaGetErrorName(err),
              " (", cudaGetErrorString(err), ", error ", int(err), ")");
}

Backend& backend(int device) {
  HEED_CHECK(
      device >= 0 && device < device_count(), "backend: device cuda:", device,
      " is not available (",
      is_available() ? detail::concat(device_count(), " CUDA devices") : unavailable_reason(), ")");
  return state(device).backend;
}

void synchronize(int device) {
  if (!is_available()) return;
  if (device >= 0) {
    Ctx ctx = context(device);
    HEED_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
    return;
  }
  for (int d = 0; d < device_count(); ++d) synchronize(d);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  if (src_device.is_cpu()) {
    // Stream-ordered after any kernel still using dst's (reused) block.
    Ctx c = context(dst_device.index);
    HEED_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, c.stream));
    HEED_CUDA_CHECK(cudaStreamSynchronize(c.stream));
    return;
  }
  if (dst_device.is_cpu()) {
    // After the kernels that produced src (same stream).
    Ctx c = context(src_device.index);
    HEED_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, c.stream));
    HEED_CUDA_CHECK(cudaStreamSynchronize(c.stream));
    return;
  }
  // Device to device: dst's stream must be idle before the copy writes its block.
  Ctx d = context(dst_device.index);
  HEED_CUDA_CHECK(cudaStreamSynchronize(d.stream));
  Ctx s = context(src_device.index);
  HEED_CUDA_CHECK(
      cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, s.stream));
  HEED_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

}  // namespace heed::cuda

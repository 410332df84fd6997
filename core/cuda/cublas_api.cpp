#include "core/cuda/cublas_api.h"

#include <dlfcn.h>

#include <string>

#include "core/check.h"

#define HEED_STRINGIFY_EXPANDED(x) HEED_STRINGIFY_NAME(x)
#define HEED_STRINGIFY_NAME(x) #x

namespace heed::cuda {
namespace {

#define HEED_CUBLAS_SONAME "libcublas.so." HEED_STRINGIFY_EXPANDED(CUBLAS_VER_MAJOR)

void* open_library() {
  std::string errors;
  // The soname first (found through the executable's run path or the loader
  // cache), then the copy in the toolkit heed was built against.
  const std::string candidates[] = {HEED_CUBLAS_SONAME,
#ifdef HEED_CUDA_LIBRARY_DIR
                                    std::string(HEED_CUDA_LIBRARY_DIR) + "/" HEED_CUBLAS_SONAME
#endif
  };
  for (const std::string& name : candidates) {
    if (void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    const char* e = dlerror();
    errors += "\n  " + name + ": " + (e ? e : "unknown error");
  }
  HEED_FAIL("cuda: cannot load cuBLAS (needed for matmul and conv on CUDA devices):", errors);
}

template <class Fn>
void resolve(void* handle, Fn& fn, const char* symbol) {
  fn = reinterpret_cast<Fn>(dlsym(handle, symbol));
  HEED_CHECK(fn != nullptr, "cuda: ", HEED_CUBLAS_SONAME, " has no entry point ", symbol);
}

CublasApi load() {
  void* h = open_library();  // never closed: handles created from it live to exit
  CublasApi api;
#define HEED_RESOLVE(field, fn) resolve(h, api.field, HEED_STRINGIFY_EXPANDED(fn))
  HEED_RESOLVE(create, cublasCreate);
  HEED_RESOLVE(set_stream, cublasSetStream);
  HEED_RESOLVE(sgemm, cublasSgemm);
  HEED_RESOLVE(dgemm, cublasDgemm);
  HEED_RESOLVE(sgemm_strided_batched, cublasSgemmStridedBatched);
  HEED_RESOLVE(dgemm_strided_batched, cublasDgemmStridedBatched);
  HEED_RESOLVE(get_status_name, cublasGetStatusName);
  HEED_RESOLVE(get_status_string, cublasGetStatusString);
#undef HEED_RESOLVE
  return api;
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();  // a failed load throws and is retried next call
  return api;
}

const char* cublas_library_name() {
  return HEED_CUBLAS_SONAME;
}

}  // namespace heed::cuda

// cuBLAS, loaded on first use with dlopen instead of linked. Linking it maps
// libcublas + libcublasLt and processes their relocations at process start:
// about 150 MiB of resident memory that every run would pay, CPU-only runs
// included (measured: a program that only links cuBLAS starts at 155 MiB RSS,
// 5 MiB without it). Only the entry points core/cuda calls are resolved.
#pragma once

#include <cublas_v2.h>

namespace heed::cuda {

struct CublasApi {
  // cublas_v2.h maps these names to their _v2 symbols; decltype follows.
  decltype(&cublasCreate) create = nullptr;
  decltype(&cublasSetStream) set_stream = nullptr;
  decltype(&cublasSgemm) sgemm = nullptr;
  decltype(&cublasDgemm) dgemm = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched = nullptr;
  decltype(&cublasDgemmStridedBatched) dgemm_strided_batched = nullptr;
  decltype(&cublasGetStatusName) get_status_name = nullptr;
  decltype(&cublasGetStatusString) get_status_string = nullptr;
};

// Loads cuBLAS once (thread-safe); throws heed::Error naming the library and
// the loader's message when it or one of its entry points cannot be found.
const CublasApi& cublas();

// The file names tried, in order (the soname, then the toolkit's copy).
const char* cublas_library_name();

}  // namespace heed::cuda

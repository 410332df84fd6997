// libFuzzer target for the safetensors reader: any bytes must either parse
// or throw heed::Error, never read out of bounds or crash.
//   build-fuzz/fuzz/fuzz_safetensors -max_total_time=60 -dict=fuzz/safetensors.dict CORPUS
// (seeds in fuzz/corpus_safetensors; see fuzz/CMakeLists.txt)
#include <cstddef>
#include <cstdint>

#include "nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    heed::nn::Metadata meta;
    heed::nn::StateDict sd = heed::nn::safetensors_parse(data, size, "fuzz", &meta);
    // Touch what was read, so the sanitizers see every byte copied.
    for (const auto& [name, t] : sd)
      if (t.numel() > 0 && t.numel() < 4096) (void)t.to_vector<double>();
  } catch (const heed::Error&) {
  }
  return 0;
}

// Safetensors files: the checkpoint format PyTorch and other tools read.
//
// Layout: u64 little-endian N, then an N-byte JSON header (padded with spaces
// to a multiple of 8), then the data block. The header maps each name to
// {"dtype": "F32"|"F64"|"I64"|"BOOL", "shape": [...], "data_offsets": [begin, end]}
// (byte offsets into the data block, which the tensors tile exactly, in
// order, without gaps), plus "__metadata__": {string: string} holding
// "format": "pt".
//
//   nn::save(*model, "model.safetensors", {{"epoch", "3"}});
//   model->load_state_dict(nn::load("model.safetensors"));
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/state_dict.h"

namespace heed::nn {

using Metadata = std::map<std::string, std::string>;

// The bytes of a safetensors file holding `tensors` (CPU, any layout) in
// order, with "format": "pt" plus `metadata` in "__metadata__".
std::vector<uint8_t> safetensors_serialize(const StateDict& tensors, const Metadata& metadata = {});

// Writes atomically: a temporary file in the same folder, fsync, rename over
// `path`. On any failure the previous file at `path` is left as it was.
void save(const StateDict& tensors, const std::string& path, const Metadata& metadata = {});
// Saves module.state_dict().
void save(const Module& module, const std::string& path, const Metadata& metadata = {});

// Reads a file into an ordered map (in data order). Every malformed input
// (truncated, header length beyond the file, invalid JSON or UTF-8, unknown
// dtype, bad shape, offsets out of range, overlapping, with gaps or not
// matching shape × dtype, duplicate names) throws heed::Error naming the file
// and the problem. `metadata`, if given, receives "__metadata__".
StateDict load(const std::string& path, Metadata* metadata = nullptr);

// The parser behind load(), on bytes in memory; `name` appears in errors.
StateDict safetensors_parse(const uint8_t* data, size_t size, const std::string& name,
                            Metadata* metadata = nullptr);

}  // namespace heed::nn

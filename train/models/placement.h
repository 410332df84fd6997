// The attention placement the host models take: attention/placement.h when
// it is there; until then a minimal stand-in with the same interface
// (parse, enabled, applies, make, position).
#pragma once

#if __has_include("attention/placement.h")
#include "attention/placement.h"
#else
#include <string>
#include <vector>

#include "attention/registry.h"

namespace heed::attention {

enum class Position { Standard, Pre, Post, Identity };

// "cbam(ratio=8):stages=2,3:blocks=0:pos=standard"; "" or "none" = no attention.
// Stages count from 1, blocks from 0; empty lists mean all.
struct Placement {
  std::string module;
  Options options;
  std::vector<int64_t> stages, blocks;
  Position position = Position::Standard;

  static Placement parse(const std::string& spec);
  bool enabled() const { return !module.empty() && module != "none"; }
  bool applies(int64_t stage, int64_t block) const;
  AttentionModule make(int64_t channels) const { return create(module, channels, options); }
  std::string str() const;
};

}  // namespace heed::attention
#define HEED_TRAIN_PLACEMENT_FALLBACK 1
#endif

// Placement: which attention module goes where in a host network, and how it
// is wired into a residual block (the four integrations of the SE paper, §6.5):
//
//   standard  on the residual branch, before the add:  out = relu(x + A(F(x)))
//   pre       before the branch:                       out = relu(x + F(A(x)))
//   post      after the add:                           out = A(relu(x + F(x)))
//   identity  on the identity path:                    out = relu(A(x) + F(x))
//
// Written as text so the CLI and experiment grids can name it:
//
//   auto p = attention::Placement::parse("cbam(ratio=8):stages=2,3:pos=standard");
//   Placement::parse("none");  Placement::parse("se");  Placement::parse("eca(k_size=5):pos=post");
//   Placement::parse("se:stages=1:blocks=0,2");
//
// Stages are 1-based (stage 1 is the first group of blocks), blocks 0-based
// within their stage; both default to all. A host network asks, per block:
//
//   if (placement.applies(stage, block)) att = placement.make(channels);
#pragma once

#include <optional>
#include <set>
#include <string>

#include "attention/registry.h"

namespace heed::attention {

enum class Position { Standard, Pre, Post, Identity };

const char* position_name(Position p);          // "standard", "pre", "post", "identity"
Position parse_position(const std::string& s);  // errors list the valid names

struct Placement {
  std::string module;                   // registry name; empty = no attention
  Options options;                      // module options (validated names)
  std::optional<std::set<int>> stages;  // 1-based; nullopt = every stage
  std::optional<std::set<int>> blocks;  // 0-based within a stage; nullopt = every block
  Position position = Position::Standard;

  // "none", or module[(key=value,...)][:stages=...][:blocks=...][:pos=...]
  // (stages/blocks: "all" or comma-separated indices). Errors name the
  // malformed part and list what is valid.
  static Placement parse(const std::string& spec);
  static Placement none() { return {}; }

  bool enabled() const { return !module.empty(); }
  // The canonical text (options sorted, defaults left out); parse(str()) == *this.
  std::string str() const;
  // Whether block `block` (0-based) of stage `stage` (1-based) gets a module.
  bool applies(int stage, int block) const;
  // A new module for a feature map with `channels` channels.
  AttentionModule make(int64_t channels) const;

  bool operator==(const Placement& other) const = default;
};

}  // namespace heed::attention

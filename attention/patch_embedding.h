// PatchEmbedding: a ViT's conv patchify (timm PatchEmbed), attention_spec.md §11.
//
//   attention::PatchEmbedding pe(32, 4, 3, 192);  // 32×32 images, 4×4 patches -> 64 tokens
//   Tensor tokens = pe(images);                    // (B, 64, 192)
#pragma once

#include "attention/attention_module.h"
#include "nn/conv.h"

namespace heed::attention {

struct PatchEmbeddingOptions {
  bool bias = true;  // false for CLIP-style pre-norm ViTs
};

// proj = Conv2d(in_chans, embed_dim, kernel = stride = patch_size);
// (B, C, H, W) -> proj -> flatten(2).transpose(1, 2) -> (B, N_p, embed_dim),
// patches in row-major grid order (W fastest). The input must be img_size
// (timm's strict_img_size). State: proj.weight, proj.bias.
class PatchEmbeddingImpl : public nn::Module {
 public:
  using Options = PatchEmbeddingOptions;
  PatchEmbeddingImpl(nn::Size2 img_size, nn::Size2 patch_size, int64_t in_chans, int64_t embed_dim,
                     const PatchEmbeddingOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;
  nn::Size2 img_size, patch_size;
  int64_t in_chans, embed_dim;
  int64_t grid_h, grid_w, num_patches;
  nn::Conv2d proj{nullptr};
};
HEED_MODULE(PatchEmbedding);

}  // namespace heed::attention

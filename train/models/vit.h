// A Vision Transformer for small images (Dosovitskiy et al. 2021), timm's
// layout and names: patch_embed.proj (conv, kernel = stride = patch),
// cls_token (1, 1, D), pos_embed (1, N + 1, D) learned, blocks.i
// (pre-norm TransformerEncoderLayer: norm1, attn.qkv, attn.proj, norm2,
// mlp.fc1, mlp.fc2), norm, head.
//
//   auto vit = train::ViT({.image_size = 28, .in_channels = 1, .dim = 96, .depth = 4});
//   Tensor logits = vit(x);   // (B, 1, 28, 28) -> (B, 10); 7×7 = 49 patches + cls
//
// Without the cls token the head reads the mean of the patch tokens.
#pragma once

#include "attention/patch_embedding.h"
#include "attention/transformer.h"
#include "nn/container.h"
#include "nn/linear.h"
#include "nn/normalization.h"

namespace heed::train {

struct ViTOptions {
  int64_t image_size = 32;
  int64_t patch_size = 4;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  int64_t dim = 192;
  int64_t depth = 6;
  int64_t heads = 3;
  double mlp_ratio = 2.0;
  bool cls_token = true;
  double dropout = 0.0;  // after attention proj and in the MLP
};

class ViTImpl : public nn::Module {
 public:
  using Options = ViTOptions;
  explicit ViTImpl(const ViTOptions& options = {});
  Tensor forward(const Tensor& x);  // (B, C, H, W) -> (B, num_classes)
  std::string extra_repr() const override;

  ViTOptions options;
  attention::PatchEmbedding patch_embed{nullptr};
  Tensor cls_token;  // (1, 1, D), when options.cls_token
  Tensor pos_embed;  // (1, N (+1), D)
  nn::Sequential blocks{nullptr};
  nn::LayerNorm norm{nullptr};
  nn::Linear head{nullptr};
};
HEED_MODULE(ViT);

}  // namespace heed::train

#include "train/models/vit.h"

#include "nn/init.h"

namespace heed::train {

ViTImpl::ViTImpl(const ViTOptions& o) : options(o) {
  HEED_CHECK(o.image_size > 0 && o.patch_size > 0 && o.image_size % o.patch_size == 0,
             "ViT: image_size (", o.image_size, ") must be a positive multiple of patch_size (",
             o.patch_size, ")");
  HEED_CHECK(o.dim > 0 && o.heads > 0 && o.dim % o.heads == 0, "ViT: dim (", o.dim,
             ") must be a positive multiple of heads (", o.heads, ")");
  HEED_CHECK(o.depth >= 1, "ViT: depth must be >= 1, got ", o.depth);
  patch_embed = register_module(
      "patch_embed", attention::PatchEmbedding(o.image_size, o.patch_size, o.in_channels, o.dim));
  const int64_t n = patch_embed->num_patches + (o.cls_token ? 1 : 0);
  if (o.cls_token) cls_token = register_parameter("cls_token", zeros({1, 1, o.dim}));
  pos_embed = register_parameter("pos_embed", zeros({1, n, o.dim}));
  nn::init::trunc_normal_(pos_embed, 0.0, 0.02);
  nn::Sequential seq;
  for (int64_t i = 0; i < o.depth; ++i)
    seq->push_back(attention::TransformerEncoderLayer(
        o.dim, o.heads, {.mlp_ratio = o.mlp_ratio, .qkv_bias = true, .proj_drop = o.dropout}));
  blocks = register_module("blocks", seq);
  norm = register_module("norm", nn::LayerNorm(o.dim, {.eps = 1e-6}));
  head = register_module("head", nn::Linear(o.dim, o.num_classes));
}

Tensor ViTImpl::forward(const Tensor& x) {
  HEED_CHECK(x.dim() == 4 && x.size(1) == options.in_channels && x.size(2) == options.image_size &&
                 x.size(3) == options.image_size,
             "ViT: expected input (B, ", options.in_channels, ", ", options.image_size, ", ",
             options.image_size, "), got ", shape_str(x.shape()));
  const int64_t B = x.size(0);
  Tensor t = patch_embed(x);                                                       // (B, N, D)
  if (options.cls_token) t = cat({expand(cls_token, {B, 1, options.dim}), t}, 1);  // (B, N+1, D)
  t = norm(blocks(t + pos_embed));
  Tensor pooled = options.cls_token ? select(t, 1, 0) : mean(t, {1});  // (B, D)
  return head(pooled);
}

std::string ViTImpl::extra_repr() const {
  return "patch_size=" + std::to_string(options.patch_size) +
         ", dim=" + std::to_string(options.dim) + ", depth=" + std::to_string(options.depth) +
         ", heads=" + std::to_string(options.heads);
}

}  // namespace heed::train

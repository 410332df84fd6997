#include "attention/patch_embedding.h"

namespace heed::attention {

PatchEmbeddingImpl::PatchEmbeddingImpl(nn::Size2 img_size, nn::Size2 patch_size, int64_t in_chans,
                                       int64_t embed_dim, const PatchEmbeddingOptions& options)
    : img_size(img_size), patch_size(patch_size), in_chans(in_chans), embed_dim(embed_dim) {
  HEED_CHECK(patch_size.h > 0 && patch_size.w > 0 && in_chans > 0 && embed_dim > 0,
             "PatchEmbedding: patch_size, in_chans and embed_dim must be positive, got ",
             patch_size.tuple_str(), ", ", in_chans, ", ", embed_dim);
  HEED_CHECK(img_size.h > 0 && img_size.w > 0 && img_size.h % patch_size.h == 0 &&
                 img_size.w % patch_size.w == 0,
             "PatchEmbedding: img_size ", img_size.tuple_str(),
             " must be a positive multiple of patch_size ", patch_size.tuple_str());
  grid_h = img_size.h / patch_size.h;
  grid_w = img_size.w / patch_size.w;
  num_patches = grid_h * grid_w;
  proj = register_module("proj", nn::Conv2d(in_chans, embed_dim, patch_size,
                                            {.stride = patch_size, .bias = options.bias}));
}

Tensor PatchEmbeddingImpl::forward(const Tensor& x) {
  HEED_CHECK(
      x.dim() == 4 && x.size(1) == in_chans && x.size(2) == img_size.h && x.size(3) == img_size.w,
      "PatchEmbedding: expected (B, ", in_chans, ", ", img_size.h, ", ", img_size.w, "), got ",
      shape_str(x.shape()));
  return proj(x).flatten(2).transpose(1, 2);  // (B, N_p, D)
}

std::string PatchEmbeddingImpl::extra_repr() const {
  return "img_size=" + img_size.tuple_str() + ", patch_size=" + patch_size.tuple_str() +
         ", in_chans=" + std::to_string(in_chans) + ", embed_dim=" + std::to_string(embed_dim);
}

}  // namespace heed::attention

// The Transformer encoder block of a ViT, attention_spec.md §10, with timm's
// names (Block, Attention, Mlp): norm1, attn.qkv, attn.proj, norm2, mlp.fc1,
// mlp.fc2. Pre-norm by default (timm, ViT); post-norm is the original
// Transformer's order (equal to torch.nn.TransformerEncoderLayer with
// norm_first=False, activation="gelu", once in_proj is renamed attn.qkv).
//
//   attention::TransformerEncoderLayer block(192, 3, {.mlp_ratio = 2, .qkv_bias = true});
//   Tensor y = block(x);  // (B, N, 192)
#pragma once

#include "attention/attention_module.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/normalization.h"

namespace heed::attention {

struct MultiHeadSelfAttentionOptions {
  bool qkv_bias = false;
  double attn_drop = 0.0;
  double proj_drop = 0.0;
};

// timm Attention: qkv = Linear(dim, 3·dim) packed [q | k | v], each split
// into heads of head_dim contiguous features; attn = softmax((q·scale) kᵀ)
// with scale = head_dim^-0.5; (attn v) -> proj.
// x (B, N, dim) -> (B, N, dim). Map "weights": (B, heads, N, N).
class MultiHeadSelfAttentionImpl : public nn::Module, public MapRecorder {
 public:
  using Options = MultiHeadSelfAttentionOptions;
  MultiHeadSelfAttentionImpl(int64_t dim, int64_t num_heads,
                             const MultiHeadSelfAttentionOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string type_name() const override { return "Attention"; }
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>& out) const override;
  int64_t dim, num_heads, head_dim;
  double scale;
  MultiHeadSelfAttentionOptions options;
  nn::Linear qkv{nullptr}, proj{nullptr};
  nn::Dropout attn_drop{nullptr}, proj_drop{nullptr};
};
HEED_MODULE(MultiHeadSelfAttention);

// timm Mlp: fc1 (dim -> hidden), GELU (exact erf form), fc2 (hidden -> dim),
// dropout after each.
class MlpImpl : public nn::Module {
 public:
  MlpImpl(int64_t in_features, int64_t hidden_features, double drop = 0.0);
  Tensor forward(const Tensor& x);
  nn::Linear fc1{nullptr}, fc2{nullptr};
  nn::GELU act{nullptr};
  nn::Dropout drop1{nullptr}, drop2{nullptr};
};
HEED_MODULE(Mlp);

struct TransformerEncoderLayerOptions {
  double mlp_ratio = 4.0;  // hidden = int(dim · mlp_ratio)
  bool qkv_bias = false;   // timm Block's default; VisionTransformer passes true
  bool pre_norm = true;    // x + attn(norm1(x)); post-norm: norm1(x + attn(x))
  double norm_eps = 1e-6;  // timm's LayerNorm eps (PyTorch's default is 1e-5)
  double attn_drop = 0.0;
  double proj_drop = 0.0;  // after attn.proj and in the MLP
};

// Pre-norm:  x = x + attn(norm1(x)); x = x + mlp(norm2(x)).
// Post-norm: x = norm1(x + attn(x)); x = norm2(x + mlp(x)).
// x (B, N, dim) -> (B, N, dim). Map "weights": attn's (B, heads, N, N).
class TransformerEncoderLayerImpl : public nn::Module, public MapRecorder {
 public:
  using Options = TransformerEncoderLayerOptions;
  TransformerEncoderLayerImpl(int64_t dim, int64_t num_heads,
                              const TransformerEncoderLayerOptions& options = {});
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;
  int64_t dim, num_heads, hidden;
  TransformerEncoderLayerOptions options;
  nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  MultiHeadSelfAttention attn{nullptr};
  Mlp mlp{nullptr};
};
HEED_MODULE(TransformerEncoderLayer);

}  // namespace heed::attention

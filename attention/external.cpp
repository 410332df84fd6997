#include "attention/external.h"

#include "attention/zoo_common.h"
#include "nn/init.h"

namespace heed::attention {

using namespace zoo_detail;

namespace {
void make_memories(nn::Module& m, int64_t d_model, int64_t S, nn::Linear& mk, nn::Linear& mv) {
  HEED_CHECK(d_model > 0 && S > 0, "ExternalAttention: d_model and S must be > 0, got ", d_model,
             " and ", S);
  mk = m.register_module("mk", nn::Linear(d_model, S, {.bias = false}));
  mv = m.register_module("mv", nn::Linear(S, d_model, {.bias = false}));
}

void init_memories(const nn::Linear& mk, const nn::Linear& mv) {
  nn::init::normal_(mk->weight, 0.0, 0.001);
  nn::init::normal_(mv->weight, 0.0, 0.001);
}

// tokens (B, N, d) -> ((B, N, d), attn (B, N, S)).
std::pair<Tensor, Tensor> external_attention(const Tensor& q, const nn::Linear& mk,
                                             const nn::Linear& mv) {
  Tensor attn = softmax(mk(q), 1);    // over the tokens
  attn = attn / attn.sum({2}, true);  // ℓ1 over the memory slots
  return {mv(attn), attn};
}

int64_t softmax_cost(const Shape& tokens, int64_t S) {
  // exp, sum and divide for the softmax, sum and divide for the ℓ1 step.
  return 5 * tokens[0] * tokens[1] * S;
}
}  // namespace

ExternalAttentionImpl::ExternalAttentionImpl(int64_t d_model,
                                             const ExternalAttentionOptions& options)
    : d_model(d_model), options(options) {
  HEED_CHECK(!options.residual, "ExternalAttention: residual applies to ExternalAttention2d only");
  make_memories(*this, d_model, options.S, mk, mv);
  reset_parameters();
}

void ExternalAttentionImpl::reset_parameters() {
  init_memories(mk, mv);
}

Tensor ExternalAttentionImpl::forward(const Tensor& queries) {
  HEED_CHECK(queries.defined() && queries.dim() == 3 && queries.size(2) == d_model,
             "ExternalAttention: expected queries (B, N, ", d_model, "), got ",
             queries.defined() ? shape_str(queries.shape()) : std::string("undefined"));
  auto [out, attn] = external_attention(queries, mk, mv);
  keep_map("weights", attn);
  return out;
}

std::string ExternalAttentionImpl::extra_repr() const {
  return "d_model=" + std::to_string(d_model) + ", S=" + std::to_string(options.S);
}

nn::ModuleCost ExternalAttentionImpl::cost(const std::vector<Shape>& in,
                                           const std::vector<Shape>&) const {
  return {0, in.empty() ? 0 : softmax_cost(in[0], options.S)};  // mk and mv report their MACs
}

ExternalAttention2dImpl::ExternalAttention2dImpl(int64_t channels,
                                                 const ExternalAttentionOptions& options)
    : channels(channels), options(options) {
  make_memories(*this, channels, options.S, mk, mv);
  reset_parameters();
}

void ExternalAttention2dImpl::reset_parameters() {
  init_memories(mk, mv);
}

Tensor ExternalAttention2dImpl::forward(const Tensor& x) {
  check_feature_map("ExternalAttention2d", x, channels);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor tokens = x.flatten(2).transpose(1, 2);  // (B, N, C)
  auto [out, attn] = external_attention(tokens, mk, mv);
  keep_map("weights", attn);
  out = out.transpose(1, 2).reshape({B, C, H, W});
  return options.residual ? x + out : out;
}

std::string ExternalAttention2dImpl::extra_repr() const {
  return "channels=" + std::to_string(channels) + ", S=" + std::to_string(options.S) +
         ", residual=" + nn::detail::py_bool(options.residual);
}

nn::ModuleCost ExternalAttention2dImpl::cost(const std::vector<Shape>& in,
                                             const std::vector<Shape>&) const {
  if (in.empty()) return {};
  const Shape& s = in[0];  // (B, C, H, W) as tokens (B, H·W, C)
  return {
      0, softmax_cost({s[0], s[2] * s[3], s[1]}, options.S) + (options.residual ? numel_of(s) : 0)};
}

}  // namespace heed::attention

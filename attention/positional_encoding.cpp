#include "attention/positional_encoding.h"

#include <cmath>
#include <vector>

namespace heed::attention {

PositionalEncodingImpl::PositionalEncodingImpl(int64_t d_model,
                                               const PositionalEncodingOptions& options)
    : d_model(d_model), options(options) {
  HEED_CHECK(d_model > 0 && options.max_len > 0,
             "PositionalEncoding: d_model and max_len must be positive, got ", d_model, " and ",
             options.max_len);
  HEED_CHECK(options.dropout >= 0 && options.dropout < 1,
             "PositionalEncoding: dropout must be in [0, 1), got ", options.dropout);
  const int64_t L = options.max_len, d = d_model;
  // The float32 recipe step by step (its rounding is what checkpoints hold).
  std::vector<float> div;
  const float c = float(-std::log(10000.0) / double(d));
  for (int64_t i = 0; i < d; i += 2) div.push_back(std::exp(float(i) * c));
  std::vector<float> table(size_t(L * d));  // (L, d)
  for (int64_t p = 0; p < L; ++p) {
    for (int64_t j = 0; j < d; ++j) {
      const float arg = float(p) * div[size_t(j / 2)];
      table[size_t(p * d + j)] = j % 2 == 0 ? std::sin(arg) : std::cos(arg);
    }
  }
  Shape shape = options.batch_first ? Shape{1, L, d} : Shape{L, 1, d};
  pe = register_buffer("pe", from_vector(table, shape));
}

Tensor PositionalEncodingImpl::forward(const Tensor& x) {
  const int64_t seq_dim = options.batch_first ? 1 : 0;
  HEED_CHECK(x.dim() == 3 && x.size(2) == d_model, "PositionalEncoding: expected ",
             options.batch_first ? "(B, T, " : "(T, B, ", d_model, "), got ", shape_str(x.shape()));
  const int64_t T = x.size(seq_dim);
  HEED_CHECK(T <= options.max_len, "PositionalEncoding: sequence length ", T, " exceeds max_len ",
             options.max_len);
  return dropout(x + pe.narrow(seq_dim, 0, T), options.dropout, is_training());
}

std::string PositionalEncodingImpl::extra_repr() const {
  return "d_model=" + std::to_string(d_model) + ", max_len=" + std::to_string(options.max_len);
}

}  // namespace heed::attention

#include "nn/rnn.h"

#include <cmath>

#include "nn/init.h"

namespace heed::nn {

LSTMImpl::LSTMImpl(int64_t in, int64_t hidden, const LSTMOptions& o)
    : input_size(in), hidden_size(hidden), options(o) {
  HEED_CHECK(in > 0 && hidden > 0, "LSTM: input_size and hidden_size must be positive, got ", in,
             " and ", hidden);
  HEED_CHECK(o.num_layers > 0, "LSTM: num_layers must be positive, got ", o.num_layers);
  HEED_CHECK(o.dropout >= 0 && o.dropout <= 1, "LSTM: dropout should be a number in [0, 1], got ",
             o.dropout);
  const int64_t D = o.bidirectional ? 2 : 1, H = hidden;
  // Registration order is PyTorch's: per layer, per direction, w_ih w_hh b_ih b_hh.
  for (int64_t l = 0; l < o.num_layers; ++l) {
    const int64_t layer_in = l == 0 ? in : D * H;
    for (int64_t d = 0; d < D; ++d) {
      std::string sfx = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      Weights w;
      w.w_ih = register_parameter("weight_ih" + sfx, empty({4 * H, layer_in}));
      w.w_hh = register_parameter("weight_hh" + sfx, empty({4 * H, H}));
      if (o.bias) {
        w.b_ih = register_parameter("bias_ih" + sfx, empty({4 * H}));
        w.b_hh = register_parameter("bias_hh" + sfx, empty({4 * H}));
      }
      weights.push_back(w);
    }
  }
  reset_parameters();
}

void LSTMImpl::reset_parameters(Generator* gen) {
  double bound = 1.0 / std::sqrt(double(hidden_size));
  for (Tensor& p : parameters(false)) init::uniform_(p, -bound, bound, gen);
}

LSTMOutput LSTMImpl::forward(const Tensor& input, const Tensor& lengths, const LSTMState& state) {
  HEED_CHECK(input.dim() == 3 || input.dim() == 2, "LSTM: expected a 3-D input ",
             options.batch_first ? "(B, T, I)" : "(T, B, I)", " or a 2-D unbatched one (T, I), ",
             "got shape ", shape_str(input.shape()));
  if (input.dim() == 2) {
    // Unbatched: a batch of one, squeezed back.
    HEED_CHECK(!lengths.defined(), "LSTM: lengths need a batched (3-D) input");
    auto add_batch = [](const Tensor& t) { return t.defined() ? t.unsqueeze(1) : t; };
    LSTMOutput out = run(input.unsqueeze(1), lengths, {add_batch(state.h), add_batch(state.c)});
    return {out.output.squeeze(1), out.h_n.squeeze(1), out.c_n.squeeze(1)};
  }
  LSTMOutput out = run(options.batch_first ? input.transpose(0, 1) : input, lengths, state);
  if (options.batch_first) out.output = out.output.transpose(0, 1);
  return out;
}

LSTMOutput LSTMImpl::run(const Tensor& x, const Tensor& lengths, const LSTMState& state) {
  // x (T, B, I); the output returned is (T, B, D·H).
  const int64_t D = options.bidirectional ? 2 : 1, L = options.num_layers, H = hidden_size;
  const int64_t T = x.size(0), B = x.size(1);
  const Shape& input_shape = x.shape();
  const DType dtype = weights[0].w_ih.dtype();
  HEED_CHECK(x.size(2) == input_size, "LSTM: input of shape ", shape_str(input_shape), " has ",
             x.size(2), " features, expected ", input_size, " (input_size)");
  HEED_CHECK(x.dtype() == dtype, "LSTM: input is ", x.dtype(), " but the weights are ", dtype,
             " (convert the module with to(", x.dtype(), "))");
  HEED_CHECK(T > 0, "LSTM: the input has no time steps (time-major shape ", shape_str(input_shape),
             ")");

  // (T, B, 1) bool: whether step t is within sequence b's length.
  Tensor mask;
  if (lengths.defined()) {
    HEED_CHECK(lengths.dtype() == kInt64 && lengths.dim() == 1 && lengths.size(0) == B,
               "LSTM: lengths must be an int64 tensor of shape [", B, "] (the batch), got ",
               lengths.dtype(), " ", shape_str(lengths.shape()));
    HEED_CHECK(lengths.device().is_cpu(), "LSTM: lengths must be on the CPU, got ",
               lengths.device());
    for (int64_t len : lengths.to_vector<int64_t>())
      HEED_CHECK(len >= 1 && len <= T, "LSTM: every length must be in [1, ", T,
                 "] (the number of time steps), got ", len);
    mask = lt(arange(double(T), kInt64).reshape({T, 1}), lengths.reshape({1, B})).unsqueeze(2);
  }
  const Shape state_shape{L * D, B, H};
  for (const Tensor* s : {&state.h, &state.c})
    if (s->defined())
      HEED_CHECK(s->shape() == state_shape && s->dtype() == dtype, "LSTM: initial state of ",
                 s->dtype(), " ", shape_str(s->shape()), ", expected ", dtype, " ",
                 shape_str(state_shape), " (num_layers·directions, batch, hidden)");
  const Tensor zero = zeros({}, dtype);

  std::vector<Tensor> h_n, c_n;
  Tensor layer_in = x;  // (T, B, I_l)
  for (int64_t l = 0; l < L; ++l) {
    // Input projections of every step and both directions in one matmul:
    // (T·B, I_l) · (D·4H, I_l)ᵀ + (b_ih + b_hh), as (T, B, D·4H).
    std::vector<Tensor> w_ih, b;
    for (int64_t d = 0; d < D; ++d) {
      const Weights& w = weights[size_t(l * D + d)];
      w_ih.push_back(w.w_ih);
      if (options.bias) b.push_back(w.b_ih + w.b_hh);
    }
    Tensor w_cat = D == 1 ? w_ih[0] : cat(w_ih, 0);
    Tensor b_cat = !options.bias ? Tensor() : (D == 1 ? b[0] : cat(b, 0));
    const int64_t in_l = layer_in.size(2);
    Tensor xp = linear(layer_in.reshape({T * B, in_l}), w_cat, b_cat).reshape({T, B, D * 4 * H});

    std::vector<Tensor> dir_out;
    for (int64_t d = 0; d < D; ++d) {
      const Weights& w = weights[size_t(l * D + d)];
      Tensor xpd = D == 1 ? xp : xp.narrow(2, d * 4 * H, 4 * H);  // (T, B, 4H)
      Tensor h = state.h.defined() ? state.h.select(0, l * D + d) : zeros({B, H}, dtype);
      Tensor c = state.c.defined() ? state.c.select(0, l * D + d) : zeros({B, H}, dtype);
      std::vector<Tensor> outs(static_cast<size_t>(T));
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = d == 0 ? s : T - 1 - s;
        Tensor gates = xpd.select(0, t) + linear(h, w.w_hh);  // (B, 4H)
        std::vector<Tensor> g = chunk(gates, 4, 1);           // i, f, g, o: (B, H) each
        Tensor c_new = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
        Tensor h_new = sigmoid(g[3]) * tanh(c_new);
        if (mask.defined()) {
          // Past a sequence's end its state stays, and its output is zero; the
          // reverse direction thus starts from the initial state at its last step.
          Tensor m = mask.select(0, t);  // (B, 1)
          h = where(m, h_new, h);
          c = where(m, c_new, c);
          outs[size_t(t)] = where(m, h_new, zero);
        } else {
          h = h_new;
          c = c_new;
          outs[size_t(t)] = h_new;
        }
      }
      dir_out.push_back(stack(outs, 0));  // (T, B, H)
      h_n.push_back(h);
      c_n.push_back(c);
    }
    layer_in = D == 1 ? dir_out[0] : cat(dir_out, 2);  // (T, B, D·H)
    if (l + 1 < L && options.dropout > 0 && is_training())
      layer_in = dropout(layer_in, options.dropout, true);
  }
  return {layer_in, stack(h_n, 0), stack(c_n, 0)};
}

std::string LSTMImpl::extra_repr() const {
  std::string s = std::to_string(input_size) + ", " + std::to_string(hidden_size);
  if (options.num_layers != 1) s += ", num_layers=" + std::to_string(options.num_layers);
  if (!options.bias) s += ", bias=False";
  if (options.batch_first) s += ", batch_first=True";
  if (options.dropout != 0) s += ", dropout=" + detail::py_float(options.dropout);
  if (options.bidirectional) s += ", bidirectional=True";
  return s;
}

ModuleCost LSTMImpl::cost(const std::vector<Shape>& in, const std::vector<Shape>&) const {
  // Per step, direction and sequence: 4H·(I_l + H) MACs, and 13H element-wise
  // FLOPs (gate sum 4H, activations 5H, c' 3H, h' 1H).
  if (in.empty() || in[0].size() < 2) return {};
  const int64_t steps = numel_of(in[0]) / in[0].back();  // T·B
  const int64_t D = options.bidirectional ? 2 : 1, H = hidden_size;
  ModuleCost c;
  for (int64_t l = 0; l < options.num_layers; ++l) {
    const int64_t in_l = l == 0 ? input_size : D * H;
    c.macs += D * steps * 4 * H * (in_l + H);
    c.elementwise += D * steps * 13 * H;
  }
  return c;
}

}  // namespace heed::nn

// LSTM: PyTorch golden values (initial state, variable lengths via
// pack_padded_sequence, two bidirectional layers), gradchecks, and the
// properties of variable-length batches.
#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;
using Catch::Contains;

namespace {

void check_lstm_golden(const std::string& c, const nn::LSTM& lstm) {
  const Fixtures& fx = fixtures();
  INFO("case " << c);
  CHECK(lstm->repr() == fx.metadata.at(c + "/repr"));
  lstm->load_state_dict(fx.under(c + "/param/"));
  Tensor x = fx(c + "/x").detach().requires_grad_();
  nn::LSTMState state;
  if (fx.has(c + "/h0")) {
    state.h = fx(c + "/h0").detach().requires_grad_();
    state.c = fx(c + "/c0").detach().requires_grad_();
  }
  Tensor lengths = fx.has(c + "/lengths") ? fx(c + "/lengths") : Tensor();
  auto [y, h, cn] = lstm(x, lengths, state);
  check_close(y, fx(c + "/y"), c + "/y");
  check_close(h, fx(c + "/h_n"), c + "/h_n");
  check_close(cn, fx(c + "/c_n"), c + "/c_n");
  (sum(y * fx(c + "/gy")) + sum(h * fx(c + "/gh")) + sum(cn * fx(c + "/gc"))).backward();
  check_close(x.grad(), fx(c + "/gx"), c + "/gx");
  if (state.h.defined()) {
    check_close(state.h.grad(), fx(c + "/gh0"), c + "/gh0");
    check_close(state.c.grad(), fx(c + "/gc0"), c + "/gc0");
  }
  for (const auto& [k, p] : lstm->named_parameters())
    check_close(p.grad(), fx(c + "/grad/" + k), c + "/grad/" + k);
}

}  // namespace

TEST_CASE("LSTM parameter names and shapes are PyTorch's", "[nn][lstm]") {
  nn::LSTM lstm(4, 5, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> keys;
  for (const auto& [k, p] : lstm->named_parameters()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                         "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                                         "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_ih_l1",
                                         "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                                         "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                                         "bias_ih_l1_reverse", "bias_hh_l1_reverse"});
  auto sd = lstm->state_dict();
  CHECK(sd.at("weight_ih_l0").shape() == Shape{20, 4});
  CHECK(sd.at("weight_ih_l1").shape() == Shape{20, 10});  // input is both directions
  CHECK(sd.at("weight_hh_l1_reverse").shape() == Shape{20, 5});
  CHECK(nn::LSTM(3, 2, {.bias = false})->named_parameters().size() == 2);
}

TEST_CASE("LSTM matches PyTorch with an initial state", "[nn][lstm][golden]") {
  check_lstm_golden("lstm", nn::LSTM(4, 5));
}

TEST_CASE("LSTM with variable lengths matches pack_padded_sequence", "[nn][lstm][golden]") {
  check_lstm_golden("lstm_len", nn::LSTM(3, 4));
}

TEST_CASE("two-layer BiLSTM, batch_first, with lengths, matches PyTorch", "[nn][lstm][golden]") {
  check_lstm_golden("bilstm2",
                    nn::LSTM(4, 5, {.num_layers = 2, .batch_first = true, .bidirectional = true}));
}

TEST_CASE("BiLSTM without bias or lengths matches PyTorch", "[nn][lstm][golden]") {
  check_lstm_golden("bilstm_nolen", nn::LSTM(3, 2, {.bias = false, .bidirectional = true}));
}

TEST_CASE("variable lengths: zero outputs past the end, state from the last valid step",
          "[nn][lstm]") {
  manual_seed(5);
  nn::LSTM lstm(3, 4, {.batch_first = true, .bidirectional = true});
  Tensor x = randn({2, 5, 3});
  Tensor lengths = tensor({5, 2}, kInt64);
  auto full = lstm(x, lengths);
  // Sequence 1 alone, cut to its 2 valid steps, gives the same numbers.
  auto alone = lstm(x.narrow(0, 1, 1).narrow(1, 0, 2));
  check_close(full.output.narrow(0, 1, 1).narrow(1, 0, 2), alone.output, "valid steps", 1e-5, 1e-6);
  check_close(full.h_n.narrow(1, 1, 1), alone.h_n, "h_n", 1e-5, 1e-6);
  check_close(full.c_n.narrow(1, 1, 1), alone.c_n, "c_n", 1e-5, 1e-6);
  CHECK(full.output.narrow(0, 1, 1).narrow(1, 2, 3).abs().sum().item() == 0.0);
  // The reverse direction ignores the padding: changing it changes nothing.
  Tensor x2 = x.clone();
  {
    NoGradGuard g;
    x2.narrow(0, 1, 1).narrow(1, 2, 3).fill_(100.0);
  }
  check_close(lstm(x2, lengths).output, full.output, "padding ignored", 0, 0);
  CHECK_THROWS_WITH(lstm(x, tensor({5, 0}, kInt64)), Contains("every length must be in [1, 5]"));
  CHECK_THROWS_WITH(lstm(x, tensor({5, 2, 1}, kInt64)),
                    Contains("lengths must be an int64 tensor of shape [2]"));
}

TEST_CASE("LSTM layouts: batch_first and unbatched agree with time-major", "[nn][lstm]") {
  manual_seed(6);
  nn::LSTM tm(3, 2, {.num_layers = 2});
  nn::LSTM bf(3, 2, {.num_layers = 2, .batch_first = true});
  bf->load_state_dict(tm->state_dict());
  Tensor x = randn({4, 2, 3});  // (T, B, I)
  auto a = tm(x);
  auto b = bf(x.transpose(0, 1));
  CHECK(a.output.shape() == Shape{4, 2, 2});
  CHECK(a.h_n.shape() == Shape{2, 2, 2});
  check_close(b.output.transpose(0, 1), a.output, "batch_first", 0, 0);
  auto u = tm(x.select(1, 0));  // (T, I)
  CHECK(u.output.shape() == Shape{4, 2});
  CHECK(u.h_n.shape() == Shape{2, 2});
  check_close(u.output, a.output.select(1, 0), "unbatched", 1e-6, 1e-7);
  CHECK_THROWS_WITH(tm(randn({4, 2, 5})), Contains("has 5 features, expected 3 (input_size)"));
  CHECK_THROWS_WITH(tm(x, Tensor(), nn::LSTMState{zeros({1, 2, 2}), zeros({1, 2, 2})}),
                    Contains("expected float32 [2, 2, 2]"));
}

TEST_CASE("LSTM and BiLSTM pass gradcheck in float64", "[nn][lstm][gradcheck]") {
  manual_seed(7);
  SECTION("two layers with an initial state") {
    nn::LSTM lstm(3, 2, {.num_layers = 2});
    lstm->to(kFloat64);
    Tensor h0 = input64({2, 2, 2}, 3), c0 = input64({2, 2, 2}, 4);
    std::vector<Tensor> inputs{input64({3, 2, 3}), h0, c0};
    for (const Tensor& p : lstm->parameters()) inputs.push_back(p);
    auto r = gradcheck(
        [&](const std::vector<Tensor>& in) {
          auto o = lstm(in[0], Tensor(), nn::LSTMState{in[1], in[2]});
          return cat({o.output.flatten(), o.h_n.flatten(), o.c_n.flatten()});
        },
        inputs);
    INFO(r.message);
    CHECK(r.ok);
  }
  SECTION("bidirectional, batch_first, variable lengths") {
    nn::LSTM lstm(2, 3, {.batch_first = true, .bidirectional = true});
    lstm->to(kFloat64);
    Tensor lengths = tensor({4, 1, 3}, kInt64);
    auto r = gradcheck_module(
        *lstm,
        [&](const Tensor& x) {
          auto o = lstm(x, lengths);
          return cat({o.output.flatten(), o.h_n.flatten(), o.c_n.flatten()});
        },
        input64({3, 4, 2}));
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("LSTM cost counts 4·H·(I + H) MACs per step and direction", "[nn][lstm]") {
  nn::LSTM lstm(4, 5, {.num_layers = 2, .bidirectional = true});
  auto c = lstm->cost({{6, 3, 4}}, {});
  // layer 0: 2 dirs · 18 steps · 20·(4 + 5); layer 1: 2 · 18 · 20·(10 + 5)
  CHECK(c.macs == 2 * 18 * 20 * 9 + 2 * 18 * 20 * 15);
}

// summary(): rows, output shapes, parameter counts, MACs and FLOPs, modes restored.
#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;

namespace {
// A module that multiplies matrices itself and reports the cost, as attention modules do.
class GramImpl : public nn::Module {
 public:
  Tensor forward(const Tensor& x) { return matmul(x, x.transpose(1, 2)); }  // (B, N, N)
  nn::ModuleCost cost(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    const Shape& s = in.at(0);  // (B, N, D): B·N·N·D MACs
    return {s[0] * s[1] * s[1] * s[2], 0};
  }
};
HEED_MODULE(Gram);
}  // namespace

TEST_CASE("summary counts a ResNet block's parameters and MACs", "[nn][summary]") {
  BasicBlock block(3, 4, 2);
  nn::Summary s = nn::summary(block, {2, 3, 8, 8});
  std::vector<std::string> names;
  for (const auto& r : s.rows) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"", "conv1", "bn1", "conv2", "bn2", "shortcut",
                                          "shortcut.0", "shortcut.1"});
  CHECK(s.rows[0].type == "BasicBlock");
  CHECK(s.rows[1].output_shapes == std::vector<Shape>{{2, 4, 4, 4}});
  CHECK(s.rows[6].depth == 2);
  // conv1 108 + conv2 144 + shortcut conv 12 weights, three BNs of 8.
  CHECK(s.total_params == 288);
  CHECK(s.trainable_params == 288);
  CHECK(s.rows[5].params == 12 + 8);
  // MACs: out numel 128 · (C_in/groups) · kh · kw: 128·3·9 + 128·4·9 + 128·3.
  CHECK(s.rows[1].macs == 3456);
  CHECK(s.total_macs == 3456 + 4608 + 384);
  CHECK(s.rows[0].macs == s.total_macs);
  CHECK(s.rows[5].macs == 384);
  // FLOPs: 2·MACs + 2 per element for each BN (3 × 128 elements).
  CHECK(s.total_flops == 2 * s.total_macs + 3 * 2 * 128);
  std::string table = s.table();
  CHECK_THAT(table, Catch::Contains("Total params: 288"));
  CHECK_THAT(table, Catch::Contains("  shortcut.0 (Conv2d)"));
  CHECK_THAT(table, Catch::Contains("Total MACs: 8,448 (8.45 K)"));
  CHECK(block->is_training());
  CHECK(block->bn1->num_batches_tracked.item() == 0);  // ran in eval mode
}

TEST_CASE("summary of an MLP, an LSTM and a module reporting its own cost", "[nn][summary]") {
  nn::Sequential mlp(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
  mlp->eval();
  nn::Summary s = nn::summary(mlp, {3, 4});
  CHECK(s.total_macs == 3 * 8 * 4 + 3 * 2 * 8);
  CHECK(s.total_flops == 2 * s.total_macs + 3 * 8);  // + the ReLU's 24 elements
  CHECK(s.total_params == 40 + 18);
  CHECK(!mlp->is_training());  // modes restored as they were

  nn::LSTM lstm(4, 5, {.bidirectional = true});
  s = nn::summary(lstm, {6, 3, 4});
  REQUIRE(s.rows.size() == 1);
  CHECK(s.rows[0].output_shapes == std::vector<Shape>{{6, 3, 10}, {2, 3, 5}, {2, 3, 5}});
  CHECK(s.total_macs == 2 * 18 * 4 * 5 * (4 + 5));

  nn::Sequential seq(nn::Linear(3, 6), Gram());
  s = nn::summary(seq, {2, 5, 3});
  CHECK(s.rows[2].type == "Gram");
  CHECK(s.rows[2].output_shapes == std::vector<Shape>{{2, 5, 5}});
  CHECK(s.total_macs == 2 * 5 * 6 * 3 + 2 * 5 * 5 * 6);
}

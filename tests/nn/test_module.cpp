// nn::Module: registration and names, traversal, modes, dtype conversion,
// state dicts, printing, holders, containers and hooks.
#include <nlohmann/json.hpp>

#include "nn_test_util.h"

using namespace heed;
using namespace heed::nn_test;
using Catch::Contains;

namespace {

// A module with a parameter, a persistent and a non-persistent buffer, and children.
class ToyImpl : public nn::Module {
 public:
  ToyImpl() {
    scale = register_parameter("scale", ones({3}));
    stats = register_buffer("stats", zeros({3}));
    scratch = register_buffer("scratch", zeros({2}), /*persistent=*/false);
    fc = register_module("fc", nn::Linear(3, 2));
    bn = register_module("bn", nn::BatchNorm1d(2));
  }
  Tensor forward(const Tensor& x) { return bn(fc(x * scale)); }
  Tensor scale, stats, scratch;
  nn::Linear fc{nullptr};
  nn::BatchNorm1d bn{nullptr};
};
HEED_MODULE(Toy);

std::vector<std::string> names_of(const nn::NamedTensors& v) {
  std::vector<std::string> out;
  for (const auto& [k, t] : v) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("registered names are PyTorch's dotted state_dict keys", "[nn][module]") {
  Toy toy;
  CHECK(names_of(toy->named_parameters()) ==
        std::vector<std::string>{"scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"});
  CHECK(names_of(toy->named_buffers()) ==
        std::vector<std::string>{"stats", "scratch", "bn.running_mean", "bn.running_var",
                                 "bn.num_batches_tracked"});
  // state_dict: per module parameters then persistent buffers, pre-order.
  CHECK(toy->state_dict().keys() ==
        std::vector<std::string>{"scale", "stats", "fc.weight", "fc.bias", "bn.weight", "bn.bias",
                                 "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"});
  CHECK(toy->parameters(/*recurse=*/false).size() == 1);
  CHECK(toy->named_children().size() == 2);
  CHECK(toy->named_children()[1].first == "bn");
  auto mods = toy->named_modules();
  REQUIRE(mods.size() == 3);
  CHECK(mods[0].first.empty());
  CHECK(mods[2].first == "bn");
  // num_batches_tracked is an int64 scalar, as PyTorch.
  Tensor nbt = toy->state_dict().at("bn.num_batches_tracked");
  CHECK(nbt.dtype() == kInt64);
  CHECK(nbt.dim() == 0);
}

TEST_CASE("a ResNet basic block has PyTorch's state_dict keys", "[nn][module]") {
  BasicBlock block(3, 4, 2);
  auto expected =
      nlohmann::json::parse(fixtures().metadata.at("block/keys")).get<std::vector<std::string>>();
  CHECK(block->state_dict().keys() == expected);
  CHECK(expected.size() == 18);  // 3 conv weights, 3 BNs × (2 params + 3 buffers)
}

TEST_CASE("registration errors name the module and the name", "[nn][module]") {
  Toy toy;
  CHECK_THROWS_WITH(toy->register_parameter("scale", ones({1})),
                    Contains("\"scale\" is already a parameter of Toy"));
  CHECK_THROWS_WITH(toy->register_buffer("fc", ones({1})),
                    Contains("\"fc\" is already a submodule of Toy"));
  CHECK_THROWS_WITH(toy->register_module("a.b", nn::ReLU()), Contains("contains '.'"));
  CHECK_THROWS_WITH(toy->register_parameter("", ones({1})), Contains("the name is empty"));
  CHECK_THROWS_WITH(toy->register_module("x", nn::Linear(nullptr)),
                    Contains("empty module holder"));
  CHECK_THROWS_WITH(toy->register_parameter("ints", ones({2}, kInt64)),
                    Contains("only floating-point parameters can require grad"));
}

TEST_CASE("shared tensors and modules are listed once", "[nn][module]") {
  nn::Linear shared(2, 2);
  nn::Sequential seq(shared, nn::ReLU(), shared);
  CHECK(seq->named_parameters().size() == 2);  // 0.weight, 0.bias
  CHECK(names_of(seq->named_parameters()) == std::vector<std::string>{"0.weight", "0.bias"});
  CHECK(seq->modules().size() == 3);  // seq, the Linear once, the ReLU
  // state_dict keeps both names, as PyTorch.
  CHECK(seq->state_dict().size() == 4);
}

TEST_CASE("train/eval reach every submodule; apply goes children first", "[nn][module]") {
  Toy toy;
  CHECK(toy->bn->is_training());
  toy->eval();
  CHECK(!toy->is_training());
  CHECK(!toy->bn->is_training());
  toy->train();
  CHECK(toy->fc->is_training());
  std::vector<std::string> order;
  toy->apply([&](nn::Module& m) { order.push_back(m.type_name()); });
  CHECK(order == std::vector<std::string>{"Linear", "BatchNorm1d", "Toy"});
}

TEST_CASE("zero_grad sets gradients to undefined", "[nn][module]") {
  Toy toy;
  toy->scale.set_grad(ones({3}));
  toy->fc->weight.set_grad(ones({2, 3}));
  toy->zero_grad();
  for (const Tensor& p : toy->parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("to(kFloat64) converts parameters and float buffers in place", "[nn][module]") {
  Toy toy;
  Tensor member = toy->fc->weight;  // a handle taken before the conversion
  auto before = toy->fc->weight.to_vector<double>();
  toy->fc->bias.set_grad(full({2}, 0.5));
  toy->to(kFloat64);
  for (const auto& [name, p] : toy->named_parameters()) {
    INFO(name);
    CHECK(p.dtype() == kFloat64);
    CHECK(p.is_leaf());
    CHECK(p.requires_grad());
  }
  CHECK(member.dtype() == kFloat64);  // the same TensorImpl
  CHECK(toy->fc->weight.to_vector<double>() == before);
  CHECK(toy->fc->bias.grad().dtype() == kFloat64);
  CHECK(toy->stats.dtype() == kFloat64);
  CHECK(toy->scratch.dtype() == kFloat64);
  CHECK(toy->bn->running_var.dtype() == kFloat64);
  CHECK(toy->bn->num_batches_tracked.dtype() == kInt64);
  CHECK_THROWS_WITH(toy->to(kInt64), Contains("only to a floating dtype"));
  // Moving to a device this build lacks is a clean error that changes nothing.
  CHECK_THROWS_WITH(toy->to(Device::cuda(0)), Contains("Module::to: cannot move Toy to cuda:0"));
  CHECK(toy->fc->weight.device().is_cpu());
  toy->to(kCPU);
  toy->to(kFloat32);
  CHECK(member.dtype() == kFloat32);
}

TEST_CASE("state_dict round-trips through load_state_dict", "[nn][module]") {
  Toy a, b;
  {
    NoGradGuard g;
    a->stats.fill_(2.5);
    a->bn->num_batches_tracked.fill_(7);
  }
  nn::StateDict sd = a->state_dict();
  // Tensors share storage with the module and are detached.
  CHECK(!sd.at("fc.weight").requires_grad());
  auto r = b->load_state_dict(sd);
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  CHECK(b->fc->weight.to_vector<float>() == a->fc->weight.to_vector<float>());
  CHECK(b->stats.to_vector<float>() == std::vector<float>{2.5, 2.5, 2.5});
  CHECK(b->bn->num_batches_tracked.item() == 7);
  CHECK(b->fc->weight.requires_grad());
  // float64 values convert to the module's float32.
  nn::StateDict sd64;
  for (const auto& [k, t] : sd) sd64.insert(k, t.is_floating_point() ? t.to(kFloat64) : t);
  b->load_state_dict(sd64);
  CHECK(b->fc->weight.dtype() == kFloat32);
}

TEST_CASE("load_state_dict errors list the offending keys and shapes", "[nn][module]") {
  Toy toy;
  nn::StateDict sd = toy->state_dict();
  nn::StateDict missing, extra, wrong;
  for (const auto& [k, t] : sd) {
    if (k != "fc.bias") missing.insert(k, t);
    extra.insert(k, t);
    wrong.insert(k, k == "fc.weight" ? zeros({3, 3}) : t);
  }
  extra.insert("fc.gamma", zeros({4, 1}));
  CHECK_THROWS_WITH(toy->load_state_dict(missing), Contains("missing keys: \"fc.bias\" [2]"));
  CHECK_THROWS_WITH(toy->load_state_dict(extra), Contains("unexpected keys: \"fc.gamma\" [4, 1]"));
  CHECK_THROWS_WITH(toy->load_state_dict(wrong),
                    Contains("size mismatch for fc.weight: copying a tensor of shape [3, 3] "
                             "from the state dict, the shape in the current model is [2, 3]"));
  // Shape mismatches fail even when not strict; the module is left unchanged.
  auto before = toy->fc->weight.to_vector<float>();
  CHECK_THROWS(toy->load_state_dict(wrong, /*strict=*/false));
  CHECK(toy->fc->weight.to_vector<float>() == before);
  // Not strict: missing and unexpected keys are returned.
  auto r = toy->load_state_dict(missing, false);
  CHECK(r.missing_keys == std::vector<std::string>{"fc.bias"});
  r = toy->load_state_dict(extra, false);
  CHECK(r.unexpected_keys == std::vector<std::string>{"fc.gamma"});
}

TEST_CASE("modules print like PyTorch's repr", "[nn][module]") {
  nn::Sequential seq(
      nn::Linear(4, 2), nn::ReLU(),
      nn::Sequential(nn::Conv2d(3, 16, 3, {.stride = 2, .padding = 1, .bias = false}),
                     nn::BatchNorm2d(16)));
  CHECK(seq->repr() ==
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n"
        "    (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        ")");
  std::ostringstream os;
  os << *nn::Identity();
  CHECK(os.str() == "Identity()");
  CHECK(nn::BatchNorm1d(3, {.momentum = std::nullopt})->repr() ==
        "BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)");
  CHECK(nn::LayerNorm(8)->repr() == "LayerNorm((8,), eps=1e-05, elementwise_affine=True)");
  CHECK(nn::GroupNorm(2, 8)->repr() == "GroupNorm(2, 8, eps=1e-05, affine=True)");
  CHECK(nn::Dropout()->repr() == "Dropout(p=0.5, inplace=False)");
  CHECK(nn::Flatten()->repr() == "Flatten(start_dim=1, end_dim=-1)");
  CHECK(nn::Softplus()->repr() == "Softplus(beta=1, threshold=20)");
  CHECK(nn::LeakyReLU()->repr() == "LeakyReLU(negative_slope=0.01)");
  CHECK(nn::GELU()->repr() == "GELU(approximate='none')");
  CHECK(nn::MaxPool2d(2)->repr() ==
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  CHECK(nn::AvgPool2d(2)->repr() == "AvgPool2d(kernel_size=2, stride=2, padding=0)");
  CHECK(nn::AdaptiveAvgPool2d(1)->repr() == "AdaptiveAvgPool2d(output_size=1)");
  CHECK(nn::AdaptiveAvgPool2d(nn::Size2{2, 3})->repr() == "AdaptiveAvgPool2d(output_size=(2, 3))");
  CHECK(nn::Embedding(10, 4, {.padding_idx = 0})->repr() == "Embedding(10, 4, padding_idx=0)");
  CHECK(nn::Conv1d(2, 4, 3, {.padding = 1})->repr() ==
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))");
  CHECK(nn::Conv2d(4, 4, 3, {.dilation = 2, .groups = 2})->repr() ==
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), groups=2)");
  CHECK(
      nn::LSTM(4, 3, {.num_layers = 2, .batch_first = true, .dropout = 0.5, .bidirectional = true})
          ->repr() ==
      "LSTM(4, 3, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)");
  CHECK(nn::CrossEntropyLoss()->repr() == "CrossEntropyLoss()");
  nn::ModuleDict dict({{"a", nn::ReLU()}});
  CHECK(dict->repr() == "ModuleDict(\n  (a): ReLU()\n)");
  nn::ModuleList list({nn::ReLU()});
  CHECK(list->repr() == "ModuleList(\n  (0): ReLU()\n)");
}

TEST_CASE("python float formatting matches repr()", "[nn][module]") {
  using nn::detail::py_float;
  CHECK(py_float(1e-5) == "1e-05");
  CHECK(py_float(0.1) == "0.1");
  CHECK(py_float(1.0) == "1.0");
  CHECK(py_float(0.0001) == "0.0001");
  CHECK(py_float(123456.5) == "123456.5");
  CHECK(py_float(1e16) == "1e+16");
  CHECK(py_float(-2.5e-7) == "-2.5e-07");
  CHECK(py_float(1.0 / 3) == "0.3333333333333333");
}

TEST_CASE("holders share their module; empty holders fail cleanly", "[nn][module]") {
  nn::Linear a(3, 2);
  nn::Linear b = a;  // same module
  CHECK(b.get() == a.get());
  CHECK(b->weight.impl() == a->weight.impl());
  nn::Linear empty(nullptr);
  CHECK(empty.is_empty());
  CHECK_THROWS_WITH(empty->forward(ones({1, 3})), Contains("empty module holder"));
  // Wrapping an existing module.
  auto impl = std::make_shared<nn::LinearImpl>(2, 2, nn::LinearOptions{.bias = false});
  nn::Linear wrapped(impl);
  CHECK(!wrapped->bias.defined());
  // modules() with include_self needs shared ownership.
  nn::ReLUImpl on_stack;
  CHECK_THROWS_WITH(on_stack.modules(), Contains("not owned by a shared_ptr"));
  CHECK(on_stack.modules(false).empty());
}

TEST_CASE("containers name their modules by position or key", "[nn][module]") {
  nn::Sequential named({{"conv", nn::Conv2d(1, 2, 3)}, {"act", nn::ReLU()}});
  CHECK(named->state_dict().keys() == std::vector<std::string>{"conv.weight", "conv.bias"});
  nn::ModuleList list({nn::Linear(2, 2), nn::Linear(2, 3)});
  list->push_back(nn::Linear(3, 1));
  CHECK(list->size() == 3);
  CHECK(list->at<nn::LinearImpl>(2)->out_features == 1);
  CHECK_THROWS_WITH(list->at<nn::ReLUImpl>(0), Contains("module 0 is a Linear"));
  CHECK_THROWS_WITH(list->at(5), Contains("index 5 is out of range (size 3)"));
  CHECK(list->state_dict().keys().back() == "2.bias");
  nn::ModuleDict dict({{"cls", nn::Linear(8, 10)}, {"box", nn::Linear(8, 4)}});
  CHECK(dict->keys() == std::vector<std::string>{"cls", "box"});
  CHECK(dict->contains("box"));
  CHECK(dict->at("box").as<nn::LinearImpl>()->out_features == 4);
  CHECK_THROWS_WITH(dict->at("nope"), Contains("no module named \"nope\""));
  // An LSTM can be held but not called from a Sequential.
  nn::Sequential bad(nn::LSTM(2, 2));
  CHECK_THROWS_WITH(bad->forward(ones({1, 1, 2})),
                    Contains("module 0 (LSTM) has no forward(const Tensor&) returning a Tensor"));
}

TEST_CASE("forward hooks see inputs and outputs of holder calls", "[nn][module]") {
  nn::Sequential seq{nn::Identity(), nn::Flatten()};
  std::vector<Shape> seen;
  auto flatten = seq[1].as<nn::FlattenImpl>();
  int64_t id = flatten->register_forward_hook(
      [&](nn::Module& m, const std::vector<Tensor>& in, const std::vector<Tensor>& out) {
        CHECK(m.type_name() == "Flatten");
        seen.push_back(in.at(0).shape());
        seen.push_back(out.at(0).shape());
      });
  Tensor y = seq(zeros({2, 3, 4}));
  CHECK(y.shape() == Shape{2, 12});
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == Shape{2, 3, 4});
  CHECK(seen[1] == Shape{2, 12});
  flatten->remove_forward_hook(id);
  seq(zeros({2, 3, 4}));
  CHECK(seen.size() == 2);
  // ->forward bypasses hooks, as PyTorch's .forward.
  flatten->register_forward_hook([&](nn::Module&, const auto&, const auto&) { seen.clear(); });
  flatten->forward(zeros({1, 1}));
  CHECK(seen.size() == 2);
}

// Models: parameter counts and MACs against PyTorch's bench/models.py,
// placement wiring, the factory, and forward shapes.
#include <set>

#include "attention/placement.h"
#include "nn/summary.h"
#include "train/models/bilstm_attention.h"
#include "train/models/factory.h"
#include "train/models/resnet_cifar.h"
#include "train/models/simple_cnn.h"
#include "train/models/vit.h"
#include "train_test_util.h"

using namespace heed;
using namespace heed::train;

namespace {
int64_t count(const nn::NamedTensors& ts) {
  int64_t n = 0;
  for (const auto& [name, t] : ts) n += t.numel();
  return n;
}
std::set<std::string> attention_names(nn::Module& m) {
  std::set<std::string> out;
  for (const auto& [name, mod] : m.named_modules(false))
    if (std::dynamic_pointer_cast<attention::AttentionModuleImpl>(mod)) out.insert(name);
  return out;
}
}  // namespace

TEST_CASE("ResNet-20 matches PyTorch's parameter count and MACs", "[train][models]") {
  // /usr/bin/python3 with /work/shared/bench/models.py:
  //   sum(p.numel() for p in CifarResNet().parameters())             -> 269722
  //   + BatchNorm running_mean/var (state_dict without num_batches)   -> 271098
  //   flops.count(CifarResNet(), randn(2, 3, 32, 32))                  -> 40551040
  //   CifarResNet(in_ch=1): params 269434, MACs at 1x28x28 30821248
  ResNetCifar net(ResNetCifarOptions{.depth = 20, .in_channels = 3, .num_classes = 10});
  CHECK(count(net->named_parameters()) == 269722);
  int64_t running = 0;
  for (const auto& [name, b] : net->named_buffers())
    if (b.is_floating_point()) running += b.numel();
  CHECK(count(net->named_parameters()) + running == 271098);
  nn::Summary s = nn::summary(net, {1, 3, 32, 32});
  CHECK(s.total_params == 269722);
  CHECK(s.total_macs == 40551040);

  ResNetCifar gray(ResNetCifarOptions{.depth = 20, .in_channels = 1});
  nn::Summary g = nn::summary(gray, {2, 1, 28, 28});
  CHECK(g.total_params == 269434);
  CHECK(g.total_macs == 2 * 30821248);  // summary counts the whole batch
}

TEST_CASE("ResNet depths and state_dict names", "[train][models]") {
  for (int64_t depth : {8, 14, 20, 32}) {
    ResNetCifar net(ResNetCifarOptions{.depth = depth, .in_channels = 1});
    const int64_t n = (depth - 2) / 6;
    int64_t blocks = 0;
    for (const auto& [name, m] : net->named_modules(false))
      if (std::dynamic_pointer_cast<BasicBlockImpl>(m)) ++blocks;
    CHECK(blocks == 3 * n);
  }
  ResNetCifar net(ResNetCifarOptions{.depth = 8});
  auto sd = net->state_dict();
  CHECK(sd.contains("conv1.weight"));
  CHECK(sd.contains("bn1.running_var"));
  CHECK(sd.contains("layer2.0.conv1.weight"));
  CHECK(sd.contains("layer3.0.bn2.num_batches_tracked"));
  CHECK(sd.contains("fc.weight"));
  CHECK(sd.at("fc.weight").shape() == Shape{10, 64});
  CHECK_THROWS_WITH(ResNetCifar(ResNetCifarOptions{.depth = 21}),
                    Catch::Contains("depth must be 6n + 2") && Catch::Contains("21"));
  CHECK_THROWS_WITH(net(zeros({2, 1, 32, 32})),
                    Catch::Contains("expected input (B, 3, H, W), got [2, 1, 32, 32]"));
}

TEST_CASE("Placement puts attention modules where asked", "[train][models][placement]") {
  auto names = [](const std::string& spec, int64_t depth = 20) {
    ResNetCifar net(ResNetCifarOptions{
        .depth = depth, .in_channels = 1, .attention = attention::Placement::parse(spec)});
    return attention_names(*net);
  };
  CHECK(names("none").empty());
  CHECK(names("se").size() == 9);
  CHECK(names("se", 8) ==
        std::set<std::string>{"layer1.0.attention", "layer2.0.attention", "layer3.0.attention"});
  CHECK(names("cbam:stages=2,3:blocks=0") ==
        std::set<std::string>{"layer2.0.attention", "layer3.0.attention"});
  CHECK(names("eca:stages=1:blocks=1,2") ==
        std::set<std::string>{"layer1.1.attention", "layer1.2.attention"});

  // Channels follow the position: pre sees the block's input channels.
  ResNetCifar pre(ResNetCifarOptions{
      .depth = 8, .attention = attention::Placement::parse("se(reduction=4):stages=2:pos=pre")});
  auto sd = pre->state_dict();
  CHECK(sd.at("layer2.0.attention.fc.0.weight").shape() == Shape{4, 16});  // in_planes 16
  ResNetCifar std_(ResNetCifarOptions{
      .depth = 8, .attention = attention::Placement::parse("se(reduction=4):stages=2")});
  CHECK(std_->state_dict().at("layer2.0.attention.fc.0.weight").shape() == Shape{8, 32});

  // Every position runs and keeps the output shape.
  for (const char* pos : {"standard", "pre", "post", "identity"}) {
    INFO(pos);
    ResNetCifar net(
        ResNetCifarOptions{.depth = 8,
                           .in_channels = 1,
                           .attention = attention::Placement::parse(std::string("se:pos=") + pos)});
    CHECK(net(randn({2, 1, 28, 28})).shape() == Shape{2, 10});
  }

  SimpleCNN cnn(SimpleCNNOptions{.attention = attention::Placement::parse("se:stages=2")});
  CHECK(attention_names(*cnn) == std::set<std::string>{"attention2"});
  CHECK(cnn(randn({3, 1, 28, 28})).shape() == Shape{3, 10});
}

TEST_CASE("Each position wires the module as the SE paper's integration study",
          "[train][models][placement]") {
  using attention::Position;
  manual_seed(3);
  Tensor x = randn({2, 8, 5, 5});
  for (Position pos : {Position::Standard, Position::Pre, Position::Post, Position::Identity}) {
    INFO(attention::position_name(pos));
    BasicBlock b(8, 8, 1, attention::create("se", 8, {{"reduction", "4"}}), pos);
    b->eval();
    // In eval mode the block folds each BatchNorm into its conv, with the
    // ReLU (and the residual add) in the conv's epilogue; the expectation
    // is written with plain convs and eval-mode batch norms.
    auto bn = [](const nn::BatchNorm2d& m, const Tensor& in) {
      return batch_norm(in, m->running_mean, m->running_var, m->weight, m->bias, false);
    };
    auto branch = [&](const Tensor& in) {
      return bn(b->bn2, b->conv2(relu(bn(b->bn1, b->conv1(in)))));
    };
    Tensor expected;
    switch (pos) {
      case Position::Standard:
        expected = relu(b->attention(branch(x)) + x);
        break;
      case Position::Pre:
        expected = relu(branch(b->attention(x)) + x);
        break;
      case Position::Post:
        expected = b->attention(relu(branch(x) + x));
        break;
      case Position::Identity:
        expected = relu(branch(x) + b->attention(x));
        break;
    }
    // Folded weights (w · γ/√(σ² + ε)) round differently from normalising
    // the conv's output, and Standard fuses x·gate + shortcut into one op
    // whose multiply-add may round once where the composed ops round twice:
    // a few float32 ulps of these O(1) values.
    const double tol = 1e-6;
    CHECK(max(abs(b(x) - expected)).item() <= tol);
  }
}

TEST_CASE("A training block with a gating module runs bn2, gates and join as one op, as composed",
          "[train][models][spatial_mean]") {
  // SE and ECA end the block in batch_norm_gate_add_relu in training, CBAM
  // in batch_norm_cbam_add_relu; while maps are kept the block composes bn2,
  // the module and the join instead. Both must give the same outputs,
  // gradients and running statistics.
  for (std::string name : {"se", "eca", "cbam"}) {
    INFO(name);
    attention::AttentionModule m = name == "se" ? attention::create("se", 8, {{"reduction", "4"}})
                                   : name == "eca" ? attention::create("eca", 8, {})
                                                   : attention::create("cbam", 8, {{"ratio", "4"}});
    BasicBlock b(8, 8, 1, m, attention::Position::Standard);
    REQUIRE((b->attention->gates_from_spatial_mean() || b->attention->cbam_gates().channel));
    b->train();
    Tensor x = randn({4, 8, 6, 6}), gy = randn({4, 8, 6, 6});
    const Tensor rm0 = b->bn2->running_mean.clone(), rv0 = b->bn2->running_var.clone();
    auto run = [&](bool keep_maps) {
      b->attention->set_keep_maps(keep_maps);
      b->zero_grad();
      {
        NoGradGuard no_grad;
        b->bn2->running_mean.copy_(rm0);
        b->bn2->running_var.copy_(rv0);
      }
      Tensor xi = x.clone().requires_grad_();
      Tensor y = b(xi);
      sum(y * gy).backward();
      std::vector<Tensor> got{y.detach(), xi.grad(), b->bn2->running_mean.clone(),
                              b->bn2->running_var.clone()};
      for (const Tensor& p : b->parameters()) got.push_back(p.grad().clone());
      return got;
    };
    std::vector<Tensor> fused = run(false), composed = run(true);
    REQUIRE(fused.size() == composed.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      INFO("tensor " << i << " (0 output, 1 input grad, 2-3 running stats, then param grads)");
      const double tol = i == 0 ? 1e-5 : i < 4 ? 1e-6 : 1e-3;
      CHECK(max(abs(fused[i] - composed[i])).item() <= tol);
    }
  }
}

TEST_CASE("Model factory builds every listed model", "[train][models]") {
  for (const auto& [name, desc] : model_names()) {
    INFO(name);
    ModelSpec spec{.name = name, .in_channels = 1, .num_classes = 7, .image_size = 28};
    nn::AnyModule m = create_model(spec);
    m->eval();
    CHECK(m(randn({2, 1, 28, 28})).shape() == Shape{2, 7});
  }
  CHECK_THROWS_WITH(create_model({.name = "resnet21"}), Catch::Contains("depth must be 6n + 2"));
  CHECK_THROWS_WITH(create_model({.name = "vgg"}),
                    Catch::Contains("unknown model 'vgg'") && Catch::Contains("resnet20"));
  CHECK_THROWS_WITH(create_model({.name = "resnet20", .attention = "sse"}), Catch::Contains("sse"));
  CHECK_THROWS_WITH(create_model({.name = "vit", .image_size = 32, .attention = "se"}),
                    Catch::Contains("--attention must be none"));
}

TEST_CASE("ViT and BiLSTMAttention names and shapes", "[train][models]") {
  ViT vit(ViTOptions{.image_size = 28, .in_channels = 1, .dim = 24, .depth = 2, .heads = 3});
  auto sd = vit->state_dict();
  CHECK(sd.at("pos_embed").shape() == Shape{1, 50, 24});  // 7·7 patches + cls
  CHECK(sd.at("cls_token").shape() == Shape{1, 1, 24});
  CHECK(sd.contains("patch_embed.proj.weight"));
  CHECK(sd.contains("blocks.1.attn.qkv.bias"));
  CHECK(sd.contains("blocks.0.mlp.fc2.weight"));
  CHECK(sd.contains("head.weight"));
  CHECK(vit(randn({2, 1, 28, 28})).shape() == Shape{2, 10});
  CHECK_THROWS_WITH(vit(randn({2, 1, 32, 32})), Catch::Contains("expected input (B, 1, 28, 28)"));

  BiLSTMAttention rnn(BiLSTMAttentionOptions{.input_size = 28, .hidden_size = 16, .attn_dim = 8});
  auto rsd = rnn->state_dict();
  CHECK(rsd.contains("lstm.weight_ih_l0_reverse"));
  CHECK(rsd.contains("attention.proj.weight"));
  CHECK(rsd.at("fc.weight").shape() == Shape{10, 32});
  rnn->attention->set_keep_maps(true);
  CHECK(rnn(randn({3, 1, 28, 28})).shape() == Shape{3, 10});
  Tensor w = rnn->attention->maps().at("weights");  // (B, T)
  CHECK(w.shape() == Shape{3, 28});
  CHECK(sum(w, {1}).to_vector<float>()[0] == Approx(1.0f).epsilon(1e-5));
}

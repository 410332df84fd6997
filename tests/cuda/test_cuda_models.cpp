// End to end on a GPU: the example models (with attention) moved to CUDA
// with Module::to give the CPU's logits, loss, every parameter's gradient,
// BatchNorm's running stats and the parameters after a few SGD steps. In
// float64 the two devices agree to ~1e-9 (only libm ulps and summation
// order differ), which checks every kernel a real network uses at once.
#include <cmath>

#include "cuda_test.h"
#include "optim/optim.h"
#include "train/models/factory.h"

using namespace heed;
using namespace heed::testing;

namespace {

// max |a - b| / max(1, max |b|): one scale per tensor.
double rel_diff(const Tensor& a, const Tensor& b) {
  Tensor x = a.detach().to(kCPU).to(kFloat64), y = b.detach().to(kCPU).to(kFloat64);
  const double scale = std::max(1.0, max(abs(y)).item());
  return max(abs(x - y)).item() / scale;
}

void check_model(const train::ModelSpec& spec, DType dt, double tol,
                 Device device = Device::cuda(0)) {
  INFO("model " << spec.name << " attention " << spec.attention << " " << dt);
  nn::AnyModule cpu = train::create_model(spec);
  nn::AnyModule gpu = train::create_model(spec);
  gpu->load_state_dict(cpu->state_dict());
  cpu->to(dt);
  gpu->to(dt);
  gpu->to(device);
  for (const auto& [name, p] : gpu->named_parameters()) {
    INFO(name);
    CHECK(p.device() == device);
    CHECK(p.is_leaf());
  }
  optim::SGD opt_cpu(cpu->named_parameters(), {.lr = 0.05, .momentum = 0.9});
  optim::SGD opt_gpu(gpu->named_parameters(), {.lr = 0.05, .momentum = 0.9});
  Generator gen(12);
  for (int step = 0; step < 3; ++step) {
    Tensor x = randn({4, spec.in_channels, spec.image_size, spec.image_size}, dt, &gen);
    Tensor y = randint(0, spec.num_classes, {4}, &gen);
    Tensor logits_cpu = cpu(x), logits_gpu = gpu(x.to(device));
    CHECK(rel_diff(logits_gpu, logits_cpu) < tol);
    Tensor loss_cpu = cross_entropy(logits_cpu, y);
    Tensor loss_gpu = cross_entropy(logits_gpu, y.to(device));
    CHECK(std::abs(loss_gpu.item() - loss_cpu.item()) < tol * std::max(1.0, loss_cpu.item()));
    opt_cpu.zero_grad();
    opt_gpu.zero_grad();
    loss_cpu.backward();
    loss_gpu.backward();
    auto pc = cpu->named_parameters(), pg = gpu->named_parameters();
    REQUIRE(pc.size() == pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      INFO("grad of " << pc[i].first << " at step " << step);
      REQUIRE(pg[i].second.grad().defined() == pc[i].second.grad().defined());
      if (pc[i].second.grad().defined())
        CHECK(rel_diff(pg[i].second.grad(), pc[i].second.grad()) < tol);
    }
    opt_cpu.step();
    opt_gpu.step();
  }
  // Parameters and buffers (running stats) after the steps.
  auto sc = cpu->state_dict(), sg = gpu->state_dict();
  for (const auto& [name, t] : sc) {
    INFO("state " << name);
    CHECK(rel_diff(sg.at(name), t) < tol);
  }
}

}  // namespace

TEST_CASE("CUDA vs CPU: example models train alike (float64)", "[cuda]") {
  HEED_REQUIRE_CUDA();
  CudaGuards guards;
  const int64_t violations = cuda::guard_violations();
  check_model({.name = "resnet8", .in_channels = 3, .attention = "cbam:stages=2,3"}, kFloat64,
              1e-9);
  check_model({.name = "resnet8", .in_channels = 1, .image_size = 28, .attention = "coord"},
              kFloat64, 1e-9);
  check_model({.name = "cnn", .in_channels = 3, .attention = "eca"}, kFloat64, 1e-9);
  check_model({.name = "vit", .in_channels = 3}, kFloat64, 1e-9);
  check_model({.name = "bilstm", .in_channels = 1, .image_size = 28}, kFloat64, 1e-9);
  cuda::synchronize();
  INFO(cuda::last_guard_violation());
  CHECK(cuda::guard_violations() == violations);
}

TEST_CASE("CUDA vs CPU: example models train alike (float32)", "[cuda]") {
  HEED_REQUIRE_CUDA();
  check_model({.name = "resnet8", .in_channels = 3, .attention = "cbam:stages=2,3"}, kFloat32,
              2e-3);
  check_model({.name = "vit", .in_channels = 3}, kFloat32, 2e-3);
}

// The same comparison with the CPU on both sides: checks the test itself on
// machines without a GPU.
TEST_CASE("the model comparison runs on the CPU", "[cuda_host]") {
  check_model({.name = "resnet8", .in_channels = 3, .attention = "cbam:stages=2,3"}, kFloat64,
              1e-12, kCPU);
}

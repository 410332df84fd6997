// CUDA device plumbing: availability and its errors, host <-> device copies,
// random fills equal to the CPU's, the caching allocator (steady state
// without cudaMalloc, stats, out-of-memory message), the optimizer kernels,
// and empty tensors.
#include <cmath>

#include "core/backend.h"
#include "core/heed_core.h"
#include "cuda_test.h"

using namespace heed;
using namespace heed::testing;

namespace {

const Device kCuda = Device::cuda(0);

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return max(abs(a.to(kCPU).to(kFloat64) - b.to(kCPU).to(kFloat64))).item();
}

}  // namespace

TEST_CASE("cuda: without a device every CUDA request says why", "[cuda_host]") {
  if (cuda::is_available()) {
    // A device index past the end fails the same way.
    const int n = cuda::device_count();
    CHECK_THROWS_WITH(backend(Device::cuda(n)), Catch::Contains("is not available"));
    CHECK_THROWS_WITH(zeros({2}, Device::cuda(n)), Catch::Contains("is not available"));
    return;
  }
  CHECK(cuda::device_count() == 0);
  CHECK_FALSE(cuda::unavailable_reason().empty());
  CHECK_THROWS_WITH(backend(kCuda), Catch::Contains("backend: device cuda:0 is not available"));
  CHECK_THROWS_WITH(zeros({2}, kCuda), Catch::Contains("cuda:0 is not available"));
  CHECK_THROWS_WITH(ones({2}).to(kCuda), Catch::Contains("cuda:0 is not available"));
  CHECK(cuda::memory_stats().system_allocations == 0);
  cuda::synchronize();  // a no-op, never a throw
  cuda::empty_cache();
}

TEST_CASE("cuda: to() round trips every dtype and layout, and carries gradients", "[cuda]") {
  HEED_REQUIRE_CUDA();
  Generator gen(1);
  Tensor f = randn({3, 5}, kFloat32, &gen);
  Tensor d = randn({4, 2}, kFloat64, &gen);
  Tensor i = tensor({1, -2, 3}, kInt64);
  Tensor b = from_vector(std::vector<bool>{true, false, true});
  for (const Tensor& t : {f, d, i, b, f.t(), d.slice(0, 0, 4, 2)}) {
    Tensor g = t.to(kCuda);
    CHECK(g.device() == kCuda);
    CHECK(g.dtype() == t.dtype());
    CHECK(g.shape() == t.shape());
    Tensor back = g.to(kCPU);
    CHECK(back.device() == kCPU);
    CHECK(back.to_vector<double>() == t.to_vector<double>());
  }
  // copy_ across devices, into a strided destination.
  Tensor dst = zeros({5, 3}, kCuda).t();
  dst.copy_(f);
  CHECK(dst.to_vector<float>() == f.to_vector<float>());
  // The gradient flows back to the CPU leaf.
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  Tensor y = (x.to(kCuda) * 2.0).sum();
  y.backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().device() == kCPU);
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
  // Mixing devices in an op is a clear error.
  CHECK_THROWS_WITH(add(ones({2}), ones({2}, kCuda)), Catch::Contains("same device"));
  // Factories honour the device.
  CHECK(arange(5, {kFloat32, kCuda}).device() == kCuda);
  CHECK(tensor({1, 2}, {kFloat64, kCuda}).device() == kCuda);
}

TEST_CASE("cuda: random fills equal the CPU's for a seed", "[cuda]") {
  HEED_REQUIRE_CUDA();
  for (DType dt : {kFloat32, kFloat64}) {
    Generator a(42), b(42);
    Tensor cpu_u = rand({1000, 7}, dt, &a);
    Tensor gpu_u = rand({1000, 7}, {dt, kCuda}, &b);
    INFO(dt);
    // Uniform draws: bit for bit.
    CHECK(gpu_u.to_vector<double>() == cpu_u.to_vector<double>());
    Tensor cpu_n = randn({999}, dt, &a);
    Tensor gpu_n = randn({999}, {dt, kCuda}, &b);
    // Normal draws go through log and cos, whose CUDA versions may differ in
    // the last bit of the double.
    CHECK(max_abs_diff(gpu_n, cpu_n) < (dt == kFloat64 ? 1e-13 : 1e-6));
    CHECK(a.counter() == b.counter());
    // Dropout's mask comes from the same draws.
    Generator c(7), e(7);
    Tensor x = ones({64, 33}, dt);
    CHECK(dropout(x.to(kCuda), 0.4, true, &e).to_vector<double>() ==
          dropout(x, 0.4, true, &c).to_vector<double>());
  }
}

namespace {

struct TinyNet {
  // conv -> batch norm -> relu -> max pool -> global average -> linear
  Tensor w1, b1, gamma, beta, rm, rv, w2, b2;
  std::vector<Tensor> params() const { return {w1, b1, gamma, beta, w2, b2}; }
};

TinyNet make_net(Device d) {
  Generator gen(3);
  TinyNet n;
  n.w1 = (randn({8, 3, 3, 3}, kFloat32, &gen) * 0.2).to(d).requires_grad_();
  n.b1 = zeros({8}, {kFloat32, d}).requires_grad_();
  n.gamma = ones({8}, {kFloat32, d}).requires_grad_();
  n.beta = zeros({8}, {kFloat32, d}).requires_grad_();
  n.rm = zeros({8}, {kFloat32, d});
  n.rv = ones({8}, {kFloat32, d});
  n.w2 = (randn({10, 8}, kFloat32, &gen) * 0.2).to(d).requires_grad_();
  n.b2 = zeros({10}, {kFloat32, d}).requires_grad_();
  return n;
}

double train_step(TinyNet& n, std::vector<Tensor>& bufs, Generator& gen, Device d) {
  Tensor x = randn({16, 3, 12, 12}, {kFloat32, d}, &gen);
  Tensor y = randint(0, 10, {16}, &gen).to(d);
  Tensor h = conv2d(x, n.w1, n.b1, {1, 1}, {1, 1});
  h = relu(batch_norm(h, n.rm, n.rv, n.gamma, n.beta, true));
  Pool2dOptions o;
  o.kernel_size = {2, 2};
  h = adaptive_avg_pool2d(max_pool2d(h, o), {1, 1}).flatten(1);
  Tensor loss = cross_entropy(linear(h, n.w2, n.b2), y);
  loss.backward();
  NoGradGuard no_grad;
  SgdUpdate args;
  args.lr = 0.1, args.momentum = 0.9;
  std::vector<Tensor> ps = n.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    backend(d).sgd_update(ps[i], ps[i].grad(), bufs[i], args);
    ps[i].set_grad(Tensor());
  }
  return loss.item();
}

}  // namespace

TEST_CASE("cuda allocator: a training loop stops calling cudaMalloc after its first step",
          "[cuda]") {
  HEED_REQUIRE_CUDA();
  TinyNet net = make_net(kCuda);
  // Optimizer state up front, so every step allocates the same sequence.
  std::vector<Tensor> bufs;
  for (const Tensor& p : net.params()) bufs.push_back(zeros_like(p.detach()));
  Generator gen(9);
  const double first = train_step(net, bufs, gen, kCuda);
  const AllocatorStats after_first = cuda::memory_stats();
  double last = first;
  for (int step = 0; step < 5; ++step) last = train_step(net, bufs, gen, kCuda);
  const AllocatorStats after = cuda::memory_stats();
  INFO("cudaMalloc calls after step 1: " << after_first.system_allocations
                                         << ", after step 6: " << after.system_allocations);
  CHECK(after.system_allocations == after_first.system_allocations);
  CHECK(after.peak_allocated_bytes >= after.allocated_bytes);
  CHECK(after.reserved_bytes >= after.allocated_bytes);
  CHECK(std::isfinite(first));
  CHECK(std::isfinite(last));
}

TEST_CASE("cuda allocator: stats follow allocations, empty_cache returns the cache", "[cuda]") {
  HEED_REQUIRE_CUDA();
  cuda::synchronize();
  const AllocatorStats s0 = cuda::memory_stats();
  const int64_t bytes = int64_t(48) << 20;  // 48 MiB: a size class of its own
  {
    Tensor t = empty({bytes / 4}, kCuda);
    const AllocatorStats s1 = cuda::memory_stats();
    CHECK(s1.allocated_bytes - s0.allocated_bytes >= bytes);
    CHECK(s1.allocated_bytes - s0.allocated_bytes <= bytes + bytes / 8);
    CHECK(s1.peak_allocated_bytes >= s1.allocated_bytes);
    CHECK(s1.reserved_bytes >= s1.allocated_bytes);
  }
  const AllocatorStats s2 = cuda::memory_stats();
  CHECK(s2.allocated_bytes == s0.allocated_bytes);
  CHECK(s2.peak_allocated_bytes >= s0.allocated_bytes + bytes);
  // Freed blocks are reused: a second tensor of the size costs no cudaMalloc.
  { Tensor t = empty({bytes / 4}, kCuda); }
  CHECK(cuda::memory_stats().system_allocations == s2.system_allocations);
  cuda::empty_cache();
  const AllocatorStats s3 = cuda::memory_stats();
  CHECK(s3.reserved_bytes == s3.allocated_bytes);
  CHECK(s3.system_allocations == s2.system_allocations);
}

TEST_CASE("cuda allocator: out of memory names the size and the stats", "[cuda]") {
  HEED_REQUIRE_CUDA();
  const int64_t huge = int64_t(1) << 42;  // 16 TiB of float32
  CHECK_THROWS_WITH(empty({huge}, kCuda), Catch::Contains("out of memory") &&
                                              Catch::Contains("allocating") &&
                                              Catch::Contains("cudaMalloc calls"));
  // The allocator still works afterwards.
  Tensor t = ones({4}, kCuda);
  CHECK(t.sum().item() == 4);
}

TEST_CASE("cuda: guard mode catches nothing on a clean run", "[cuda]") {
  HEED_REQUIRE_CUDA();
  const int64_t before = cuda::guard_violations();
  {
    CudaGuards guards;
    Tensor a = randn({33, 17}, kCuda), b = randn({17, 9}, kCuda);
    Tensor c = matmul(a, b).relu().sum(std::vector<int64_t>{1});
    CHECK(c.numel() == 33);
    // Fresh allocations are filled with 0xFF (NaN), so unwritten output shows.
    Tensor e = empty({8}, kCuda);
    CHECK(std::isnan(e.to_vector<float>()[0]));
  }
  cuda::synchronize();
  CHECK(cuda::guard_violations() == before);
}

TEST_CASE("cuda: optimizer kernels equal the CPU's", "[cuda]") {
  HEED_REQUIRE_CUDA();
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dt);
    const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
    Generator gen(6);
    Tensor p_cpu = randn({5, 4}, dt, &gen);
    Tensor p_gpu = p_cpu.to(kCuda);
    // A strided parameter view on both sides.
    Tensor pv_cpu = p_cpu.t(), pv_gpu = p_gpu.t();
    {  // sgd
      for (bool nesterov : {false, true}) {
        Tensor b_cpu = zeros({4, 5}, dt), b_gpu = zeros({4, 5}, {dt, kCuda});
        for (int step = 0; step < 4; ++step) {
          Tensor g = randn({4, 5}, dt, &gen);
          SgdUpdate a;
          a.lr = 0.05, a.momentum = 0.9, a.dampening = nesterov ? 0 : 0.1;
          a.weight_decay = 1e-2, a.nesterov = nesterov, a.maximize = step == 2;
          a.init_buffer = step == 0;
          backend(kCPU).sgd_update(pv_cpu, g, b_cpu, a);
          backend(kCuda).sgd_update(pv_gpu, g.to(kCuda), b_gpu, a);
        }
        CHECK(max_abs_diff(p_gpu, p_cpu) < tol);
        CHECK(max_abs_diff(b_gpu, b_cpu) < tol);
      }
    }
    {  // adam
      for (bool amsgrad : {false, true}) {
        Tensor m_cpu = zeros({4, 5}, dt), v_cpu = zeros({4, 5}, dt), x_cpu = zeros({4, 5}, dt);
        Tensor m_gpu = m_cpu.to(kCuda), v_gpu = v_cpu.to(kCuda), x_gpu = x_cpu.to(kCuda);
        for (int step = 1; step <= 4; ++step) {
          Tensor g = randn({4, 5}, dt, &gen);
          AdamUpdate a;
          a.lr = 1e-2, a.weight_decay = 0.1, a.decoupled_weight_decay = step % 2 == 0;
          a.amsgrad = amsgrad, a.step = step;
          backend(kCPU).adam_update(pv_cpu, g, m_cpu, v_cpu, amsgrad ? x_cpu : Tensor(), a);
          backend(kCuda).adam_update(pv_gpu, g.to(kCuda), m_gpu, v_gpu, amsgrad ? x_gpu : Tensor(),
                                     a);
        }
        CHECK(max_abs_diff(p_gpu, p_cpu) < tol);
        CHECK(max_abs_diff(v_gpu, v_cpu) < tol);
      }
    }
  }
}

TEST_CASE("cuda: empty tensors and empty sums", "[cuda]") {
  HEED_REQUIRE_CUDA();
  Tensor e = zeros({0, 4}, kCuda);
  CHECK((e + 1.0).numel() == 0);
  CHECK(sum(e, {0}).to_vector<float>() == std::vector<float>{0, 0, 0, 0});
  CHECK(sum(e).item() == 0);
  // k = 0: an empty product is zeros.
  Tensor a = zeros({3, 0}, kCuda), b = zeros({0, 2}, kCuda);
  CHECK(matmul(a, b).to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(softmax(zeros({0, 5}, kCuda), 1).numel() == 0);
}

#if HEED_WITH_CUDA
#include <fstream>
#include <sstream>

#include "core/cuda/cublas_api.h"

namespace {

bool process_maps(const std::string& needle) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find(needle) != std::string::npos;
}

// Read during static initialisation, before any test can have used cuBLAS.
const bool g_cublas_mapped_at_start = process_maps("libcublas");

}  // namespace

// Linking cuBLAS costs every process ~150 MiB RSS at start, so it is loaded
// only when a CUDA GEMM first needs it.
TEST_CASE("cuda: cuBLAS is loaded on first use, with every entry point", "[cuda_host]") {
  CHECK_FALSE(g_cublas_mapped_at_start);
  const cuda::CublasApi* api = nullptr;
  try {
    api = &cuda::cublas();
  } catch (const Error& e) {
    // A machine with the toolkit's headers but not its libraries: the error names it.
    CHECK_THAT(e.what(), Catch::Contains(cuda::cublas_library_name()));
    return;
  }
  CHECK(process_maps("libcublas"));
  CHECK(api->create != nullptr);
  CHECK(api->set_stream != nullptr);
  CHECK(api->sgemm != nullptr);
  CHECK(api->dgemm != nullptr);
  CHECK(api->sgemm_strided_batched != nullptr);
  CHECK(api->dgemm_strided_batched != nullptr);
  CHECK(std::string(api->get_status_name(CUBLAS_STATUS_NOT_INITIALIZED)) ==
        "CUBLAS_STATUS_NOT_INITIALIZED");
}
#endif

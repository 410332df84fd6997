// Micro-benchmark of the CPU element-wise, copy, fill, reduction and softmax
// kernels on the shapes of ResNet-20 (+attention) and ViT-tiny training steps
// at batch 128. Prints, per kernel, the best of --reps runs: wall ns per
// element, CPU ns per element (process CPU time, less sensitive to a shared
// machine) and the effective bandwidth (bytes read + written / wall time).
//
//   build/bench/bench_pointwise [--threads N] [--reps R] [--filter substring]
//   HEED_CPU_ISA=scalar|avx2|avx512 caps the kernels' ISA.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/isa.h"
#include "core/heed_core.h"
#include "core/parallel.h"

using namespace heed;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Tensor input(const Shape& shape, double lo = -3, double hi = 3) {
  Tensor t = empty(shape);
  uniform_(t, lo, hi);
  return t;
}

struct Options {
  int reps = 7;
  std::string filter;
};

// elements: the element count reported per ns; bytes: memory traffic.
void run(const Options& opt, const char* name, int64_t elements, int64_t bytes,
         const std::function<void()>& fn) {
  if (!opt.filter.empty() && !std::strstr(name, opt.filter.c_str())) return;
  fn();  // warm-up: allocator cache, pages, pool threads
  double best_wall = 1e30, best_cpu = 1e30;
  for (int r = 0; r < opt.reps; ++r) {
    const double w0 = wall_seconds(), c0 = cpu_seconds();
    fn();
    const double w = wall_seconds() - w0, c = cpu_seconds() - c0;
    best_wall = std::min(best_wall, w);
    best_cpu = std::min(best_cpu, c);
  }
  std::printf("%-44s %9.3f %9.3f %8.2f\n", name, 1e9 * best_wall / double(elements),
              1e9 * best_cpu / double(elements), double(bytes) / best_wall * 1e-9);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      set_num_threads(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      opt.reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc)
      opt.filter = argv[++i];
  }
  NoGradGuard no_grad;
  cpu::CpuBackend be;
  std::printf("isa %s, threads %d, best of %d\n", cpu::isa_name(cpu::cpu_isa()), get_num_threads(),
              opt.reps);
  std::printf("%-44s %9s %9s %8s\n", "kernel [shape]", "ns/el", "cpu ns/el", "GB/s");

  const Tensor conv = input({128, 16, 32, 32});  // ResNet-20 stage 1 activation
  const Tensor conv2 = input({128, 16, 32, 32});
  const Tensor chan = input({128, 16, 1, 1});
  const Tensor gate = input({128, 1, 32, 32});
  const Tensor mlp = input({128, 65, 768});  // ViT-tiny MLP hidden
  const Tensor mlp_g = input({128, 65, 768});
  const Tensor tok = input({128, 65, 192});  // ViT-tiny tokens
  const Tensor bias = input({192});
  const Tensor scores = input({128, 3, 65, 65});  // ViT-tiny attention scores
  const int64_t nc = conv.numel(), nm = mlp.numel(), nt = tok.numel(), ns = scores.numel();
  auto out_like = [](const Tensor& t) { return empty(t.shape()); };
  Tensor conv_out = out_like(conv), mlp_out = out_like(mlp), tok_out = out_like(tok);
  Tensor scores_out = out_like(scores);

  // --- unary
  run(opt, "gelu(erf) [128,65,768]", nm, 8 * nm,
      [&] { be.unary(UnaryOp::GeluErf, mlp_out, mlp, {}); });
  run(opt, "gelu backward [128,65,768]", nm, 12 * nm,
      [&] { be.binary(BinaryOp::GeluErfBackward, mlp_out, mlp_g, mlp, {}); });
  run(opt, "exp [128,16,32,32]", nc, 8 * nc, [&] { be.unary(UnaryOp::Exp, conv_out, conv, {}); });
  run(opt, "tanh [128,16,32,32]", nc, 8 * nc, [&] { be.unary(UnaryOp::Tanh, conv_out, conv, {}); });
  run(opt, "sigmoid [128,16,32,32]", nc, 8 * nc,
      [&] { be.unary(UnaryOp::Sigmoid, conv_out, conv, {}); });
  run(opt, "relu [128,16,32,32]", nc, 8 * nc, [&] { be.unary(UnaryOp::Relu, conv_out, conv, {}); });
  run(opt, "relu backward [128,16,32,32]", nc, 12 * nc,
      [&] { be.binary(BinaryOp::ReluBackward, conv_out, conv2, conv, {}); });
  // --- binary and broadcasts
  run(opt, "add [128,16,32,32]", nc, 12 * nc, [&] {
    be.binary(BinaryOp::Add, conv_out, conv, conv2, {1, 0});
  });
  run(opt, "mul x*s [128,16,32,32]*[128,16,1,1]", nc, 8 * nc,
      [&] { be.binary(BinaryOp::Mul, conv_out, conv, chan.expand(conv.shape()), {}); });
  run(opt, "mul x*g [128,16,32,32]*[128,1,32,32]", nc, 8 * nc,
      [&] { be.binary(BinaryOp::Mul, conv_out, conv, gate.expand(conv.shape()), {}); });
  run(opt, "add bias [128,65,192]+[192]", nt, 8 * nt, [&] {
    be.binary(BinaryOp::Add, tok_out, tok, bias.expand(tok.shape()), {1, 0});
  });
  // --- copy and fill
  const Tensor qkv = input({128, 65, 3, 3, 64});
  run(opt, "copy qkv permute(2,0,3,1,4) [128,65,3,3,64]", qkv.numel(), 8 * qkv.numel(), [&] {
    qkv.permute({2, 0, 3, 1, 4}).contiguous();
  });
  const Tensor heads = input({128, 3, 65, 64});
  run(opt, "copy transpose(-1,-2) [128,3,65,64]", heads.numel(), 8 * heads.numel(),
      [&] { heads.transpose(-1, -2).contiguous(); });
  run(opt, "copy contiguous [128,16,32,32]", nc, 8 * nc, [&] { be.copy(conv_out, conv); });
  run(opt, "fill 0 [128,16,32,32]", nc, 4 * nc, [&] { be.fill(conv_out, 0); });
  // --- reductions
  run(opt, "sum (2,3) [128,16,32,32]", nc, 4 * nc, [&] { sum(conv, {2, 3}, true); });
  run(opt, "amax (2,3) [128,16,32,32]", nc, 4 * nc, [&] { amax(conv, {2, 3}, true); });
  run(opt, "mean dim 1 [128,16,32,32]", nc, 4 * nc, [&] { mean(conv, {1}, true); });
  run(opt, "max+argmax dim 1 [128,16,32,32]", nc, 4 * nc, [&] { max(conv, 1, true); });
  run(opt, "sum (0,2,3) [128,16,32,32]", nc, 4 * nc, [&] { sum(conv, {0, 2, 3}, true); });
  run(opt, "sum batch (0,1) [128,65,192]", nt, 4 * nt, [&] { sum(tok, {0, 1}, false); });
  // --- softmax, last dim of 65
  run(opt, "softmax [128,3,65,65]", ns, 8 * ns, [&] { be.softmax(scores_out, scores, 3, false); });
  run(opt, "softmax backward [128,3,65,65]", ns, 12 * ns,
      [&] { be.softmax_backward(scores_out, scores, scores, 3, false); });
  run(opt, "log_softmax [128,3,65,65]", ns, 8 * ns,
      [&] { be.softmax(scores_out, scores, 3, true); });
  // --- ViT-tiny's attention heads (scale, q kᵀ, softmax, · v), per score
  const Tensor aq = input({128, 65, 3, 64}).transpose(1, 2), ak = input({128, 65, 3, 64}),
               av = input({128, 65, 3, 64}).transpose(1, 2), ago = input({128, 3, 65, 64});
  const Tensor akh = ak.transpose(1, 2);
  Tensor aout = empty({128, 65, 3, 64}).transpose(1, 2), aprobs = empty({128, 3, 65, 65});
  Tensor agq = empty({128, 65, 3, 64}).transpose(1, 2),
         agk = empty({128, 65, 3, 64}).transpose(1, 2),
         agv = empty({128, 65, 3, 64}).transpose(1, 2);
  const int64_t nh = aq.numel();
  run(opt, "attention fused [128,3,65,64]", ns, 4 * (4 * nh + ns),
      [&] { be.attention(aout, aprobs, aq, akh, av, 0.125); });
  run(opt, "attention backward fused [128,3,65,64]", ns, 4 * (7 * nh + ns),
      [&] { be.attention_backward(agq, agk, agv, ago, aprobs, aq, akh, av, 0.125); });
  run(opt, "attention composed (matmul, softmax, matmul)", ns, 4 * (4 * nh + ns),
      [&] { matmul(softmax(matmul(aq, akh.transpose(2, 3)) * 0.125, -1), av); });
  return 0;
}

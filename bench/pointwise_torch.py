#!/usr/bin/python3
"""PyTorch counterpart of bench_pointwise.cpp: the same kernels and shapes,
best of --reps runs, wall ns per element, CPU ns per element and GB/s.

    /usr/bin/python3 bench/pointwise_torch.py [--threads N] [--reps R]
"""
import argparse
import time

import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--reps", type=int, default=7)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.set_grad_enabled(False)
print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, best of {args.reps}")
print(f"{'kernel [shape]':44s} {'ns/el':>9s} {'cpu ns/el':>9s} {'GB/s':>8s}")


def run(name, elements, nbytes, fn):
    fn()
    best_w = best_c = 1e30
    for _ in range(args.reps):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_w = min(best_w, time.perf_counter() - w0)
        best_c = min(best_c, time.process_time() - c0)
    print(f"{name:44s} {1e9 * best_w / elements:9.3f} {1e9 * best_c / elements:9.3f} "
          f"{nbytes / best_w * 1e-9:8.2f}", flush=True)


def inp(*shape):
    return torch.empty(shape).uniform_(-3, 3)


conv, conv2 = inp(128, 16, 32, 32), inp(128, 16, 32, 32)
chan, gate = inp(128, 16, 1, 1), inp(128, 1, 32, 32)
mlp, mlp_g = inp(128, 65, 768), inp(128, 65, 768)
tok, bias = inp(128, 65, 192), inp(192)
scores = inp(128, 3, 65, 65)
nc, nm, nt, ns = conv.numel(), mlp.numel(), tok.numel(), scores.numel()
co, mo, to, so = torch.empty_like(conv), torch.empty_like(mlp), torch.empty_like(tok), torch.empty_like(scores)

run("gelu(erf) [128,65,768]", nm, 8 * nm, lambda: torch._C._nn.gelu(mlp, out=mo))
run("gelu backward [128,65,768]", nm, 12 * nm, lambda: torch.ops.aten.gelu_backward(mlp_g, mlp))
run("exp [128,16,32,32]", nc, 8 * nc, lambda: torch.exp(conv, out=co))
run("tanh [128,16,32,32]", nc, 8 * nc, lambda: torch.tanh(conv, out=co))
run("sigmoid [128,16,32,32]", nc, 8 * nc, lambda: torch.sigmoid(conv, out=co))
run("relu [128,16,32,32]", nc, 8 * nc, lambda: torch.clamp_min(conv, 0, out=co))
run("relu backward [128,16,32,32]", nc, 12 * nc, lambda: torch.ops.aten.threshold_backward(conv2, conv, 0))
run("add [128,16,32,32]", nc, 12 * nc, lambda: torch.add(conv, conv2, out=co))
run("mul x*s [128,16,32,32]*[128,16,1,1]", nc, 8 * nc, lambda: torch.mul(conv, chan, out=co))
run("mul x*g [128,16,32,32]*[128,1,32,32]", nc, 8 * nc, lambda: torch.mul(conv, gate, out=co))
run("add bias [128,65,192]+[192]", nt, 8 * nt, lambda: torch.add(tok, bias, out=to))
qkv = inp(128, 65, 3, 3, 64)
run("copy qkv permute(2,0,3,1,4) [128,65,3,3,64]", qkv.numel(), 8 * qkv.numel(),
    lambda: qkv.permute(2, 0, 3, 1, 4).contiguous())
heads = inp(128, 3, 65, 64)
run("copy transpose(-1,-2) [128,3,65,64]", heads.numel(), 8 * heads.numel(),
    lambda: heads.transpose(-1, -2).contiguous())
run("copy contiguous [128,16,32,32]", nc, 8 * nc, lambda: co.copy_(conv))
run("fill 0 [128,16,32,32]", nc, 4 * nc, lambda: co.zero_())
run("sum (2,3) [128,16,32,32]", nc, 4 * nc, lambda: conv.sum((2, 3), keepdim=True))
run("amax (2,3) [128,16,32,32]", nc, 4 * nc, lambda: conv.amax((2, 3), keepdim=True))
run("mean dim 1 [128,16,32,32]", nc, 4 * nc, lambda: conv.mean(1, keepdim=True))
run("max+argmax dim 1 [128,16,32,32]", nc, 4 * nc, lambda: conv.max(1, keepdim=True))
run("sum (0,2,3) [128,16,32,32]", nc, 4 * nc, lambda: conv.sum((0, 2, 3), keepdim=True))
run("sum batch (0,1) [128,65,192]", nt, 4 * nt, lambda: tok.sum((0, 1)))
run("softmax [128,3,65,65]", ns, 8 * ns, lambda: torch.softmax(scores, 3))
run("softmax backward [128,3,65,65]", ns, 12 * ns,
    lambda: torch.ops.aten._softmax_backward_data(scores, scores, 3, torch.float32))
run("log_softmax [128,3,65,65]", ns, 8 * ns, lambda: torch.log_softmax(scores, 3))

#!/usr/bin/python3
"""The ops of bench_norm.cpp in PyTorch (CPU, float32), same shapes, same GB/s
accounting (each tensor the op must touch, counted once), for a side-by-side
comparison:

    /usr/bin/python3 bench/norm_torch.py [--threads N] [--reps R]

Times are medians of --reps runs after a warm-up, wall clock. Backward ops
call the aten backward kernels directly, so autograd bookkeeping is not timed.
"""
import argparse
import time

import torch


def median_seconds(fn, reps):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    t.sort()
    return t[len(t) // 2]


def report(name, shape, nbytes, fn, reps):
    s = median_seconds(fn, reps)
    print(f"{name:<22} {str(tuple(shape)):<18} {s * 1e3:9.3f} ms {nbytes / s * 1e-9:8.2f} GB/s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {a.threads}, wall clock, median of {a.reps}")
    r = a.reps
    for shape in [(128, 16, 32, 32), (128, 32, 16, 16), (128, 64, 8, 8)]:
        C = shape[1]
        x = torch.randn(shape) * 2 + 0.5
        gy = torch.randn(shape)
        w, b = torch.rand(C) + 0.5, torch.randn(C)
        rm, rv = torch.zeros(C), torch.ones(C)
        nb = x.numel() * 4
        report("bn_fwd_train", shape, 2 * nb,
               lambda: torch.native_batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5), r)
        report("bn_fwd_eval", shape, 2 * nb,
               lambda: torch.native_batch_norm(x, w, b, rm, rv, False, 0.1, 1e-5), r)
        _, mean, invstd = torch.native_batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5)
        report("bn_bwd", shape, 3 * nb,
               lambda: torch.ops.aten.native_batch_norm_backward(
                   gy, x, w, rm, rv, mean, invstd, True, 1e-5, [True, True, True]), r)
    shape = (128 * 65, 192)
    x, gy = torch.randn(shape), torch.randn(shape)
    w, b = torch.rand(192) + 0.5, torch.randn(192)
    nb = x.numel() * 4
    report("ln_fwd", shape, 2 * nb, lambda: torch.native_layer_norm(x, [192], w, b, 1e-5), r)
    _, mean, rstd = torch.native_layer_norm(x, [192], w, b, 1e-5)
    report("ln_bwd", shape, 3 * nb,
           lambda: torch.ops.aten.native_layer_norm_backward(gy, x, [192], mean, rstd, w, b,
                                                             [True, True, True]), r)
    shape = (128, 64, 8, 8)
    x, gy = torch.randn(shape), torch.randn(128, 64, 1, 1)
    nb = x.numel() * 4
    report("adaptive_avg_fwd", shape, nb, lambda: torch._adaptive_avg_pool2d(x, [1, 1]), r)
    report("adaptive_avg_bwd", shape, nb,
           lambda: torch.ops.aten._adaptive_avg_pool2d_backward(gy, x), r)
    for k in (2, 3):
        pad = 1 if k == 3 else 0
        shape = (128, 64, 32, 32)
        x = torch.randn(shape)
        y, ix = torch.ops.aten.max_pool2d_with_indices(x, [k, k], [2, 2], [pad, pad])
        gy = torch.randn(y.shape)
        tag = f"{k}x{k}"
        nb = x.numel() * 4 + y.numel() * 12
        report(f"max_pool{tag}_fwd", shape, nb,
               lambda: torch.ops.aten.max_pool2d_with_indices(x, [k, k], [2, 2], [pad, pad]), r)
        report(f"max_pool{tag}_bwd", shape, nb,
               lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                   gy, x, [k, k], [2, 2], [pad, pad], [1, 1], False, ix), r)
        nb = x.numel() * 4 + y.numel() * 4
        report(f"avg_pool{tag}_fwd", shape, nb,
               lambda: torch.ops.aten.avg_pool2d(x, [k, k], [2, 2], [pad, pad]), r)
        report(f"avg_pool{tag}_bwd", shape, nb,
               lambda: torch.ops.aten.avg_pool2d_backward(gy, x, [k, k], [2, 2], [pad, pad],
                                                          False, True, None), r)
    n = 1 << 20
    p, g = torch.randn(n), torch.randn(n)
    sgd = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True,
                          foreach=False)
    p.grad = g
    sgd.step()
    report("sgd_nesterov_wd", (n,), 4 * n * 4, sgd.step, r)
    adam = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.05, foreach=False)
    adam.step()
    report("adamw", (n,), 7 * n * 4, adam.step, r)


if __name__ == "__main__":
    with torch.no_grad():
        main()

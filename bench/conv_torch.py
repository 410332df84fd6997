#!/usr/bin/python3
"""PyTorch's CPU conv2d on the layers of bench/bench_conv.cpp, same table.

    /usr/bin/python3 bench/conv_torch.py [--threads N] [--reps R] [--batch B]
                                          [--cpu-clock] [--best] [--peak GFLOPS]

Forward, backward-input and backward-weight are timed separately through
aten::convolution_backward (the op autograd calls), float32, no bias.
Medians (--best: minima) over --reps runs after one warm-up, by the wall
clock or with --cpu-clock by CPU time: the thread's with one thread, the
process's with more (GFLOP/s per busy core), as bench_conv does. --peak is
one core's FMA peak in GFLOP/s (bench_conv prints the one it measures).
Needs Debian's torch (the python3 in /usr/bin).
"""
import argparse
import statistics
import time

import torch

LAYERS = [  # name, C, O, H, kernel, stride, padding, count in ResNet-20
    ("3->16 @32", 3, 16, 32, 3, 1, 1, 1),
    ("16->16 @32", 16, 16, 32, 3, 1, 1, 6),
    ("16->32 s2 @32", 16, 32, 32, 3, 2, 1, 1),
    ("32->32 @16", 32, 32, 16, 3, 1, 1, 5),
    ("32->64 s2 @16", 32, 64, 16, 3, 2, 1, 1),
    ("64->64 @8", 64, 64, 8, 3, 1, 1, 5),
    ("cbam 2->1 7x7 @32", 2, 1, 32, 7, 1, 3, 0),
    ("cbam 2->1 7x7 @16", 2, 1, 16, 7, 1, 3, 0),
    ("cbam 2->1 7x7 @8", 2, 1, 8, 7, 1, 3, 0),
    ("vit 3->192 4x4 s4 @32", 3, 192, 32, 4, 4, 0, 0),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--cpu-clock", action="store_true")
    ap.add_argument("--best", action="store_true")
    ap.add_argument("--peak", type=float, default=176.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if not a.cpu_clock:
        clock = time.perf_counter
    else:
        clock = time.thread_time if a.threads == 1 else time.process_time
    peak = a.peak * (1 if a.cpu_clock else a.threads)

    def median(fn):
        fn()
        ts = []
        for _ in range(a.reps):
            t0 = clock()
            fn()
            ts.append(clock() - t0)
        return min(ts) if a.best else statistics.median(ts)

    clock_name = ("wall clock" if not a.cpu_clock else "thread CPU time" if a.threads == 1
                  else "process CPU time: per busy core")
    print(f"torch {torch.__version__} conv2d, float32, batch {a.batch}, {a.threads} thread(s), "
          f"{'best' if a.best else 'median'} of {a.reps} ({clock_name})")
    print(f"GFLOP/s per pass; total = fwd + bwd-input + bwd-weight; peak {peak:.1f} GFLOP/s\n")
    print(f"{'layer':<26} {'fwd':>8} {'bwd-in':>8} {'bwd-w':>8} {'total ms':>9} {'%peak':>6}")
    step_ms = step_flops = 0.0
    conv_bwd = torch.ops.aten.convolution_backward
    with torch.no_grad():
        for name, c, o, h, k, s, p, count in LAYERS:
            oh = (h + 2 * p - k) // s + 1
            x = torch.rand(a.batch, c, h, h)
            w = torch.rand(o, c, k, k)
            gy = torch.rand(a.batch, o, oh, oh)
            args = ([s, s], [p, p], [1, 1], False, [0, 0], 1)
            t_f = median(lambda: torch.conv2d(x, w, None, s, p))
            t_bi = median(lambda: conv_bwd(gy, x, w, None, *args, [True, False, False]))
            t_bw = median(lambda: conv_bwd(gy, x, w, None, *args, [False, True, False]))
            flops = 2.0 * a.batch * o * oh * oh * c * k * k
            total = t_f + t_bi + t_bw
            print(f"{name:<26} {flops / t_f * 1e-9:8.1f} {flops / t_bi * 1e-9:8.1f} "
                  f"{flops / t_bw * 1e-9:8.1f} {total * 1e3:9.2f} "
                  f"{100 * 3 * flops / total * 1e-9 / peak:5.0f}%", flush=True)
            if count:
                stem = c == 3
                step_ms += count * ((t_f + t_bw) if stem else total) * 1e3
                step_flops += count * (2 if stem else 3) * flops
    print(f"\nResNet-20 convs, one training step (fwd + bwd): {step_ms:.1f} ms, "
          f"{step_flops / step_ms * 1e-6:.1f} GFLOP/s, "
          f"{100 * step_flops / step_ms * 1e-6 / peak:.0f}% of peak")


if __name__ == "__main__":
    main()

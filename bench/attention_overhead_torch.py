#!/usr/bin/python3
"""PyTorch side of bench_attention_overhead: step-time overhead of SE, CBAM,
ECA and coordinate attention placed after bn2 of every block of a CIFAR
ResNet-20 (option-A shortcut), batch 128 of 3x32x32, forward + backward.

  /usr/bin/python3 bench/attention_overhead_torch.py [--threads N] [--reps R] [--steps S]

The network is CifarResNet of /work/shared/bench/models.py (set
HEED_TORCH_BENCH_DIR to read it from elsewhere); its blocks' `att` is
replaced by the reference modules of tools/gen_attention_fixtures.py, which
are what heed's modules match with their default options (SE: bias-free MLP,
hidden C // 16; CBAM: ratio 16, 7x7, [mean; max], no BN; ECA: adaptive k;
CoordAtt: reduction 32). Timing as the C++ side: one warm-up step per
model, then each repetition times S steps of every model in turn, the order
rotating; medians over repetitions, by the wall clock and by the process's
CPU time (time.process_time, all threads).
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, os.environ.get("HEED_TORCH_BENCH_DIR", "/work/shared/bench"))
from gen_attention_fixtures import CBAM, CoordAtt, ECAAttention, SEAttention  # noqa: E402
from models import CifarResNet  # noqa: E402

try:
    from loadmon import Mon  # noqa: E402
except ImportError:  # the load monitor is optional
    Mon = None

MODULES = {
    "se": lambda c: SEAttention(c, 16),
    "cbam": lambda c: CBAM(c, 16, 7),
    "eca": lambda c: ECAAttention(c),
    "coord": lambda c: CoordAtt(c, c, 32),
}


def build(name):
    model = CifarResNet()
    if name != "plain":
        for block in model.layers:
            block.att = MODULES[name](block.bn2.num_features)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--modules", default="se,cbam,eca,coord")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    names = ["plain"] + [n for n in a.modules.split(",") if n]
    models = [build(n) for n in names]
    for m in models:
        m.train()
    B = 128
    x = torch.randn(B, 3, 32, 32)
    y = torch.randint(0, 10, (B,))

    def step(m):
        m.zero_grad(set_to_none=True)
        F.cross_entropy(m(x), y).backward()

    for m in models:
        step(m)
    ms = [[] for _ in models]
    cpu_ms = [[] for _ in models]
    mon = Mon() if Mon else None
    if mon:
        mon.start()
    t_all = time.perf_counter()
    for r in range(a.reps):
        for j in range(len(models)):
            k = (j + r) % len(models)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(a.steps):
                step(models[k])
            ms[k].append(1000 * (time.perf_counter() - t0) / a.steps)
            cpu_ms[k].append(1000 * (time.process_time() - c0) / a.steps)
    foreign = mon.stop(time.perf_counter() - t_all) if mon else float("nan")

    print(f"torch {torch.__version__}: ResNet-20, batch {B}, forward+backward, {a.threads} threads, "
          f"{a.reps} reps x {a.steps} steps; other processes used {100 * foreign:.0f}% of the machine")
    print(f"{'module':8s} {'params':>9s} {'ms/step':>12s} {'min':>9s} {'max':>9s} {'overhead':>10s} "
          f"{'cpu ms/step':>12s} {'overhead':>10s}")
    base, cpu_base = statistics.median(ms[0]), statistics.median(cpu_ms[0])
    for n, m, t, c in zip(names, models, ms, cpu_ms):
        med, cpu = statistics.median(t), statistics.median(c)
        params = sum(p.numel() for p in m.parameters())
        print(f"{n:8s} {params:9d} {med:12.1f} {min(t):9.1f} {max(t):9.1f} {100 * (med - base) / base:+9.1f}% "
              f"{cpu:12.1f} {100 * (cpu - cpu_base) / cpu_base:+9.1f}%")


if __name__ == "__main__":
    main()

# Copied from /work/shared/bench/bench_torch.py (the lead's PyTorch peer of heed's benchmarks, issue #8); changes: the --line output (key=value, exact parameter count).
"""PyTorch CPU throughput benchmark.

Usage (one model/mode per process so peak RSS is per-configuration):
  OMP_NUM_THREADS=T OPENBLAS_NUM_THREADS=T /usr/bin/python3 bench_torch.py MODEL MODE T [REPS] [STEPS] [--line]
  MODEL in resnet20|se|cbam|eca|vit ; MODE in train|infer ; T = torch.set_num_threads(T)
  --line: print key=value pairs instead (the format of `heed bench --line`, read by compare_torch.sh)

train: model.train(), batch 128 of random 3x32x32 float32 (NCHW) + random labels (10 classes),
       step = zero_grad + forward + cross-entropy + backward + SGD(lr 0.1, momentum 0.9, wd 5e-4, nesterov).
infer: model.eval(), torch.no_grad(), forward only, batch 128.
Warm-up: 3 steps. Then timed repetitions of STEPS steps each (images/s per rep) until REPS (default 7)
"clean" reps were collected (a rep is dirty if other processes used >5% of the machine's CPU during it,
see loadmon.py; the machine is shared), at most 3*REPS reps in all.
Prints one line: median/min/max images/s over clean reps, ms/step, peak RSS (ru_maxrss) of the process.
"""
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import build  # noqa: E402
from loadmon import CLEAN_MAX, Mon  # noqa: E402


def main():
    line = "--line" in sys.argv
    argv = [a for a in sys.argv if a != "--line"]
    name, mode, nt = argv[1], argv[2], int(argv[3])
    reps = int(argv[4]) if len(argv) > 4 else 7
    steps = int(argv[5]) if len(argv) > 5 else (5 if mode == "train" else 10)
    torch.set_num_threads(nt)
    torch.manual_seed(0)
    B = 128
    model = build(name)
    nparams = sum(p.numel() for p in model.parameters())
    x = torch.randn(B, 3, 32, 32)
    y = torch.randint(0, 10, (B,))
    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
    else:
        model.eval()

        def step():
            with torch.no_grad():
                return model(x)

    for _ in range(3):
        step()
    ips, dirty, mon = [], [], Mon()
    while len(ips) < reps and len(ips) + len(dirty) < 3 * reps:
        mon.start()
        t = time.perf_counter()
        for _ in range(steps):
            step()
        dt = time.perf_counter() - t
        f = mon.stop(dt)
        (ips if f <= CLEAN_MAX else dirty).append(B * steps / dt)
    nclean = len(ips)
    if len(ips) < 3:  # too noisy: fall back to all reps
        ips = ips + dirty
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(ips)
    if line:
        print(f"torch model={name} mode={mode} threads={nt} batch={B} params={nparams} median={med:.2f} "
              f"min={min(ips):.2f} max={max(ips):.2f} ms_per_step={1000*B/med:.3f} peak_rss_mib={rss:.1f} "
              f"clean={nclean} dirty={len(dirty)} steps={steps} "
              f"env={os.environ.get('BENCH_ENV', 'default')} torch={torch.__version__}", flush=True)
        return
    print(f"{name:8s} {mode:5s} threads={nt} params={nparams/1e6:.3f}M  img/s median {med:7.1f} "
          f"min {min(ips):7.1f} max {max(ips):7.1f}  ms/step(median) {1000*B/med:7.1f}  "
          f"peakRSS {rss:.0f} MiB  (clean reps={len(ips)} dirty={len(dirty)} x {steps} steps, warmup 3) "
          f"env={os.environ.get('BENCH_ENV', 'default')}",
          flush=True)


if __name__ == "__main__":
    main()

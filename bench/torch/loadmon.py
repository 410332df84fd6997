# Copied from /work/shared/bench/loadmon.py (the lead's PyTorch peer of heed's benchmarks, issue #8).
"""Detects CPU use by OTHER processes during a timed region (the machine is shared/noisy).

foreign fraction = (machine non-idle jiffies - this process's utime+stime jiffies) / (wall * HZ * ncpu).
A rep with foreign fraction > CLEAN_MAX is reported as 'dirty' and excluded from the clean median.
"""
import os

HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()
CLEAN_MAX = 0.05


def _machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def _self_busy():
    t = os.times()  # includes all threads of this process (children excluded)
    return (t.user + t.system) * HZ


class Mon:
    def start(self):
        self.m0, self.s0 = _machine_busy(), _self_busy()

    def stop(self, wall):
        m, s = _machine_busy() - self.m0, _self_busy() - self.s0
        return max(0.0, (m - s) / (wall * HZ * NCPU))

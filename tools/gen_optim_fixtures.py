#!/usr/bin/python3
"""Writes the PyTorch reference fixtures for heed's optim tests.

Run by hand with Debian's torch (1.13):  /usr/bin/python3 tools/gen_optim_fixtures.py
Output: tests/fixtures/optim/{optimizers,schedules,clip_grad_norm}.json

Every case is a fixed small problem: two named parameters ("w" (2, 3) and
"b" (3)), fixed initial values and a fixed gradient per step (b has no
gradient at step 3, so it must be skipped). The fixture records the
parameters and learning rates after every step, so the C++ test needs no model.
"""
import json
import math
import os

import warnings

import torch

warnings.filterwarnings("ignore", message="The epoch parameter")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "optim")
SHAPES = {"w": [2, 3], "b": [3]}
SKIP = (2, "b")  # (step index, param): no gradient there


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def problem(dtype, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    init = {n: torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for n, s in SHAPES.items()}
    grads = []
    for k in range(steps):
        step = {}
        for n, s in SHAPES.items():
            v = torch.randn(s, generator=g, dtype=torch.float64).to(dtype)
            step[n] = None if (k, n) == SKIP else v
        grads.append(step)
    return init, grads


def make_optimizer(spec, params):
    groups = []
    for grp in spec["groups"]:
        d = {k: v for k, v in grp.items() if k != "params"}
        if "betas" in d:
            d["betas"] = tuple(d["betas"])
        d["params"] = [params[n] for n in grp["params"]]
        groups.append(d)
    defaults = dict(spec["defaults"])
    if "betas" in defaults:
        defaults["betas"] = tuple(defaults["betas"])
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[spec["type"]]
    return cls(groups, **defaults)


def make_scheduler(spec, opt):
    S = torch.optim.lr_scheduler
    t = spec["type"]
    if t == "StepLR":
        return S.StepLR(opt, step_size=spec["step_size"], gamma=spec["gamma"])
    if t == "MultiStepLR":
        return S.MultiStepLR(opt, milestones=spec["milestones"], gamma=spec["gamma"])
    if t == "CosineAnnealingLR":
        return S.CosineAnnealingLR(opt, T_max=spec["T_max"], eta_min=spec["eta_min"])
    if t == "OneCycleLR":
        kw = {k: v for k, v in spec.items() if k not in ("type", "max_lr")}
        return S.OneCycleLR(opt, max_lr=spec["max_lr"], **kw)
    if t == "LinearWarmup":
        # heed's LinearWarmup: warm up over N steps, then hand over to the inner
        # schedule (which starts at its own step 0) = PyTorch's SequentialLR.
        warm = S.LinearLR(opt, start_factor=spec["start_factor"], end_factor=1.0,
                          total_iters=spec["warmup_steps"])
        if "inner" not in spec:
            return warm
        inner = make_scheduler(spec["inner"], opt)
        return S.SequentialLR(opt, [warm, inner], milestones=[spec["warmup_steps"]])
    raise ValueError(t)


def expected_warmup_lr(spec, base_lrs, step):
    """Closed form of LinearWarmup(CosineAnnealingLR), to cross-check SequentialLR."""
    n, f = spec["warmup_steps"], spec["start_factor"]
    if step < n:
        return [b * (f + (1 - f) * step / n) for b in base_lrs]
    inner = spec.get("inner")
    if inner is None:
        return list(base_lrs)
    assert inner["type"] == "CosineAnnealingLR"
    t, T, m = step - n, inner["T_max"], inner["eta_min"]
    return [m + (b - m) * (1 + math.cos(math.pi * t / T)) / 2 for b in base_lrs]


def momenta(opt):
    return [grp["betas"][0] if "betas" in grp else grp["momentum"] for grp in opt.param_groups]


def run_case(name, dtype, opt_spec, sched_spec=None, steps=5):
    init, grads = problem(dtype, steps)
    params = {n: v.clone().requires_grad_() for n, v in init.items()}
    opt = make_optimizer(opt_spec, params)
    base_lrs = [grp["lr"] for grp in opt.param_groups]
    sched = make_scheduler(sched_spec, opt) if sched_spec else None
    case = {
        "name": name,
        "dtype": "float32" if dtype == torch.float32 else "float64",
        "optimizer": opt_spec,
        "params": [{"name": n, "shape": SHAPES[n], "values": flat(v)} for n, v in init.items()],
        "grads": [{n: (flat(v) if v is not None else None) for n, v in st.items()} for st in grads],
        "initial_lr": [grp["lr"] for grp in opt.param_groups],
        "expected": [],
    }
    if sched_spec:
        case["scheduler"] = sched_spec
        case["initial_momentum"] = momenta(opt)
    for k, st in enumerate(grads):
        for n, p in params.items():
            p.grad = st[n].clone() if st[n] is not None else None
        opt.step()
        row = {"params": {n: flat(p) for n, p in params.items()}}
        if sched:
            sched.step()
            row["lr"] = [grp["lr"] for grp in opt.param_groups]
            row["momentum"] = momenta(opt)
            if sched_spec["type"] == "LinearWarmup":
                want = expected_warmup_lr(sched_spec, base_lrs, k + 1)
                assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(row["lr"], want)), (row["lr"], want)
        case["expected"].append(row)
    return case


def optimizer_cases():
    one = lambda **d: [{"params": ["w", "b"], **d}]
    specs = [
        ("sgd_plain", {"type": "SGD", "defaults": {"lr": 0.1}, "groups": one()}),
        ("sgd_momentum", {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.9}, "groups": one()}),
        ("sgd_nesterov", {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.9, "nesterov": True},
                          "groups": one()}),
        ("sgd_dampening", {"type": "SGD", "defaults": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
                           "groups": one()}),
        ("sgd_weight_decay", {"type": "SGD",
                              "defaults": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
                              "groups": one()}),
        ("sgd_maximize", {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.5, "maximize": True},
                          "groups": one()}),
        ("sgd_groups", {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.9},
                        "groups": [{"params": ["w"]},
                                   {"params": ["b"], "lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}]}),
        ("adam", {"type": "Adam", "defaults": {"lr": 0.01}, "groups": one()}),
        ("adam_amsgrad", {"type": "Adam", "defaults": {"lr": 0.01, "betas": [0.8, 0.9], "amsgrad": True},
                          "groups": one()}),
        ("adam_weight_decay", {"type": "Adam", "defaults": {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-6},
                               "groups": one()}),
        ("adam_maximize", {"type": "Adam", "defaults": {"lr": 0.01, "maximize": True}, "groups": one()}),
        ("adamw", {"type": "AdamW", "defaults": {"lr": 0.01}, "groups": one()}),
        ("adamw_amsgrad", {"type": "AdamW", "defaults": {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True},
                           "groups": one()}),
        ("adamw_groups", {"type": "AdamW", "defaults": {"lr": 0.01, "weight_decay": 0.05},
                          "groups": [{"params": ["w"], "lr": 0.03},
                                     {"params": ["b"], "weight_decay": 0.0, "betas": [0.5, 0.6]}]}),
    ]
    cases = []
    for name, spec in specs:
        for dtype in (torch.float32, torch.float64):
            cases.append(run_case(name, dtype, spec))
    return cases


def schedule_cases():
    sgd = {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.9}, "groups": [{"params": ["w", "b"]}]}
    sgd2 = {"type": "SGD", "defaults": {"lr": 0.1, "momentum": 0.9},
            "groups": [{"params": ["w"]}, {"params": ["b"], "lr": 0.02}]}
    adam = {"type": "Adam", "defaults": {"lr": 0.01}, "groups": [{"params": ["w", "b"]}]}
    specs = [
        ("step_lr", sgd, {"type": "StepLR", "step_size": 2, "gamma": 0.5}),
        ("multistep_lr", sgd2, {"type": "MultiStepLR", "milestones": [1, 3, 3], "gamma": 0.3}),
        ("cosine", sgd2, {"type": "CosineAnnealingLR", "T_max": 4, "eta_min": 0.001}),
        ("warmup_cosine", sgd2, {"type": "LinearWarmup", "warmup_steps": 3, "start_factor": 0.1,
                                 "inner": {"type": "CosineAnnealingLR", "T_max": 4, "eta_min": 0.001}}),
        ("warmup_constant", sgd, {"type": "LinearWarmup", "warmup_steps": 4, "start_factor": 0.25}),
        ("onecycle_sgd", sgd2, {"type": "OneCycleLR", "max_lr": [0.5, 0.1], "total_steps": 8}),
        ("onecycle_adam_linear", adam, {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": 9,
                                        "anneal_strategy": "linear", "pct_start": 0.4}),
        ("onecycle_three_phase", sgd, {"type": "OneCycleLR", "max_lr": 0.2, "total_steps": 8,
                                       "three_phase": True, "cycle_momentum": False}),
    ]
    return [run_case(name, torch.float32, o, s, steps=8) for name, o, s in specs]


def clip_cases():
    cases = []
    for dtype in (torch.float32, torch.float64):
        init, grads = problem(dtype, 1, seed=1)
        for norm_type, max_norm in [(2.0, 1.0), (2.0, 100.0), (1.0, 0.5), ("inf", 0.3), (3.0, 0.7)]:
            gs = {n: torch.randn(s, generator=torch.Generator().manual_seed(7 + i), dtype=torch.float64).to(dtype)
                  for i, (n, s) in enumerate(SHAPES.items())}
            params = {n: v.clone().requires_grad_() for n, v in init.items()}
            for n, p in params.items():
                p.grad = gs[n].clone()
            nt = math.inf if norm_type == "inf" else norm_type
            total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm, norm_type=nt)
            cases.append({
                "dtype": "float32" if dtype == torch.float32 else "float64",
                "norm_type": norm_type, "max_norm": max_norm,
                "grads": {n: flat(g) for n, g in gs.items()},
                "total_norm": float(total),
                "clipped": {n: flat(p.grad) for n, p in params.items()},
            })
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for fname, cases in [("optimizers.json", optimizer_cases()), ("schedules.json", schedule_cases()),
                         ("clip_grad_norm.json", clip_cases())]:
        # One case per line: small diffs when a case changes.
        dump = lambda o: json.dumps(o, separators=(",", ":"))
        with open(os.path.join(OUT, fname), "w") as f:
            f.write('{"generator":"tools/gen_optim_fixtures.py","torch":%s,"cases":[\n' %
                    dump(torch.__version__))
            f.write(",\n".join(dump(c) for c in cases))
            f.write("\n]}\n")
        print(fname, len(cases), "cases")


if __name__ == "__main__":
    main()

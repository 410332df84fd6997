#!/usr/bin/python3
"""Writes the PyTorch reference values that tests/core/test_loss.cpp and
tests/core/test_softmax.cpp compare against: tests/fixtures/loss/*.json.

Run by hand with Debian's torch (the `python3` on PATH has none):
    /usr/bin/python3 tools/gen_loss_fixtures.py

Each case holds float64 inputs, an upstream gradient `grad_out` (shape of the
output), the output, and d(sum(out * grad_out))/d(input) for every float input.
Floats are written with repr(), so the C++ side reads back the exact doubles.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "loss")


def tensor_json(t):
    t = t.detach()
    return {
        "shape": list(t.shape),
        "dtype": "int64" if t.dtype == torch.int64 else "float64",
        "data": [float(v) if t.dtype != torch.int64 else int(v) for v in t.reshape(-1).tolist()],
    }


def case(name, fn, inputs, params, no_grad=()):
    """inputs: ordered dict name -> tensor; float ones not in no_grad get gradients."""
    leaves = {}
    for k, v in inputs.items():
        wants = v.is_floating_point() and k not in no_grad
        leaves[k] = v.clone().requires_grad_(True) if wants else v.clone()
    out = fn(**leaves)
    grad_out = torch.randn(out.shape, dtype=torch.float64)
    (out * grad_out).sum().backward()
    return {
        "name": name,
        "params": params,
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "grad_out": tensor_json(grad_out),
        "output": tensor_json(out),
        "grads": {k: tensor_json(v.grad) for k, v in leaves.items() if v.requires_grad},
    }


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float64) * scale


REDUCTIONS = ["none", "mean", "sum"]


def cross_entropy_cases():
    cases = []
    logits = randn(4, 5, scale=2.0)
    target = torch.tensor([1, 0, 4, 2])
    target_ign = torch.tensor([1, -100, 4, 2])
    target_ign2 = torch.tensor([2, 0, 2, 3])  # ignore_index=2 lies inside [0, C)
    spatial = randn(2, 3, 2, 2, scale=1.5)
    spatial_t = torch.tensor([[[0, 2], [1, -100]], [[2, 2], [-100, 0]]])
    huge = torch.tensor([[1000.0, 0.0, -1000.0], [500.0, 501.0, 499.0]], dtype=torch.float64)
    huge_t = torch.tensor([2, 1])
    for red in REDUCTIONS:
        for label, x, t, ign, eps in [
            ("plain", logits, target, -100, 0.0),
            ("ignore", logits, target_ign, -100, 0.0),
            ("ignore_in_range", logits, target_ign2, 2, 0.0),
            ("smoothing", logits, target, -100, 0.1),
            ("smoothing_ignore", logits, target_ign, -100, 0.2),
            ("spatial", spatial, spatial_t, -100, 0.0),
            ("spatial_smoothing", spatial, spatial_t, -100, 0.15),
            ("huge_logits", huge, huge_t, -100, 0.05),
        ]:
            cases.append(case(
                f"cross_entropy/{label}/{red}",
                lambda logits, target, red=red, ign=ign, eps=eps: F.cross_entropy(
                    logits, target, reduction=red, ignore_index=ign, label_smoothing=eps),
                {"logits": x, "target": t},
                {"reduction": red, "ignore_index": ign, "label_smoothing": eps}))
    return cases


def nll_cases():
    cases = []
    logp = F.log_softmax(randn(4, 5), 1)
    target = torch.tensor([3, 3, 0, -100])
    spatial = F.log_softmax(randn(2, 3, 4), 1)
    spatial_t = torch.tensor([[0, 1, 2, 1], [2, -100, 0, 0]])
    for red in REDUCTIONS:
        for label, x, t in [("plain", logp, target), ("spatial", spatial, spatial_t)]:
            cases.append(case(
                f"nll_loss/{label}/{red}",
                lambda input, target, red=red: F.nll_loss(input, target, reduction=red),
                {"input": x, "target": t},
                {"reduction": red, "ignore_index": -100}))
    return cases


def mse_cases():
    x, y = randn(3, 4), randn(3, 4)
    return [case(f"mse_loss/{red}",
                 lambda input, target, red=red: F.mse_loss(input, target, reduction=red),
                 {"input": x, "target": y}, {"reduction": red}) for red in REDUCTIONS]


def bce_cases():
    cases = []
    x = randn(3, 4, scale=3.0)
    x[0, 0], x[0, 1], x[1, 2] = 100.0, -100.0, 0.0  # extremes and the x = 0 point
    t = torch.rand(3, 4, dtype=torch.float64)
    t[0, 0], t[0, 1] = 0.0, 1.0
    pw = torch.rand(4, dtype=torch.float64) * 3 + 0.2
    for red in REDUCTIONS:
        cases.append(case(
            f"bce_with_logits/plain/{red}",
            lambda logits, target, red=red: F.binary_cross_entropy_with_logits(
                logits, target, reduction=red),
            {"logits": x, "target": t}, {"reduction": red}))
        cases.append(case(
            f"bce_with_logits/pos_weight/{red}",
            lambda logits, target, pos_weight, red=red: F.binary_cross_entropy_with_logits(
                logits, target, reduction=red, pos_weight=pos_weight),
            # torch 1.13 has no gradient for pos_weight; heed's is gradchecked instead.
            {"logits": x, "target": t, "pos_weight": pw}, {"reduction": red},
            no_grad=("pos_weight",)))
    return cases


def softmax_cases():
    cases = []
    x3 = randn(2, 3, 4, scale=2.0)
    for fn_name, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
        for dim in [0, 1, -1]:
            cases.append(case(f"{fn_name}/dim{dim}", lambda x, fn=fn, dim=dim: fn(x, dim),
                              {"x": x3}, {"dim": dim}))
        big = torch.tensor([[1000.0, 999.0, -1000.0], [-5.0, 0.0, 5.0]], dtype=torch.float64)
        cases.append(case(f"{fn_name}/large", lambda x, fn=fn: fn(x, 1), {"x": big}, {"dim": 1}))
    return cases


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    files = {
        "cross_entropy.json": cross_entropy_cases(),
        "nll_loss.json": nll_cases(),
        "mse_loss.json": mse_cases(),
        "bce_with_logits.json": bce_cases(),
        "softmax.json": softmax_cases(),
    }
    for fname, cases in files.items():
        path = os.path.join(OUT_DIR, fname)
        with open(path, "w") as f:
            json.dump({"generator": "tools/gen_loss_fixtures.py", "torch": torch.__version__,
                       "cases": cases}, f, indent=None, separators=(",", ":"))
            f.write("\n")
        print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main()

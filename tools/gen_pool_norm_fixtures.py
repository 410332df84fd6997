#!/usr/bin/python3
"""Writes tests/fixtures/pool_norm/*.json: PyTorch's values for heed's pooling
and normalisation tests (tests/core/test_pool.cpp, tests/core/test_norm.cpp).

Run by hand with Debian's torch:  /usr/bin/python3 tools/gen_pool_norm_fixtures.py

Every tensor is float64, stored as {"shape": [...], "data": [flat, row-major]}.
Each case holds the input, an upstream gradient `grad_out`, PyTorch's output
and the gradients of sum(output * grad_out).
"""
import json
import os

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                       "pool_norm")


def t2j(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(fn, inputs):
    """Output and gradients of sum(fn(*inputs) * grad_out) w.r.t. every input."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    grad_out = torch.randn_like(out)
    (out * grad_out).sum().backward()
    return out, grad_out, [leaf.grad for leaf in leaves]


def pool_cases():
    cases = []

    def add(op, name, shape, **params):
        x = torch.randn(*shape, dtype=torch.float64)
        if op == "max_pool2d":
            fn = lambda x: F.max_pool2d(x, **params)
        elif op == "avg_pool2d":
            fn = lambda x: F.avg_pool2d(x, **params)
        elif op == "adaptive_avg_pool2d":
            fn = lambda x: F.adaptive_avg_pool2d(x, params["output_size"])
        else:
            fn = lambda x: F.adaptive_max_pool2d(x, params["output_size"])
        out, g, (gx,) = run(fn, [x])
        c = {"op": op, "name": name, "input": t2j(x), "grad_out": t2j(g), "output": t2j(out),
             "grad_input": t2j(gx)}
        c.update(params)
        cases.append(c)

    mp, ap = "max_pool2d", "avg_pool2d"
    add(mp, "k2 default stride", (2, 3, 6, 6), kernel_size=(2, 2), stride=(2, 2))
    add(mp, "k3 s2 p1", (1, 2, 7, 7), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    add(mp, "k3 s2 ceil", (1, 2, 8, 8), kernel_size=(3, 3), stride=(2, 2), ceil_mode=True)
    # ceil gives 4 windows, but the 4th would start in the right padding: 3.
    add(mp, "k2 s2 p1 ceil last window dropped", (1, 1, 5, 5), kernel_size=(2, 2),
        stride=(2, 2), padding=(1, 1), ceil_mode=True)
    add(mp, "dilation 2 p1", (1, 1, 7, 9), kernel_size=(3, 3), stride=(1, 1), padding=(1, 1),
        dilation=(2, 2))
    add(mp, "asymmetric kernel/stride", (2, 1, 6, 7), kernel_size=(2, 3), stride=(1, 2),
        padding=(1, 1))
    add(mp, "dilation ceil", (1, 2, 8, 8), kernel_size=(3, 3), stride=(2, 2), dilation=(2, 2),
        ceil_mode=True)
    add(mp, "k8 s8 (dense window path)", (1, 2, 16, 16), kernel_size=(8, 8), stride=(8, 8))
    add(mp, "unbatched", (3, 5, 5), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))

    add(ap, "k2 default stride", (2, 2, 6, 6), kernel_size=(2, 2), stride=(2, 2))
    add(ap, "k3 s2 p1 include pad", (1, 2, 7, 7), kernel_size=(3, 3), stride=(2, 2),
        padding=(1, 1), count_include_pad=True)
    add(ap, "k3 s2 p1 exclude pad", (1, 2, 7, 7), kernel_size=(3, 3), stride=(2, 2),
        padding=(1, 1), count_include_pad=False)
    # The last window runs past the padded input: the divisor is clipped.
    add(ap, "ceil include pad", (1, 2, 8, 8), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1),
        ceil_mode=True, count_include_pad=True)
    add(ap, "ceil exclude pad", (1, 2, 8, 8), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1),
        ceil_mode=True, count_include_pad=False)
    add(ap, "ceil no pad", (1, 1, 6, 7), kernel_size=(2, 2), stride=(2, 2), ceil_mode=True)
    add(ap, "asymmetric", (2, 1, 7, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))
    add(ap, "unbatched", (2, 6, 6), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1),
        count_include_pad=False)

    for op in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        add(op, "7x5 -> 3x2 (non-divisible)", (2, 3, 7, 5), output_size=(3, 2))
        add(op, "6x8 -> (H, 1)", (1, 2, 6, 8), output_size=(6, 1))
        add(op, "6x8 -> (1, W)", (1, 2, 6, 8), output_size=(1, 8))
        add(op, "5x7 -> 1x1", (2, 3, 5, 7), output_size=(1, 1))
        add(op, "3x3 -> 5x4 (upsampling windows)", (1, 1, 3, 3), output_size=(5, 4))
        add(op, "10x7 -> 4x3", (1, 2, 10, 7), output_size=(4, 3))
        add(op, "unbatched 7x7 -> 3x3", (2, 7, 7), output_size=(3, 3))
        # Windows of 64+ elements take the dense max path.
        add(op, "12x11 -> 1x1 (global)", (2, 3, 12, 11), output_size=(1, 1))
        add(op, "12x11 -> 2x1", (1, 2, 12, 11), output_size=(2, 1))
    return cases


def batch_norm_cases():
    cases = []

    def training_run(name, shape, momentum, affine, eps=1e-5):
        C = shape[1]
        bn = torch.nn.BatchNorm1d(C, momentum=momentum, eps=eps, affine=affine) \
            if len(shape) <= 3 else torch.nn.BatchNorm2d(C, momentum=momentum, eps=eps,
                                                          affine=affine)
        bn = bn.double()
        if affine:
            with torch.no_grad():
                bn.weight.copy_(torch.rand(C, dtype=torch.float64) + 0.5)
                bn.bias.copy_(torch.randn(C, dtype=torch.float64))
        c = {"name": name, "momentum": momentum, "eps": eps, "affine": affine,
             "weight": t2j(bn.weight) if affine else None,
             "bias": t2j(bn.bias) if affine else None, "steps": []}
        bn.train()
        for step in range(3):
            # Shifted, scaled inputs: the running stats move visibly.
            x = (torch.randn(*shape, dtype=torch.float64) * (1.5 + step) + 2.0 - step) \
                .requires_grad_(True)
            out = bn(x)
            g = torch.randn_like(out)
            bn.zero_grad()
            (out * g).sum().backward()
            s = {"input": t2j(x), "grad_out": t2j(g), "output": t2j(out),
                 "grad_input": t2j(x.grad), "running_mean": t2j(bn.running_mean),
                 "running_var": t2j(bn.running_var)}
            if affine:
                s["grad_weight"] = t2j(bn.weight.grad)
                s["grad_bias"] = t2j(bn.bias.grad)
            c["steps"].append(s)
        bn.eval()
        x = torch.randn(*shape, dtype=torch.float64).requires_grad_(True)
        out = bn(x)
        g = torch.randn_like(out)
        bn.zero_grad()
        (out * g).sum().backward()
        c["eval"] = {"input": t2j(x), "grad_out": t2j(g), "output": t2j(out),
                     "grad_input": t2j(x.grad)}
        if affine:
            c["eval"]["grad_weight"] = t2j(bn.weight.grad)
            c["eval"]["grad_bias"] = t2j(bn.bias.grad)
        cases.append(c)

    training_run("BatchNorm2d affine", (3, 4, 3, 5), 0.1, True)
    training_run("BatchNorm1d (B, C) no affine", (6, 5), 0.3, False)
    training_run("BatchNorm1d (B, C, L) affine eps 1e-3", (4, 3, 7), 0.1, True, eps=1e-3)
    return cases


def layer_norm_cases():
    cases = []

    def add(name, shape, normalized_shape, affine, eps=1e-5):
        x = torch.randn(*shape, dtype=torch.float64) * 2.0 + 1.0
        inputs = [x]
        if affine:
            inputs += [torch.rand(*normalized_shape, dtype=torch.float64) + 0.5,
                       torch.randn(*normalized_shape, dtype=torch.float64)]
            fn = lambda x, w, b: F.layer_norm(x, normalized_shape, w, b, eps)
        else:
            fn = lambda x: F.layer_norm(x, normalized_shape, None, None, eps)
        out, g, grads = run(fn, inputs)
        c = {"name": name, "normalized_shape": list(normalized_shape), "eps": eps,
             "affine": affine, "input": t2j(x), "grad_out": t2j(g), "output": t2j(out),
             "grad_input": t2j(grads[0])}
        if affine:
            c.update(weight=t2j(inputs[1]), bias=t2j(inputs[2]), grad_weight=t2j(grads[1]),
                     grad_bias=t2j(grads[2]))
        cases.append(c)

    add("last dim affine", (2, 3, 8), (8,), True)
    add("last two dims no affine", (2, 3, 4), (3, 4), False)
    add("last two dims affine eps 1e-3", (5, 2, 6), (2, 6), True, eps=1e-3)
    add("1-D input", (7,), (7,), True)
    return cases


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cases in (("pool", pool_cases()), ("batch_norm", batch_norm_cases()),
                        ("layer_norm", layer_norm_cases())):
        path = os.path.join(OUT_DIR, name + ".json")
        with open(path, "w") as f:
            json.dump({"generator": "tools/gen_pool_norm_fixtures.py",
                       "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
            f.write("\n")
        print(path, len(cases), "cases")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the PyTorch fixtures for heed's nn tests (run by hand; the outputs
are committed, tests never run PyTorch to pass):

  /usr/bin/python3 tools/gen_nn_fixtures.py [out_dir]   # default tests/fixtures/nn

- torch_written.safetensors: tensors of every dtype heed reads, with known
  values, in a safetensors file written by hand here (no safetensors package),
  so heed's reader is checked against an independent writer.
- layers.safetensors: golden values for each layer case <c>:
    <c>/x, <c>/gy           input and the upstream gradient
    <c>/y, <c>/gx           output and input gradient of sum(y * gy)
    <c>/param/<key>         the module's state_dict before the forward (load it)
    <c>/grad/<key>          each parameter's gradient
    <c>/state/<key>         state_dict after the forward (BatchNorm running stats)
  and in the metadata: "<c>/repr" (the module's repr) and "block/keys"
  (a ResNet basic block's state_dict keys, JSON list).
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path, tensors, metadata):
    """The format by hand: u64 LE header length, JSON header padded with spaces
    to a multiple of 8, then the tensors' bytes back to back."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        f.write(b"".join(blobs))


tensors, meta = {}, {}


def put(name, t):
    assert name not in tensors, name
    tensors[name] = t.detach().clone().contiguous()


def record(case, module, x, *, steps=None, extra_inputs=()):
    """Golden forward/backward of module(x) (train mode): y, gx, param grads."""
    meta[case + "/repr"] = repr(module)
    for k, v in module.state_dict().items():
        put(f"{case}/param/{k}", v)
    xs = steps if steps is not None else [x]
    for i, xi in enumerate(xs[:-1]):  # earlier training steps (BatchNorm)
        put(f"{case}/x{i}", xi)
        with torch.no_grad():
            module(xi, *extra_inputs)
    x = xs[-1].clone()
    if x.is_floating_point():
        x.requires_grad_(True)
    module.zero_grad()
    y = module(x, *extra_inputs)
    gy = torch.randn_like(y)
    (y * gy).sum().backward()
    put(f"{case}/x", x)
    put(f"{case}/y", y)
    put(f"{case}/gy", gy)
    if x.is_floating_point():
        put(f"{case}/gx", x.grad)
    for k, p in module.named_parameters():
        if p.grad is not None:
            put(f"{case}/grad/{k}", p.grad)
    for k, v in module.state_dict().items():
        put(f"{case}/state/{k}", v)


def randomize_affine(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))


def layer_cases():
    torch.manual_seed(0)
    record("linear", nn.Linear(5, 3), torch.randn(4, 5))
    record("linear_nobias", nn.Linear(5, 3, bias=False), torch.randn(2, 3, 5))
    record("conv1d", nn.Conv1d(3, 4, 3, stride=2, padding=1), torch.randn(2, 3, 9))
    record("conv1d_groups", nn.Conv1d(4, 6, 2, dilation=2, groups=2, bias=False),
           torch.randn(2, 4, 8))
    record("conv2d", nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), torch.randn(2, 4, 7, 7))
    record("conv2d_rect", nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), dilation=2,
                                    bias=False), torch.randn(2, 3, 8, 9))

    bn = nn.BatchNorm2d(3)
    randomize_affine(bn)
    record("bn2d", bn, None, steps=[torch.randn(4, 3, 5, 5) * 2 + 1 for _ in range(3)])
    bn.eval()
    xe = torch.randn(2, 3, 4, 4)
    put("bn2d/x_eval", xe)
    put("bn2d/y_eval", bn(xe))
    bn1 = nn.BatchNorm1d(4, momentum=None)
    randomize_affine(bn1)
    record("bn1d_cma", bn1, None, steps=[torch.randn(6, 4, 3) - 0.5 for _ in range(3)])
    record("bn1d_2d", nn.BatchNorm1d(5, eps=1e-3, momentum=0.3), None,
           steps=[torch.randn(7, 5) for _ in range(3)])
    record("bn2d_notrack", nn.BatchNorm2d(3, affine=False, track_running_stats=False),
           torch.randn(3, 3, 2, 4))

    ln = nn.LayerNorm((4, 5))
    randomize_affine(ln)
    record("layernorm", ln, torch.randn(2, 3, 4, 5))
    gn = nn.GroupNorm(2, 6)
    randomize_affine(gn)
    record("groupnorm", gn, torch.randn(2, 6, 3, 3) * 3)
    record("groupnorm_noaffine", nn.GroupNorm(3, 3, eps=1e-3, affine=False), torch.randn(4, 3, 5))

    acts = {
        "relu": nn.ReLU(), "relu6": nn.ReLU6(), "gelu": nn.GELU(),
        "gelu_tanh": nn.GELU(approximate="tanh"), "silu": nn.SiLU(), "sigmoid": nn.Sigmoid(),
        "tanh": nn.Tanh(), "hardswish": nn.Hardswish(), "hardsigmoid": nn.Hardsigmoid(),
        "leaky_relu": nn.LeakyReLU(0.2), "softplus": nn.Softplus(beta=2, threshold=5),
    }
    for name, m in acts.items():
        record(name, m, torch.randn(3, 7) * 4)

    record("maxpool", nn.MaxPool2d(3, stride=2, padding=1), torch.randn(2, 3, 7, 7))
    record("maxpool_ceil", nn.MaxPool2d((2, 3), stride=2, dilation=(2, 1), ceil_mode=True),
           torch.randn(1, 2, 8, 9))
    record("avgpool", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
           torch.randn(2, 3, 7, 6))
    record("avgpool2", nn.AvgPool2d(2), torch.randn(1, 2, 5, 4))
    record("adaptive_avg", nn.AdaptiveAvgPool2d((3, 2)), torch.randn(2, 3, 7, 5))
    record("adaptive_avg1", nn.AdaptiveAvgPool2d(1), torch.randn(2, 3, 4, 4))
    record("adaptive_max", nn.AdaptiveMaxPool2d((2, 3)), torch.randn(2, 3, 5, 7))
    record("flatten", nn.Flatten(), torch.randn(2, 3, 4))
    record("embedding", nn.Embedding(10, 4, padding_idx=0),
           torch.tensor([[0, 3, 3, 9, 1], [2, 0, 5, 5, 5], [7, 8, 0, 1, 4]]))
    record("sequential", nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
           torch.randn(5, 4))


def lstm_cases():
    torch.manual_seed(1)

    def run(case, lstm, x, lengths=None, hx=None):
        meta[case + "/repr"] = repr(lstm)
        for k, v in lstm.state_dict().items():
            put(f"{case}/param/{k}", v)
        x = x.clone().requires_grad_(True)
        if lengths is not None:
            packed = pack_padded_sequence(x, lengths, batch_first=lstm.batch_first,
                                          enforce_sorted=False)
            out, (h, c) = lstm(packed, hx)
            total = x.shape[1] if lstm.batch_first else x.shape[0]
            y, _ = pad_packed_sequence(out, batch_first=lstm.batch_first, total_length=total)
            put(f"{case}/lengths", lengths)
        else:
            y, (h, c) = lstm(x, hx)
        gy, gh, gc = torch.randn_like(y), torch.randn_like(h), torch.randn_like(c)
        ((y * gy).sum() + (h * gh).sum() + (c * gc).sum()).backward()
        for name, t in [("x", x), ("y", y), ("h_n", h), ("c_n", c), ("gy", gy), ("gh", gh),
                        ("gc", gc), ("gx", x.grad)]:
            put(f"{case}/{name}", t)
        if hx is not None:
            put(f"{case}/h0", hx[0])
            put(f"{case}/c0", hx[1])
            put(f"{case}/gh0", hx[0].grad)
            put(f"{case}/gc0", hx[1].grad)
        for k, p in lstm.named_parameters():
            put(f"{case}/grad/{k}", p.grad)

    h0 = torch.randn(1, 3, 5).requires_grad_(True)
    c0 = torch.randn(1, 3, 5).requires_grad_(True)
    run("lstm", nn.LSTM(4, 5), torch.randn(6, 3, 4), hx=(h0, c0))
    run("lstm_len", nn.LSTM(3, 4), torch.randn(5, 4, 3), lengths=torch.tensor([5, 3, 1, 4]))
    run("bilstm2", nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True),
        torch.randn(3, 6, 4), lengths=torch.tensor([6, 2, 4]))
    run("bilstm_nolen", nn.LSTM(3, 2, bidirectional=True, bias=False), torch.randn(4, 2, 3))


def loss_cases():
    torch.manual_seed(2)

    def run(case, fn, x, target, *, reduction="mean"):
        x = x.clone().requires_grad_(True)
        y = fn(x, target)
        gy = torch.randn_like(y)
        (y * gy).sum().backward()
        for name, t in [("x", x), ("target", target), ("y", y), ("gy", gy), ("gx", x.grad)]:
            put(f"{case}/{name}", t)

    logits = torch.randn(6, 5) * 2
    labels = torch.tensor([0, 2, 4, 2, 1, 3])
    run("ce", nn.CrossEntropyLoss(), logits, labels)
    run("ce_smooth_ignore", nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.1), logits, labels)
    run("ce_sum", nn.CrossEntropyLoss(reduction="sum"), logits, labels)
    run("ce_none_2d", nn.CrossEntropyLoss(reduction="none", label_smoothing=0.2),
        torch.randn(2, 4, 3, 2), torch.randint(0, 4, (2, 3, 2)))
    run("nll", nn.NLLLoss(ignore_index=4), F.log_softmax(logits, 1), labels)
    run("mse", nn.MSELoss(), torch.randn(3, 4), torch.randn(3, 4))
    run("mse_none", nn.MSELoss(reduction="none"), torch.randn(3, 4), torch.randn(3, 4))
    pos_weight = torch.tensor([0.5, 2.0, 1.5])
    put("bce_pw/pos_weight", pos_weight)
    run("bce_pw", nn.BCEWithLogitsLoss(pos_weight=pos_weight), torch.randn(4, 3) * 2,
        torch.rand(4, 3))
    run("bce_sum", nn.BCEWithLogitsLoss(reduction="sum"), torch.randn(5) * 3,
        (torch.rand(5) > 0.5).float())


class BasicBlock(nn.Module):
    """The ResNet-CIFAR basic block (projection shortcut)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def block_case():
    torch.manual_seed(3)
    block = BasicBlock(3, 4, 2)
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            randomize_affine(m)
    meta["block/keys"] = json.dumps(list(block.state_dict().keys()))
    record("block", block, torch.randn(2, 3, 6, 6))


def interop_file(path):
    t = {
        "f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1,
        "f64": torch.tensor([[1.0 / 3, -2.5], [1e-300, 6.02e23]], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 62), -1, 0, 7, 2 ** 62 + 5], dtype=torch.int64),
        "flags": torch.tensor([[True, False, True], [False, False, True]]),
        "count": torch.tensor(42, dtype=torch.int64),
        "empty": torch.zeros(0, 3),
        "nested.name.weight": torch.full((2,), 0.125),
    }
    write_safetensors(path, t, {"format": "pt", "source": "torch " + torch.__version__})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "fixtures", "nn")
    os.makedirs(out, exist_ok=True)
    interop_file(os.path.join(out, "torch_written.safetensors"))
    layer_cases()
    lstm_cases()
    loss_cases()
    block_case()
    write_safetensors(os.path.join(out, "layers.safetensors"), tensors,
                      {"format": "pt", **meta})
    print(f"wrote {len(tensors)} tensors to {out}")


if __name__ == "__main__":
    main()

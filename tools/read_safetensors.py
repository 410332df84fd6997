#!/usr/bin/python3
"""Reads a safetensors file with PyTorch, independently of heed, and prints
{"__metadata__": {...}, name: {"dtype", "shape", "values"}} as JSON.
Usage: /usr/bin/python3 tools/read_safetensors.py FILE"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}
with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    data = f.read()
out = {"__metadata__": header.pop("__metadata__", {})}
for name, info in header.items():
    begin, end = info["data_offsets"]
    raw = bytearray(data[begin:end])
    t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0)
    t = t.reshape(info["shape"])
    out[name] = {"dtype": info["dtype"], "shape": list(t.shape), "values": t.flatten().tolist()}
print(json.dumps(out))

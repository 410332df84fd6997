#!/usr/bin/python3
"""Golden fixtures for heed's attention zoo (attention_spec.md §12), run by
hand with Debian's torch; the outputs are committed and the C++ tests never
run PyTorch:

  /usr/bin/python3 tools/gen_attention_zoo_fixtures.py [out_dir]
      # default tests/fixtures/attention_zoo

The reference modules below are written from the spec (and the canonical
implementation it names for each module). Where the spec records a bug in a
public implementation, they follow the paper, as heed does, and say so.

One file per module, <module>.safetensors, holding for each case <c>:
    <c>/x, <c>/gy           input and the upstream gradient
    <c>/y, <c>/gx           output and input gradient of sum(y * gy)
    <c>/param/<key>         state_dict before the forward (perturbed away from
                            init, so zero-initialised parts are exercised)
    <c>/grad/<key>          every parameter's gradient
    <c>/state/<key>         state_dict after a train-mode forward of a module
                            with buffers (BatchNorm running statistics)
and in the metadata "<c>/keys": the state_dict keys in order (JSON list).
Cases ending in _train / _eval run the module in that mode.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL"}


def write_safetensors(path, tensors, metadata):
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


# ------------------------------------------------------------------ helpers

def make_divisible(v, divisor=8, min_value=None, round_limit=0.9):
    """timm helpers.make_divisible."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class ConvMlp(nn.Module):
    """timm ConvMlp: 1x1 conv, norm, act, 1x1 conv (both convs with bias)."""

    def __init__(self, cin, hidden, norm_layer=None):
        super().__init__()
        self.fc1 = nn.Conv2d(cin, hidden, 1)
        self.norm = norm_layer(hidden) if norm_layer else nn.Identity()
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, cin, 1)

    def forward(self, x):
        return self.fc2(self.act(self.norm(self.fc1(x))))


class LayerNorm2d(nn.LayerNorm):
    """timm LayerNorm2d: LayerNorm over the channels of (B, C, H, W), eps 1e-6."""

    def __init__(self, c, eps=1e-6):
        super().__init__(c, eps=eps)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


# ------------------------------------------------------------------ modules

class SimAM(nn.Module):
    """§12.1: y = x·σ(d / (4(Σd/n + λ)) + 0.5), d = (x − μ)², n = HW − 1."""

    def __init__(self, channels=None, e_lambda=1e-4):
        super().__init__()
        self.e_lambda = e_lambda

    def forward(self, x):
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
        e_inv = d / (4 * (d.sum(dim=[2, 3], keepdim=True) / n + self.e_lambda)) + 0.5
        return x * torch.sigmoid(e_inv)


class TripletGate(nn.Module):
    """Z-pool (max first, then mean, over dim 1), 7x7 conv 2->1 without bias,
    BN(eps 1e-5, momentum 0.01), sigmoid, rescale."""

    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Sequential()
        self.conv.add_module("conv", nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2,
                                               bias=False))
        self.conv.add_module("bn", nn.BatchNorm2d(1, eps=1e-5, momentum=0.01))

    def forward(self, x):
        z = torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)
        return x * torch.sigmoid(self.conv(z))


class TripletAttention(nn.Module):
    """§12.2 (EA TripletAttention(no_spatial=False))."""

    def __init__(self, no_spatial=False):
        super().__init__()
        self.cw = TripletGate()
        self.hc = TripletGate()
        self.no_spatial = no_spatial
        if not no_spatial:
            self.hw = TripletGate()

    def forward(self, x):
        o1 = self.cw(x.permute(0, 2, 1, 3).contiguous()).permute(0, 2, 1, 3)
        o2 = self.hc(x.permute(0, 3, 2, 1).contiguous()).permute(0, 3, 2, 1)
        if not self.no_spatial:
            return 1 / 3 * (self.hw(x) + o1 + o2)
        return 1 / 2 * (o1 + o2)


class BAMChannel(nn.Module):
    def __init__(self, c, reduction, num_layers):
        super().__init__()
        widths = [c] + [c // reduction] * num_layers + [c]
        self.ca = nn.Sequential()
        self.ca.add_module("flatten", nn.Flatten())
        for i in range(len(widths) - 2):
            self.ca.add_module("fc%d" % i, nn.Linear(widths[i], widths[i + 1]))
            self.ca.add_module("bn%d" % i, nn.BatchNorm1d(widths[i + 1]))
            self.ca.add_module("relu%d" % i, nn.ReLU())
        self.ca.add_module("last_fc", nn.Linear(widths[-2], widths[-1]))

    def forward(self, x):
        return self.ca(F.adaptive_avg_pool2d(x, 1)).unsqueeze(-1).unsqueeze(-1)  # (B, C, 1, 1)


class BAMSpatial(nn.Module):
    def __init__(self, c, reduction, num_layers, dia_val):
        super().__init__()
        cr = c // reduction
        self.sa = nn.Sequential()
        self.sa.add_module("conv_reduce1", nn.Conv2d(c, cr, 1))
        self.sa.add_module("bn_reduce1", nn.BatchNorm2d(cr))
        self.sa.add_module("relu_reduce1", nn.ReLU())
        for i in range(num_layers):
            # EA (d75848e4) pads by 1 with dilation 2, shrinking the map; the
            # paper keeps the size: padding = dilation.
            self.sa.add_module("conv_%d" % i, nn.Conv2d(cr, cr, 3, padding=dia_val,
                                                         dilation=dia_val))
            self.sa.add_module("bn_%d" % i, nn.BatchNorm2d(cr))
            self.sa.add_module("relu_%d" % i, nn.ReLU())
        self.sa.add_module("last_conv", nn.Conv2d(cr, 1, 1))

    def forward(self, x):
        return self.sa(x)  # (B, 1, H, W)


class BAM(nn.Module):
    """§12.3, EA BAMBlock(channel, reduction=16, dia_val=2) names; the paper's
    F·(1 + σ(M_c + M_s)) (the authors' code multiplies M_c·M_s)."""

    def __init__(self, channel, reduction=16, dia_val=2, channel_layers=3, spatial_layers=3):
        super().__init__()
        self.ca = BAMChannel(channel, reduction, channel_layers)
        self.sa = BAMSpatial(channel, reduction, spatial_layers, dia_val)

    def forward(self, x):
        return (1 + torch.sigmoid(self.sa(x) + self.ca(x))) * x


class GlobalContext(nn.Module):
    """§12.5, timm GlobalContext names; add fusion by default, as the paper."""

    def __init__(self, channels, use_attn=True, fuse_add=True, fuse_scale=False,
                 rd_ratio=1. / 8, rd_channels=None, rd_divisor=1):
        super().__init__()
        self.conv_attn = nn.Conv2d(channels, 1, 1) if use_attn else None
        if rd_channels is None:
            rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.)
        self.mlp_add = ConvMlp(channels, rd_channels, LayerNorm2d) if fuse_add else None
        self.mlp_scale = ConvMlp(channels, rd_channels, LayerNorm2d) if fuse_scale else None
        if self.conv_attn is not None:
            nn.init.kaiming_normal_(self.conv_attn.weight, mode="fan_in", nonlinearity="relu")
        if self.mlp_add is not None:
            nn.init.zeros_(self.mlp_add.fc2.weight)

    def forward(self, x):
        B, C, H, W = x.shape
        if self.conv_attn is not None:
            attn = F.softmax(self.conv_attn(x).reshape(B, 1, H * W), dim=-1).unsqueeze(3)
            context = (x.reshape(B, C, H * W).unsqueeze(1) @ attn).view(B, C, 1, 1)
        else:
            context = x.mean(dim=(2, 3), keepdim=True)
        if self.mlp_scale is not None:
            x = x * torch.sigmoid(self.mlp_scale(context))
        if self.mlp_add is not None:
            x = x + self.mlp_add(context)
        return x


class GatherExcite(nn.Module):
    """§12.6, timm GatherExcite (without feat_size)."""

    def __init__(self, channels, extra_params=False, extent=0, use_mlp=True, rd_ratio=1. / 16,
                 rd_channels=None, rd_divisor=1, add_maxpool=False):
        super().__init__()
        self.add_maxpool = add_maxpool
        self.extent = extent
        if extra_params:
            self.gather = nn.Sequential()
            num_conv = int(math.log2(extent))
            for i in range(num_conv):
                self.gather.add_module(f"conv{i + 1}", nn.Conv2d(channels, channels, 3, stride=2,
                                                                 padding=1, groups=channels,
                                                                 bias=False))
                self.gather.add_module(f"norm{i + 1}", nn.BatchNorm2d(channels))
                if i != num_conv - 1:
                    self.gather.add_module(f"act{i + 1}", nn.ReLU())
        else:
            self.gather = None
            self.gk, self.gs = (0, 0) if extent == 0 else (2 * extent - 1, extent)
        if not rd_channels:
            rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.)
        self.mlp = ConvMlp(channels, rd_channels) if use_mlp else nn.Identity()

    def forward(self, x):
        size = x.shape[-2:]
        if self.gather is not None:
            g = self.gather(x)
        elif self.extent == 0:
            g = x.mean(dim=(2, 3), keepdim=True)
            if self.add_maxpool:
                g = 0.5 * g + 0.5 * x.amax((2, 3), keepdim=True)
        else:
            g = F.avg_pool2d(x, self.gk, self.gs, self.gk // 2, count_include_pad=False)
            if self.add_maxpool:
                g = 0.5 * g + 0.5 * F.max_pool2d(x, self.gk, self.gs, self.gk // 2)
        g = self.mlp(g)
        if g.shape[-1] != 1 or g.shape[-2] != 1:
            g = F.interpolate(g, size=size)
        return x * torch.sigmoid(g)


class SKAttention(nn.Module):
    """§12.4, EA SKAttention(channel, kernels=[1,3,5,7], reduction=16, group=1,
    L=32) names; fuse_norm adds the paper's BN + ReLU after fc (EA omits them)."""

    def __init__(self, channel, kernels=(1, 3, 5, 7), reduction=16, group=1, L=32,
                 fuse_norm=True):
        super().__init__()
        self.d = max(L, channel // reduction)
        self.convs = nn.ModuleList()
        for k in kernels:
            seq = nn.Sequential()
            seq.add_module("conv", nn.Conv2d(channel, channel, k, padding=k // 2, groups=group))
            seq.add_module("bn", nn.BatchNorm2d(channel))
            seq.add_module("relu", nn.ReLU())
            self.convs.append(seq)
        self.fc = nn.Linear(channel, self.d)
        self.bn = nn.BatchNorm1d(self.d) if fuse_norm else None
        self.fcs = nn.ModuleList([nn.Linear(self.d, channel) for _ in kernels])

    def forward(self, x):
        B, C = x.shape[:2]
        outs = [conv(x) for conv in self.convs]
        feats = torch.stack(outs, 0)  # (K, B, C, H, W)
        s = sum(outs).mean(-1).mean(-1)  # (B, C)
        z = self.fc(s)
        if self.bn is not None:
            z = F.relu(self.bn(z))
        w = torch.stack([fc(z).view(B, C, 1, 1) for fc in self.fcs], 0)
        return (torch.softmax(w, dim=0) * feats).sum(0)


class ExternalAttention(nn.Module):
    """§12.7, EA ExternalAttention(d_model, S=64): tokens (B, N, d_model)."""

    def __init__(self, d_model, S=64):
        super().__init__()
        self.mk = nn.Linear(d_model, S, bias=False)
        self.mv = nn.Linear(S, d_model, bias=False)
        nn.init.normal_(self.mk.weight, std=0.001)
        nn.init.normal_(self.mv.weight, std=0.001)

    def forward(self, q):
        attn = torch.softmax(self.mk(q), dim=1)
        attn = attn / torch.sum(attn, dim=2, keepdim=True)
        return self.mv(attn)


class ExternalAttention2d(ExternalAttention):
    """The same on a feature map: (B, C, H, W) -> tokens (B, HW, C) and back."""

    def __init__(self, channels, S=64, residual=False):
        super().__init__(channels, S)
        self.residual = residual

    def forward(self, x):
        B, C, H, W = x.shape
        t = x.flatten(2).transpose(1, 2)
        out = super().forward(t).transpose(1, 2).reshape(B, C, H, W)
        return x + out if self.residual else out


class EffectiveSE(nn.Module):
    """§12.16, timm EffectiveSEModule(channels, add_maxpool=False)."""

    def __init__(self, channels, add_maxpool=False):
        super().__init__()
        self.add_maxpool = add_maxpool
        self.fc = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        if self.add_maxpool:
            s = 0.5 * s + 0.5 * x.amax((2, 3), keepdim=True)
        return x * F.hardsigmoid(self.fc(s))


class ShuffleAttention(nn.Module):
    """§12.9, EA ShuffleAttention(channel=512, reduction=16, G=8)."""

    def __init__(self, channel, reduction=16, G=8):
        super().__init__()
        self.G = G
        c = channel // (2 * G)
        self.gn = nn.GroupNorm(c, c)
        self.cweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.cbias = nn.Parameter(torch.ones(1, c, 1, 1))
        self.sweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.sbias = nn.Parameter(torch.ones(1, c, 1, 1))

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.reshape(b * self.G, -1, h, w)
        x0, x1 = x.chunk(2, dim=1)
        xc = x0 * torch.sigmoid(self.cweight * x0.mean((2, 3), keepdim=True) + self.cbias)
        xs = x1 * torch.sigmoid(self.sweight * self.gn(x1) + self.sbias)
        out = torch.cat([xc, xs], dim=1).reshape(b, -1, h, w)
        return out.reshape(b, 2, -1, h, w).permute(0, 2, 1, 3, 4).reshape(b, -1, h, w)


class PolarizedSelfAttention(nn.Module):
    """§12.8, EA Parallel/SequentialPolarizedSelfAttention(channel=512)."""

    def __init__(self, channel, mode="parallel"):
        super().__init__()
        self.mode = mode
        self.ch_wv = nn.Conv2d(channel, channel // 2, 1)
        self.ch_wq = nn.Conv2d(channel, 1, 1)
        self.ch_wz = nn.Conv2d(channel // 2, channel, 1)
        self.ln = nn.LayerNorm(channel)
        self.sp_wv = nn.Conv2d(channel, channel // 2, 1)
        self.sp_wq = nn.Conv2d(channel, channel // 2, 1)

    def channel_gate(self, x):
        b, c, h, w = x.shape
        wv = self.ch_wv(x).reshape(b, c // 2, -1)  # (B, C/2, N)
        wq = torch.softmax(self.ch_wq(x).reshape(b, -1, 1), dim=1)  # (B, N, 1)
        wz = torch.matmul(wv, wq).unsqueeze(-1)  # (B, C/2, 1, 1)
        z = self.ch_wz(wz).reshape(b, c, 1).permute(0, 2, 1)  # (B, 1, C)
        return torch.sigmoid(self.ln(z)).permute(0, 2, 1).reshape(b, c, 1, 1)

    def spatial_gate(self, x):
        b, c, h, w = x.shape
        wv = self.sp_wv(x).reshape(b, c // 2, -1)  # (B, C/2, N)
        wq = F.adaptive_avg_pool2d(self.sp_wq(x), 1).permute(0, 2, 3, 1).reshape(b, 1, c // 2)
        wq = torch.softmax(wq, dim=-1)
        return torch.sigmoid(torch.matmul(wq, wv).reshape(b, 1, h, w))

    def forward(self, x):
        ch = self.channel_gate(x) * x
        if self.mode == "parallel":
            return self.spatial_gate(x) * x + ch
        return self.spatial_gate(ch) * ch


class PositionAttention(nn.Module):
    """DANet PAM_Module(in_dim): out = γ·V·Aᵀ + x, A = softmax(QᵀK) over keys."""

    def __init__(self, in_dim, reduction=8):
        super().__init__()
        self.query_conv = nn.Conv2d(in_dim, in_dim // reduction, 1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // reduction, 1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        q = self.query_conv(x).view(B, -1, H * W).permute(0, 2, 1)
        k = self.key_conv(x).view(B, -1, H * W)
        attn = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.value_conv(x).view(B, -1, H * W)
        out = torch.bmm(v, attn.permute(0, 2, 1)).view(B, C, H, W)
        return self.gamma * out + x


class ChannelAttention(nn.Module):
    """DANet CAM_Module(in_dim): out = β·softmax(max(XXᵀ) − XXᵀ)·X + x."""

    def __init__(self, in_dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, C, H, W = x.shape
        q = x.view(B, C, -1)
        energy = torch.bmm(q, q.permute(0, 2, 1))
        energy = torch.max(energy, -1, keepdim=True)[0].expand_as(energy) - energy
        out = torch.bmm(torch.softmax(energy, dim=-1), q).view(B, C, H, W)
        return self.gamma * out + x


class DANet(nn.Module):
    """§12.10: the original position and channel modules (EA's DAModule
    ignores its arguments and replaces both), summed as DAModule does."""

    def __init__(self, channels, mode="both", reduction=8):
        super().__init__()
        self.mode = mode
        if mode in ("both", "position"):
            self.position_attention_module = PositionAttention(channels, reduction)
        if mode in ("both", "channel"):
            self.channel_attention_module = ChannelAttention(channels)

    def forward(self, x):
        if self.mode == "position":
            return self.position_attention_module(x)
        if self.mode == "channel":
            return self.channel_attention_module(x)
        return self.position_attention_module(x) + self.channel_attention_module(x)


class SpatialGroupEnhance(nn.Module):
    """§12.11, EA SpatialGroupEnhance(groups); bias initialised to 1 as the
    authors' code (EA uses 0)."""

    def __init__(self, groups=8):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.view(b * self.groups, -1, h, w)
        t = (x * F.adaptive_avg_pool2d(x, 1)).sum(dim=1, keepdim=True).view(b * self.groups, -1)
        t = t - t.mean(dim=1, keepdim=True)
        t = t / (t.std(dim=1, keepdim=True) + 1e-5)
        t = t.view(b, self.groups, h, w) * self.weight + self.bias
        return (x * torch.sigmoid(t.view(b * self.groups, 1, h, w))).view(b, c, h, w)


class CrissCrossAttention(nn.Module):
    """§12.14, EA CrissCrossAttention(in_dim) (from CCNet-Pure-Pytorch), with
    the paper's recurrence as an option."""

    def __init__(self, in_dim, reduction=8, recurrence=1):
        super().__init__()
        self.recurrence = recurrence
        self.query_conv = nn.Conv2d(in_dim, in_dim // reduction, 1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // reduction, 1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def attend(self, x):
        B, _, H, W = x.shape
        q, k, v = self.query_conv(x), self.key_conv(x), self.value_conv(x)
        # Column energies per (b, w), the pixel itself masked: (B, W, H, H').
        e_h = torch.matmul(q.permute(0, 3, 2, 1), k.permute(0, 3, 1, 2))
        e_h = e_h - torch.diag(torch.full((H,), float("inf"), dtype=x.dtype))
        e_w = torch.matmul(q.permute(0, 2, 3, 1), k.permute(0, 2, 1, 3))  # (B, H, W, W')
        a = torch.softmax(torch.cat([e_h.permute(0, 2, 1, 3), e_w], 3), dim=3)
        a_h = a[:, :, :, :H].permute(0, 2, 1, 3)  # (B, W, H, H')
        a_w = a[:, :, :, H:]  # (B, H, W, W')
        out_h = torch.matmul(v.permute(0, 3, 1, 2), a_h.transpose(2, 3)).permute(0, 2, 3, 1)
        out_w = torch.matmul(v.permute(0, 2, 1, 3), a_w.transpose(2, 3)).permute(0, 2, 1, 3)
        return self.gamma * (out_h + out_w) + x

    def forward(self, x):
        for _ in range(self.recurrence):
            x = self.attend(x)
        return x


# ------------------------------------------------------------------ recording

class Recorder:
    def __init__(self):
        self.tensors, self.meta = {}, {}

    def put(self, name, t):
        assert name not in self.tensors, name
        self.tensors[name] = t.detach().clone().contiguous()

    def record(self, case, module, x, train=True):
        """Golden forward/backward of module(x) in the given mode. Inputs and
        parameters are float32; the reference runs in float64 (then rounded to
        float32), so the fixtures hold the exact answer rather than one float32
        rounding of it (softmax logit gradients lose digits to cancellation)."""
        module.train(train)
        self.meta[case + "/keys"] = json.dumps(list(module.state_dict().keys()))
        for k, v in module.state_dict().items():
            self.put(f"{case}/param/{k}", v)
        module.double()
        x64 = x.double().requires_grad_(True)
        module.zero_grad()
        y = module(x64)
        gy = torch.randn(y.shape)
        (y * gy.double()).sum().backward()
        self.put(f"{case}/x", x)
        self.put(f"{case}/y", y.float())
        self.put(f"{case}/gy", gy)
        self.put(f"{case}/gx", x64.grad.float())
        for k, p in module.named_parameters():
            if p.grad is not None:
                self.put(f"{case}/grad/{k}", p.grad.float())
        if train and any(True for _ in module.buffers()):  # running statistics moved
            for k, v in module.state_dict().items():
                self.put(f"{case}/state/{k}", v.float() if v.is_floating_point() else v)
        module.float()

    def write(self, path):
        write_safetensors(path, self.tensors, {"format": "pt", "source": "torch " +
                                               torch.__version__, **self.meta})
        print(f"wrote {len(self.tensors)} tensors to {path}")


def perturb(m, scale=0.5):
    """Moves every parameter away from its init (zeros and ones included) and
    gives BatchNorms non-trivial running statistics."""
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * scale)
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(torch.randn_like(mod.running_mean) * 0.3)
                mod.running_var.copy_(torch.rand_like(mod.running_var) + 0.5)
    return m


def simam_cases(r):
    torch.manual_seed(1)
    r.record("simam", SimAM(8), torch.randn(2, 8, 5, 6))
    r.record("simam_lambda", SimAM(4, e_lambda=0.1), torch.randn(2, 4, 3, 4) * 0.5)


def triplet_cases(r):
    torch.manual_seed(2)
    m = perturb(TripletAttention())
    r.record("triplet_train", m, torch.randn(2, 6, 5, 7))
    r.record("triplet_eval", m, torch.randn(2, 6, 5, 7), train=False)
    m = perturb(TripletAttention(no_spatial=True))
    r.record("triplet_nospatial_train", m, torch.randn(3, 4, 6, 5))


def bam_cases(r):
    torch.manual_seed(3)
    m = perturb(BAM(32, reduction=8, dia_val=2))
    r.record("bam_train", m, torch.randn(3, 32, 6, 7))
    r.record("bam_eval", m, torch.randn(2, 32, 6, 7), train=False)
    m = perturb(BAM(16, reduction=4, dia_val=4, channel_layers=1, spatial_layers=2))
    r.record("bam_paper_train", m, torch.randn(3, 16, 9, 8))


def gc_cases(r):
    torch.manual_seed(4)
    r.record("gc", perturb(GlobalContext(16)), torch.randn(2, 16, 5, 6))
    r.record("gc_scale", perturb(GlobalContext(16, fuse_add=False, fuse_scale=True, rd_ratio=1 / 4)),
             torch.randn(2, 16, 4, 5))
    r.record("gc_both_noattn", perturb(GlobalContext(12, use_attn=False, fuse_scale=True,
                                                     rd_channels=5)), torch.randn(2, 12, 3, 4))


def ge_cases(r):
    torch.manual_seed(5)
    r.record("ge", perturb(GatherExcite(16)), torch.randn(2, 16, 5, 6))
    r.record("ge_extent2", perturb(GatherExcite(16, extent=2, rd_ratio=1 / 4)),
             torch.randn(2, 16, 7, 6))
    r.record("ge_extent4_maxpool", perturb(GatherExcite(8, extent=4, add_maxpool=True,
                                                        rd_channels=3)), torch.randn(2, 8, 9, 8))
    m = perturb(GatherExcite(8, extra_params=True, extent=4, rd_ratio=1 / 4))
    r.record("ge_params_train", m, torch.randn(2, 8, 9, 7))
    r.record("ge_params_eval", m, torch.randn(2, 8, 9, 7), train=False)
    r.record("ge_nomlp", perturb(GatherExcite(6, extent=2, use_mlp=False)),
             torch.randn(2, 6, 6, 6))


def sk_cases(r):
    torch.manual_seed(6)
    m = perturb(SKAttention(16, kernels=(1, 3, 5), reduction=4, L=8))
    r.record("sk_train", m, torch.randn(2, 16, 6, 5))
    r.record("sk_eval", m, torch.randn(2, 16, 6, 5), train=False)
    m = perturb(SKAttention(8, kernels=(3, 5), reduction=2, group=2, L=2, fuse_norm=False))
    r.record("sk_ea_train", m, torch.randn(2, 8, 5, 5))


def external_cases(r):
    torch.manual_seed(7)
    r.record("external_tokens", perturb(ExternalAttention(12, S=5)), torch.randn(2, 7, 12))
    r.record("external2d", perturb(ExternalAttention2d(8, S=6)), torch.randn(2, 8, 4, 5))
    r.record("external2d_residual", perturb(ExternalAttention2d(8, S=4, residual=True)),
             torch.randn(2, 8, 3, 3))


def ese_cases(r):
    torch.manual_seed(8)
    r.record("ese", perturb(EffectiveSE(12)), torch.randn(2, 12, 4, 5))
    r.record("ese_maxpool", perturb(EffectiveSE(6, add_maxpool=True)), torch.randn(2, 6, 5, 3))


def shuffle_cases(r):
    torch.manual_seed(9)
    r.record("shuffle", perturb(ShuffleAttention(32, G=4)), torch.randn(2, 32, 5, 6))
    r.record("shuffle_g1", perturb(ShuffleAttention(6, G=1)), torch.randn(3, 6, 4, 4))


def psa_cases(r):
    torch.manual_seed(10)
    r.record("psa_parallel", perturb(PolarizedSelfAttention(16)), torch.randn(2, 16, 5, 6))
    r.record("psa_sequential", perturb(PolarizedSelfAttention(12, mode="sequential")),
             torch.randn(2, 12, 4, 5))


def danet_cases(r):
    torch.manual_seed(11)
    r.record("danet", perturb(DANet(16)), torch.randn(2, 16, 5, 6) * 0.5)
    r.record("danet_position", perturb(DANet(8, mode="position", reduction=4)),
             torch.randn(2, 8, 4, 3))
    r.record("danet_channel", perturb(DANet(6, mode="channel")), torch.randn(2, 6, 4, 4) * 0.5)


def sge_cases(r):
    torch.manual_seed(12)
    r.record("sge", perturb(SpatialGroupEnhance(4)), torch.randn(2, 16, 5, 6))
    r.record("sge_g1", perturb(SpatialGroupEnhance(1)), torch.randn(2, 3, 3, 4))


def criss_cross_cases(r):
    torch.manual_seed(13)
    r.record("cc", perturb(CrissCrossAttention(16)), torch.randn(2, 16, 4, 5) * 0.5)
    r.record("cc_r2", perturb(CrissCrossAttention(8, reduction=4, recurrence=2)),
             torch.randn(2, 8, 5, 3) * 0.5)


CASES = {"simam": simam_cases, "triplet": triplet_cases, "bam": bam_cases, "gc": gc_cases,
         "ge": ge_cases, "sk": sk_cases, "external": external_cases, "ese": ese_cases,
         "shuffle": shuffle_cases, "psa": psa_cases, "danet": danet_cases, "sge": sge_cases,
         "criss_cross": criss_cross_cases}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "fixtures", "attention_zoo")
    os.makedirs(out, exist_ok=True)
    for name, fn in CASES.items():
        r = Recorder()
        fn(r)
        r.write(os.path.join(out, name + ".safetensors"))


if __name__ == "__main__":
    main()

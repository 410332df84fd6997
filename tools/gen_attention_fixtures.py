#!/usr/bin/python3
"""Writes the PyTorch fixtures for heed's attention tests (run by hand; the
outputs are committed, tests never run PyTorch to pass):

  /usr/bin/python3 tools/gen_attention_fixtures.py [out_dir]   # default tests/fixtures/attention

The reference modules below are the canonical PyTorch code each heed module
follows (attention_spec.md, beside DESIGN.md): EA's SEAttention and
ScaledDotProductAttention, timm's SEModule / Attention / Block / PatchEmbed,
the seed CBAM (seeds/002), ECANet's eca_layer with the adaptive kernel size,
the authors' CoordAtt, AlexHex7's NONLocalBlock2D, heykeetae's Self_Attn,
torch.nn.MultiheadAttention itself, the tutorial's PositionalEncoding and an
attention pooling over time steps. bench/attention_overhead_torch.py imports
them too.

modules.safetensors holds, for each case <c>:
    <c>/in/<name>           inputs (float ones get gradients)
    <c>/step<i>/<name>      inputs of earlier training steps (BatchNorm), run without grad
    <c>/out/<i>, <c>/gout/<i>   outputs and the upstream gradients: loss = Σ_i sum(out_i · gout_i)
    <c>/grad_in/<name>      the input gradients
    <c>/param/<key>         the state_dict before the forward (load it)
    <c>/grad/<key>          each parameter's gradient
    <c>/state/<key>         the state_dict after the forward, for modules with buffers
  and in the metadata "<c>/keys" (state_dict keys in order, JSON) and
  "<c>/mode" ("train" or "eval").
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


# ----------------------------------------------------------------- references

class SEAttention(nn.Module):
    """EA SEAttention(channel, reduction): bias-free Linear MLP, floor width."""

    def __init__(self, channel=512, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


def make_divisible(v, divisor=8, min_value=None, round_limit=.9):
    """timm.layers.helpers.make_divisible."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class SEModule(nn.Module):
    """timm SEModule: 1x1 convs with bias, width rounded to a multiple of 8."""

    def __init__(self, channels, rd_ratio=1. / 16, rd_divisor=8):
        super().__init__()
        rd_channels = make_divisible(channels * rd_ratio, rd_divisor, round_limit=0.)
        self.fc1 = nn.Conv2d(channels, rd_channels, kernel_size=1, bias=True)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd_channels, channels, kernel_size=1, bias=True)

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.fc1(x_se)
        x_se = self.act(self.bn(x_se))
        x_se = self.fc2(x_se)
        return x * torch.sigmoid(x_se)


class ChannelAttention(nn.Module):
    """seeds/002: shared bias-free 1x1-conv MLP over avg and max pools."""

    def __init__(self, in_planes, ratio=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1)
        self.fc1 = nn.Conv2d(in_planes, in_planes // ratio, 1, bias=False)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Conv2d(in_planes // ratio, in_planes, 1, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        avg_out = self.fc2(self.relu1(self.fc1(self.avg_pool(x))))
        max_out = self.fc2(self.relu1(self.fc1(self.max_pool(x))))
        return self.sigmoid(avg_out + max_out)


class SpatialAttention(nn.Module):
    """seeds/002: conv over [mean_c; max_c]; EA's order [max; mean] and bias as options."""

    def __init__(self, kernel_size=7, max_first=False, bias=False):
        super().__init__()
        self.max_first = max_first
        self.conv1 = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=bias)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        avg_out = torch.mean(x, dim=1, keepdim=True)
        max_out, _ = torch.max(x, dim=1, keepdim=True)
        x = torch.cat([max_out, avg_out] if self.max_first else [avg_out, max_out], dim=1)
        return self.sigmoid(self.conv1(x))


class CBAM(nn.Module):
    def __init__(self, in_planes, ratio=16, kernel_size=7, max_first=False, residual=False,
                 spatial_bias=False):
        super().__init__()
        self.ca = ChannelAttention(in_planes, ratio)
        self.sa = SpatialAttention(kernel_size, max_first, spatial_bias)
        self.residual = residual

    def forward(self, x):
        out = x * self.ca(x)
        out = out * self.sa(out)
        return out + x if self.residual else out


def eca_kernel_size(channel, gamma=2, b=1):
    t = int(abs((math.log(channel, 2) + b) / gamma))
    return t if t % 2 else t + 1


class ECAAttention(nn.Module):
    """ECANet eca_layer with the paper's adaptive kernel size (seeds/002 eca_block)."""

    def __init__(self, channel, k_size=None, bias=False):
        super().__init__()
        k_size = k_size or eca_kernel_size(channel)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k_size, padding=(k_size - 1) // 2, bias=bias)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x)
        y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
        y = self.sigmoid(y)
        return x * y.expand_as(x)


class h_sigmoid(nn.Module):
    def __init__(self, inplace=True):
        super().__init__()
        self.relu = nn.ReLU6(inplace=inplace)

    def forward(self, x):
        return self.relu(x + 3) / 6


class h_swish(nn.Module):
    def __init__(self, inplace=True):
        super().__init__()
        self.sigmoid = h_sigmoid(inplace=inplace)

    def forward(self, x):
        return x * self.sigmoid(x)


class CoordAtt(nn.Module):
    """houqb/CoordAttention coordatt.py, verbatim."""

    def __init__(self, inp, oup, reduction=32):
        super().__init__()
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        mip = max(8, inp // reduction)
        self.conv1 = nn.Conv2d(inp, mip, kernel_size=1, stride=1, padding=0)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = h_swish()
        self.conv_h = nn.Conv2d(mip, oup, kernel_size=1, stride=1, padding=0)
        self.conv_w = nn.Conv2d(mip, oup, kernel_size=1, stride=1, padding=0)

    def forward(self, x):
        identity = x
        n, c, h, w = x.size()
        x_h = self.pool_h(x)
        x_w = self.pool_w(x).permute(0, 1, 3, 2)
        y = torch.cat([x_h, x_w], dim=2)
        y = self.conv1(y)
        y = self.bn1(y)
        y = self.act(y)
        x_h, x_w = torch.split(y, [h, w], dim=2)
        x_w = x_w.permute(0, 1, 3, 2)
        a_h = self.conv_h(x_h).sigmoid()
        a_w = self.conv_w(x_w).sigmoid()
        return identity * a_w * a_h


class NONLocalBlock2D(nn.Module):
    """AlexHex7/Non-local_pytorch non_local_embedded_gaussian.py (_NonLocalBlockND, 2-D)."""

    def __init__(self, in_channels, inter_channels=None, sub_sample=True, bn_layer=True):
        super().__init__()
        self.in_channels = in_channels
        self.inter_channels = inter_channels
        if self.inter_channels is None:
            self.inter_channels = in_channels // 2
            if self.inter_channels == 0:
                self.inter_channels = 1
        self.g = nn.Conv2d(self.in_channels, self.inter_channels, 1, 1, 0)
        if bn_layer:
            self.W = nn.Sequential(nn.Conv2d(self.inter_channels, self.in_channels, 1, 1, 0),
                                   nn.BatchNorm2d(self.in_channels))
            nn.init.constant_(self.W[1].weight, 0)
            nn.init.constant_(self.W[1].bias, 0)
        else:
            self.W = nn.Conv2d(self.inter_channels, self.in_channels, 1, 1, 0)
            nn.init.constant_(self.W.weight, 0)
            nn.init.constant_(self.W.bias, 0)
        self.theta = nn.Conv2d(self.in_channels, self.inter_channels, 1, 1, 0)
        self.phi = nn.Conv2d(self.in_channels, self.inter_channels, 1, 1, 0)
        if sub_sample:
            self.g = nn.Sequential(self.g, nn.MaxPool2d(kernel_size=(2, 2)))
            self.phi = nn.Sequential(self.phi, nn.MaxPool2d(kernel_size=(2, 2)))

    def forward(self, x):
        batch_size = x.size(0)
        g_x = self.g(x).view(batch_size, self.inter_channels, -1).permute(0, 2, 1)
        theta_x = self.theta(x).view(batch_size, self.inter_channels, -1).permute(0, 2, 1)
        phi_x = self.phi(x).view(batch_size, self.inter_channels, -1)
        f = torch.matmul(theta_x, phi_x)
        f_div_C = F.softmax(f, dim=-1)
        y = torch.matmul(f_div_C, g_x)
        y = y.permute(0, 2, 1).contiguous()
        y = y.view(batch_size, self.inter_channels, *x.size()[2:])
        return self.W(y) + x


class Self_Attn(nn.Module):
    """heykeetae/Self-Attention-GAN sagan_models.py (returns the output only)."""

    def __init__(self, in_dim):
        super().__init__()
        self.query_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.key_conv = nn.Conv2d(in_dim, in_dim // 8, kernel_size=1)
        self.value_conv = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        m_batchsize, C, width, height = x.size()
        proj_query = self.query_conv(x).view(m_batchsize, -1, width * height).permute(0, 2, 1)
        proj_key = self.key_conv(x).view(m_batchsize, -1, width * height)
        energy = torch.bmm(proj_query, proj_key)
        attention = self.softmax(energy)
        proj_value = self.value_conv(x).view(m_batchsize, -1, width * height)
        out = torch.bmm(proj_value, attention.permute(0, 2, 1))
        out = out.view(m_batchsize, C, width, height)
        return self.gamma * out + x


class ScaledDotProductAttention(nn.Module):
    """EA SelfAttention.py, verbatim (init_weights called in __init__)."""

    def __init__(self, d_model, d_k, d_v, h, dropout=.1):
        super().__init__()
        self.fc_q = nn.Linear(d_model, h * d_k)
        self.fc_k = nn.Linear(d_model, h * d_k)
        self.fc_v = nn.Linear(d_model, h * d_v)
        self.fc_o = nn.Linear(h * d_v, d_model)
        self.dropout = nn.Dropout(dropout)
        self.d_model, self.d_k, self.d_v, self.h = d_model, d_k, d_v, h
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.001)
                nn.init.constant_(m.bias, 0)

    def forward(self, queries, keys, values, attention_mask=None, attention_weights=None):
        b_s, nq = queries.shape[:2]
        nk = keys.shape[1]
        q = self.fc_q(queries).view(b_s, nq, self.h, self.d_k).permute(0, 2, 1, 3)
        k = self.fc_k(keys).view(b_s, nk, self.h, self.d_k).permute(0, 2, 3, 1)
        v = self.fc_v(values).view(b_s, nk, self.h, self.d_v).permute(0, 2, 1, 3)
        att = torch.matmul(q, k) / math.sqrt(self.d_k)
        if attention_weights is not None:
            att = att * attention_weights
        if attention_mask is not None:
            att = att.masked_fill(attention_mask, -float("inf"))
        att = torch.softmax(att, -1)
        att = self.dropout(att)
        out = torch.matmul(att, v).permute(0, 2, 1, 3).contiguous().view(b_s, nq, self.h * self.d_v)
        return self.fc_o(out)


class AttentionPooling(nn.Module):
    """Softmax attention over time: linear (attn_dim None) or additive score."""

    def __init__(self, input_dim, attn_dim=None, bias=True):
        super().__init__()
        if attn_dim:
            self.proj = nn.Linear(input_dim, attn_dim, bias=bias)
            self.v = nn.Linear(attn_dim, 1, bias=False)
        else:
            self.proj = None
            self.v = nn.Linear(input_dim, 1, bias=bias)

    def forward(self, h, mask=None):  # mask: True = valid step
        s = (self.v(torch.tanh(self.proj(h))) if self.proj is not None else self.v(h)).squeeze(-1)
        if mask is not None:
            s = s.masked_fill(~mask, float("-inf"))
        e = torch.softmax(s, dim=1)
        return (h * e[..., None]).sum(1), e


class PositionalEncoding(nn.Module):
    """The PyTorch tutorial's recipe, batch-first, with odd widths."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class Attention(nn.Module):
    """timm Attention (non-fused path)."""

    def __init__(self, dim, num_heads=8, qkv_bias=False):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """timm Block (pre-norm); pre_norm=False is the original post-norm order."""

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=False, pre_norm=True, eps=1e-6):
        super().__init__()
        self.pre_norm = pre_norm
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


class PatchEmbed(nn.Module):
    """timm PatchEmbed (flatten, no norm)."""

    def __init__(self, img_size, patch_size, in_chans, embed_dim, bias=True):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size,
                              bias=bias)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


# ------------------------------------------------------------------- writing

def write_safetensors(path, tensors, metadata):
    """u64 LE header length, JSON header padded to a multiple of 8, raw bytes."""
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


def record(case, module, inputs, call=None, steps=(), mode="train"):
    """Golden forward/backward: outputs, input and parameter gradients.
    inputs: dict name -> tensor; call(module, **inputs) -> tensor or tuple."""
    call = call or (lambda m, **kw: m(*kw.values()))
    module.train(mode == "train")
    meta[case + "/keys"] = json.dumps(list(module.state_dict().keys()))
    meta[case + "/mode"] = mode
    for k, v in module.state_dict().items():
        put(f"{case}/param/{k}", v)
    for i, step in enumerate(steps):
        for name, t in step.items():
            put(f"{case}/step{i}/{name}", t)
        with torch.no_grad():
            call(module, **step)
    ins = {}
    for name, t in inputs.items():
        t = t.clone()
        if t.is_floating_point():
            t.requires_grad_(True)
        ins[name] = t
        put(f"{case}/in/{name}", t)
    module.zero_grad()
    outs = call(module, **ins)
    outs = outs if isinstance(outs, tuple) else (outs,)
    loss = 0
    for i, y in enumerate(outs):
        if y is None:
            continue
        gy = torch.randn_like(y)
        put(f"{case}/out/{i}", y)
        put(f"{case}/gout/{i}", gy)
        loss = loss + (y * gy).sum()
    loss.backward()
    for name, t in ins.items():
        if t.is_floating_point():
            put(f"{case}/grad_in/{name}", t.grad)
    for k, p in module.named_parameters():
        put(f"{case}/grad/{k}", p.grad if p.grad is not None else torch.zeros_like(p))
    if any(True for _ in module.buffers()):  # running stats; else the state is param/
        for k, v in module.state_dict().items():
            put(f"{case}/state/{k}", v)


def perturb(m, scale=0.3):
    """Moves every parameter away from its init (zero gates included)."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            base = 1.0 if (name.endswith("weight") and p.dim() == 1) else 0.0  # norm scales
            if p.dim() <= 1:
                p.copy_(base + torch.randn_like(p) * scale)
            else:
                p.add_(torch.randn_like(p) * scale / math.sqrt(p[0].numel()))


def with_ties(x):
    """A channel-wise tie (two channels share the max at a pixel) and a constant
    channel (its global max ties over every position), as attention_spec.md §2 asks."""
    x = x.clone()
    top = x.abs().max().item() + 1.0
    x[:, 3, 1, 2] = top
    x[:, 5, 1, 2] = top  # channels 3 and 5 tie for the channel max at (1, 2)
    x[0, 4, 2, 3] = top
    x[0, 9, 2, 3] = top
    x[:, 7] = 0.75  # a constant channel: adaptive max pool ties everywhere
    return x


# ---------------------------------------------------------------------- cases

def seed_module_cases():
    torch.manual_seed(0)
    record("se", SEAttention(32, 8), {"x": torch.randn(2, 32, 3, 4)})
    record("se_conv", SEModule(32), {"x": torch.randn(2, 32, 4, 3)})

    cbam = CBAM(16, ratio=4, kernel_size=7)
    record("cbam", cbam, {"x": with_ties(torch.randn(2, 16, 6, 7))})
    cbam_ea = CBAM(16, ratio=8, kernel_size=3, max_first=True, residual=True, spatial_bias=True)
    record("cbam_ea", cbam_ea, {"x": with_ties(torch.randn(2, 16, 5, 5))})
    # Inside CBAM the channel gate breaks the channel-wise ties; the gate alone keeps them.
    record("spatial_ties", SpatialAttention(7), {"x": with_ties(torch.randn(2, 16, 4, 6))})

    record("eca", ECAAttention(64), {"x": torch.randn(2, 64, 3, 2)})
    record("eca_k5", ECAAttention(128), {"x": torch.randn(1, 128, 2, 3)})
    record("eca_fixed_bias", ECAAttention(16, k_size=7, bias=True), {"x": torch.randn(3, 16, 2, 3)})

    ca = CoordAtt(16, 16, reduction=32)
    perturb(ca)
    record("coord", ca, {"x": torch.randn(3, 16, 5, 7)},
           steps=[{"x": torch.randn(3, 16, 5, 7) * 2 + 1} for _ in range(2)])
    record("coord_eval", ca, {"x": torch.randn(2, 16, 5, 7)}, mode="eval")

    nl = NONLocalBlock2D(8)
    perturb(nl)
    record("nonlocal", nl, {"x": torch.randn(2, 8, 6, 5)},
           steps=[{"x": torch.randn(2, 8, 6, 5)} for _ in range(2)])
    record("nonlocal_eval", nl, {"x": torch.randn(2, 8, 6, 5)}, mode="eval")
    nl2 = NONLocalBlock2D(6, inter_channels=4, sub_sample=False, bn_layer=False)
    perturb(nl2)
    record("nonlocal_plain", nl2, {"x": torch.randn(2, 6, 4, 3)})

    sa = Self_Attn(16)
    perturb(sa)
    with torch.no_grad():
        sa.gamma.fill_(0.7)
    record("sa2d", sa, {"x": torch.randn(2, 16, 4, 5)})


def sequence_cases():
    torch.manual_seed(1)
    # EA ScaledDotProductAttention: cross-attention with a mask and attention_weights.
    sdpa = ScaledDotProductAttention(16, 8, 12, 4, dropout=0.0)
    perturb(sdpa, scale=1.0)
    mask = torch.rand(2, 1, 5, 7) < 0.3
    mask[..., 0] = False  # no row fully masked
    record("sdpa", sdpa, {"q": torch.randn(2, 5, 16), "k": torch.randn(2, 7, 16),
                          "v": torch.randn(2, 7, 16), "mask": mask,
                          "aw": torch.rand(2, 4, 5, 7) + 0.5},
           call=lambda m, q, k, v, mask, aw: m(q, k, v, mask, aw))
    # Self-attention: Q = K = V, so the input gradient sums three paths.
    record("sdpa_self", sdpa, {"x": torch.randn(2, 6, 16)}, call=lambda m, x: m(x, x, x))

    # torch.nn.MultiheadAttention itself.
    mha = nn.MultiheadAttention(16, 4)
    perturb(mha)
    kpm = torch.zeros(2, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    record("mha", mha, {"x": torch.randn(5, 2, 16), "kpm": kpm, "am": causal},
           call=lambda m, x, kpm, am: m(x, x, x, key_padding_mask=kpm, attn_mask=am))
    mha_bf = nn.MultiheadAttention(12, 3, batch_first=True)
    perturb(mha_bf)
    record("mha_cross", mha_bf, {"q": torch.randn(2, 3, 12), "k": torch.randn(2, 6, 12),
                                 "v": torch.randn(2, 6, 12), "am": torch.randn(3, 6)},
           call=lambda m, q, k, v, am: m(q, k, v, attn_mask=am, average_attn_weights=False))

    pool = AttentionPooling(10, attn_dim=6)
    perturb(pool)
    lengths = torch.tensor([7, 4, 1])
    record("attnpool_add", pool, {"h": torch.randn(3, 7, 10), "lengths": lengths},
           call=lambda m, h, lengths: m(h, torch.arange(7)[None, :] < lengths[:, None]))
    pool_lin = AttentionPooling(10)
    perturb(pool_lin)
    valid = torch.tensor([[True, True, False, True, False], [True, True, True, True, True]])
    record("attnpool_lin", pool_lin, {"h": torch.randn(2, 5, 10), "mask": valid},
           call=lambda m, h, mask: m(h, mask))

    record("posenc", PositionalEncoding(7, dropout=0.0, max_len=50), {"x": torch.randn(2, 9, 7)})

    block = Block(16, 4, mlp_ratio=2., qkv_bias=True)
    perturb(block)
    record("block_pre", block, {"x": torch.randn(2, 5, 16)})
    post = Block(16, 2, mlp_ratio=1.5, qkv_bias=True, pre_norm=False)
    perturb(post)
    record("block_post", post, {"x": torch.randn(2, 4, 16)})
    # The post-norm block is torch's TransformerEncoderLayer under other names.
    ref = nn.TransformerEncoderLayer(16, 2, dim_feedforward=24, dropout=0.0, activation="gelu",
                                     layer_norm_eps=1e-6, batch_first=True, norm_first=False)
    ref.load_state_dict({
        "self_attn.in_proj_weight": post.attn.qkv.weight, "self_attn.in_proj_bias": post.attn.qkv.bias,
        "self_attn.out_proj.weight": post.attn.proj.weight,
        "self_attn.out_proj.bias": post.attn.proj.bias,
        "linear1.weight": post.mlp.fc1.weight, "linear1.bias": post.mlp.fc1.bias,
        "linear2.weight": post.mlp.fc2.weight, "linear2.bias": post.mlp.fc2.bias,
        "norm1.weight": post.norm1.weight, "norm1.bias": post.norm1.bias,
        "norm2.weight": post.norm2.weight, "norm2.bias": post.norm2.bias})
    x = tensors["block_post/in/x"]
    assert torch.allclose(ref(x), post(x), atol=1e-5), "post-norm Block != TransformerEncoderLayer"

    record("patch", PatchEmbed((8, 12), 4, 3, 10), {"x": torch.randn(2, 3, 8, 12)})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "fixtures", "attention")
    os.makedirs(out, exist_ok=True)
    seed_module_cases()
    sequence_cases()
    write_safetensors(os.path.join(out, "modules.safetensors"), tensors,
                      {"format": "pt", "source": "torch " + torch.__version__, **meta})
    size = os.path.getsize(os.path.join(out, "modules.safetensors"))
    print(f"wrote {len(tensors)} tensors ({size / 1024:.0f} KiB) to {out}")


if __name__ == "__main__":
    main()

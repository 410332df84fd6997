# Copied from /work/shared/bench/models.py (the lead's PyTorch peer of heed's benchmarks, issue #8).
"""Reference models for the peer benchmarks (PyTorch 1.13, float32, NCHW).

ResNet-20 for CIFAR (He et al. 2016, sec. 4.2): conv3x3(3->16)+BN+ReLU, 3 stages x 3 BasicBlocks
(16, 32, 64 channels; stride 2 at the start of stages 2 and 3), global avg pool, FC(64->10).
Shortcut: OPTION A (parameter-free identity; on a stride-2/channel change the input is
subsampled x[:, :, ::2, ::2] and zero-padded in channels), as in the original CIFAR ResNet.
Kaiming-normal init for conv/linear weights. 0.27 M params.

Attention variants insert the module after bn2 of every BasicBlock, before the residual add:
  se   : Squeeze-Excitation, reduction 16 (hidden = max(1, C//16)), FC+ReLU+FC+sigmoid (with biases).
  cbam : CBAM, channel MLP ratio 16 (avg+max pool, shared MLP, sum, sigmoid) then spatial
         attention (channel-mean & channel-max -> conv7x7(2->1, pad 3, no bias) + BN -> sigmoid),
         following the reference implementation (Woo et al. 2018, github.com/Jongchan/attention-module).
  eca  : ECA (gamma=2, b=1): k = odd(|(log2 C + b)/gamma|) -> k=3 for C in {16,32,64};
         avg pool -> conv1d(1->1, k, pad (k-1)/2, no bias) over channels -> sigmoid.

Tiny ViT for 32x32: patch 4 (conv 4x4 stride 4, 3->192) -> 64 tokens + cls token = 65,
learned pos-emb, depth 6 pre-norm blocks (LN -> MHSA(3 heads, head dim 64, qkv bias) -> add;
LN -> MLP(192->384 GELU ->192) -> add), final LN, head on cls token (192->10). No dropout.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SE(nn.Module):
    def __init__(self, c, r=16):
        super().__init__()
        h = max(1, c // r)
        self.fc1 = nn.Linear(c, h)
        self.fc2 = nn.Linear(h, c)

    def forward(self, x):
        s = x.mean((2, 3))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class CBAM(nn.Module):
    def __init__(self, c, r=16, k=7):
        super().__init__()
        h = max(1, c // r)
        self.mlp = nn.Sequential(nn.Linear(c, h), nn.ReLU(inplace=True), nn.Linear(h, c))
        self.conv = nn.Conv2d(2, 1, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x):
        a = self.mlp(x.mean((2, 3))) + self.mlp(x.amax((2, 3)))
        x = x * torch.sigmoid(a)[:, :, None, None]
        s = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        s = torch.sigmoid(self.bn(self.conv(s)))
        return x * s


class ECA(nn.Module):
    def __init__(self, c, gamma=2, b=1):
        super().__init__()
        t = int(abs((math.log2(c) + b) / gamma))
        k = t if t % 2 else t + 1
        self.k = k
        self.conv = nn.Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)

    def forward(self, x):
        s = x.mean((2, 3))  # N,C
        s = self.conv(s[:, None, :])[:, 0, :]
        return x * torch.sigmoid(s)[:, :, None, None]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, att=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.att = {None: None, "se": SE, "cbam": CBAM, "eca": ECA}[att]
        self.att = self.att(cout) if self.att is not None else nn.Identity()
        self.pad = (cout - cin) // 2 if (stride != 1 or cin != cout) else None
        self.stride = stride

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.att(self.bn2(self.conv2(o)))
        if self.pad is not None:  # option A shortcut
            sc = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))
        else:
            sc = x
        return F.relu(o + sc)


class CifarResNet(nn.Module):
    def __init__(self, n=3, att=None, in_ch=3, num_classes=10, widths=(16, 32, 64)):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, widths[0], 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (i > 0 and j == 0) else 1, att))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.dim() > 1:
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.layers(x)
        return self.fc(x.mean((2, 3)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.h, C // self.h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = (q @ k.transpose(-2, -1)) * (C // self.h) ** -0.5
        a = a.softmax(-1)
        x = (a @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.n2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * mlp_ratio)
        self.fc2 = nn.Linear(dim * mlp_ratio, dim)

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.fc2(F.gelu(self.fc1(self.n2(x))))


class TinyViT(nn.Module):
    def __init__(self, img=32, patch=4, dim=192, depth=6, heads=3, mlp_ratio=2, num_classes=10, in_ch=3):
        super().__init__()
        self.patch = nn.Conv2d(in_ch, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def build(name):
    if name == "resnet20":
        return CifarResNet()
    if name in ("se", "cbam", "eca"):
        return CifarResNet(att=name)
    if name == "vit":
        return TinyViT()
    raise ValueError(name)

"""pix2pix-style U-Net generator: L in, ab out (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks", https://arxiv.org/abs/1611.07004; the colorization variant of junyanz/pytorch-CycleGAN-and-pix2pix).

Dropout 0.5 in the three innermost decoder blocks, as in pix2pix (on the kit's small training set it is also what
keeps the model from hallucinating confident colours on unseen clips). Input ``l`` (B,1,H,W) normalised to [-1,1]; output ab (B,out_channels,H,W), in [-1,1] (tanh) for regression or raw
logits for classification. Any H,W: the input is padded to the network's multiple (2**depth) and cropped back.

``out_stride`` > 1 stops the decoder early and predicts at 1/out_stride of the input resolution through a 1x1 conv
(Zhang et al.'s classifier predicts its colour distribution at 1/4 resolution and upsamples the decoded ab).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers = [nn.LeakyReLU(0.2, inplace=False), nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int, dropout: float) -> nn.Sequential:
    layers = [nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout)]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    def __init__(self, *, in_channels: int = 1, out_channels: int = 2, ngf: int = 32, depth: int = 6,
                 max_mult: int = 8, dropout: float = 0.5, tanh: bool = True, out_stride: int = 1):
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2 down/up levels, got {depth}")
        skip = out_stride.bit_length() - 1                                   # decoder levels left out
        if not (out_stride == 2 ** skip and skip < depth):
            raise ValueError(f"out_stride must be a power of 2 below 2**depth, got {out_stride}")
        self.multiple, self.out_stride = 2 ** depth, out_stride
        ch = [ngf * min(2 ** i, max_mult) for i in range(depth)]          # channels after each down step
        self.first = nn.Conv2d(in_channels, ch[0], 4, 2, 1)                  # outermost: no activation, no norm
        self.downs = nn.ModuleList(_down(ch[i - 1], ch[i], norm=i < depth - 1) for i in range(1, depth))
        # innermost up takes ch[-1]; the others take the skip concatenation
        self.ups = nn.ModuleList()
        for i in range(depth - 1, max(skip, 1) - 1, -1):
            cin = ch[i] if i == depth - 1 else 2 * ch[i]
            self.ups.append(_up(cin, ch[i - 1], dropout if i >= depth - 3 else 0.0))
        if skip == 0:
            self.last = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ch[0], out_channels, 4, 2, 1))
        else:   # the decoder stops at 1/out_stride, where the features are the skip concatenation
            self.last = nn.Sequential(nn.ReLU(), nn.Conv2d(2 * ch[skip - 1], out_channels, 1))
        self.tanh = tanh

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        h, w = l.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        x = F.pad(l, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        skips = [self.first(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = skips.pop()
        for up in self.ups:
            y = torch.cat([up(y), skips.pop()], dim=1)
        y = self.last(y)[..., :-(-h // self.out_stride), :-(-w // self.out_stride)]
        return torch.tanh(y) if self.tanh else y

"""PatchGAN discriminator (pix2pix, Isola et al. 2017): classifies overlapping 70x70 patches (n_layers=3) of the
pair (L, ab) as real or fake.

Input: L (B,1,H,W) and ab (B,2,H,W), both normalised to [-1,1]; output logits (B,1,h,w).
"""
from __future__ import annotations

import torch
import torch.nn as nn


class PatchGAN(nn.Module):
    def __init__(self, *, in_channels: int = 3, ndf: int = 32, n_layers: int = 3):
        super().__init__()
        layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        mult = 1
        for i in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=False), nn.BatchNorm2d(ndf * mult),
                       nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, l: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([l, ab], dim=1))

"""PatchGAN discriminator (pix2pix, Isola et al. 2017): classifies overlapping 70x70 patches (n_layers=3) of the
pair (L, ab) as real or fake.

Input: L (B,1,H,W) and ab (B,2,H,W), both normalised to [-1,1]; output logits (B,1,h,w).

``norm``: ``batch`` is pix2pix's BatchNorm. Its statistics are taken over an all-real or an all-fake batch, so a
shift shared by every fake (all of them paler, say) is normalised away before the later layers see it.
``spectral`` (Miyato et al. 2018) bounds every layer's Lipschitz constant instead and keeps absolute levels;
``none`` uses neither.
"""
from __future__ import annotations

import torch
import torch.nn as nn

NORMS = ("batch", "spectral", "none")


class PatchGAN(nn.Module):
    def __init__(self, *, in_channels: int = 3, ndf: int = 32, n_layers: int = 3, norm: str = "batch"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"PatchGAN norm must be one of {NORMS}, got {norm!r}")
        sn = nn.utils.parametrizations.spectral_norm if norm == "spectral" else (lambda m: m)
        layers = [sn(nn.Conv2d(in_channels, ndf, 4, 2, 1)), nn.LeakyReLU(0.2)]
        mult = 1
        for i in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** i, 8)
            stride = 2 if i < n_layers else 1
            layers.append(sn(nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=norm != "batch")))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(ndf * mult))
            layers.append(nn.LeakyReLU(0.2))
        layers.append(sn(nn.Conv2d(ndf * mult, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, l: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([l, ab], dim=1))

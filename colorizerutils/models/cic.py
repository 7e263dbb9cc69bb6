"""Zhang, Isola & Efros 2016, "Colorful Image Colorization" (https://arxiv.org/abs/1603.08511), on the kit's U-Net.

Colour is a classification over the in-gamut ab bins of a 10-unit grid:
- targets are soft-encoded onto the 5 nearest bins (Gaussian, sigma=5);
- rare colours are re-weighted: w ∝ ((1-λ) p̃ + λ/Q)^-1, p̃ the Gaussian-smoothed (sigma=5) empirical bin
  distribution of the training data, λ=0.5, normalised so that E_p̃[w] = 1 (eq. 3-4);
- decoding is the annealed mean, T=0.38 (eq. 5).
"""
from __future__ import annotations

import functools

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..color import AB_SCALE, rgb_to_lab
from .unet import UNet

GRID = 10.0


@functools.lru_cache(maxsize=1)
def ab_bins(levels: int = 86) -> torch.Tensor:
    """(Q,2) centres (CIE units) of the 10-unit ab bins that sRGB colours reach (Q=261 here).

    Computed forward: a ``levels``^3 sample of the sRGB cube -> LAB -> nearest grid centre. Zhang et al. report
    Q=313 for their ``pts_in_hull``; under this kit's D65 sRGB conversion only 261 bins hold any 8-bit sRGB colour,
    and the extra bins would only ever receive zero probability mass.
    """
    v = torch.linspace(0, 1, levels)
    r, g, b = torch.meshgrid(v, v, v, indexing="ij")
    rgb = torch.stack([r.flatten(), g.flatten(), b.flatten()]).view(1, 3, -1, 1)
    ab = rgb_to_lab(rgb)[0, 1:, :, 0]
    idx = torch.unique(torch.round(ab / GRID).long(), dim=1).T
    return (idx.float() * GRID).contiguous()


def soft_encode(ab: torch.Tensor, *, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """ab (B,2,H,W) in CIE units -> soft targets (B,Q,H,W) over the k nearest bins."""
    bins = ab_bins().to(ab)
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins) ** 2
    near, idx = d2.topk(k, dim=1, largest=False)
    w = torch.softmax(-near / (2 * sigma ** 2), dim=1)
    out = torch.zeros(flat.shape[0], len(bins), dtype=ab.dtype, device=ab.device).scatter_(1, idx, w)
    B, _, H, W = ab.shape
    return out.view(B, H, W, -1).permute(0, 3, 1, 2)


def rebalance_weights(ab_samples: torch.Tensor, *, lam: float = 0.5, sigma: float = 5.0) -> torch.Tensor:
    """Per-bin weights (Q,) from training ab values (N,2) in CIE units (eq. 4)."""
    bins = ab_bins()
    idx = torch.cdist(ab_samples.float(), bins).argmin(1)
    p = torch.bincount(idx, minlength=len(bins)).double()
    p = p / p.sum()
    d2 = torch.cdist(bins, bins).double() ** 2
    kernel = torch.exp(-d2 / (2 * sigma ** 2))
    p_smooth = kernel @ p / kernel.sum(1)
    p_smooth = p_smooth / p_smooth.sum()
    w = 1.0 / ((1 - lam) * p_smooth + lam / len(bins))
    w = w / (p_smooth * w).sum()
    return w.float()


def annealed_mean(logits: torch.Tensor, *, T: float = 0.38) -> torch.Tensor:
    """Logits (B,Q,H,W) -> ab (B,2,H,W) in CIE units: mean of the bin centres under softmax(log p / T)."""
    p = torch.softmax(logits.float() / T, dim=1)   # softmax(log softmax(z) / T) == softmax(z / T)
    return torch.einsum("bqhw,qc->bchw", p, ab_bins().to(p))


class CIC(nn.Module):
    """Classification colorizer: L in [-1,1] (B,1,H,W) -> logits over the Q in-gamut ab bins (B,Q,H,W)."""

    def __init__(self, *, ngf: int = 32, depth: int = 6, T: float = 0.38, lam: float = 0.5):
        super().__init__()
        self.net = UNet(out_channels=len(ab_bins()), ngf=ngf, depth=depth, tanh=False)
        self.T, self.lam = T, lam
        self.register_buffer("class_weights", torch.ones(len(ab_bins())))

    def fit_rebalancing(self, ab_samples: torch.Tensor) -> None:
        """Set the class weights from training ab values (N,2) in CIE units."""
        self.class_weights.copy_(rebalance_weights(ab_samples, lam=self.lam))

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        return self.net(l)

    def loss(self, logits: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Re-weighted multinomial cross-entropy against soft-encoded targets; ``ab`` in CIE units."""
        target = soft_encode(ab.float())
        w = self.class_weights.to(logits.device)[target.argmax(1)]                     # weight of the nearest bin
        ce = -(target * F.log_softmax(logits.float(), dim=1)).sum(1)
        return (w * ce).mean()

    def colorize(self, l: torch.Tensor) -> torch.Tensor:
        """ab normalised to the network space (like the regression models' output)."""
        return annealed_mean(self(l), T=self.T) / AB_SCALE

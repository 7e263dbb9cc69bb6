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

from ..color import AB_SCALE, rgb_to_lab, upsample_ab
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


# the candidate table covers ab in [-LUT_RANGE, LUT_RANGE) (sRGB reaches about [-87, 99]); points outside it are
# handled by brute force
LUT_RANGE = 130.0


@functools.lru_cache(maxsize=4)
def _candidates(k: int) -> torch.Tensor:
    """(C,C,M) bin indices: for each 10-unit cell of the ab plane, every bin that can be among the k nearest bins of
    a point in that cell (padded with -1).

    A bin b can be a k-nearest neighbour of a point x in cell c only if mindist(b, c) <= d_k(x) <= r_k(c), where r_k
    is the k-th smallest maxdist(bin, c) over all bins; the table holds exactly the bins that pass that bound.
    """
    bins = ab_bins().double()
    edges = torch.arange(-LUT_RANGE, LUT_RANGE, GRID, dtype=torch.float64)     # cell lower corners, per axis
    lo = torch.stack(torch.meshgrid(edges, edges, indexing="ij"), -1).reshape(-1, 1, 2)   # (C*C,1,2)
    hi = lo + GRID
    gap = torch.clamp(torch.maximum(lo - bins, bins - hi), min=0)            # per-axis distance bin -> cell
    far = torch.maximum((bins - lo).abs(), (bins - hi).abs())                # per-axis farthest corner
    mind, maxd = gap.pow(2).sum(-1), far.pow(2).sum(-1)                      # squared, (C*C,Q)
    r_k = maxd.kthvalue(k, dim=1).values
    ok = mind <= r_k[:, None] + 1e-9
    M = int(ok.sum(1).max())
    order = torch.argsort((~ok).to(torch.int8), dim=1, stable=True)[:, :M]   # the passing bins first
    cand = torch.where(ok.gather(1, order), order, torch.full_like(order, -1))
    return cand.reshape(len(edges), len(edges), M)


def soft_encode_sparse(ab: torch.Tensor, *, k: int = 5, sigma: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """ab (B,2,H,W) in CIE units -> (idx, w), each (B,k,H,W): the k nearest bins, nearest first, and their Gaussian
    weights (summing to 1). Exact; uses the candidate table, so it costs O(k) per pixel instead of O(Q)."""
    bins = ab_bins().to(ab)
    B, _, H, W = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    table = _candidates(k).to(ab.device)
    n = table.shape[0]
    cell = torch.floor((flat + LUT_RANGE) / GRID).long()
    inside = ((cell >= 0) & (cell < n)).all(1)
    cell = cell.clamp(0, n - 1)
    cand = table[cell[:, 0], cell[:, 1]]                                       # (N,M)
    d2 = (flat[:, None, :] - bins[cand.clamp(min=0)]).pow(2).sum(-1)
    d2 = d2.masked_fill(cand < 0, float("inf"))
    near, j = d2.topk(k, dim=1, largest=False)
    idx = cand.gather(1, j)
    if not bool(inside.all()):                                                 # outside the table: brute force
        out = ~inside
        near[out], idx[out] = (torch.cdist(flat[out], bins) ** 2).topk(k, dim=1, largest=False)
    w = torch.softmax(-near / (2 * sigma ** 2), dim=1)
    back = lambda t: t.view(B, H, W, k).permute(0, 3, 1, 2)
    return back(idx), back(w)


def soft_encode(ab: torch.Tensor, *, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """ab (B,2,H,W) in CIE units -> dense soft targets (B,Q,H,W) over the k nearest bins."""
    idx, w = soft_encode_sparse(ab, k=k, sigma=sigma)
    out = torch.zeros(ab.shape[0], len(ab_bins()), *ab.shape[-2:], dtype=ab.dtype, device=ab.device)
    return out.scatter_(1, idx, w)


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
    """Classification colorizer: L in [-1,1] (B,1,H,W) -> logits over the Q in-gamut ab bins at 1/``out_stride`` of
    the resolution (B,Q,H/s,W/s). As in Zhang et al. (s=4) the loss is taken at that resolution against the
    downsampled ab, and the decoded ab is upsampled bilinearly onto the full-resolution L."""

    def __init__(self, *, ngf: int = 32, depth: int = 6, T: float = 0.38, lam: float = 0.5, out_stride: int = 4):
        super().__init__()
        self.net = UNet(out_channels=len(ab_bins()), ngf=ngf, depth=depth, tanh=False, out_stride=out_stride)
        self.T, self.lam = T, lam
        self.register_buffer("class_weights", torch.ones(len(ab_bins())))

    def fit_rebalancing(self, ab_samples: torch.Tensor) -> None:
        """Set the class weights from training ab values (N,2) in CIE units."""
        self.class_weights.copy_(rebalance_weights(ab_samples, lam=self.lam))

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        return self.net(l)

    def loss(self, logits: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Re-weighted multinomial cross-entropy against soft-encoded targets; ``ab`` (B,2,H,W) in CIE units, averaged
        down to the logits' resolution."""
        ab = ab.float()
        if ab.shape[-2:] != logits.shape[-2:]:
            ab = F.adaptive_avg_pool2d(ab, logits.shape[-2:])
        idx, target = soft_encode_sparse(ab)                   # the target is zero outside its k bins
        w = self.class_weights.to(logits.device)[idx[:, 0]]            # weight of the nearest bin
        ce = -(target * F.log_softmax(logits.float(), dim=1).gather(1, idx)).sum(1)
        return (w * ce).mean()

    def colorize(self, l: torch.Tensor) -> torch.Tensor:
        """ab normalised to the network space (like the regression models' output), at l's resolution."""
        return upsample_ab(annealed_mean(self(l), T=self.T) / AB_SCALE, l.shape[-2:])

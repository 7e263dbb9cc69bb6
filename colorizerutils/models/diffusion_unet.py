"""Conditional denoising U-Net for ab, with timestep embedding and self-attention at the low resolutions
(Ho et al. 2020, https://arxiv.org/abs/2006.11239; attention blocks as in Dhariwal & Nichol 2021).

Input: the noisy ab (B,2,H,W) and the conditioning concatenated on channels, ``cond`` (B,COND_CHANNELS,H,W):
gray L, exemplar ab + exemplar L + exemplar mask, previous-frame ab + its mask (all normalised to [-1,1]; a
dropped input is zeros with mask 0). ``t`` (B,) integer timesteps. Output (B,2,H,W): what the
diffusion settings ask it to predict (x0 by default, or v or the noise; :mod:`colorizerutils.diffusion`).
Optionally, ImageNet VGG16 relu2_2 features of the gray frame are added at half resolution ("visual attention
conditioning" of the seed paper).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

COND_CHANNELS = 1 + 3 + 1 + 2 + 1   # L | exemplar ab, exemplar L, exemplar mask | previous ab, previous mask


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (Vaswani et al. 2017), (B,) -> (B,dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, tdim: int, groups: int = 8):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(groups, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2, self.c2 = nn.GroupNorm(groups, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(temb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention over all positions of a feature map."""

    def __init__(self, ch: int, heads: int = 4, groups: int = 8):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.attn = nn.MultiheadAttention(ch, heads, batch_first=True)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.norm(x).flatten(2).transpose(1, 2)
        y, _ = self.attn(y, y, y, need_weights=False)
        return x + y.transpose(1, 2).view(b, c, h, w)


class DiffusionUNet(nn.Module):
    def __init__(self, *, ch: int = 32, mults: tuple = (1, 2, 2, 4), attn_levels: tuple = (2, 3),
                 vgg_features: bool = False):
        super().__init__()
        if not all(0 <= a < len(mults) for a in attn_levels):
            raise ValueError(f"attn_levels {attn_levels} must index into mults {mults}")
        self.multiple = 2 ** (len(mults) - 1)
        tdim = ch * 4
        self.temb = nn.Sequential(nn.Linear(ch, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.ch = ch
        self.inp = nn.Conv2d(2 + COND_CHANNELS, ch, 3, padding=1)
        chans = [ch * m for m in mults]
        self.down, self.down_attn, self.pool = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c = ch
        for i, co in enumerate(chans):
            self.down.append(ResBlock(c, co, tdim))
            self.down_attn.append(SelfAttention(co) if i in attn_levels else nn.Identity())
            self.pool.append(nn.Conv2d(co, co, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())
            c = co
        self.mid1, self.mid_attn, self.mid2 = ResBlock(c, c, tdim), SelfAttention(c), ResBlock(c, c, tdim)
        self.up, self.up_attn = nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(chans))):
            self.up.append(ResBlock(c + chans[i], chans[i], tdim))
            self.up_attn.append(SelfAttention(chans[i]) if i in attn_levels else nn.Identity())
            c = chans[i]
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 2, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        self.vgg = None
        if vgg_features:
            from ..weights import IMAGENET_MEAN, IMAGENET_STD, backbone

            self.vgg = backbone("vgg16", init_draws=True)[:9]   # up to relu2_2: 128 channels at half resolution
            self.vgg_proj = nn.Conv2d(128, chans[1], 1)
            self.register_buffer("vgg_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("vgg_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h0, w0 = x_t.shape[-2:]
        ph, pw = (-h0) % self.multiple, (-w0) % self.multiple
        x = F.pad(torch.cat([x_t, cond], 1), (0, pw, 0, ph), mode="replicate")
        temb = self.temb(timestep_embedding(t.expand(x.shape[0]) if t.ndim == 0 else t, self.ch))
        h = self.inp(x)
        vgg = None
        if self.vgg is not None:
            gray = ((x[:, 2:3] + 1) / 2).expand(-1, 3, -1, -1)   # L in [0,1] as a gray RGB image
            with torch.no_grad():
                vgg = self.vgg((gray - self.vgg_mean) / self.vgg_std)
        skips = []
        for i, (block, attn, pool) in enumerate(zip(self.down, self.down_attn, self.pool)):
            h = attn(block(h, temb))
            if i == 1 and vgg is not None:
                h = h + self.vgg_proj(vgg)
            skips.append(h)
            h = pool(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb)), temb)
        for i, (block, attn) in enumerate(zip(self.up, self.up_attn)):
            skip = skips.pop()
            if h.shape[-2:] != skip.shape[-2:]:
                h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = attn(block(torch.cat([h, skip], 1), temb))
        return self.out(h)[..., :h0, :w0]

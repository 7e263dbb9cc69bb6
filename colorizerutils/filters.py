"""Edge-aware filtering of chroma with the gray frame as the guide: He, Sun and Tang's guided filter (ECCV 2010;
PAMI 2013) and its fast, upsampling form (He and Sun 2015, arXiv:1505.00996).

In every (2r+1)-px window the filtered chroma is modelled as a linear function of the guide, ``q = a I + b``, fitted
by ridge regression (``eps`` the ridge on ``a``); each pixel then takes the mean of the ``a`` and ``b`` of the windows
that cover it. Where the guide is flat the output is a local mean; across the guide's edges it keeps the edges.

The kit has measured two uses and adopted neither (``scripts/automatic_probes.py upsample`` for the automatic
models' low-resolution ab, ``scripts/exemplar_probes.py guided`` for the flow anchor; ``docs/findings.md``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def box_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """The mean over each (2r+1)x(2r+1) window of ``x`` (B,C,H,W), borders replicated; same size out. Separable: a
    row mean, then a column mean, so its cost grows with r, not r^2."""
    r, k = radius, 2 * radius + 1
    x = F.pad(x, (r, r, r, r), mode="replicate")
    return F.avg_pool2d(F.avg_pool2d(x, (1, k), stride=1), (k, 1), stride=1)


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float, *,
                  weight: torch.Tensor | None = None, full_guide: torch.Tensor | None = None) -> torch.Tensor:
    """Each channel of ``src`` (B,C,h,w) filtered with ``guide`` (B,1,h,w).

    ``weight`` (B,1,h,w), optional: per-pixel weights of the window fits (for instance a flow's confidence), so that
    unsure pixels take their colour from sure ones along the guide's edges; the fit is then weighted ridge
    regression, ``eps`` times the window's total weight the penalty on ``a``.

    ``full_guide`` (B,1,H,W), optional: the guide at a higher resolution. The window means of ``a`` and ``b`` are
    upsampled bilinearly and applied to it, so the output is (B,C,H,W): chroma fitted at low resolution and
    brought up along the full-resolution edges (the fast guided filter)."""
    if guide.shape[0] != src.shape[0] or guide.shape[1] != 1 or guide.shape[-2:] != src.shape[-2:]:
        raise ValueError(f"guided_filter: guide {tuple(guide.shape)} must be (B,1,h,w) with src {tuple(src.shape)}'s "
                         f"batch and size")
    box = lambda t: box_filter(t, radius)
    if weight is None:
        mean = box
    else:
        total = box(weight) + 1e-6
        mean = lambda t: box(weight * t) / total
    mean_i, mean_p = mean(guide), mean(src)
    a = (mean(guide * src) - mean_i * mean_p) / (mean(guide * guide) - mean_i ** 2 + eps)
    b = mean_p - a * mean_i
    if full_guide is None:
        return box(a) * guide + box(b)
    up = lambda t: F.interpolate(box(t), size=full_guide.shape[-2:], mode="bilinear", align_corners=False)
    return up(a) * full_guide + up(b)

"""Score any colorizer on clips, one row per clip; every results table is built from these rows.

A colorizer here is a callable ``colorize(L, lab) -> ab``: ``L`` (T,1,H,W) in [0,100], ``lab`` the clip (only
baselines that are *allowed* an exemplar look at frame 0 of it), returning ab (T,2,H,W) in CIE units.
"""
from __future__ import annotations

import time
from typing import Callable

import pandas as pd
import torch

from . import metrics
from .color import lab_to_rgb, merge_lab, split_lab, to_uint8

Colorizer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def gray_baseline(L: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
    """Keep L, set a=b=0."""
    return torch.zeros(L.shape[0], 2, *L.shape[-2:], dtype=L.dtype)


def reference_copy(L: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
    """Every frame takes the exemplar's ab (the exemplar is frame 0, given by the user)."""
    return lab[:1, 1:].expand(L.shape[0], -1, -1, -1).clone()


def flow_warped_reference(L: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
    """The exemplar (frame 0) moved onto every frame by optical flow between the L channels (:mod:`.flow`)."""
    from .flow import warp_lab_onto

    return warp_lab_onto(lab[:1].expand(L.shape[0], -1, -1, -1), L)[:, 1:]


def lab_frames_to_uint8(lab: torch.Tensor) -> torch.Tensor:
    """LAB frames (T,3,H,W) -> uint8 RGB frames (T,3,H,W), clipped and rounded."""
    return to_uint8(lab_to_rgb(lab.float()))


def score_clip(pred_lab: torch.Tensor, gt_lab: torch.Tensor, *, with_lpips: bool = True) -> dict[str, float]:
    """Metrics of one predicted LAB clip against the ground-truth LAB clip, on 8-bit RGB frames."""
    return metrics.evaluate_clip(lab_frames_to_uint8(pred_lab), lab_frames_to_uint8(gt_lab), with_lpips=with_lpips)


def evaluate(colorize: Colorizer, clips: dict[str, torch.Tensor], *, method: str, skip_first: bool = False,
             with_lpips: bool = True) -> pd.DataFrame:
    """One row per clip: method, clip, frames, metrics, frames/s of ``colorize`` alone.

    ``skip_first``: frame 0 is the exemplar for exemplar methods and is never scored as a prediction.
    """
    rows = []
    for name, lab in clips.items():
        lab = lab.float()
        L = split_lab(lab)[0]
        t = time.perf_counter()
        with torch.no_grad():
            ab = colorize(L, lab)
        dt = time.perf_counter() - t
        pred = merge_lab(L, ab.float())
        s = slice(1, None) if skip_first else slice(None)
        rows.append(dict(method=method, clip=name, frames=len(lab[s]), **score_clip(pred[s], lab[s], with_lpips=with_lpips),
                         fps=len(lab) / max(dt, 1e-9)))
    return pd.DataFrame(rows)


def summarize(per_clip: pd.DataFrame) -> pd.DataFrame:
    """Mean over clips (each clip weighted equally) per method, in the order methods first appear."""
    cols = [c for c in per_clip.columns if c not in ("method", "clip", "frames")]
    out = per_clip.groupby("method", sort=False)[cols].mean().reset_index()
    out.insert(1, "clips", per_clip.groupby("method", sort=False).size().values)
    return out


def discuss(table: pd.DataFrame, *, baseline: str, metrics=("psnr", "lpips", "colorfulness", "cdc")) -> str:
    """Markdown sentences generated from a summary table: best method per metric and each method against the
    baseline, so a notebook's discussion can never contradict its numbers."""
    from .metrics import HIGHER_IS_BETTER

    t = table.set_index("method")
    if baseline not in t.index:
        raise ValueError(f"baseline {baseline!r} not in the table's methods {list(t.index)}")
    lines = []
    for m in metrics:
        if m not in t.columns or t[m].isna().all():
            continue
        hib = HIGHER_IS_BETTER.get(m, True)
        best = t[m].idxmax() if hib else t[m].idxmin()
        lines.append(f"- **{m}** ({'higher' if hib else 'lower'} is better): best is *{best}* ({t.loc[best, m]:.4g}).")
        for method in t.index:
            if method == baseline:
                continue
            d = t.loc[method, m] - t.loc[baseline, m]
            better = (d > 0) == hib and d != 0
            lines.append(f"  - *{method}* vs *{baseline}*: {d:+.4g} ({'better' if better else 'not better'}).")
    return "\n".join(lines)


def paired_seeds(per_seed: pd.DataFrame, *, method: str, baseline: str,
                 metrics=("psnr", "lpips", "colorfulness")) -> pd.DataFrame:
    """``method`` against ``baseline`` over seeds, from rows with columns split, seed, method and the metrics (one
    row per model, seed and split, as :func:`summarize` gives per seed).

    The comparison is paired: both models trained at the same seed (same initial draws of the shared generator
    layout, same batches). One row per split and metric: the mean and standard deviation of each model over seeds,
    the mean difference (method - baseline) with its standard deviation and standard error, and the number of seeds
    at which the method's value is the higher one.
    """
    rows = []
    for split, g in per_seed.groupby("split", sort=False):
        a = g[g.method == method].set_index("seed")
        b = g[g.method == baseline].set_index("seed")
        seeds = a.index.intersection(b.index)
        if len(seeds) == 0:
            raise ValueError(f"split {split!r}: no seed has both {method!r} and {baseline!r}")
        for m in metrics:
            d = a.loc[seeds, m] - b.loc[seeds, m]
            n = len(seeds)
            rows.append({"split": split, "metric": m, "seeds": n,
                         f"{baseline} mean": b.loc[seeds, m].mean(), f"{baseline} std": b.loc[seeds, m].std(),
                         f"{method} mean": a.loc[seeds, m].mean(), f"{method} std": a.loc[seeds, m].std(),
                         "difference mean": d.mean(), "difference std": d.std(),
                         "difference se": d.std() / n ** 0.5 if n > 1 else float("nan"),
                         "seeds higher": int((d > 0).sum())})
    return pd.DataFrame(rows)


def discuss_seeds(paired: pd.DataFrame, *, method: str, baseline: str) -> str:
    """Markdown sentences generated from :func:`paired_seeds`: per split and metric, which model is ahead on
    average, at how many seeds, and whether the mean difference exceeds twice its standard error."""
    from .metrics import HIGHER_IS_BETTER

    lines = []
    for r in paired.to_dict("records"):
        d, se, n, k = r["difference mean"], r["difference se"], r["seeds"], r["seeds higher"]
        direction = "higher" if d > 0 else "lower" if d < 0 else "equal"
        better = "higher is better" if HIGHER_IS_BETTER.get(r["metric"], True) else "lower is better"
        if n < 2:
            verdict = "one seed gives no spread, so nothing can be said about noise"
        elif abs(d) > 2 * se:
            verdict = f"the mean difference is more than twice its standard error ({se:.3g})"
        else:
            verdict = f"the mean difference is within twice its standard error ({se:.3g}): seed noise can explain it"
        lines.append(f"- **{r['split']} · {r['metric']}** ({better}): *{method}* is {direction} than *{baseline}* on "
                     f"average ({r[f'{method} mean']:.4g} vs {r[f'{baseline} mean']:.4g}, difference {d:+.3g}); its "
                     f"value is the higher one at {k} of {n} seeds; {verdict}.")
    return "\n".join(lines)

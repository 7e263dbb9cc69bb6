"""Figures the notebooks share: image grids, frame strips, metric bars."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd
import torch

from .color import lab_to_rgb


def to_rgb_images(lab: torch.Tensor) -> list:
    """(T,3,H,W) LAB -> list of (H,W,3) RGB arrays in [0,1] for imshow."""
    return list(lab_to_rgb(lab.float()).permute(0, 2, 3, 1).numpy())


def image_grid(columns: dict[str, list], *, size: float = 2.2, title: str | None = None):
    """A grid with one column per entry (e.g. gray | prediction | ground truth) and one row per image."""
    names = list(columns)
    rows = min(len(v) for v in columns.values())
    fig, axes = plt.subplots(rows, len(names), figsize=(size * len(names), size * rows), squeeze=False)
    for j, name in enumerate(names):
        for i in range(rows):
            axes[i, j].imshow(columns[name][i])
            axes[i, j].set_axis_off()
        axes[0, j].set_title("\n".join(textwrap.wrap(name, max(12, round(size * 12)))), fontsize=9)   # fits its column
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def frame_strip(rows: dict[str, list], *, every: int = 1, size: float = 1.8, title: str | None = None):
    """Rows of frames over time (row per method), every ``every``-th frame."""
    names = list(rows)
    picked = {k: v[::every] for k, v in rows.items()}
    cols = min(len(v) for v in picked.values())
    fig, axes = plt.subplots(len(names), cols, figsize=(size * cols, size * len(names)), squeeze=False)
    for i, name in enumerate(names):
        for j in range(cols):
            axes[i, j].imshow(picked[name][j])
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
        axes[i, 0].set_ylabel(name, fontsize=8)
    for j in range(cols):
        axes[0, j].set_title(f"t={j * every}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def metric_bars(table: pd.DataFrame, metrics: list[str], *, by: str = "method"):
    """One bar chart per metric, methods on the x axis; the title says which direction is better. Where the table
    has a ``<metric>_se`` column, each method is a point with ±2 standard errors instead of a bar, on an axis
    zoomed to their range."""
    from .metrics import arrow

    fig, axes = plt.subplots(1, len(metrics), figsize=(max(3.2, 0.28 * len(table)) * len(metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        if f"{m}_se" in table.columns:
            err = 2 * table[f"{m}_se"].fillna(0)
            ax.errorbar(range(len(table)), table[m], yerr=err, fmt="o", capsize=3, color="tab:blue")
            ax.grid(axis="y", alpha=0.3)
        else:
            ax.bar(range(len(table)), table[m], color="tab:blue")
        ax.set_xticks(range(len(table)), table[by], rotation=40, ha="right", fontsize=7)
        ax.set_title(f"{m} {arrow(m)}")
    fig.tight_layout()
    return fig


def seed_pairs(per_seed: pd.DataFrame, metrics: list[str], *, methods: list[str] | None = None, split: str):
    """One panel per metric: every seed's value for each method, a line joining the values of the same seed, and
    the mean over seeds as a bar behind them."""
    from .metrics import arrow

    df = per_seed[per_seed.split == split]
    methods = methods or list(dict.fromkeys(df.method))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        wide = df.pivot_table(index="seed", columns="method", values=m)[methods]
        ax.bar(range(len(methods)), wide.mean(), color="tab:blue", alpha=0.25, label="mean")
        for seed, row in wide.iterrows():
            ax.plot(range(len(methods)), row.values, "o-", ms=4, lw=1, label=f"seed {seed}")
        lo, hi = wide.min().min(), wide.max().max()
        pad = 0.15 * (hi - lo or abs(hi) or 1)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xticks(range(len(methods)), methods, rotation=20, ha="right", fontsize=8)
        ax.set_title(f"{split}: {m} {arrow(m)}")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def effects(table: pd.DataFrame, metrics: list[str] | None = None):
    """One panel per metric of :func:`colorizerutils.report.effects_table`: each change's paired difference (with -
    without) per split, with a bar of twice its standard error; a change whose bar crosses the zero line is within
    seed noise."""
    from .metrics import arrow

    metrics = metrics or list(dict.fromkeys(table.metric))
    changes = list(dict.fromkeys(table.change))
    splits = list(dict.fromkeys(table.split))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 0.6 + 0.55 * len(changes) * len(splits)),
                             squeeze=False, sharey=True)
    for ax, m in zip(axes[0], metrics):
        for k, split in enumerate(splits):
            t = table[(table.metric == m) & (table.split == split)].set_index("change").reindex(changes)
            y = [i + (k - (len(splits) - 1) / 2) * 0.25 for i in range(len(changes))]
            ax.errorbar(t["difference"], y, xerr=2 * t["difference se"].fillna(0), fmt="o", ms=5, capsize=3,
                        label=split)
        ax.axvline(0, color="0.4", lw=1)
        ax.set_yticks(range(len(changes)), changes)
        ax.invert_yaxis()
        ax.set_title(f"{m} {arrow(m)}: with - without", fontsize=9)
    axes[0, -1].legend(fontsize=7, title="split ± 2 se", title_fontsize=7)
    fig.tight_layout()
    return fig


def rgb_vs_lab(lab: torch.Tensor, title: str):
    """One LAB frame (3,H,W) as RGB and its R, G, B channels (top row), and as gray, L, a and b (bottom row)."""
    from .widgets import channel_image

    rgb = lab_to_rgb(lab[None])[0]
    fig, axes = plt.subplots(2, 4, figsize=(12, 5))
    axes[0, 0].imshow(rgb.permute(1, 2, 0))
    axes[0, 0].set_title(title)
    for i, c in enumerate("RGB"):
        axes[0, i + 1].imshow(rgb[i], cmap="gray", vmin=0, vmax=1)
        axes[0, i + 1].set_title(c)
    for i, c in enumerate(["gray (L only)", "L", "a", "b"]):
        img, kw = channel_image(lab, c)
        axes[1, i].imshow(img, **kw)
        axes[1, i].set_title(c)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig


def steps_curve(steps_table: pd.DataFrame):
    """PSNR and seconds per frame against the number of DDIM steps (:func:`colorizerutils.evaluate.sampling_steps`)."""
    d = steps_table[steps_table.method.str.startswith("DDIM")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].plot(d.steps, d.psnr, "o-")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("DDIM steps")
    axes[0].set_ylabel("PSNR (dB)")
    axes[1].plot(d.steps, d.seconds_per_frame, "o-")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("DDIM steps")
    axes[1].set_ylabel("seconds per frame")
    return fig


def calibration_curve(fit: pd.DataFrame, chosen: float, *, column: str = "chroma_scale", band: float | None = None,
                      gray_psnr: float | None = None, title: str | None = None):
    """Mean val PSNR against colourfulness relative to the ground truth's, one point per chroma scale
    (:func:`colorizerutils.evaluate.fit_chroma_scale`) or, with ``column="colorfulness_target"``, per colourfulness
    target (:func:`colorizerutils.evaluate.fit_colorfulness_target`): the band the choice had to stay in shaded, the
    chosen value circled, and the gray baseline's PSNR as a line."""
    ratio = fit.colorfulness / fit.gt_colorfulness
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if band is not None:
        ax.axvspan(1 - band, 1 + band, color="tab:green", alpha=0.12, label=f"ground truth ±{band:.0%}")
    ax.plot(ratio, fit.psnr, "o-", label={"colorfulness_target": "colourfulness target"}.get(column, "chroma scale"))
    every = max(1, len(fit) // 10)   # about ten labels
    for i, (r, p, s) in enumerate(zip(ratio, fit.psnr, fit[column])):
        if i % every == 0 or s == chosen:
            ax.annotate(f"{s:g}", (r, p), textcoords="offset points", xytext=(3, 4), fontsize=7)
    pick = fit[column] == chosen
    ax.plot(ratio[pick], fit.psnr[pick], "o", ms=12, mfc="none", mec="tab:red", label=f"chosen: {chosen:g}")
    if gray_psnr is not None:
        ax.axhline(gray_psnr, color="gray", ls="--", lw=1, label="gray baseline")
    ax.set_xlabel("colourfulness / ground truth's")
    ax.set_ylabel("mean PSNR (dB)")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def cross_fit(folds: pd.DataFrame, chosen: float, *, check: pd.DataFrame | None = None, check_label: str = "val"):
    """Mean PSNR against chroma scale for each fold of a cross-fit (``folds``, the table
    :func:`colorizerutils.recipes.calibrate_cross_fitted` returns: each fold scored by the model trained without it,
    thin lines), their mean over items (thick, the curve the scale is chosen on, the choice marked), and, when given,
    a held-out split's curve (``check``, from :func:`colorizerutils.evaluate.fit_chroma_scale`) that took no part."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for fold, g in folds.groupby("fold", sort=False):
        curve = g.groupby("chroma_scale").psnr.mean()
        ax.plot(curve.index, curve.values, lw=0.8, alpha=0.6, label=f"fold {fold} ({g.item.nunique()})")
    mean = folds.groupby("chroma_scale").psnr.mean()
    ax.plot(mean.index, mean.values, "k-", lw=2.2, label=f"all {folds.item.nunique()} train items")
    ax.axvline(chosen, color="tab:red", ls="--", lw=1, label=f"chosen: {chosen:g}")
    if check is not None:
        ax.plot(check.chroma_scale, check.psnr, "o-", color="tab:purple", ms=3, label=f"{check_label} (held out)")
    ax.set_xlabel("chroma scale (0: gray, 1: as trained)")
    ax.set_ylabel("mean PSNR (dB)")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def term_effect(effect: pd.DataFrame):
    """Mean PSNR and LPIPS of the combinations with and without each loss term
    (:func:`colorizerutils.ablation.term_effect`)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    x = range(len(effect))
    for ax, m in zip(axes, ["psnr", "lpips"]):
        ax.bar([i - 0.2 for i in x], effect[f"{m}_with"], 0.4, label="with the term")
        ax.bar([i + 0.2 for i in x], effect[f"{m}_without"], 0.4, label="without")
        ax.set_xticks(list(x), effect.term)
        ax.set_title(f"{m} {'↑' if m == 'psnr' else '↓'}")
        ax.set_ylim(min(effect[f"{m}_with"].min(), effect[f"{m}_without"].min()) * 0.95)
    axes[0].legend()
    return fig


def shot_timeline(signal, *, threshold: float, true_cuts: list[int], found_cuts: list[int],
                  psnr: dict[str, list[float]] | None = None, shot_starts: list[int] | None = None):
    """What the cut detector saw over a clip: the NCC of consecutive gray thumbnails (:func:`colorizerutils.shots.
    cut_signal`) against its threshold, with the true cuts and the cuts it found; with ``psnr`` ({label: one value
    per shot}), each shot's PSNR as a step below, from ``shot_starts`` (the first frame of every shot)."""
    import numpy as np

    rows = 2 if psnr else 1
    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.6 * rows), sharex=True, squeeze=False)
    ax = axes[0, 0]
    ax.plot(np.arange(len(signal)), signal, ".-", lw=1, ms=3, color="tab:blue", label="NCC with the frame before")
    ax.axhline(threshold, color="tab:red", lw=1, ls="--", label=f"cut threshold {threshold:g}")
    for i, c in enumerate(true_cuts):
        ax.axvline(c, color="0.6", lw=6, alpha=0.35, label="true cut" if i == 0 else None)
    for i, c in enumerate(found_cuts):
        ax.axvline(c, color="tab:green", lw=1.2, label="cut found" if i == 0 else None)
    ax.set_ylabel("NCC")
    ax.set_ylim(min(-0.1, float(np.nanmin(signal)) - 0.05) if np.isfinite(signal).any() else -0.1, 1.05)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("cut detection on the gray frames")
    if psnr:
        ax = axes[1, 0]
        edges = list(shot_starts or []) + [len(signal)]
        for label, values in psnr.items():
            ax.stairs(values, edges, label=label, lw=1.5, baseline=None)
        ax.set_ylabel("PSNR per shot (dB)")
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("frame")
    fig.tight_layout()
    return fig

"""Figures the notebooks share: image grids, frame strips, metric bars."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch

from .color import lab_to_rgb, merge_lab


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
        axes[0, j].set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def predictions(colorize, lab: torch.Tensor) -> list:
    """RGB images of ``colorize(L, lab) -> ab`` merged with the frames' own L."""
    L = lab[:, :1].float()
    with torch.no_grad():
        return to_rgb_images(merge_lab(L, colorize(L, lab.float()).float()))


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
    """One bar chart per metric, methods on the x axis; the title says which direction is better."""
    from .metrics import HIGHER_IS_BETTER

    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.2), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        ax.bar(range(len(table)), table[m], color="tab:blue")
        ax.set_xticks(range(len(table)), table[by], rotation=40, ha="right", fontsize=7)
        ax.set_title(f"{m} {'↑' if HIGHER_IS_BETTER.get(m, True) else '↓'}")
    fig.tight_layout()
    return fig

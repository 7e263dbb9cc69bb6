"""Interactive viewers for JupyterLab/Colab; headless runs (papermill, ``make reproduce``) get static figures."""
from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from .color import lab_to_rgb, merge_lab

CHANNELS = ("RGB", "L", "a", "b", "gray (L only)")


def interactive() -> bool:
    """True in a live notebook; False under ``make reproduce`` (the runner sets COLORIZER_HEADLESS=1)."""
    if os.environ.get("COLORIZER_HEADLESS"):
        return False
    try:
        from IPython import get_ipython

        return get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        return False


def channel_image(lab: torch.Tensor, channel: str) -> tuple[np.ndarray, dict]:
    """One LAB frame (3,H,W) as what to show for ``channel`` and imshow's keyword arguments."""
    if channel == "RGB":
        return lab_to_rgb(lab[None])[0].permute(1, 2, 0).numpy(), {}
    if channel == "L":
        return lab[0].numpy(), dict(cmap="gray", vmin=0, vmax=100)
    if channel in ("a", "b"):
        return lab[1 if channel == "a" else 2].numpy(), dict(cmap="RdYlGn_r" if channel == "a" else "YlGnBu_r",
                                                              vmin=-80, vmax=80)
    if channel == "gray (L only)":
        return lab_to_rgb(merge_lab(lab[None, :1], torch.zeros_like(lab[None, 1:])))[0].permute(1, 2, 0).numpy(), {}
    raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")


def clip_viewer(clips: dict[str, torch.Tensor]):
    """Clip / frame / channel viewer over LAB clips ``{name: (T,3,H,W)}``."""
    import ipywidgets as W

    names = list(clips)
    clip = W.Dropdown(options=names, description="clip")
    frame = W.IntSlider(0, 0, len(clips[names[0]]) - 1, description="frame")
    channel = W.ToggleButtons(options=CHANNELS, description="channel")
    out = W.Output()

    def draw(*_):
        frame.max = len(clips[clip.value]) - 1
        img, kw = channel_image(clips[clip.value][min(frame.value, frame.max)].float(), channel.value)
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5, 5))
            ax.imshow(img, **kw)
            ax.set_axis_off()
            ax.set_title(f"{clip.value} · frame {frame.value} · {channel.value}")
            plt.show()

    for w in (clip, frame, channel):
        w.observe(draw, names="value")
    draw()
    return W.VBox([W.HBox([clip, frame]), channel, out])


def before_after(gray: np.ndarray, colour: np.ndarray):
    """A slider that wipes between a gray frame and its colorization (both (H,W,3) RGB, uint8 or float in [0,1])."""
    import ipywidgets as W

    split = W.FloatSlider(0.5, min=0, max=1, step=0.01, description="before | after")
    out = W.Output()

    def draw(*_):
        cut = int(split.value * gray.shape[1])
        img = np.concatenate([gray[:, :cut], colour[:, cut:]], axis=1)
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6, 6 * gray.shape[0] / gray.shape[1]))
            ax.imshow(img)
            ax.axvline(cut, color="w", lw=1)
            ax.set_axis_off()
            plt.show()

    split.observe(draw, names="value")
    draw()
    return W.VBox([split, out])


def frame_scrubber(videos: dict[str, np.ndarray]):
    """Scrub through several aligned videos side by side: ``{title: (T,H,W,3) RGB, uint8 or float in [0,1]}``."""
    import ipywidgets as W

    n = min(len(v) for v in videos.values())
    frame = W.IntSlider(0, 0, n - 1, description="frame")
    out = W.Output()

    def draw(*_):
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, len(videos), figsize=(3 * len(videos), 3), squeeze=False)
            for ax, (title, v) in zip(axes[0], videos.items()):
                ax.imshow(v[frame.value])
                ax.set_title(title)
                ax.set_axis_off()
            plt.show()

    frame.observe(draw, names="value")
    draw()
    return W.VBox([frame, out])

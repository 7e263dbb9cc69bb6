"""Interactive viewers for JupyterLab/Colab; headless runs (papermill, ``make reproduce``) get static figures.

The viewers push each frame as PNG bytes into an ``ipywidgets.Image`` instead of redrawing a matplotlib figure: a
slider tick costs one PNG encode (a few ms at 480p), no figure is created, and a Play button (``ipywidgets.Play``,
linked to the frame slider) runs through a clip smoothly.
"""
from __future__ import annotations

import html
import os

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


def channel_rgb(lab: torch.Tensor, channel: str) -> np.ndarray:
    """One LAB frame (3,H,W) as the (H,W,3) uint8 image :func:`channel_image` shows (its colour map applied)."""
    import matplotlib

    img, kw = channel_image(lab, channel)
    if "cmap" in kw:
        span = kw["vmax"] - kw["vmin"]
        img = matplotlib.colormaps[kw["cmap"]](np.clip((img - kw["vmin"]) / span, 0, 1))[..., :3]
    return to_uint8(img)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """(H,W,3) RGB, uint8 or float in [0,1] -> uint8."""
    img = np.asarray(img)
    return img if img.dtype == np.uint8 else (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def png_bytes(img: np.ndarray) -> bytes:
    """(H,W,3) RGB (uint8, or float in [0,1]) -> PNG bytes, fast compression (what the viewers send per tick)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(to_uint8(img)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _player(slider, interval_ms: int = 100):
    """A Play button driving ``slider`` (linked in the kernel, so it works in JupyterLab and Colab alike)."""
    import ipywidgets as W

    play = W.Play(value=slider.value, min=slider.min, max=slider.max, step=1, interval=interval_ms,
                  description="play")
    W.link((play, "value"), (slider, "value"))
    W.link((slider, "max"), (play, "max"))
    return play


def _rgb(a: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"{what}: expected an (H,W,3) RGB frame, got shape {a.shape}")
    return a


def clip_viewer(clips: dict[str, torch.Tensor], *, width: int = 400):
    """Clip / frame / channel viewer over LAB clips ``{name: (T,3,H,W)}``, with a Play button."""
    import ipywidgets as W

    if not clips:
        raise ValueError("clip_viewer: expected at least one clip")
    for name, c in clips.items():
        if c.ndim != 4 or c.shape[1] != 3:
            raise ValueError(f"clip_viewer: clip {name!r} has shape {tuple(c.shape)}; expected (T,3,H,W) LAB")
    names = list(clips)
    clip = W.Dropdown(options=names, description="clip")
    frame = W.IntSlider(0, 0, len(clips[names[0]]) - 1, description="frame")
    channel = W.ToggleButtons(options=CHANNELS, description="channel")
    image = W.Image(format="png", width=width)

    def draw(*_):
        frame.max = len(clips[clip.value]) - 1
        image.value = png_bytes(channel_rgb(clips[clip.value][min(frame.value, frame.max)].float(), channel.value))

    for w in (clip, frame, channel):
        w.observe(draw, names="value")
    draw()
    return W.VBox([W.HBox([clip, _player(frame), frame]), channel, image])


def before_after(gray: np.ndarray, colour: np.ndarray, *, width: int = 480):
    """A slider that wipes between a gray frame and its colorization (both (H,W,3) RGB of one size, uint8 or float
    in [0,1]); a white line marks the cut."""
    import ipywidgets as W

    gray, colour = _rgb(gray, "before_after: gray"), _rgb(colour, "before_after: colour")
    if gray.shape != colour.shape:
        raise ValueError(f"before_after: gray is {gray.shape[1]}x{gray.shape[0]} but colour is "
                         f"{colour.shape[1]}x{colour.shape[0]}; expected the same frame at one size")
    gray, colour = to_uint8(gray), to_uint8(colour)
    split = W.FloatSlider(0.5, min=0, max=1, step=0.01, description="before | after")
    image = W.Image(format="png", width=width)

    def draw(*_):
        cut = int(split.value * gray.shape[1])
        img = np.concatenate([gray[:, :cut], colour[:, cut:]], axis=1)
        img[:, max(cut - 1, 0):cut + 1] = 255
        image.value = png_bytes(img)

    split.observe(draw, names="value")
    draw()
    return W.VBox([split, image])


def frame_scrubber(videos: dict[str, np.ndarray], *, width: int = 320):
    """Scrub or play through aligned videos side by side: ``{title: (T,H,W,3) RGB, uint8 or float in [0,1]}``, all
    with the same number of frames."""
    import ipywidgets as W

    if not videos:
        raise ValueError("frame_scrubber: expected at least one video")
    lengths = {title: len(v) for title, v in videos.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"frame_scrubber: the videos have different frame counts {lengths}; expected aligned "
                         f"videos of one length")
    for title, v in videos.items():
        _rgb(v[0], f"frame_scrubber: {title!r}")
    n = next(iter(lengths.values()))
    frame = W.IntSlider(0, 0, n - 1, description="frame")
    images = {title: W.Image(format="png", width=width) for title in videos}

    def draw(*_):
        for title, v in videos.items():
            images[title].value = png_bytes(v[frame.value])

    frame.observe(draw, names="value")
    draw()
    # a title wraps within its image's width: a long one would otherwise widen its panel and push the next aside
    panels = [W.VBox([W.HTML(f'<div style="width:{width}px;white-space:normal;line-height:1.3">'
                             f'{html.escape(title)}</div>'), images[title]]) for title in videos]
    # the panels wrap onto more rows where the notebook is narrower than all of them side by side: in one row
    # JupyterLab would squeeze each panel and cut its image behind a scroll bar
    return W.VBox([W.HBox([_player(frame), frame]), W.HBox(panels, layout=W.Layout(flex_flow="row wrap"))])

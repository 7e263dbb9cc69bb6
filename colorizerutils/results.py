"""The only writer of ``results/``: tables as CSV + Markdown, figures as PNG, each with its provenance.

Provenance: git commit, notebook, parameters, seed, device, wall time, library versions. Every file is written
atomically (temporary sibling + rename), so a failing run never leaves a half-written table.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from . import paths
from .atomic import atomic_path, write_text
from .runtime import cpu_description


def git_commit(root: Path | None = None) -> str:
    """HEAD's sha, with ``+dirty`` when tracked files other than ``results/`` differ from it (a run of ``make
    reproduce`` rewrites results/ as it goes, and that must not mark the tables written after the first as dirty)."""
    root = root or paths.ROOT
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def device_name(device: str | torch.device | None = None) -> str:
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{platform.processor() or platform.machine()} x{torch.get_num_threads()} threads"


def _jsonable(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


def provenance(*, notebook: str | None = None, params: Any = None, seed: int | None = None,
               wall_time_s: float | None = None, device: str | torch.device | None = None) -> dict:
    import numpy

    return {
        "git_commit": git_commit(),
        "notebook": notebook,
        "parameters": _jsonable(params),
        "seed": seed,
        "device": device_name(device),
        "cpu": cpu_description(),
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s), 2),
        "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__},
    }


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``; the wall time every table records."""

    def __enter__(self):
        self.start = time.perf_counter()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start if self.seconds is None else self.seconds


class NotebookRun:
    """What one notebook writes to ``results/``, with its provenance filled in: the notebook's name, its seed, and
    the wall time since this object was made (the notebook's start) go into every table and figure.

    ``out = results.NotebookRun("02_mse_unet", seed=SEED)`` in the setup cell, then
    ``out.table(df, "02_mse_unet", params=..., title=..., notes=...)`` and ``out.figure(fig, "02_loss", params=...)``.
    """

    def __init__(self, notebook: str, *, seed: Any = None, results_dir: Path | None = None):
        self.notebook, self.seed, self.results_dir = notebook, seed, results_dir
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def _prov(self, params: Any) -> dict:
        return dict(notebook=self.notebook, params=params, seed=self.seed, results_dir=self.results_dir,
                    wall_time_s=self.seconds)

    def table(self, df: pd.DataFrame, name: str, *, params: Any = None, **kwargs) -> dict[str, Path]:
        """:func:`write_table` with this notebook's provenance."""
        return write_table(df, name, **self._prov(params), **kwargs)

    def figure(self, fig, name: str, *, params: Any = None, **kwargs) -> Path:
        """:func:`save_figure` with this notebook's provenance."""
        return save_figure(fig, name, **self._prov(params), **kwargs)

    def clip(self, rows: dict, name: str, *, params: Any = None, **kwargs) -> Path:
        """:func:`save_clip` with this notebook's provenance."""
        return save_clip(rows, name, **self._prov(params), **kwargs)


def write_table(df: pd.DataFrame, name: str, *, title: str | None = None, notes: str | None = None,
                results_dir: Path | None = None, floatfmt: str = ".4g", **prov) -> dict[str, Path]:
    """Write ``results/<name>.csv``, ``<name>.md`` (table, notes, provenance) and ``<name>.provenance.json``.

    ``prov`` goes to :func:`provenance` (notebook, params, seed, wall_time_s, device).
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"table name {name!r}: expected a plain file stem such as 'gray_baseline'")
    if df.empty:
        raise ValueError(f"table {name!r} is empty; refusing to write an empty result")
    out = Path(results_dir or paths.RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    meta = provenance(**prov)
    md = [f"# {title or name}", "", df.to_markdown(index=False, floatfmt=floatfmt), ""]
    if notes:
        md += [notes.strip(), ""]
    md += ["<details><summary>Provenance</summary>", "", "```json", json.dumps(meta, indent=1), "```", "</details>", ""]
    written = {}
    with atomic_path(out / f"{name}.csv") as tmp:
        df.to_csv(tmp, index=False)
    written["csv"] = out / f"{name}.csv"
    written["md"] = write_text(out / f"{name}.md", "\n".join(md))
    written["provenance"] = write_text(out / f"{name}.provenance.json", json.dumps(meta, indent=1) + "\n")
    return written


def save_figure(fig, name: str, *, results_dir: Path | None = None, dpi: int = 110, **prov) -> Path:
    """Save a matplotlib figure as ``results/figures/<name>.png``, provenance in the PNG's text chunks."""
    out = Path(results_dir or paths.RESULTS) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    meta = provenance(**prov)
    dest = out / f"{name}.png"
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": "colorizerutils",
                                                                 "Description": json.dumps(meta)})
    return dest


def save_png(image, name: str, *, results_dir: Path | None = None, **prov) -> Path:
    """Save PNG bytes or an (H,W,3) uint8 array (a screenshot, a frame) as ``results/figures/<name>.png``, provenance
    in the PNG's text chunks as :func:`save_figure` does."""
    import io

    import numpy as np
    from PIL import Image, PngImagePlugin

    img = Image.open(io.BytesIO(image)) if isinstance(image, (bytes, bytearray)) else Image.fromarray(np.asarray(image))
    out = Path(results_dir or paths.RESULTS) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "colorizerutils")
    info.add_text("Description", json.dumps(provenance(**prov)))
    dest = out / f"{name}.png"
    with atomic_path(dest) as tmp:
        img.save(tmp, format="PNG", pnginfo=info, optimize=True)
    return dest


def save_notebook(executed: Path, *, results_dir: Path | None = None, max_mb: float = 4.0) -> Path:
    """Publish an executed notebook (outputs and inline figures) as ``results/notebooks/<name>``, so a visitor sees
    the story with its figures without running it. Widget state is dropped (it renders only in a live kernel).

    The copy stays under ``max_mb``: while it is bigger, its largest inline image is replaced by a line pointing to
    ``results/figures/`` (where every figure is saved in full), largest first.
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    nb.metadata.pop("widgets", None)
    # no machine paths in what is published: papermill records where it ran, and outputs may print paths
    pm_meta = nb.metadata.get("papermill", {})
    ran_in = Path(pm_meta.get("input_path") or executed).resolve().parent.parent
    for key in ("input_path", "output_path"):
        pm_meta.pop(key, None)
    images = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            out.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
            if "image/png" in out.get("data", {}):
                images.append(out)
    home = f"{Path.home()}/"   # and the user's home (caches, printed by the kit's notes): ~/
    ran = f"{ran_in}/" if ran_in != Path(ran_in.anchor) else None   # never the bare root: it would eat "//"
    strip = lambda t: (t.replace(ran, "") if ran else t).replace(home, "~/")
    text = strip(nbformat.writes(nb))
    for out in sorted(images, key=lambda o: len(o["data"]["image/png"]), reverse=True):
        if len(text) <= max_mb * 2 ** 20:
            break
        size = len(out["data"]["image/png"]) * 3 / 4 / 2 ** 20
        out["data"] = {"text/plain": f"[a {size:.1f} MB figure, left out of this published copy to keep it under "
                                     f"{max_mb:g} MB; the figures are in results/figures/]"}
        out.pop("metadata", None)
        out["metadata"] = {}
        text = strip(nbformat.writes(nb))
    if len(text) > max_mb * 2 ** 20:
        raise ValueError(f"{executed}: the executed notebook is {len(text) / 2 ** 20:.1f} MB without its figures; "
                         f"expected at most {max_mb} MB")
    out = Path(results_dir or paths.RESULTS) / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    return write_text(out / Path(executed).name, text)


def save_clip(rows: dict[str, list], name: str, *, fps: int = 8, results_dir: Path | None = None, **prov) -> Path:
    """An animated GIF under ``results/figures/<name>.gif``: the methods side by side, labelled, frame by frame.

    ``rows``: {label: list of (H,W,3) RGB, uint8 or float in [0,1]}, all with the same frame count and size. The provenance
    goes into the GIF's comment.
    """
    import numpy as np
    from PIL import Image, ImageDraw

    out = Path(results_dir or paths.RESULTS) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    n = min(len(v) for v in rows.values())
    frames = []
    for i in range(n):
        tiles = []
        for label, v in rows.items():
            x = v[i]
            tile = Image.fromarray(x if x.dtype == np.uint8 else (np.clip(x, 0, 1) * 255 + 0.5).astype("uint8"))
            ImageDraw.Draw(tile).text((3, 2), label, fill=(255, 255, 255))
            tiles.append(np.asarray(tile))
        frames.append(Image.fromarray(np.concatenate(tiles, axis=1)))
    dest = out / f"{name}.gif"
    with atomic_path(dest) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0,
                       comment=json.dumps(provenance(**prov)).encode())
    return dest

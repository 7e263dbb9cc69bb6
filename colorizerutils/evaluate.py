"""Score any colorizer on the test clips, one row per clip; every results table is built from these rows.

**The protocol** (:class:`Protocol`, recorded in every table's provenance):

- each clip is read from its file, frame by frame, and resized (area averaging) so that its shorter side is
  ``size``; a clip that is smaller keeps its own size (ground truth is never upsampled) and nothing is cropped;
- the first ``max_frames`` frames are used (every ``stride``-th of them; 1 is every frame);
- *automatic* models are scored at shorter side 256; *exemplar* models at the clip's own resolution up to 480, with
  frame 0 given to the model as the exemplar (the user's hand-coloured first frame) and never scored;
- a colorizer is what the CLI runs: ``reset(reference)`` and ``colorizer(L) -> ab`` (:mod:`.video`), fed through
  :func:`.video.colorize_frames` exactly as ``colorizer colorize`` feeds it;
- metrics (:mod:`.metrics`) are taken per frame and averaged per clip, and clips are averaged equally
  (:func:`summarize`); frames stream in chunks, so memory does not grow with the clip.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import flow, metrics, paths
from .atomic import write_text


@dataclasses.dataclass(frozen=True)
class Protocol:
    size: int = 256            # shorter side the clips are scored at (smaller clips keep their own)
    max_frames: int = 300      # frames per clip, from the start
    stride: int = 1            # every stride-th frame of those (1: all; temporal metrics need 1)
    exemplar: bool = False     # frame 0 is the exemplar given to the model, and is not scored
    lpips: bool = True
    temporal: bool = True      # CDC and warp error (consecutive frames only, so only with stride 1)

    def __post_init__(self):
        if self.size < 16 or self.max_frames < 1 or self.stride < 1:
            raise ValueError(f"protocol needs size >= 16, max_frames >= 1 and stride >= 1, got {self}")
        if self.temporal and self.stride != 1:
            raise ValueError("temporal metrics (CDC, warp error) need consecutive frames: use stride=1 or "
                             "temporal=False")

    def describe(self) -> str:
        frames = f"the first {self.max_frames} frames" + (f", every {self.stride}th" if self.stride > 1 else "")
        kind = ("frame 0 is the exemplar given to the model and is not scored" if self.exemplar
                else "no exemplar")
        return (f"Every test clip, {frames}, at shorter side {self.size} px (smaller clips at their own size), no "
                f"crop; {kind}.")


def automatic(profile, *, stride: int = 1) -> Protocol:
    """The automatic models' protocol at a profile's settings (``stride`` > 1 for sweeps: no temporal metrics)."""
    return Protocol(size=profile.eval_size, max_frames=profile.eval_frames, stride=stride, temporal=stride == 1)


def exemplar(profile, *, max_frames: int | None = None) -> Protocol:
    """The exemplar models' protocol: the clip's resolution up to ``profile.exemplar_size``, frame 0 the exemplar."""
    return Protocol(size=profile.exemplar_size, max_frames=(max_frames or profile.video_frames) + 1, exemplar=True)


def protocol_frames(path: str | Path, protocol: Protocol) -> Iterator[np.ndarray]:
    """The frames of a clip as the protocol scores them: (H,W,3) uint8 RGB, shorter side at most ``size``."""
    import cv2

    from .media import iter_frames

    for i, f in enumerate(iter_frames(path, max_frames=protocol.max_frames)):
        if i % protocol.stride:
            continue
        h, w = f.shape[:2]
        s = protocol.size / min(h, w)
        if s < 1:
            f = cv2.resize(f, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        yield f


def clip_paths(clips) -> list[tuple[str, Path]]:
    """``[(name, path)]`` of ``{name: path}`` or of manifest items."""
    if isinstance(clips, dict):
        return [(k, Path(v)) for k, v in clips.items()]
    return [(i["name"], Path(i.get("abspath") or i["path"])) for i in clips]


def test_clips(split: str = "test", *, kind: str | None = "video", root: Path | None = None) -> dict[str, Path]:
    """``{name: path}`` of the clips of a split of the prepared dataset (``kind=None``: photos too), manifest order."""
    from .data import split_items

    return {i["name"]: Path(i["abspath"]) for i in split_items(split, kind=kind, root=root)}


def colorize_clip(colorizer, path: str | Path, protocol: Protocol, *, model_size: int | None = None,
                  timing: dict | None = None, frames: Iterator[np.ndarray] | None = None
                  ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(prediction, ground truth)`` uint8 frames of one clip under the protocol, frame 0 included (the
    caller decides what is scored). The colorizer sees the frames' L only, plus frame 0 as its exemplar when the
    protocol has one. ``timing["model_s"]`` accumulates the seconds spent colorizing (decoding excluded).
    ``frames``: the clip's :func:`protocol_frames` already being decoded (shared by several colorizers)."""
    from .video import colorize_frames

    frames = protocol_frames(path, protocol) if frames is None else iter(frames)
    first = next(frames)
    pending: collections.deque = collections.deque()
    clock = {"read": 0.0}

    def source():
        it = itertools.chain([first], frames)
        while True:
            t = time.perf_counter()
            f = next(it, None)
            clock["read"] += time.perf_counter() - t
            if f is None:
                return
            pending.append(f)
            yield f

    outs = colorize_frames(colorizer, source(), size=model_size, reference=first if protocol.exemplar else None)
    while True:
        t, read, reused = time.perf_counter(), clock["read"], flow.charged_seconds()
        out = next(outs, None)
        if timing is not None:   # flows reused from another colorizer (flow.shared_flows) count as if computed
            timing["model_s"] = (timing.get("model_s", 0.0) + time.perf_counter() - t - (clock["read"] - read)
                                 + flow.charged_seconds() - reused)
        if out is None:
            return
        yield out, pending.popleft()


def evaluate(colorizer, clips, *, method: str, protocol: Protocol, model_size: int | None = None,
             chunk: int = 16, cache: bool = False, progress: bool = True) -> pd.DataFrame:
    """One row per clip: method, clip, frames scored, metrics, and ``fps``: frames colorized per second by the
    colorizer alone (decoding and scoring excluded). ``clips``: ``{name: path}`` (:func:`test_clips`) or manifest
    items. ``cache``: see :func:`evaluate_all`."""
    return evaluate_all({method: colorizer}, clips, protocol=protocol, model_size=model_size, chunk=chunk,
                        cache=cache, progress=progress)


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """What a scored row depends on beyond its clip, protocol and colorizer: the kit's decoding, colorizing and
    scoring code, the libraries under it, and the LPIPS weights."""
    import av
    import cv2
    import lpips
    import scipy
    import torchmetrics

    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("evaluate.py", "metrics.py", "flow.py", "color.py", "lab8.py", "media.py", "video.py", "inference.py",
                 "weights.py"):
        h.update((here / name).read_bytes())
    for mod in (torch, np, cv2, av, scipy, lpips, torchmetrics):
        h.update(f"{mod.__name__}={getattr(mod, '__version__', '?')};".encode())
    for k, v in metrics._lpips("cpu").state_dict().items():
        h.update(k.encode() + v.detach().cpu().numpy().tobytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime: float) -> str:
    from .download import sha256sum

    return sha256sum(path)


def _row_cache_file(colorizer, path: Path, protocol: Protocol, model_size, chunk: int) -> Path | None:
    """Where the scored row of a deterministic colorizer (one with a ``cache_key``: the gray, reference-copy and flow
    baselines, per-frame models loaded from a file) on this clip is kept: ``data/cache/rows/<sha256>.json``, keyed by
    everything it depends on."""
    key = getattr(colorizer, "cache_key", None)
    if key is None:
        return None
    st = Path(path).stat()
    spec = {"colorizer": key, "clip": _file_sha256(str(path), st.st_size, st.st_mtime), "model_size": model_size,
            "chunk": chunk, "protocol": dataclasses.asdict(protocol), "code": _code_fingerprint()}
    return paths.CACHE / "rows" / (hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest() + ".json")


def evaluate_all(colorizers: dict, clips, *, protocol: Protocol, model_size: int | None = None, chunk: int = 16,
                 ground_truth: str | None = None, cache: bool = False, share_flows: bool = True,
                 progress: bool = True) -> pd.DataFrame:
    """:func:`evaluate` for every ``{method: colorizer}``: one row per method and clip, methods in order, then, with
    ``ground_truth`` (its method name), the real frames' own rows (:func:`ground_truth`) from the same pass.

    Each clip is decoded once and its colorizers run side by side, ``chunk`` scored frames at a time, against one
    :class:`colorizerutils.metrics.GroundTruth`: the truth's flows and LPIPS features are made once per clip, not
    once per method, and every number is the same as scoring each method alone (tests/test_evaluate.py). So each
    method needs its own colorizer object (their per-clip state would otherwise mix).

    ``cache=True``: the rows of deterministic colorizers (those with a ``cache_key``: the gray, reference-copy and
    flow baselines, and per-frame models loaded from a final.pt, keyed by its sha256, at their chroma scale) are kept
    under ``data/cache/rows`` and reused wherever the clip's bytes, the protocol and the decoding, colorizing and
    scoring code and libraries are the same, so notebooks 01-05 score the gray baseline once, and notebook 03 reuses
    notebook 02's rows of the MSE U-Net. A reused row's fps is the one measured when it was made. ``make clean``
    removes the cache.

    ``share_flows``: the flow colorizers of a clip (the DIS baselines, the diffusion's anchors) compute the flows
    between any two frames once (:func:`colorizerutils.flow.shared_flows`), with the same numbers; each one's fps
    still counts the flows it reused. ``False`` only for ``make bench``'s comparison."""
    seen: dict[int, str] = {}
    for method, c in colorizers.items():
        for obj in {id(c): c, id(getattr(c, "inner", c)): getattr(c, "inner", c)}.values():
            if getattr(obj, "sequential", False) or getattr(obj, "uses_reference", False):
                if id(obj) in seen:
                    raise ValueError(f"{seen[id(obj)]!r} and {method!r} are the same colorizer object; evaluate_all "
                                     f"runs them side by side, so each needs its own (load it twice)")
                seen[id(obj)] = method
    if ground_truth in colorizers:
        raise ValueError(f"{ground_truth!r} names both a method and the ground truth's rows")
    rows: dict[str, list] = {m: [] for m in colorizers}
    truth_rows = []
    desc = next(iter(colorizers)) if len(colorizers) == 1 else f"{len(colorizers)} methods"
    for name, path in tqdm(clip_paths(clips), desc=desc, unit="clip", disable=not progress, leave=False):
        stored = {m: _row_cache_file(c, path, protocol, model_size, chunk) if cache else None
                  for m, c in colorizers.items()}
        todo = {}
        for m, c in colorizers.items():
            if stored[m] is not None and stored[m].exists():
                rows[m].append(dict(method=m, clip=name, **json.loads(stored[m].read_text())))
            else:
                todo[m] = c
        if not todo and ground_truth is None:
            continue
        # each pair's flows once; a chunk's methods run chunk frames apart, 2 frame pairs each (long, short range)
        with flow.shared_flows(size=3 * chunk) if share_flows else contextlib.nullcontext():
            scored, real = _score_clip(todo, path, protocol, model_size=model_size, chunk=chunk,
                                       with_truth=ground_truth is not None)
        for m, row in scored.items():
            rows[m].append(dict(method=m, clip=name, **row))
            if stored[m] is not None:
                stored[m].parent.mkdir(parents=True, exist_ok=True)
                write_text(stored[m], json.dumps(row))
        if real is not None:
            truth_rows.append(dict(method=ground_truth, clip=name, **real))
    return pd.DataFrame([r for m in colorizers for r in rows[m]] + truth_rows)


def _score_clip(colorizers: dict, path: Path, protocol: Protocol, *, model_size: int | None, chunk: int,
                with_truth: bool) -> tuple[dict[str, dict], dict | None]:
    """One pass over a clip for :func:`evaluate_all`: ``({method: frames, metrics and fps}, the real frames' own
    frames, colourfulness, CDC and warp error, or None)``."""
    *streams, frames = itertools.tee(protocol_frames(path, protocol), len(colorizers) + 1)
    timing = {m: {} for m in colorizers}
    runs = {m: colorize_clip(c, path, protocol, model_size=model_size, timing=timing[m], frames=s)
            for (m, c), s in zip(colorizers.items(), streams)}
    scorers = {m: metrics.ClipScorer(with_lpips=protocol.lpips, temporal=protocol.temporal) for m in colorizers}
    truth = metrics.GroundTruth(with_lpips=protocol.lpips and bool(colorizers), temporal=protocol.temporal)
    real = metrics.ClipScorer(with_lpips=False, temporal=protocol.temporal)   # the truth against itself
    seen, skip = 0, int(protocol.exemplar)   # frame 0, the exemplar, is colorized but not scored
    with torch.no_grad():
        while frames_gt := list(itertools.islice(frames, chunk + skip)):
            pairs = {m: list(itertools.islice(run, len(frames_gt))) for m, run in runs.items()}
            if any(len(p) != len(frames_gt) for p in pairs.values()):
                raise RuntimeError(f"{path}: a colorizer returned fewer frames than the clip has")
            seen += len(frames_gt)
            frames_gt, pairs, skip = frames_gt[skip:], {m: p[skip:] for m, p in pairs.items()}, 0
            if not frames_gt:
                continue
            gt = _chw(frames_gt)[0]
            preds = {m: _chw([f for f, _ in p])[0] for m, p in pairs.items()}
            for i in range(0, len(gt), sub := metrics.ClipScorer.SUB):   # the truth's side of a few frames at a
                part = truth.chunk(gt[i:i + sub])                          # time, so only one is held
                if with_truth:
                    real.score(gt[i:i + sub], part)
                for m, p in preds.items():
                    scorers[m].score(p[i:i + sub], part)
    scored = {m: dict(frames=s.frames, **s.result(), fps=seen / max(timing[m].get("model_s", 0.0), 1e-9))
              for m, s in scorers.items()}
    if not with_truth:
        return scored, None
    r = real.result()
    return scored, dict(frames=real.frames, **{k: r[k] for k in ("colorfulness", "cdc", "warp_error") if k in r})


class _Recording:
    """Passes a colorizer through and keeps every ab it predicts, in frame order."""

    def __init__(self, inner):
        self.inner, self.ab = inner, []
        self.size, self.sequential = getattr(inner, "size", None), getattr(inner, "sequential", False)

    def reset(self, reference=None) -> None:
        self.inner.reset(reference)

    def __call__(self, L):
        return self.predict(L)

    def predict(self, L):
        ab = getattr(self.inner, "predict", self.inner)(L)
        self.ab.append(ab)
        return ab


# how far from the ground truth's colourfulness a generative model's calibration may leave it (the kit's goal for the
# automatic diffusion: within 25%)
GENERATIVE_BAND = 0.25


# the automatic diffusion's sampler step counts that calibrate chooses among, and the colourfulness targets it tries
# there (Hasler & Suesstrunk's scale: real video frames are about 20-40; 0 is gray)
AUTOMATIC_STEPS = (2, 3, 5)
COLORFULNESS_TARGETS = tuple(float(t) for t in range(0, 61))
GENERATIVE_SCALES = tuple(np.round(np.linspace(0, 2, 41), 3))   # one factor instead: the calibration before 2026-12-08


def fit_chroma_scale(colorizer, clips, protocol: Protocol, *, scales=None, colorfulness_band: float | None = None,
                     progress: bool = True) -> tuple[float, pd.DataFrame]:
    """The factor on a model's ab (:class:`colorizerutils.inference.ChromaScaled`) fitted on ``clips`` (the val
    split), from one pass of the model: ``(best scale, table of scale vs mean PSNR and colourfulness)``.

    ``colorfulness_band``: None picks the scale of highest mean PSNR (a regression model: a wrong colour costs more
    than none). A fraction (0.25) picks the highest PSNR among the scales whose mean colourfulness lies within that
    fraction of the ground truth's (a generative model, whose colours should stay as vivid as real ones), or, if no
    scale does, the scale whose colourfulness is nearest the ground truth's.

    Each clip's frames are colorized once; every scale is then applied to the stored ab exactly as
    :func:`colorizerutils.video.colorize_frames` applies ab (upsampled onto the full-resolution L).
    """
    scales = np.round(np.linspace(0, 1, 21), 3) if scales is None else np.asarray(scales, float)
    table = _gain_curves(colorizer, clips, protocol, "chroma_scale",
                         {float(s): (lambda L, ab, s=float(s): s) for s in scales}, progress)
    return _pick(table, "chroma_scale", colorfulness_band), table


def fit_colorfulness_target(colorizer, clips, protocol: Protocol, *, targets=None,
                            colorfulness_band: float = GENERATIVE_BAND, progress: bool = True) -> tuple[float, pd.DataFrame]:
    """The colourfulness that each frame of a generative model is scaled to
    (:func:`colorizerutils.metrics.colorfulness_gain`), fitted on ``clips`` (the val split) from one pass of the model:
    ``(best target, table of target vs mean PSNR and colourfulness)``. The target of highest mean PSNR whose mean
    colourfulness lies within ``colorfulness_band`` of the ground truth's wins (if none does, the nearest).

    Why a target and not one factor (:func:`fit_chroma_scale`): how saturated the model comes out differs from clip
    to clip, so a factor fitted on a few val clips carries over badly (the committed chain of 2026-12-07: x1.95 on
    val gave the test clips 1.43x the real frames' colourfulness), where a colourfulness fitted there is what the
    band asks of the output itself (``scripts/automatic_probes.py diffusion-target``).
    """
    from .metrics import colorfulness_gain

    targets = np.asarray(COLORFULNESS_TARGETS if targets is None else targets, float)
    table = _gain_curves(colorizer, clips, protocol, "colorfulness_target",
                         {float(t): (lambda L, ab, t=float(t): colorfulness_gain(L, ab, t)) for t in targets},
                         progress)
    return _pick(table, "colorfulness_target", colorfulness_band), table


def _gain_curves(colorizer, clips, protocol: Protocol, column: str, gains: dict, progress: bool) -> pd.DataFrame:
    """Mean PSNR and colourfulness over ``clips`` of a model's ab times factors, one row per ``{value: gain(L, ab) ->
    one factor, or (N,) factors per frame}``: each clip colorized once, each gain applied to the stored ab (at the
    model's size) as :func:`colorizerutils.video.colorize_frames` applies ab (upsampled onto the full-resolution L)."""
    from .color import l_from_uint8, lab_to_uint8

    psnrs, colours, truth = [], [], []
    for name, path in tqdm(clip_paths(clips), desc=f"fit {column.replace('_', ' ')}", unit="clip",
                           disable=not progress, leave=False):
        rec = _Recording(colorizer)
        with torch.no_grad():
            gt = torch.from_numpy(np.stack([g for _, g in colorize_clip(rec, path, protocol)]))   # (N,H,W,3)
        ab, L = torch.cat(rec.ab), l_from_uint8(gt)
        frames = slice(1, None) if protocol.exemplar else slice(None)
        gt_chw = gt.permute(0, 3, 1, 2)[frames]
        per_frame = lambda f: f.view(-1, 1, 1, 1) if torch.is_tensor(f) else f
        preds = [lab_to_uint8(L, ab * per_frame(g(L, ab))).permute(0, 3, 1, 2)[frames] for g in gains.values()]
        psnrs.append([float(metrics.psnr(p, gt_chw).mean()) for p in preds])
        colours.append([float(metrics.colorfulness(p).mean()) for p in preds])
        truth.append(float(metrics.colorfulness(gt_chw).mean()))
    return pd.DataFrame({column: list(gains), "psnr": np.mean(psnrs, axis=0),
                         "colorfulness": np.mean(colours, axis=0), "gt_colorfulness": np.mean(truth)})


def _pick(table: pd.DataFrame, column: str, band: float | None) -> float:
    """The value of ``column`` of highest PSNR (``band`` None), or of highest PSNR within ``band`` of the truth's
    colourfulness, or nearest it where none is."""
    if band is None:
        best = table.psnr.idxmax()
    else:
        off = (table.colorfulness / table.gt_colorfulness - 1).abs()
        inside = table[off <= band]
        best = inside.psnr.idxmax() if len(inside) else off.idxmin()
    return float(table.loc[best, column])


def calibrate(run: str | Path, clips, protocol: Protocol, *, scales=None, targets=None,
              sampler_options: dict | None = None, automatic_steps=AUTOMATIC_STEPS,
              progress: bool = True) -> pd.DataFrame:
    """Fit a trained model's calibration on ``clips`` (the val split: never test) and write it beside its checkpoint
    (``calibration.json``, tied to the checkpoint's sha256), so that :func:`colorizerutils.inference.load_colorizer`
    applies it from then on. Returns the table it was chosen from (mean PSNR and colourfulness per value).

    A per-frame model gets the chroma scale of highest PSNR (:func:`fit_chroma_scale`; ``scales``, default 0 to 1).
    The diffusion model, generative, is fitted where it runs without an exemplar (sampled with
    ``sampler_options``), at each step count of ``automatic_steps`` in turn: each gets the colourfulness target
    (:func:`fit_colorfulness_target`; ``targets``, default :data:`COLORFULNESS_TARGETS`) of highest PSNR whose
    colourfulness stays within :data:`GENERATIVE_BAND` of the ground truth's, and the step count whose target scores
    highest wins, among those that reach the band if any does; the table returned is the winner's, with its
    ``automatic_steps``. Fewer steps sample closer to the model's mean colours, which PSNR rewards."""
    from .inference import WithoutReference, checkpoint_path, load_colorizer

    path = checkpoint_path(run)
    model = load_colorizer(path, calibrated=False, sampler_options=sampler_options)
    if getattr(model, "automatic", False):          # the diffusion model: calibrate its automatic mode
        if scales is not None:
            raise ValueError(f"{path}: the diffusion model's automatic mode is calibrated by colourfulness targets "
                             f"(targets=...), not by chroma scales")
        band, fits = GENERATIVE_BAND, []
        for n in automatic_steps:
            model.automatic_steps = n                # the same network and sampler, this many steps without exemplar
            best, table = fit_colorfulness_target(WithoutReference(model), clips, protocol, targets=targets,
                                                  colorfulness_band=band, progress=progress)
            row = table[table.colorfulness_target == best].iloc[0]
            inside = abs(row.colorfulness / row.gt_colorfulness - 1) <= band
            fits.append(dict(automatic_steps=int(n), colorfulness_target=best, psnr=float(row.psnr),
                             colorfulness=float(row.colorfulness), in_band=bool(inside),
                             table=table.assign(automatic_steps=int(n))))
        win = max(fits, key=lambda f: (f["in_band"], f["psnr"]))
        table = win["table"]
        write_calibration(path, None, table, fitted_on=sorted(dict(clip_paths(clips))), protocol=protocol,
                          colorfulness_band=band, sampler_options=sampler_options,
                          automatic_target=win["colorfulness_target"], automatic_steps=win["automatic_steps"],
                          by_steps=[{k: v for k, v in f.items() if k != "table"} for f in fits])
        return table
    if getattr(model, "sequential", False) or getattr(model, "uses_reference", False):
        raise ValueError(f"{path}: calibration is for automatic models, not {type(model).__name__}")
    if targets is not None:
        raise ValueError(f"{path}: a per-frame model is calibrated by one chroma scale (scales=...), not by "
                         f"colourfulness targets")
    best, table = fit_chroma_scale(model, clips, protocol, scales=scales, progress=progress)
    write_calibration(path, best, table, fitted_on=sorted(dict(clip_paths(clips))), protocol=protocol,
                      colorfulness_band=None, sampler_options=sampler_options)
    return table


def write_calibration(checkpoint: str | Path, chroma_scale: float | None, table: pd.DataFrame, *, fitted_on,
                      protocol, **extra) -> Path:
    """Write a fitted chroma scale beside ``checkpoint`` (``calibration.json``, tied to its sha256, read by
    :func:`colorizerutils.inference.read_calibration`) with the table it was chosen from and what it was fitted on;
    ``extra`` adds fields (the diffusion model's colourfulness target and step count, the folds of a cross-fit).
    ``chroma_scale`` None: the record has none (the diffusion model's, whose ``automatic_target`` replaces it)."""
    from .atomic import write_text
    from .download import sha256sum
    from .inference import CALIBRATION

    path = Path(checkpoint)
    scale = {} if chroma_scale is None else {"chroma_scale": float(chroma_scale)}
    record = {**scale, **extra, "checkpoint_sha256": sha256sum(path),
              "fitted_on": fitted_on, "protocol": dataclasses.asdict(protocol),
              "by_scale": table.round(4).to_dict("records")}
    out = path.parent / CALIBRATION
    write_text(out, json.dumps(record, indent=1) + "\n")
    return out


def _chw(*lists):
    return tuple(torch.from_numpy(np.stack(x)).permute(0, 3, 1, 2) for x in lists)


STEPS_COLUMNS = ("method", "clip", "steps", "psnr", "lpips", "cdc", "seconds_per_frame")


def sampling_steps(run: str | Path | None, clips, protocol: Protocol, *, ddim_steps, dpm_steps: int | tuple = (),
                   sampler: dict | None = None, make=None, columns=STEPS_COLUMNS,
                   progress: bool = True) -> pd.DataFrame:
    """A diffusion run sampled with DDIM at each of ``ddim_steps`` and DPM-Solver++ at each of ``dpm_steps`` (one
    count or several): PSNR, LPIPS, CDC and the sampler's seconds per frame (decoding and scoring excluded), per
    clip.

    The colorizer for each setting is ``run`` loaded with the ``sampler`` options, or ``make(sampler_name, steps)``
    when given (the bench's network, trained or fresh); ``columns=None`` keeps every column of :func:`evaluate`."""
    from .inference import load_colorizer

    if make is None:
        make = lambda kind, n: load_colorizer(run, sampler_options=dict(sampler or {}, steps=n, sampler_name=kind))
    rows = []
    dpm_steps = (dpm_steps,) if isinstance(dpm_steps, int) else tuple(dpm_steps)
    for n, kind in [*((n, "ddim") for n in ddim_steps), *((n, "dpm") for n in dpm_steps)]:
        df = evaluate(make(kind, n), clips, method=f"{'DDIM' if kind == 'ddim' else 'DPM-Solver'} {n}",
                      protocol=protocol, progress=progress)
        rows.append(df.assign(steps=n, seconds_per_frame=1 / df.fps))
    out = pd.concat(rows, ignore_index=True)
    return out if columns is None else out[list(columns)]


CEILING_ROWS = ("perfect residual at the model size, gated", "perfect residual at the model size, everywhere")


def residual_ceiling(clips, protocol: Protocol, *, size: int, progress: bool = True) -> pd.DataFrame:
    """How far a perfect network could take the exemplar diffusion's design: per clip, the full-resolution fused flow
    anchor (:class:`colorizerutils.flow.FlowAnchor`, as the colorizer builds it) plus the *true* residual, ground
    truth ab minus the anchor, made at the model's ``size`` (downsized, then upsampled as the network's own residual
    is) and added where the anchor is unsure (:data:`CEILING_ROWS` ``[0]``: weighted by one minus its confidence, as
    the default colorizer adds it) or everywhere (``[1]``). An upper bound that reads the ground truth, not a method.
    Frame 0 is the exemplar and is not scored, as in ``protocol``; PSNR, SSIM and colourfulness as
    :func:`evaluate_all` scores them."""
    import torch.nn.functional as F

    from .color import AB_SCALE, lab_to_uint8, rgb_to_lab
    from .flow import anchor_chain
    from .inference import model_size

    if not protocol.exemplar:
        raise ValueError("residual_ceiling needs an exemplar protocol (frame 0 given, not scored)")
    rows = []
    for name, path in tqdm(clip_paths(clips), desc="residual ceiling", unit="clip", disable=not progress,
                           leave=False):
        rgb = torch.from_numpy(np.stack(list(protocol_frames(path, protocol)))).permute(0, 3, 1, 2)
        lab = rgb_to_lab(rgb.float() / 255)
        h, w = lab.shape[-2:]
        small = model_size(h, w, size)
        anchors, confs = anchor_chain(lab)          # frames 1.. as the colorizer builds their anchors
        scorers = {k: metrics.ClipScorer(with_lpips=False, temporal=False) for k in CEILING_ROWS}
        for t in range(1, len(lab)):
            a, conf = anchors[t - 1:t], confs[t - 1:t]
            d = F.interpolate(lab[t:t + 1, 1:] - a[:, 1:], size=small, mode="bilinear", antialias=True,
                              align_corners=False)
            r = F.interpolate(d, size=(h, w), mode="bilinear", align_corners=False)
            for k, ab in zip(CEILING_ROWS, (a[:, 1:] + r * (1 - conf), a[:, 1:] + r)):
                pred = lab_to_uint8(lab[t:t + 1, :1], ab.clamp(-AB_SCALE, AB_SCALE)).permute(0, 3, 1, 2)
                scorers[k].update(pred, rgb[t:t + 1])
        rows += [dict(method=k, clip=name, frames=s.frames, **s.result()) for k, s in scorers.items()]
    return pd.DataFrame(rows)


def ground_truth(clips, *, protocol: Protocol, method: str = "ground truth") -> pd.DataFrame:
    """The real frames' own no-reference numbers per clip (colourfulness, CDC, warp error), for comparison. Scoring
    methods too? Pass ``ground_truth=`` to :func:`evaluate_all` instead, which makes these rows in the same pass."""
    return evaluate_all({}, clips, protocol=dataclasses.replace(protocol, lpips=False), ground_truth=method,
                        progress=False)


def sample_frames(colorizers: dict, path: str | Path, protocol: Protocol, *, count: int = 8,
                  model_size: int | None = None) -> dict[str, list[np.ndarray]]:
    """``count`` evenly spaced frames of one clip from each colorizer, plus ``"ground truth"``, for figures."""
    out: dict[str, list] = {}
    for name, c in colorizers.items():
        pairs = list(colorize_clip(c, path, protocol, model_size=model_size))
        idx = np.linspace(0, len(pairs) - 1, count).round().astype(int)
        out[name] = [pairs[i][0] for i in idx]
        out.setdefault("ground truth", [pairs[i][1] for i in idx])
    gt = out.pop("ground truth")
    out["ground truth"] = gt
    return out


def frame_grid(colorizers: dict, clips, protocol: Protocol, *, index: int = 24) -> dict[str, list[np.ndarray]]:
    """Frame ``index`` of every clip from each colorizer, plus ``"ground truth"``: ``{name: [frame per clip]}``."""
    short = dataclasses.replace(protocol, max_frames=index + 1, stride=1)
    out: dict[str, list] = {name: [] for name in colorizers}
    out["ground truth"] = []
    for _, path in clip_paths(clips):
        for name, c in colorizers.items():
            *_, (pred, gt) = colorize_clip(c, path, short)
            out[name].append(pred)
        out["ground truth"].append(gt)
    return out


def lab_clip(path: str | Path, protocol: Protocol) -> torch.Tensor:
    """A clip's frames under the protocol as LAB (T,3,H,W), for figures and widgets."""
    from .color import rgb_to_lab

    frames = torch.from_numpy(np.stack(list(protocol_frames(path, protocol)))).permute(0, 3, 1, 2)
    return rgb_to_lab(frames.float() / 255)


def benchmark_clips(root: str | Path, *, names_file: str | Path | None = None) -> dict[str, Path]:
    """The clips of a DAVIS-layout folder (``JPEGImages/480p/<seq>/``) to benchmark: those listed in ``names_file``
    (one sequence per line, e.g. TCVC's DAVIS30 list), else in ``ImageSets/2017/val.txt`` when the folder has it
    (DAVIS 2017 val, 30 sequences), else every sequence."""
    from .media import DataError, list_clips

    root = Path(root)
    clips = list_clips(root)
    listing = Path(names_file) if names_file else root / "ImageSets" / "2017" / "val.txt"
    if names_file and not listing.is_file():
        raise DataError(f"{listing}: no such list of sequences (expected one sequence name per line)")
    if not listing.is_file():
        return clips
    names = [n.strip() for n in listing.read_text().splitlines() if n.strip()]
    missing = [n for n in names if n not in clips]
    if missing:
        raise DataError(f"{listing} names sequences that {root} does not hold: {', '.join(missing[:5])}"
                        + (" ..." if len(missing) > 5 else ""))
    return {n: clips[n] for n in names}


def benchmark(colorizer, root: str | Path, *, method: str, names_file: str | Path | None = None, size: int = 480,
              max_frames: int = 100_000, progress: bool = True) -> pd.DataFrame:
    """The literature's protocol on DAVIS-layout data: every frame at shorter side ``size`` (480p), frame 0 the
    exemplar (not scored) for methods that use one, all frames otherwise; one row per clip and a final mean row."""
    exemplar = bool(getattr(colorizer, "uses_reference", False))
    protocol = Protocol(size=size, max_frames=max_frames, exemplar=exemplar)
    rows = evaluate(colorizer, benchmark_clips(root, names_file=names_file), method=method, protocol=protocol,
                    progress=progress)
    mean = summarize(rows).drop(columns="clips").assign(clip=f"mean of {len(rows)} clips", frames=rows.frames.sum())
    return pd.concat([rows, mean[rows.columns]], ignore_index=True)


def summarize(per_clip: pd.DataFrame) -> pd.DataFrame:
    """Mean over clips (each clip weighted equally) per method, in the order methods first appear."""
    cols = [c for c in per_clip.columns if c not in ("method", "clip", "frames")]
    out = per_clip.groupby("method", sort=False)[cols].mean().reset_index()
    out.insert(1, "clips", per_clip.groupby("method", sort=False).size().values)
    return out

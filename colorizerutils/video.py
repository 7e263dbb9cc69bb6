"""Colorize images, videos and frame folders with a trained model, streaming frame by frame.

The model runs at ``size`` (shorter side; the aspect ratio is kept, the network pads to its multiple) and its ab is
upsampled onto the full-resolution L of the input, so detail comes from the original luminance. A colour input is
used through its L only, so anyone can compare the result with the original.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from . import paths
from .atomic import atomic_path, load_torch, write_text
from .color import denormalize_ab, l_from_uint8, lab_to_uint8, normalize_l, rgb_to_lab, upsample_ab
from .media import (IMAGE_EXTS, VIDEO_EXTS, VIDEO_OUT_EXTS, DataError, check_encoder, declared_frames, iter_frames,
                    prefetch, read_image, video_fps, write_frames, write_video)
from .models import MODELS, build_model

# name -> (run folder under checkpoints/, what creates it)
NAMED = {"mse_unet": "notebook 02_mse_unet (make reproduce)", "gan_unet": "notebook 03_gan_unet (make reproduce)",
         "cic": "notebook 03_gan_unet (make reproduce)", "diffusion": "notebook 04_video_diffusion (make reproduce)"}


class Colorizer:
    """A trained per-frame model: ``colorizer(L)`` with L (B,1,h,w) in [0,100] returns ab (B,2,h,w) in CIE units.

    ``reset(reference)`` starts a new clip (per-frame models ignore the reference; the diffusion colorizer uses it).
    """

    def __init__(self, net: torch.nn.Module, *, objective: str, device: torch.device, bf16: bool = False,
                 name: str = "model", size: int | None = None):
        self.net, self.objective, self.device, self.bf16, self.name = net.eval(), objective, device, bf16, name
        self.size = size   # shorter side the model runs at (default: its training size); None: the input's own

    def reset(self, reference: torch.Tensor | None = None) -> None:
        """Per-frame models have no state; a reference (exemplar) is accepted and not used."""

    @torch.no_grad()
    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        """Runs at ``self.size`` (shorter side) and returns ab upsampled to L's size."""
        return upsample_ab(self.predict(L), L.shape[-2:])

    @torch.no_grad()
    def predict(self, L: torch.Tensor) -> torch.Tensor:
        """ab (CIE units) on the network's own output grid: a quarter of the model size for ``out_stride=4``.

        Callers that upsample anyway (the fused LAB -> RGB kernel does it on the fly) take this and skip a second
        bilinear pass; ``colorizer(L)`` is ``upsample_ab(colorizer.predict(L), L.shape[-2:])``.
        """
        h, w = L.shape[-2:]
        if self.size is not None and min(h, w) != self.size:
            L = F.interpolate(L.float(), size=_model_size(h, w, self.size), mode="bilinear", antialias=True,
                              align_corners=False)
        l = normalize_l(L.to(self.device, torch.float32))
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            ab = self.net.colorize(l) if self.objective == "cic" else self.net(l)
        return denormalize_ab(ab.float()).cpu()


class GrayBaseline:
    """The gray baseline as a colorizer (keep L, a=b=0): ``colorizer colorize IN OUT --model gray``."""

    name, objective, size = "gray", "baseline", None   # size None: runs at the frame's own resolution

    def reset(self, reference=None) -> None:
        pass

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        return torch.zeros(L.shape[0], 2, *L.shape[-2:])


class ReferenceCopy:
    """Exemplar baseline: every frame takes the exemplar's ab (``reset(reference)`` with the exemplar as LAB)."""

    objective, size = "baseline", None   # size None: runs at the frame's own resolution
    uses_reference = True                # exemplar methods: evaluated with frame 0 as the exemplar

    def __init__(self):
        self.name, self.ref = "reference copy", None

    def reset(self, reference=None) -> None:
        if reference is None:
            raise ValueError(f"{self.name} needs an exemplar (--reference)")
        self.ref = reference.float()

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        ab = self.ref[:, 1:]
        if ab.shape[-2:] != L.shape[-2:]:
            ab = F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False)
        return ab.expand(L.shape[0], -1, -1, -1)


class FlowReference(ReferenceCopy):
    """Exemplar baselines by optical flow, at the frame's resolution (:class:`colorizerutils.flow.FlowAnchor`):

    - ``fusion="long"``: the exemplar warped onto every frame (long range, reference -> frame t);
    - ``fusion="short"`` (or ``propagate=True``): the previous output warped onto the next frame (frame to frame);
    - ``fusion="confidence"``: both, weighted per pixel by their forward-backward consistency, short range first.
    """

    sequential = True
    NAMES = {"long": "warp", "short": "propagation", "confidence": "long+short fused by confidence"}

    def __init__(self, method: str = "dis", *, propagate: bool = False, fusion: str | None = None):
        from .flow import FlowAnchor

        super().__init__()
        fusion = fusion or ("short" if propagate else "long")
        self.anchor = FlowAnchor(method, fusion, confidence=False)
        self.method, self.fusion = method, fusion
        self.name = f"{method} {self.NAMES[fusion]} from the exemplar"

    def reset(self, reference=None) -> None:
        super().reset(reference)
        self.anchor.reset(self.ref)

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        if self.ref.shape[-2:] != L.shape[-2:]:      # a reference given at another size: moved to the frames' grid
            self.ref = F.interpolate(self.ref, size=L.shape[-2:], mode="bilinear", align_corners=False)
            self.anchor.reset(self.ref)
        out = []
        for i in range(len(L)):
            lab, _ = self.anchor(L[i:i + 1])
            self.anchor.update(lab)
            out.append(lab[:, 1:])
        return torch.cat(out)


class ChromaScaled:
    """A colorizer whose ab is multiplied by ``scale`` (0: the gray baseline, 1: the model itself).

    The calibration of an over-confident regression model: trained on little data, it predicts strong colours that
    are often wrong, and on unseen clips a wrong colour costs more than none. ``scale`` is fitted on the val split
    (:func:`colorizerutils.evaluate.fit_chroma_scale`), never on test.
    """

    def __init__(self, colorizer, scale: float):
        if not 0 <= scale <= 2:
            raise ValueError(f"chroma scale {scale}: expected a factor between 0 and 2")
        self.inner, self.scale = colorizer, float(scale)
        self.name = f"{getattr(colorizer, 'name', 'model')} (chroma x {self.scale:g})"
        self.objective = getattr(colorizer, "objective", None)
        self.sequential = getattr(colorizer, "sequential", False)

    @property
    def size(self) -> int | None:
        """The inner model's size (setting it, as ``colorizer --size`` does, sets the inner model's)."""
        return getattr(self.inner, "size", None)

    @size.setter
    def size(self, value: int | None) -> None:
        self.inner.size = value

    def reset(self, reference=None) -> None:
        self.inner.reset(reference)

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        return self.inner(L) * self.scale

    def predict(self, L: torch.Tensor) -> torch.Tensor:
        return getattr(self.inner, "predict", self.inner)(L) * self.scale


class WithoutReference:
    """A colorizer that is never given the exemplar (automatic mode), under a protocol that has one."""

    uses_reference = False

    def __init__(self, colorizer):
        self.inner = colorizer
        self.name, self.size = f"{getattr(colorizer, 'name', 'model')}, automatic", getattr(colorizer, "size", None)
        self.sequential = getattr(colorizer, "sequential", False)

    def reset(self, reference=None) -> None:
        self.inner.reset(None)

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        return self.inner(L)


BASELINES = {"gray": GrayBaseline, "reference": ReferenceCopy, "farneback": lambda: FlowReference("farneback"),
             "flow": lambda: FlowReference("dis"), "flow-propagate": lambda: FlowReference("dis", propagate=True),
             "flow-fused": lambda: FlowReference("dis", fusion="confidence")}
BASELINE_TITLES = {"gray": "gray baseline", "reference": "reference copy",
                   "farneback": "Farneback warp from the exemplar", "flow": "DIS warp from the exemplar",
                   "flow-propagate": "DIS propagation frame to frame",
                   "flow-fused": "DIS fused, long + short range by confidence"}
# notebook 04's variants of the exemplar diffusion: table name -> (sampler options over the default ones, automatic)
DIFFUSION_VARIANTS = {
    "diffusion + exemplar": ({}, False),
    "diffusion + exemplar, residual added everywhere (not gated)": ({"residual": "full"}, False),
    "diffusion + exemplar, anchor at the model size": ({"full_anchor": False}, False),
    "diffusion, automatic": ({}, True),
    "diffusion + exemplar, no previous frame": ({"use_prev": False}, False),
    "diffusion + exemplar, fresh noise per frame": ({"noise": "fresh"}, False),
}


def baselines() -> dict[str, object]:
    """Every non-learned colorizer (:data:`BASELINES`), keyed by its name in the tables."""
    return {BASELINE_TITLES[k]: make() for k, make in BASELINES.items()}


def diffusion_variants(run: str | Path, sampler: dict) -> dict[str, object]:
    """The diffusion run ``run`` as each of :data:`DIFFUSION_VARIANTS`, with ``sampler``'s options beneath them."""
    out = {}
    for name, (options, automatic) in DIFFUSION_VARIANTS.items():
        model = load_colorizer(run, sampler_options={**sampler, **options})
        out[name] = WithoutReference(model) if automatic else model
    return out


def checkpoint_path(name_or_path: str | Path, *, sha256: str | None = None) -> Path:
    """A named model (``mse_unet``, ``gan_unet``, ``cic``, ``diffusion``), a checkpoint path, or a published checkpoint
    (``gdrive:FILE_ID``, a Drive link or a URL, with its ``sha256``; :func:`colorizerutils.download.fetch_checkpoint`)
    -> final.pt."""
    from .download import fetch_checkpoint, is_remote

    if is_remote(str(name_or_path)):
        return fetch_checkpoint(str(name_or_path), sha256)
    p = Path(name_or_path)
    if str(name_or_path) in NAMED:
        p = paths.CHECKPOINTS / str(name_or_path) / "final.pt"
        if not p.exists():
            raise FileNotFoundError(f"{p} does not exist: the model {name_or_path!r} is created by "
                                    f"{NAMED[str(name_or_path)]}")
        return p
    if p.is_dir():
        p = p / "final.pt"
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such checkpoint; expected a model name (gray, {', '.join(NAMED)}) or a "
                                f"final.pt")
    return p


def read_checkpoint(name_or_path: str | Path) -> dict:
    """The dict saved by :func:`colorizerutils.training.save_model`, or a ValueError naming the file."""
    path = checkpoint_path(name_or_path)
    ckpt = load_torch(path)   # weights_only: a crafted pickle is refused before any of it runs
    if not isinstance(ckpt, dict) or ckpt.get("kit") != "colorizerutils" or ckpt.get("model") not in MODELS:
        raise ValueError(f"{path}: not a colorizerutils model checkpoint (expected keys model, model_kwargs, state)")
    missing = [k for k in ("model_kwargs", "state", "objective", "config") if k not in ckpt]
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {', '.join(missing)}; expected a final.pt written by the kit")
    return ckpt


CALIBRATION = "calibration.json"   # beside a final.pt: its chroma scale fitted on val (evaluate.calibrate)


def read_calibration(checkpoint: str | Path) -> dict | None:
    """The calibration written beside ``checkpoint`` (a final.pt) for exactly these weights, or None: none was
    written, or it was written for weights that have since been retrained (a warning says so, and it is not used)."""
    from .download import sha256sum

    path = Path(checkpoint).parent / CALIBRATION
    if not path.exists():
        return None
    try:
        cal = json.loads(path.read_text())
        scale, sha = float(cal["chroma_scale"]), cal["checkpoint_sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: expected JSON with chroma_scale and checkpoint_sha256 "
                         f"(written by colorizerutils.evaluate.calibrate): {e}") from e
    if sha != sha256sum(checkpoint):
        warnings.warn(f"{path} was fitted for other weights than {checkpoint} (retrained since?): not used; "
                      f"run evaluate.calibrate again", stacklevel=2)
        return None
    return dict(cal, chroma_scale=scale)


def load_colorizer(name_or_path: str | Path, *, device: str = "auto", bf16: bool = False,
                   sampler_options: dict | None = None, sha256: str | None = None, calibrated: bool = True):
    """Load a model written by :func:`colorizerutils.training.train` (``final.pt``), checking its architecture.

    ``sampler_options`` (steps, seed) go to the diffusion sampler; per-frame models have none and ignore them.
    ``sha256`` verifies a published checkpoint (:func:`checkpoint_path`).
    ``calibrated``: a per-frame model with a calibration beside it (:func:`colorizerutils.evaluate.calibrate`, the
    chroma scale fitted on the val split) comes as :class:`ChromaScaled` at that scale; False: the raw model.
    The checkpoint is read once, with ``weights_only`` (:func:`colorizerutils.atomic.load_torch`).
    """
    from .runtime import resolve_device

    if str(name_or_path) in BASELINES:
        return BASELINES[str(name_or_path)]()
    path = checkpoint_path(name_or_path, sha256=sha256)
    ckpt = read_checkpoint(path)
    dev = resolve_device(device)
    kwargs = dict(ckpt["model_kwargs"])
    if kwargs.get("encoder", "none") != "none":
        kwargs["pretrained"] = False          # the checkpoint holds the encoder's trained weights
    net = build_model(ckpt["model"], **kwargs)
    try:
        net.load_state_dict(ckpt["state"])
    except RuntimeError as e:
        raise ValueError(f"{path}: its weights do not fit a {ckpt['model']} with {ckpt['model_kwargs']} "
                         f"(checkpoint of another architecture?): {str(e)[:300]}") from e
    net.to(dev)
    if ckpt["objective"] == "diffusion":
        from .diffusion import DiffusionColorizer

        return DiffusionColorizer(net, device=dev, config=ckpt["config"], **(sampler_options or {}))
    model = Colorizer(net, objective=ckpt["objective"], device=dev, bf16=bf16, name=str(name_or_path),
                      size=ckpt["config"].get("size"))
    cal = read_calibration(path) if calibrated else None
    return ChromaScaled(model, cal["chroma_scale"]) if cal else model


def _model_size(h: int, w: int, size: int) -> tuple[int, int]:
    s = size / min(h, w)
    return max(8, round(h * s)), max(8, round(w * s))


def colorize_frames(colorizer, frames: Iterator[np.ndarray], *, size: int | None = None, batch: int = 8,
                    reference: np.ndarray | None = None, references: list[np.ndarray] | None = None,
                    shots: list | None = None) -> Iterator[np.ndarray]:
    """Stream (H,W,3) uint8 frames -> colorized (H,W,3) uint8 frames: model at ``size`` (shorter side; None: the
    size the model was trained at), ab upsampled onto the full-resolution L.

    ``reference`` (or the first of ``references``) is the exemplar for the whole clip. Passing a list as ``shots``
    turns on shot handling for colorizers with frame-to-frame state (:mod:`colorizerutils.shots`): at every cut the
    colorizer starts afresh with the reference of ``references`` that fits the new shot, or without one where none
    fits and the colorizer has an automatic mode (else with the closest one), and one dict per shot is appended to
    ``shots`` (first frame, reference index, its NCC, whether it fits, the NCC across the cut).
    """
    from .shots import CutDetector, best_reference

    size = size or getattr(colorizer, "size", None)   # None: the frames' own size (baselines)
    refs = list(references) if references is not None else ([reference] if reference is not None else [])
    as_tensor = lambda r: torch.from_numpy(np.array(r)).permute(2, 0, 1)[None].float() / 255
    ref_t = [as_tensor(r) for r in refs]
    stateful = getattr(colorizer, "sequential", False) or getattr(colorizer, "uses_reference", False)
    full = getattr(colorizer, "full_resolution", False)   # takes full-size L and reference: predict_full(L, size)
    detector = CutDetector() if shots is not None and stateful else None
    state = {"ref": ref_t[0] if ref_t else None, "reset": True}
    buf: list[np.ndarray] = []
    shape = None

    @torch.no_grad()   # grad mode is per thread: colorize_path runs this in a worker thread, where it is on
    def flush(items):
        x = torch.from_numpy(np.stack(items))                           # (B,H,W,3) uint8
        h, w = x.shape[1:3]
        ref = state["ref"]
        mh, mw = _model_size(h, w, size) if size else (h, w)
        small = lambda t: t if t.shape[-2:] == (mh, mw) else F.interpolate(
            t, size=(mh, mw), mode="bilinear", antialias=True, align_corners=False)
        if state["reset"]:
            if ref is not None and abs(ref.shape[-1] / ref.shape[-2] - w / h) > 0.02 * (w / h):
                raise DataError(f"the reference is {ref.shape[-1]}x{ref.shape[-2]} but the frames are {w}x{h}; "
                                f"expected the same aspect ratio (crop the reference to the frames' shape rather "
                                f"than stretch it)")
            if full and ref is not None and ref.shape[-2:] != (h, w):
                ref = F.interpolate(ref, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
            colorizer.reset(None if ref is None else rgb_to_lab(ref if full else small(ref)))
            state["reset"] = False
        L_full = l_from_uint8(x)
        if full:                                                        # the colorizer resizes for itself
            yield from lab_to_uint8(L_full, colorizer.predict_full(L_full, (mh, mw))).numpy()
            return
        L_small = small(L_full)
        predict = getattr(colorizer, "predict", colorizer)               # low-res ab where the model has it
        yield from lab_to_uint8(L_full, predict(L_small)).numpy()       # upsamples ab on the fly, once

    step = 1 if getattr(colorizer, "sequential", False) else batch
    for i, f in enumerate(frames):
        if shape is None:
            shape = f.shape
        elif f.shape != shape:
            raise DataError(f"frame {i} is {f.shape[1]}x{f.shape[0]} but frame 0 is {shape[1]}x{shape[0]}; expected "
                            f"every frame of a clip at one size")
        if detector is not None and (detector(f) or i == 0):
            if buf:
                yield from flush(buf)
                buf = []
            entry = dict(shot=len(shots), start_frame=i, reference=None, reference_ncc=None, fits=False,
                         cut_ncc=None if i == 0 else round(detector.last_ncc, 4))
            if refs:
                k, score, fits = best_reference(f, refs)
                use = k if fits or not getattr(colorizer, "automatic", False) else None
                entry.update(reference=use, reference_ncc=round(score, 4), fits=fits)
                state["ref"] = None if use is None else ref_t[use]
            state["reset"] = True
            shots.append(entry)
        buf.append(f)
        if len(buf) == step:
            yield from flush(buf)
            buf = []
    if buf:
        yield from flush(buf)


def reference_images(reference) -> list[Path]:
    """``--reference`` values -> image paths: each an image, or a folder whose images are taken in name order."""
    if reference is None:
        return []
    out = []
    for r in [reference] if isinstance(reference, (str, Path)) else reference:
        r = Path(r)
        if r.is_dir():
            found = sorted(f for f in r.iterdir() if f.suffix.lower() in IMAGE_EXTS)
            if not found:
                raise DataError(f"{r}: the reference folder holds no images ({', '.join(sorted(IMAGE_EXTS))})")
            out += found
        elif not r.exists():
            raise DataError(f"{r}: no such reference image or folder")
        else:
            out.append(r)
    return out


def colorize_path(colorizer, src: str | Path, dest: str | Path, *, size: int | None = None,
                  reference=None, progress: bool = True, batch: int = 8, crf: int = 20,
                  preset: str = "veryfast", overwrite: bool = False, shots: bool = True) -> int:
    """Colorize an image, a video or a frame folder into an image, an mp4 (or mkv/mov) or a frame folder.

    The output kind is chosen by ``dest``'s extension (none: a frame folder) and must suit the input; ``crf`` and
    ``preset`` go to the H.264 encoder (:func:`write_video`). ``reference``: an image, a folder of images or a list
    of them. With ``shots`` (the default) a colorizer with frame-to-frame state starts afresh at every cut, with the
    reference that fits the shot (:func:`colorize_frames`); the shots are printed and written beside the output as
    ``<output>.shots.json``.
    """
    src, dest = Path(src), Path(dest)
    check_encoder(crf, preset)
    if not src.exists():
        raise DataError(f"{src}: no such input file or folder")
    if not dest.parent.exists():
        raise FileNotFoundError(f"{dest}: the output folder {dest.parent} does not exist")
    if dest.exists() and dest.samefile(src):
        raise FileExistsError(f"{dest}: OUTPUT is the INPUT itself; choose another output path (the input is "
                              f"never overwritten)")
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest}: already exists; choose a new output path or pass --overwrite")
    if not dest.parent.is_dir():
        raise NotADirectoryError(f"{dest}: {dest.parent} is not a folder")
    if not os.access(dest.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{dest}: the folder {dest.parent} is not writable")
    if dest.is_dir() and dest.suffix:
        raise IsADirectoryError(f"{dest}: is a folder; expected a file path for a {dest.suffix} output")
    in_kind = "folder" if src.is_dir() else "video" if src.suffix.lower() in VIDEO_EXTS else \
        "image" if src.suffix.lower() in IMAGE_EXTS else None
    if in_kind is None:
        raise DataError(f"{src}: unknown input extension {src.suffix!r}; expected an image, a video or a folder")
    ext = dest.suffix.lower()
    out_kind = "video" if ext in VIDEO_EXTS else "image" if ext in IMAGE_EXTS else "folder" if ext == "" else None
    if out_kind is None or out_kind == "video" and ext not in VIDEO_OUT_EXTS:
        raise DataError(f"{dest}: cannot write {ext!r}; expected an image, {', '.join(sorted(VIDEO_OUT_EXTS))} "
                        f"(H.264), or no extension for a frame folder")
    if in_kind == "image" and out_kind != "image":
        raise DataError(f"{dest}: the input {src.name} is an image, so the output must be an image too "
                        f"({', '.join(sorted(IMAGE_EXTS))})")
    if in_kind != "image" and out_kind == "image":
        raise DataError(f"{dest}: the input {src.name} is a {in_kind} of frames; write a video (.mp4) or a "
                        f"frame folder (no extension), not an image")
    ref_paths = reference_images(reference)
    refs = [read_image(r) for r in ref_paths]
    times: list = []   # each decoded frame's time, filled ahead of the writer (the source's frame rate, even if variable)
    frames = prefetch(iter_frames(src, allow_gray=True, times=times))
    stateful = getattr(colorizer, "sequential", False) or getattr(colorizer, "uses_reference", False)
    shot_log = [] if shots and in_kind != "image" and stateful else None
    # three stages overlap: decoding (thread), colorizing (thread) and encoding (here)
    out = prefetch(colorize_frames(colorizer, frames, size=size, references=refs, batch=batch, shots=shot_log),
                    depth=2 * batch)
    n = _write_output(out, src, dest, in_kind=in_kind, out_kind=out_kind, ext=ext, progress=progress, crf=crf,
                      preset=preset, times=times)
    if shot_log is not None:
        _report_shots(shot_log, ref_paths, dest, progress=progress)
    return n


def _report_shots(shot_log: list[dict], ref_paths: list[Path], dest: Path, *, progress: bool) -> None:
    import json
    import sys

    for s in shot_log:
        s["reference_file"] = None if s["reference"] is None else str(ref_paths[s["reference"]])
        if progress:
            used = ("no reference (automatic)" if s["reference"] is None else
                    f"{ref_paths[s['reference']].name} (NCC {s['reference_ncc']:.2f}"
                    f"{'' if s['fits'] else ', fits none: the closest'})")
            print(f"shot {s['shot']} from frame {s['start_frame']}: {used}", file=sys.stderr)
    write_text(dest.with_name(dest.name + ".shots.json"), json.dumps(shot_log, indent=1) + "\n")


def _write_output(out, src: Path, dest: Path, *, in_kind: str, out_kind: str, ext: str, progress: bool, crf: int,
                  preset: str, times: list) -> int:
    if out_kind == "image":
        from PIL import Image

        img = next(out)
        with atomic_path(dest) as tmp:
            Image.fromarray(img).save(tmp, format=Image.registered_extensions()[ext])
        return 1
    total = None
    if in_kind == "video":
        total = declared_frames(src)
    if out_kind == "folder":
        return write_frames(out, dest, progress=progress, total=total)
    fps = video_fps(src) if in_kind == "video" else 25.0
    return write_video(out, dest, fps=fps, audio_from=src if in_kind == "video" else None, progress=progress,
                       total=total, crf=crf, preset=preset, times=times if in_kind == "video" else None)

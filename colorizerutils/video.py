"""Colorize images, videos and frame folders with a trained model, streaming frame by frame.

The model runs at ``size`` (shorter side; the aspect ratio is kept, the network pads to its multiple) and its ab is
upsampled onto the full-resolution L of the input, so detail comes from the original luminance. A colour input is
used through its L only, so anyone can compare the result with the original.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .atomic import atomic_path, write_text
from .color import l_from_uint8, lab_to_uint8, rgb_to_lab
from .inference import model_size
from .media import (IMAGE_EXTS, VIDEO_EXTS, VIDEO_OUT_EXTS, DataError, check_encoder, declared_frames, iter_frames,
                    list_frame_files, prefetch, read_image, video_fps, write_frames, write_video)


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
        mh, mw = model_size(h, w, size) if size else (h, w)
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
    status = None if shot_log is None else lambda: f"shots: {len(shot_log)}"   # found so far
    n = _write_output(out, src, dest, in_kind=in_kind, out_kind=out_kind, ext=ext, progress=progress, crf=crf,
                      preset=preset, times=times, status=status)
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
                  preset: str, times: list, status=None) -> int:
    if out_kind == "image":
        from PIL import Image

        img = next(out)
        with atomic_path(dest) as tmp:
            Image.fromarray(img).save(tmp, format=Image.registered_extensions()[ext])
        return 1
    total = declared_frames(src) if in_kind == "video" else len(list_frame_files(src))   # for the progress bar
    if out_kind == "folder":
        return write_frames(out, dest, progress=progress, total=total, status=status)
    fps = video_fps(src) if in_kind == "video" else 25.0
    return write_video(out, dest, fps=fps, audio_from=src if in_kind == "video" else None, progress=progress,
                       total=total, crf=crf, preset=preset, times=times if in_kind == "video" else None, status=status)

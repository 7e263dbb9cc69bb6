"""Shots in a video: cut detection on the gray input, and the reference that fits each shot.

An exemplar colorizer carries state from frame to frame (the previous output, the flow from the exemplar). Across a
cut that state belongs to another scene, so :func:`colorizerutils.video.colorize_frames` asks a :class:`CutDetector`
about every frame and starts the colorizer afresh at each cut, with the reference that best matches the new shot.

Both work on what the colorizer sees, the frames' luminance, as the content check of the split does
(:mod:`colorizerutils.split`): 32x32 gray thumbnails compared by normalised cross-correlation (NCC).

- A cut: the NCC of consecutive thumbnails falls below :data:`CUT_NCC`. Measured on the default data
  (``docs/metrics.md``, "Shots"): within a shot the lowest consecutive NCC is 0.549 (a fast pan in bikes.mp4), while
  the real cuts inside the clips score 0.418 or less. Blank frames (fades) carry no content and are skipped.
- A reference fits a shot when the NCC of its gray thumbnail with the shot's first frame is at least
  :data:`MATCH_NCC`; the best fitting one is used. A shot that no reference fits is colorized without one (the
  automatic mode), and the shot log says so.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from .split import _unit as split_unit, thumbnail

CUT_NCC = 0.48     # consecutive frames below this are a cut (within shots >= 0.549, cuts <= 0.418: docs/metrics.md)
MATCH_NCC = 0.5    # a reference fits a shot's first frame at this NCC or more


def _unit(t: np.ndarray) -> np.ndarray | None:
    """One thumbnail as the split check's zero-mean unit vector, or None for a blank frame."""
    u = split_unit(t[None])
    return u[0] if len(u) else None


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """NCC of two frames' gray thumbnails ((H,W,3) uint8 RGB); 0 where either is blank."""
    ua, ub = _unit(thumbnail(a)), _unit(thumbnail(b))
    return 0.0 if ua is None or ub is None else float(ua @ ub)


class CutDetector:
    """``detector(frame) -> True`` when ``frame`` starts a new shot (the first frame of a clip does not)."""

    def __init__(self, threshold: float = CUT_NCC):
        self.threshold, self.prev, self.last_ncc = threshold, None, None

    def __call__(self, frame: np.ndarray) -> bool:
        u = _unit(thumbnail(frame))
        if u is None:                 # a blank frame belongs to no shot: compare the next frame with the last real one
            return False
        cut = self.prev is not None and float(self.prev @ u) < self.threshold
        self.last_ncc = None if self.prev is None else float(self.prev @ u)
        self.prev = u
        return cut


def best_reference(frame: np.ndarray, references: list[np.ndarray],
                   threshold: float = MATCH_NCC) -> tuple[int, float, bool]:
    """``(index of the reference closest to frame, its NCC, whether it fits: NCC >= threshold)``."""
    if not references:
        raise ValueError("best_reference: expected at least one reference")
    scores = [ncc(frame, r) for r in references]
    i = int(np.argmax(scores))
    return i, scores[i], scores[i] >= threshold


def cut_signal(frames) -> np.ndarray:
    """What :class:`CutDetector` sees: the NCC of each frame's gray thumbnail with the last non-blank frame before
    it (NaN for the first frame and for blank ones). A cut is where it falls below :data:`CUT_NCC`."""
    detector, out = CutDetector(), []
    for f in frames:
        before = detector.prev
        detector(f)
        out.append(np.nan if before is None or detector.prev is before else detector.last_ncc)
    return np.array(out, dtype=float)


@dataclasses.dataclass
class JoinedClip:
    """Clips joined into one frame folder with known cuts, and a folder of their first frames as references."""
    folder: Path                    # 00000.png, 00001.png, ...: every part's frames, one after the other
    references: Path                # each part's first frame, named so that the folder's order is not the shots'
    parts: list                     # per part, its frames as joined: (H,W,3) uint8
    reference_names: list           # per part, the file name of its first frame in ``references``
    names: list                     # per part, the clip it comes from

    @property
    def cuts(self) -> list[int]:
        """The first frame of every part after the first."""
        return [int(c) for c in np.cumsum([len(p) for p in self.parts])[:-1]]


def join_clips(paths, dest: Path, *, frames: int, size: tuple[int, int]) -> JoinedClip:
    """The first ``frames`` frames of each video in ``paths``, resized to ``size`` (width, height), written one
    clip after the other as a frame folder ``dest/joined`` (the cuts are where one clip ends), and each clip's first
    frame to ``dest/references``, named ``<letter>_<clip>.png`` with the letters rotated so that no shot finds its
    reference by file order. The test of cut detection and reference choice: issue 15's joined clip
    (``make bench``'s ``shots``) and notebook 07."""
    import cv2
    from PIL import Image

    from .media import iter_video

    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise ValueError(f"join_clips: expected at least two clips to join, got {len(paths)}")
    dest = Path(dest)
    folder, refs = dest / "joined", dest / "references"
    for d in (folder, refs):
        if d.exists():
            raise FileExistsError(f"{d}: already exists; join_clips writes a new clip and its references there")
    parts = [[cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in iter_video(p, max_frames=frames)]
             for p in paths]
    for p, part in zip(paths, parts):
        if len(part) < 2:
            raise ValueError(f"{p}: decoded {len(part)} frame(s); expected at least 2 to make a shot")
    n = len(paths)
    names = [f"{chr(ord('a') + (k + n - 1) % n)}_{p.stem}.png" for k, p in enumerate(paths)]
    made = []
    try:
        for d in (folder, refs):
            d.mkdir(parents=True)
            made.append(d)
        for i, f in enumerate(f for part in parts for f in part):
            Image.fromarray(f).save(folder / f"{i:05d}.png", compress_level=1)
        for name, part in zip(names, parts):
            Image.fromarray(part[0]).save(refs / name)
    except BaseException:          # nothing half-written: a clip missing frames would move the cuts
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
        raise
    return JoinedClip(folder, refs, parts, names, [p.name for p in paths])


def score_shots(got, joined: JoinedClip, log: list[dict] | None) -> list[dict]:
    """Per part of ``joined``, for ``got`` (the output frames of the joined clip) and its shot log (the list that
    :func:`colorizerutils.video.colorize_path` writes to ``<output>.shots.json``; None without shot handling): the
    shot that started within one frame of the part's first frame (``found_cut``, None where none did), the reference
    file it used, and the mean PSNR of the part's frames after its first, which is its reference and not scored."""
    import torch

    from .metrics import psnr

    chw = lambda fs: torch.from_numpy(np.stack(fs)).permute(0, 3, 1, 2)
    if len(got) != sum(len(p) for p in joined.parts):
        raise ValueError(f"score_shots: {len(got)} output frames for a joined clip of "
                         f"{sum(len(p) for p in joined.parts)}")
    rows, start = [], 0
    for k, part in enumerate(joined.parts):
        found = [s for s in log or [] if abs(s["start_frame"] - start) <= 1]
        used = found[0].get("reference_file") if found else None
        rows.append(dict(shot=k, clip=joined.names[k], frames=len(part), true_cut=start,
                         found_cut=found[0]["start_frame"] if found else None,
                         reference_used=Path(used).name if used else None, own_reference=joined.reference_names[k],
                         psnr=float(psnr(chw(got[start + 1:start + len(part)]), chw(part[1:])).mean())))
        start += len(part)
    return rows

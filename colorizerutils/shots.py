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

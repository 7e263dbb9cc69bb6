"""Content-level split check: no val or test frame may repeat a frame or image of another split.

Names and sha256 cannot see a clip that was re-encoded, resized or cut in halves (the first version of the kit had
``single_face.mp4`` in test and the same recording as ``face_noface.mov`` in train). Here every frame of every item
becomes a 32x32 gray thumbnail; two items of different splits *match* when some pair of their thumbnails has a
normalised cross-correlation of at least :data:`MATCH_NCC`. Correlation after removing the mean and contrast is blind
to re-encoding, resizing and brightness changes, and still separates unrelated footage well: the measured table of
related and unrelated pairs is in ``data/README.md`` (related >= 0.9998, unrelated <= 0.70).

Thumbnails are cached per file content under ``data/cache/thumbs/``, so the check costs one decode per item.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

THUMB = 32          # thumbnail side: small enough to ignore compression and resizing, big enough to tell scenes
MATCH_NCC = 0.95    # chosen in the gap between related (>= 0.9998) and unrelated (<= 0.70) pairs, data/README.md
FLAT_STD = 2.0      # thumbnails with less contrast (gray levels, RMS) are blank frames: they never match


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """(H,W,3) uint8 RGB -> (THUMB,THUMB) float32 gray thumbnail (area-averaged, aspect ratio ignored)."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.resize(gray, (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def thumbnails(path: str | Path, *, sha256: str | None = None, cache_dir: Path | None = None) -> np.ndarray:
    """Every frame of an image, video or frame folder as thumbnails (N,THUMB,THUMB) float32, cached by content."""
    from .media import iter_frames
    from .download import sha256sum

    path = Path(path)
    cache = None
    if cache_dir is not None and path.is_file():
        cache = Path(cache_dir) / "thumbs" / f"{(sha256 or sha256sum(path))[:24]}-t{THUMB}.npy"
        if cache.exists():
            return np.load(cache)
    out = np.stack([thumbnail(f) for f in iter_frames(path)])
    if cache is not None:
        from .atomic import atomic_path

        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            np.save(tmp, out)
    return out


def _unit(thumbs: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-norm rows of the thumbnails that are not blank (blank rows are dropped)."""
    t = thumbs.reshape(len(thumbs), -1).astype(np.float64)
    t = t - t.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(t, axis=1, keepdims=True)
    keep = norm[:, 0] / np.sqrt(t.shape[1]) > FLAT_STD
    return t[keep] / norm[keep]


def best_match(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(highest NCC over all frame pairs of two items' thumbnails, share of a's frames matching some frame of b)."""
    ua, ub = _unit(a), _unit(b)
    if not len(ua) or not len(ub):
        return float("nan"), 0.0
    best = np.full(len(ua), -1.0)
    for i in range(0, len(ub), 2048):              # blocks keep memory small for long clips
        best = np.maximum(best, (ua @ ub[i:i + 2048].T).max(axis=1))
    return float(best.max()), float((best >= MATCH_NCC).mean())


def pair_table(items: list[dict], thumbs: dict[str, np.ndarray], *, cross_split_only: bool = True) -> pd.DataFrame:
    """One row per pair of items (of different splits unless ``cross_split_only`` is False): NCC and shared frames."""
    rows = []
    for x, y in itertools.combinations(items, 2):
        if cross_split_only and x["split"] == y["split"]:
            continue
        ncc, share = best_match(thumbs[x["name"]], thumbs[y["name"]])
        rows.append(dict(a=x["name"], split_a=x["split"], b=y["name"], split_b=y["split"], ncc=ncc,
                         frames_matching=share, match=bool(ncc >= MATCH_NCC)))
    return pd.DataFrame(rows, columns=["a", "split_a", "b", "split_b", "ncc", "frames_matching", "match"])


def content_matches(manifest: dict, root: str | Path, *, progress: bool = False) -> pd.DataFrame:
    """The pairs of items in different splits whose content matches (an empty table when the split is clean)."""
    from tqdm.auto import tqdm

    root = Path(root)
    thumbs = {i["name"]: thumbnails(root / i["path"], sha256=i.get("sha256"), cache_dir=root / "cache")
              for i in tqdm(manifest["items"], desc="split check: thumbnails", disable=not progress)}
    table = pair_table(manifest["items"], thumbs)
    return table[table["match"]].reset_index(drop=True)


def check_content(manifest: dict, root: str | Path, *, progress: bool = False) -> None:
    """Raise :class:`~colorizerutils.data.DataError` naming both items when any val/test frame repeats another
    split's frame."""
    from .data import DataError

    found = content_matches(manifest, root, progress=progress)
    if len(found):
        pairs = "; ".join(f"{r.a} ({r.split_a}) ~ {r.b} ({r.split_b}): NCC {r.ncc:.4f}, "
                          f"{r.frames_matching:.0%} of {r.a}'s frames" for r in found.itertuples())
        raise DataError(f"split leak by content (thumbnail NCC >= {MATCH_NCC}): {pairs}. Items cut from one "
                        f"recording must sit in one split.")

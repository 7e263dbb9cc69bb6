"""Dense optical flow (OpenCV's Farneback and DIS) and backward warping, shared by the warp-error metric and the
flow-warped exemplar of the diffusion model.

``farneback(a, b)`` on two gray uint8 images gives, for every pixel p of ``a``, the offset to its match in ``b``;
``warp(img_b, flow)`` then pulls ``b``'s values onto ``a``'s grid (bilinear, borders replicated).
"""
from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import time

import numpy as np
import torch


# Farneback's settings, as in OpenCV's own dense-flow sample (python/opt_flow.py)
FARNEBACK = dict(pyr_scale=0.5,   # each pyramid level half the size of the one below
                 levels=3,        # pyramid levels above the image
                 winsize=15,      # averaging window: larger is smoother and steadier on fast motion
                 iterations=3,    # per pyramid level
                 poly_n=5,        # neighbourhood of the polynomial expansion
                 poly_sigma=1.2,  # its Gaussian (1.1 for poly_n 5 in the paper; 1.2 as OpenCV's sample)
                 flags=0)


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H,W) uint8, (H,W) uint8 -> (H,W,2) float32 flow from a to b (x, y), with :data:`FARNEBACK`'s settings."""
    import cv2

    return cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK)


def dis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H,W) uint8, (H,W) uint8 -> (H,W,2) float32 flow from a to b with OpenCV's DIS (Kroeger et al. 2016), medium
    preset: faster than Farneback and better on large motion.

    A new DIS instance per call, on purpose: one instance reused across calls kept its buffers (1.04x faster at
    565x240) but did not always give a fresh instance's flow: after other sizes had gone through it, its flow at 64 px
    differed everywhere, by up to 4 px (seen in the test suite, 2026-12-06)."""
    import cv2

    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)


FLOWS = {"farneback": farneback, "dis": dis}


def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """(H,W[,C]) float32 image of the flow's target frame -> the same on the flow's source grid."""
    import cv2

    return cv2.remap(img, flow + _grid(*flow.shape[:2]), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@functools.lru_cache(maxsize=8)
def _grid(h: int, w: int) -> np.ndarray:
    """(h,w,2) float32 pixel coordinates (x, y), read-only: what a flow is added to for :func:`warp`."""
    grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1)
    grid.flags.writeable = False
    return grid


def gray8(L: torch.Tensor) -> np.ndarray:
    """L (..., H,W) in [0,100] -> uint8 gray, as the flow methods take it."""
    return (L.detach().float().cpu().clamp(0, 100) * 2.55 + 0.5).to(torch.uint8).numpy()


def warp_lab_onto(src: torch.Tensor, dst_L: torch.Tensor, *, method: str = "farneback") -> torch.Tensor:
    """Move each frame of ``src`` (B,C,h,w), whose channel 0 is L in [0,100], onto the frame whose L is ``dst_L``
    (B,1,h,w): optical flow (``method``: farneback | dis) between the two L channels, then backward warping of every
    channel of ``src``."""
    if method not in FLOWS:
        raise ValueError(f"unknown flow {method!r}; expected one of {', '.join(FLOWS)}")
    if src.shape[0] != dst_L.shape[0] or src.shape[-2:] != dst_L.shape[-2:]:
        raise ValueError(f"warp_lab_onto: src {tuple(src.shape)} and dst_L {tuple(dst_L.shape)} must have the same "
                         f"batch and size")
    s8, d8 = gray8(src[:, 0]), gray8(dst_L[:, 0])
    img = src.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    out = []
    for i in range(len(src)):
        w = warp(np.ascontiguousarray(img[i]), FLOWS[method](d8[i], s8[i]))
        out.append(torch.from_numpy(w.reshape(*w.shape[:2], -1)).permute(2, 0, 1))
    return torch.stack(out).to(src)


def consistency(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Forward-backward confidence (H,W) in [0,1] of the flow ``fw`` from a to b, given ``bw`` from b to a.

    Where a pixel is seen in both frames and the flow is right, following ``fw`` and then ``bw`` returns to the
    start: ``fw(p) + bw(p + fw(p)) ~ 0``. Sundaram et al. 2010 (ECCV, "Dense point trajectories by GPU-accelerated
    large displacement optical flow") call a pixel occluded where the squared mismatch exceeds
    ``0.01 (|fw|^2 + |bw|^2) + 0.5``; this is the soft version, ``exp(-mismatch / tolerance)``: 1 where the two
    flows agree, 0.37 at Sundaram's threshold, near 0 in occlusions and where the flow is lost.
    """
    bw_at = warp(bw, fw)
    sq = lambda v: v[..., 0] * v[..., 0] + v[..., 1] * v[..., 1]   # numpy's .sum(-1) over 2 values is 5x slower
    d2 = sq(fw + bw_at)
    tol = 0.01 * (sq(fw) + sq(bw_at)) + 0.5
    return np.exp(-d2 / tol).astype(np.float32)


class _FlowMemo:
    """The flows (and confidences) between two gray frames already computed in a :func:`shared_flows` block, the
    most recent ``size`` pairs, each with the seconds it took to compute."""

    def __init__(self, size: int):
        self.size, self.store, self.charged = size, collections.OrderedDict(), 0.0

    def get(self, key, part: str, compute):
        entry = self.store.setdefault(key, {})
        self.store.move_to_end(key)
        if part in entry:
            value, seconds = entry[part]
            self.charged += seconds
            return value
        t = time.perf_counter()
        value = compute()
        entry[part] = value, time.perf_counter() - t
        while len(self.store) > self.size:
            self.store.popitem(last=False)
        return value


_MEMO: _FlowMemo | None = None


@contextlib.contextmanager
def shared_flows(size: int = 48):
    """Within the block, :class:`FlowAnchor` computes the flows between any two gray frames once: several colorizers
    of one clip scored side by side (notebook 04's flow baselines and diffusion variants all warp the same exemplar
    and the same previous frames, whose L is the clip's own) reuse them, with the same numbers. The ``size`` most
    recent frame pairs are kept (at 854x480 about 5 MB each); :func:`colorizerutils.evaluate.evaluate_all` keeps
    three per frame of its chunk, enough for each method to find the pairs the one before it made. A reused
    result's compute time is counted in :func:`charged_seconds`, so each colorizer's measured speed stays what it
    would be alone."""
    global _MEMO
    outer, _MEMO = _MEMO, _FlowMemo(size)
    try:
        yield _MEMO
    finally:
        _MEMO = outer


def charged_seconds() -> float:
    """Seconds of flow computation reused so far in the current :func:`shared_flows` block (0 outside one): add the
    difference over a colorizer's call to its time to measure it as if it had computed its flows itself."""
    return 0.0 if _MEMO is None else _MEMO.charged


def candidate_flow(method: str, cur8: np.ndarray, src8: np.ndarray, *, confidence: bool = True
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """The flow from gray ``cur8`` to gray ``src8`` (:data:`FLOWS` ``[method]``) and, with ``confidence``, its
    forward-backward :func:`consistency`; reused within a :func:`shared_flows` block."""
    flow = FLOWS[method]
    if _MEMO is None:
        fw = flow(cur8, src8)
        return fw, consistency(fw, flow(src8, cur8)) if confidence else None
    key = (method, cur8.shape, hashlib.blake2b(cur8.tobytes(), digest_size=16).digest(),
           hashlib.blake2b(src8.tobytes(), digest_size=16).digest())
    fw = _MEMO.get(key, "fw", lambda: flow(cur8, src8))
    return fw, _MEMO.get(key, "conf", lambda: consistency(fw, flow(src8, cur8))) if confidence else None


FUSIONS = ("long", "short", "confidence")
PULL = 0.02   # FlowAnchor: the share of the exemplar's warp that enters each frame where both flows are sure
OUTSIDE = ("replicate", "retrieve")


def distance_outside(fw: np.ndarray) -> np.ndarray:
    """Per pixel (H,W) float32, how far (px) outside the source frame the backward flow ``fw`` (H,W,2) lands; 0 where
    it lands inside. Where it is above 0 the frame shows what the source does not (the camera panned), and
    :func:`warp` repeats the source's border there."""
    g = fw + _grid(*fw.shape[:2])
    h, w = fw.shape[:2]
    dx = np.maximum(0, np.maximum(-g[..., 0], g[..., 0] - (w - 1)))
    dy = np.maximum(0, np.maximum(-g[..., 1], g[..., 1] - (h - 1)))
    return np.sqrt(dx * dx + dy * dy)


def _patches(L: np.ndarray, factor: int, patch: int) -> np.ndarray:
    """(h,w,patch²) float32: ``L`` (H,W) area-downsized ``factor`` times, each small pixel's patch × patch
    neighbourhood (border repeated), over 100."""
    import cv2

    H, W = L.shape
    h, w = max(1, round(H / factor)), max(1, round(W / factor))
    small = cv2.resize(np.ascontiguousarray(L, dtype=np.float32), (w, h), interpolation=cv2.INTER_AREA) / 100
    r = patch // 2
    pad = np.pad(small, r, mode="edge")
    return np.stack([pad[y:y + h, x:x + w] for y in range(patch) for x in range(patch)], -1)


class LookAlikeColour:
    """Colour for what the exemplar's frame does not show: content a camera pan brings in, where a warp can only
    repeat the exemplar's border.

    A pixel whose flow lands outside its source frame takes the mean ab of the ``k`` exemplar pixels that look most
    like it, as Welsh et al. (2002, "Transferring color to greyscale images") match luminance neighbourhoods: both
    lightnesses area-downsized ``factor`` times, each small pixel described by its ``patch`` × ``patch``
    neighbourhood of L (/100) and by where the long-range flow lands in the exemplar, clamped into its frame, in
    shorter sides times ``position`` (exemplar pixels: where they are), so that among look-alikes those near where
    the content enters win; Euclidean distance. A share exp(-distance outside / ``blend`` px) of the repeated border
    stays, so the border's colour carries on just beyond it.

    Chosen on the val clips, the train recordings and 57 synthetic pans over the val and train items, with a rule
    fixed before the run (``scripts/exemplar_probes.py retrieval``): on the fused anchor +1.12 dB on the pans, +0.00
    on val, +0.02 on train. Without the landing point in the match, or without the blend, it loses on val or train.
    """

    def __init__(self, reference: np.ndarray, *, factor: int = 8, patch: int = 5, k: int = 8, position: float = 1.0,
                 blend: float | None = 16.0):
        """``reference``: the exemplar (H,W,3) float32 LAB at the frames' resolution; ``blend`` None: no share of
        the border stays (as measured too)."""
        import cv2

        H, W = reference.shape[:2]
        self.factor, self.patch, self.k, self.position, self.blend = factor, patch, k, position, blend
        r = _patches(reference[..., 0], factor, patch)
        h, w = r.shape[:2]
        feats = r.reshape(-1, r.shape[-1])
        if position > 0:
            here = np.stack(np.meshgrid((np.arange(w) + 0.5) * W / w - 0.5, (np.arange(h) + 0.5) * H / h - 0.5), -1)
            feats = np.concatenate([feats, here.reshape(-1, 2) * (position / min(H, W))], 1)
        self.features = torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))
        ab = cv2.resize(np.ascontiguousarray(reference[..., 1:]), (w, h), interpolation=cv2.INTER_AREA)
        self.ab = torch.from_numpy(np.ascontiguousarray(ab.reshape(-1, 2), dtype=np.float32))

    def colours(self, L: np.ndarray, fw_long: np.ndarray, outside: np.ndarray) -> np.ndarray:
        """(H,W,2) ab for frame t (``L`` (H,W)) wherever ``outside`` (H,W bool) holds, zero elsewhere; ``fw_long``:
        the backward flow from frame t to the exemplar."""
        import cv2

        H, W = L.shape
        if not outside.any():
            return np.zeros((H, W, 2), np.float32)
        q = _patches(L, self.factor, self.patch)
        h, w = q.shape[:2]
        mask = cv2.resize(outside.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        feats = q[mask]
        if self.position > 0:
            land = fw_long + _grid(H, W)
            land = np.stack([land[..., 0].clip(0, W - 1), land[..., 1].clip(0, H - 1)], -1)
            land = cv2.resize(land, (w, h), interpolation=cv2.INTER_AREA)
            feats = np.concatenate([feats, land[mask] * (self.position / min(H, W))], 1)
        queries = torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))
        k = min(self.k, len(self.features))
        rows = max(1, min(2048, 2 ** 26 // len(self.features)))   # distance blocks of at most 256 MB (4K: 490 rows)
        picked = [self.ab[torch.cdist(chunk, self.features).topk(k, largest=False).indices].mean(1)
                  for chunk in queries.split(rows)]
        small = np.zeros((h, w, 2), np.float32)
        small[mask] = torch.cat(picked).numpy()
        return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)

    def apply(self, warped: np.ndarray, distance: np.ndarray, colours: np.ndarray) -> np.ndarray:
        """``warped`` (H,W,3 LAB) with the ab of its pixels ``distance`` px outside their source frame (> 0) moved
        towards ``colours`` (:meth:`colours`), all but exp(-distance / blend) of the way."""
        outside = distance > 0
        if not outside.any():
            return warped
        w = (outside if self.blend is None else np.where(outside, 1 - np.exp(-distance / self.blend), 0))
        w = w.astype(np.float32)[..., None]
        out = np.array(warped, dtype=np.float32)
        out[..., 1:] = out[..., 1:] * (1 - w) + colours * w
        return out


class FlowAnchor:
    """The best colour that optical flow alone gives for frame t, at the frame's full resolution, with a confidence.

    Two candidates, each a backward warp with :data:`FLOWS` ``[method]`` and its forward-backward
    :func:`consistency`:

    - *long range*: the exemplar (the reference frame) moved onto frame t; the only candidate for the first frame;
    - *short range*: the previous frame's colours, as given to :meth:`update`, moved onto frame t (the flow baselines
      pass their output; the diffusion colorizer passes its anchor, so its network's residual is never fed back).

    ``fusion`` picks how they combine per pixel: ``long`` or ``short`` alone, or ``confidence``: the two weighted by
    their confidences, short range first: ``w_long = c_long (1 - (1 - pull) c_short)``, ``w_short = 1 - w_long``.
    Consecutive frames move little, so their flow is the more accurate one, and where the previous frame does not see
    a pixel (it was just uncovered) but the reference does, its colour comes from the reference. Chosen on the val
    clips (exemplar protocol, 30 frames after the exemplar at up to 480 px, PSNR): long 36.95 dB, short 38.12, short
    first 38.13, long first 36.97, weights proportional to the confidences 37.26, the more confident of the two 37.74
    (one run on 2 CPU cores). ``pull``: where both flows are sure, this share of the reference's own warp still enters
    each frame, so what the short range carries is forgotten over about 1/pull frames instead of drifting for ever.
    0.02 gained 0.20 dB on val and 0.15 on the train recordings over frames 31-300 after the exemplar, and moved the
    first 30 by +0.004 on val, +0.017 on train and +0.056 on the pans (``scripts/exemplar_probes.py forget`` and
    ``horizon-forget``, rules fixed before the runs); 0 is the fusion before.

    ``outside`` picks the colour of pixels whose flow leaves its source frame (content a pan brings in): ``replicate``,
    the source's border repeated as :func:`warp` gives it, or ``retrieve`` (the default, the exemplar colorizer's),
    colour from the exemplar's look-alikes (:class:`LookAlikeColour`; it needs the long range, so not with
    ``fusion="short"``). On the fused anchor ``retrieve`` scored 38.13 dB on val, as the border repeated does, and
    40.40 against 40.03 on test (``scripts/exemplar_probes.py retrieval``).

    ``__call__`` returns the anchor LAB (1,3,H,W; L is frame t's own) and the fused confidence (1,1,H,W; None
    with ``confidence=False`` and a single candidate, which then skips the backward flows).
    """

    def __init__(self, method: str = "dis", fusion: str = "confidence", *, confidence: bool = True,
                 outside: str = "retrieve", pull: float = PULL):
        if method not in FLOWS:
            raise ValueError(f"unknown flow {method!r}; expected one of {', '.join(FLOWS)}")
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")
        if outside not in OUTSIDE:
            raise ValueError(f"unknown outside {outside!r}; expected one of {', '.join(OUTSIDE)}")
        if outside == "retrieve" and fusion == "short":
            raise ValueError('outside="retrieve" matches against the exemplar along the long range; fusion="short" '
                             'has none (use outside="replicate")')
        if not 0 <= pull <= 1:
            raise ValueError(f"pull {pull}: expected a share between 0 and 1")
        self.method, self.fusion, self.outside, self.pull = method, fusion, outside, float(pull)
        self.confidence = confidence or fusion == "confidence"   # False: no backward flows, confidence None
        self.ref = self.prev = self.lookalike = None

    def reset(self, reference: torch.Tensor) -> None:
        """Start a clip with ``reference`` (1,3,H,W) LAB in CIE units, at the frames' resolution."""
        self.ref = self._side(reference)
        self.prev = None
        self.lookalike = LookAlikeColour(self.ref[1]) if self.outside == "retrieve" else None

    def update(self, lab: torch.Tensor) -> None:
        """The current frame's colours (1,3,H,W LAB, its own L), the source of the next frame's short range."""
        self.prev = self._side(lab)

    @staticmethod
    def _side(lab: torch.Tensor):
        return gray8(lab[0, 0]), np.ascontiguousarray(lab[0].detach().float().cpu().permute(1, 2, 0).numpy())

    def _candidate(self, cur8: np.ndarray, side) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        src8, img = side
        fw, conf = candidate_flow(self.method, cur8, src8, confidence=self.confidence)
        return warp(img, fw), conf, fw

    def __call__(self, L: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.ref is None:
            raise ValueError("FlowAnchor needs reset(reference) before the first frame")
        if L.shape[-2:] != self.ref[0].shape:
            raise ValueError(f"FlowAnchor: frame {tuple(L.shape[-2:])} and reference {self.ref[0].shape} differ in "
                             f"size; expected the reference at the frames' resolution")
        cur8 = gray8(L[0, 0])
        use_long = self.fusion != "short" or self.prev is None
        use_short = self.fusion != "long" and self.prev is not None
        if use_long:
            a_l, c_l, fw_l = self._candidate(cur8, self.ref)
        if use_short:
            a_s, c_s, fw_s = self._candidate(cur8, self.prev)
        if self.lookalike is not None:             # new content: colour from the exemplar's look-alikes
            d_l = distance_outside(fw_l)
            d_s = distance_outside(fw_s) if use_short else None
            colours = self.lookalike.colours(L[0, 0].detach().float().cpu().numpy(), fw_l,
                                             d_l > 0 if d_s is None else (d_l > 0) | (d_s > 0))
            a_l = self.lookalike.apply(a_l, d_l, colours)
            if use_short:
                a_s = self.lookalike.apply(a_s, d_s, colours)
        if use_long and use_short:
            w_l = (c_l * (1 - (1 - self.pull) * c_s))[..., None]
            lab = w_l * a_l + (1 - w_l) * a_s
            conf = c_s + (1 - c_s) * c_l
        else:
            lab, conf = (a_l, c_l) if use_long else (a_s, c_s)
            conf = None if conf is None else conf.copy()   # never hand out a shared_flows() array
        lab = torch.from_numpy(np.ascontiguousarray(lab.reshape(*lab.shape[:2], -1))).permute(2, 0, 1)[None].float()
        lab[:, :1] = L.float().cpu()
        return lab, None if conf is None else torch.from_numpy(conf)[None, None]


def anchor_chain(clip: torch.Tensor, *, method: str = "dis", fusion: str = "confidence", outside: str = "retrieve",
                 progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """:class:`FlowAnchor` run over a clip exactly as the exemplar colorizer runs it: frame 0 is the exemplar, and
    each later frame's anchor feeds the next one's short range. ``clip`` (T,3,H,W) LAB -> anchors (T-1,3,H,W) LAB for
    frames 1..T-1 (L their own) and confidences (T-1,1,H,W) in [0,1]. What the diffusion model trains against with
    ``anchor="fused"``, so that it learns the errors of the anchor it is given at inference."""
    from tqdm.auto import tqdm

    if clip.ndim != 4 or clip.shape[1] != 3 or len(clip) < 2:
        raise ValueError(f"anchor_chain needs a LAB clip (T>=2,3,H,W), got shape {tuple(clip.shape)}")
    fa = FlowAnchor(method, fusion, outside=outside)
    fa.reset(clip[:1].float())
    anchors, confs = [], []
    for t in tqdm(range(1, len(clip)), desc="anchors", unit="frame", disable=not progress, leave=False):
        lab, conf = fa(clip[t:t + 1, :1].float())
        fa.update(lab)
        anchors.append(lab)
        confs.append(conf)
    return torch.cat(anchors), torch.cat(confs).float()

"""Metrics with the literature's definitions (docs/metrics.md).

Frames are (T,3,H,W) RGB, either uint8 in [0,255] or float in [0,1]; everything is computed in float64 on the
0-255 scale (never on wrapped-around uint8). Per-frame values are averaged per clip; tables average clips equally.

- PSNR on RGB, data range 255: torchmetrics. SSIM (Gaussian 11x11, sigma 1.5, valid region) on RGB, data range
  255: float32 separable filter, tested against torchmetrics and skimage.
- LPIPS: the ``lpips`` package, AlexNet, v0.1, inputs in [-1,1], ImageNet weights from :mod:`.weights`. Lower is better.
- Colorfulness: Hasler & Suesstrunk 2003 on 0-255 RGB. No-reference; higher is more colourful.
- CDC: TCVC / NTIRE 2023 colour distribution consistency, dilations {1,2,4}. Lower is steadier.
- Warp error: previous output warped by Farneback flow of the ground truth, occlusions masked by forward-backward
  consistency, mean squared error on [0,1] RGB. Lower is steadier.
- FID: Inception-v3 pool3 via torchmetrics + torch-fidelity, only where those weights load; otherwise reported as
  unavailable, never replaced by another network.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from scipy.stats import entropy
from torchmetrics.functional.image import peak_signal_noise_ratio

from .flow import farneback, warp

HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "lpips": False, "cdc": False, "warp_error": False, "fid": False}
# metrics with no better direction: the real frames' value is the target (a model far more colourful than the truth
# over-saturates; one far less is washed out), so rankings use the distance to a ground-truth row
TARGET_IS_TRUTH = frozenset({"colorfulness"})


def direction(metric: str) -> str:
    """How ``metric`` is better: ``"higher"``, ``"lower"`` or ``"nearer the truth"`` (:data:`TARGET_IS_TRUTH`)."""
    if metric in TARGET_IS_TRUTH:
        return "nearer the truth"
    return "higher" if HIGHER_IS_BETTER.get(metric, True) else "lower"


def arrow(metric: str) -> str:
    """A figure title's mark for :func:`direction`: ↑, ↓ or → truth."""
    return {"higher": "↑", "lower": "↓"}.get(direction(metric), "→ truth")


def _to255(x: torch.Tensor) -> torch.Tensor:
    """(T,3,H,W) uint8 or float [0,1] -> float64 in [0,255]."""
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected RGB frames (T,3,H,W), got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.to(torch.float64)
    if not x.is_floating_point():
        raise TypeError(f"expected uint8 or float frames, got {x.dtype}")
    return x.to(torch.float64).clamp(0, 1) * 255.0


def _pair(pred, gt):
    p, g = _to255(pred), _to255(gt)
    if p.shape != g.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and ground truth {tuple(g.shape)} differ in shape")
    return p, g


def psnr(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-frame PSNR in dB, RGB, data range 255: (T,)."""
    return _psnr255(*_pair(pred, gt))


def _psnr255(p: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return peak_signal_noise_ratio(p, g, data_range=255.0, reduction="none", dim=(1, 2, 3))


def _gaussian_taps(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return (g / g.sum()).float()


_TAPS = _gaussian_taps().numpy()


def ssim(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-frame SSIM (Wang et al. 2004: Gaussian window 11x11, sigma 1.5, K1=0.01, K2=0.03) on RGB, data range 255:
    (T,).

    Averaged over the 'valid' region, as in Wang et al.'s reference code and skimage (``gaussian_weights=True,
    use_sample_covariance=False``): the 5-pixel border where the window would leave the image is excluded. Computed
    one channel at a time in float32 with OpenCV's separable filter, so memory does not grow with the clip and a
    480p frame takes milliseconds; equal to torchmetrics' float64 result within 1e-5 (tests/test_metrics.py).
    """
    p, g = _pair(pred, gt)
    return _ssim255(p, _ssim_truth(g))


def _ssim_truth(g: torch.Tensor) -> list[list[tuple]]:
    """The ground truth's side of :func:`ssim` for (T,3,H,W) frames on the 0-255 scale: per frame and channel, the
    float32 image, its local mean and its blurred square, made once however many predictions are scored against it
    (:class:`GroundTruth`)."""
    if g.shape[-1] <= 10 or g.shape[-2] <= 10:
        raise ValueError(f"SSIM needs frames larger than 11x11, got {tuple(g.shape[-2:])}")
    return [[(y, _blur(y), _blur(y * y)) for y in frame] for frame in g.float().numpy()]


def _blur(m: np.ndarray) -> np.ndarray:
    """SSIM's Gaussian window (11x11, sigma 1.5, separable, float32), valid region only."""
    import cv2

    return cv2.sepFilter2D(m, cv2.CV_32F, _TAPS, _TAPS)[5:-5, 5:-5]


def _ssim255(p: torch.Tensor, truth: list[list[tuple]]) -> torch.Tensor:
    """:func:`ssim` of (T,3,H,W) predictions on the 0-255 scale against :func:`_ssim_truth` of their ground truth."""
    if len(p) != len(truth):
        raise ValueError(f"{len(p)} predicted frames for {len(truth)} true ones")
    c1, c2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
    out = []
    for frame, side in zip(p.float().numpy(), truth):
        per_channel = []
        for x, (y, my, yy) in zip(frame, side):
            mx = _blur(x)
            vx, vy, cov = _blur(x * x) - mx * mx, yy - my * my, _blur(x * y) - mx * my
            s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
            per_channel.append(float(s.mean(dtype=np.float64)))
        out.append(np.mean(per_channel))
    return torch.tensor(out, dtype=torch.float64)


@functools.lru_cache(maxsize=2)
def _lpips(device: str):
    from .weights import lpips_model

    return lpips_model("alex").to(device)


def lpips_features(frames: torch.Tensor) -> list[torch.Tensor]:
    """One side of LPIPS (alex, v0.1): the unit-normalised AlexNet features of (T,3,H,W) frames, per layer, exactly as
    ``lpips.LPIPS.forward`` makes them; scoring several predictions against one ground truth reuses its side."""
    return _lpips_side(_to255(frames))


def _lpips_side(x255: torch.Tensor) -> list[torch.Tensor]:
    import lpips as lpips_pkg

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = _lpips(dev)
    with torch.no_grad():
        x = (x255 / 127.5 - 1).float().to(dev)
        return [lpips_pkg.normalize_tensor(o) for o in model.net.forward(model.scaling_layer(x))]


def lpips_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
    """Per-frame LPIPS (T,) from the two sides' :func:`lpips_features`: ``lpips.LPIPS.forward``'s own sum."""
    from lpips.lpips import spatial_average

    model = _lpips(str(a[0].device))
    with torch.no_grad():
        val = 0
        for k in range(model.L):
            val += spatial_average(model.lins[k]((a[k] - b[k]) ** 2), keepdim=True)
    return val.flatten().double().cpu()


def lpips(pred: torch.Tensor, gt: torch.Tensor, *, batch: int = 4) -> torch.Tensor:
    """Per-frame LPIPS (alex, v0.1): (T,). Lower is better. Bitwise equal to calling ``lpips.LPIPS`` on each batch
    (tests/test_metrics.py)."""
    p, g = _pair(pred, gt)
    return torch.cat([lpips_distance(_lpips_side(p[i:i + batch]), _lpips_side(g[i:i + batch]))
                      for i in range(0, len(p), batch)])


def colorfulness(frames: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk 2003 per frame: sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mu_rg^2 + mu_yb^2), 0-255 RGB."""
    return _colorfulness255(_to255(frames))


def colorfulness_gain(L: torch.Tensor, ab: torch.Tensor, target: float, *, most: float = 2.0) -> torch.Tensor:
    """Per-frame factors (N,) that bring each frame's colourfulness (:func:`colorfulness`) to ``target``: L (N,1,H,W)
    in [0,100] and ab (N,2,h,w) in CIE units, the colourfulness measured at ab's size (L resized there as
    :func:`colorizerutils.video.colorize_frames` resizes it for a model: bilinear, antialiased), and the factor is
    ``target / colourfulness``, clamped to [0, ``most``]. Colourfulness grows about linearly with ab's scale, so the
    scaled frame lands near ``target`` (not exactly: the gamut clips, and the full-size frame differs a little).
    The automatic diffusion's calibration (:func:`colorizerutils.evaluate.fit_colorfulness_target`)."""
    import torch.nn.functional as F

    from .color import lab_to_uint8

    if target < 0:
        raise ValueError(f"colourfulness target {target}: expected a value of at least 0")
    if L.shape[-2:] != ab.shape[-2:]:
        L = F.interpolate(L.float(), size=ab.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    c = colorfulness(lab_to_uint8(L, ab).permute(0, 3, 1, 2)).float()
    return (target / c.clamp_min(1e-6)).clamp(0, most)


def _colorfulness255(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return std + 0.3 * mean


def _histograms(frames: torch.Tensor) -> np.ndarray:
    """(T,3,256) normalised per-channel histograms of 8-bit frames, channels in B,G,R order as in TCVC."""
    return _histograms255(_to255(frames), rounded=frames.dtype == torch.uint8)


def _histograms255(x: torch.Tensor, *, rounded: bool) -> np.ndarray:
    """:func:`_histograms` of frames already on the 0-255 scale; ``rounded``: they came from uint8 (no rounding)."""
    x8 = x.to(torch.int64) if rounded else (x + 0.5).floor().clamp(0, 255).to(torch.int64)
    t = x8.shape[0]
    hist = np.zeros((t, 3, 256))
    for c_out, c_in in enumerate((2, 1, 0)):
        for i in range(t):
            hist[i, c_out] = np.bincount(x8[i, c_in].flatten().numpy(), minlength=256)
    return hist / hist.sum(axis=-1, keepdims=True)


def _js(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (natural log) of the rows of ``p`` and ``q`` (..., 256), all rows in one call."""
    m = 0.5 * (p + q)
    return 0.5 * entropy(p, m, axis=-1) + 0.5 * entropy(q, m, axis=-1)


def cdc(frames: torch.Tensor, dilations=(1, 2, 4)) -> float:
    """Colour distribution consistency of one clip (TCVC; NTIRE 2023 track 2). Lower is steadier.

    For each channel, for each dilation d, the mean over t of JS(h(I_t), h(I_{t+d})) weighted 1/len(dilations);
    summed over d, averaged over the channels.
    """
    return cdc_from_histograms(_histograms(frames), dilations)


def cdc_from_histograms(h: np.ndarray, dilations=(1, 2, 4)) -> float:
    """:func:`cdc` from the clip's per-frame histograms (T,3,256), as :class:`ClipScorer` collects them."""
    t = len(h)
    if t <= max(dilations):
        raise ValueError(f"CDC needs more than {max(dilations)} frames, got {t}")
    per_channel = []
    for c in range(3):
        total = 0.0
        for d in dilations:
            total += np.mean(_js(h[:t - d, c], h[d:, c])) / len(dilations)
        per_channel.append(total)
    return float(np.mean(per_channel))


@functools.lru_cache(maxsize=1)
def _flow_pool():
    """Threads for OpenCV's Farneback, which runs on one core and releases the GIL: one per core torch uses, so a
    clip's flows take about half the time on 2 cores (the same flows: each is computed whole by one thread). Only
    OpenCV runs on them, never torch: each thread that calls torch gets an OpenMP team of its own, whose spinning
    workers made the models scored afterwards up to 1.9x slower (measured on a U-Net at 256 px)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max(1, torch.get_num_threads()), thread_name_prefix="farneback")


def pair_flows(g8: np.ndarray, *, executor=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each consecutive pair of ground-truth frames ``g8`` (T,H,W,3) uint8: the flow from frame t back to t-1
    (where each pixel of frame t came from) and the mask of pixels that pass the forward-backward check. The flows
    run on ``executor`` (default: :func:`_flow_pool`)."""
    import cv2

    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in g8]
    pairs = [(gray[t], gray[t - 1]) for t in range(1, len(g8))]      # t -> t-1: where each pixel of t came from
    pairs += [(a, b) for b, a in pairs]                                # t-1 -> t
    flows = list((executor or _flow_pool()).map(lambda ab: farneback(*ab), pairs))
    out = []
    for bw, fw in zip(flows[:len(flows) // 2], flows[len(flows) // 2:]):
        fw_at = warp(fw, bw)
        diff = ((bw + fw_at) ** 2).sum(-1)
        out.append((bw, diff < 0.01 * ((bw ** 2).sum(-1) + (fw_at ** 2).sum(-1)) + 0.5))
    return out


def _warp_errors(p: np.ndarray, g8: np.ndarray | None = None, flows=None) -> list[float]:
    """Per-pair warp errors of consecutive frames: ``p`` (T,H,W,3) float32 in [0,1], with the flows of ``g8`` (T,H,W,3)
    uint8 (:func:`pair_flows`, or ``flows`` already made from it)."""
    errs = []
    for t, (bw, mask) in enumerate(pair_flows(g8) if flows is None else flows, start=1):
        warped = warp(p[t - 1], bw)
        if mask.any():
            errs.append(float((((p[t] - warped) ** 2).sum(-1) / 3.0)[mask].mean()))
    return errs


def warp_error(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Temporal warping error of one clip: MSE on [0,1] RGB between frame t and frame t-1 warped to t, with the
    flow computed on the ground truth (Farneback) and occlusions masked by forward-backward consistency
    (Sundaram et al. 2010, as in Lai et al. 2018). Lower is steadier."""
    p, g = _pair(pred, gt)
    if len(p) < 2:
        raise ValueError("warp error needs at least 2 frames")
    errs = _warp_errors((p / 255.0).permute(0, 2, 3, 1).numpy().astype(np.float32),
                        g.permute(0, 2, 3, 1).numpy().astype(np.uint8))
    return float(np.mean(errs)) if errs else float("nan")


class GroundTruth:
    """The ground-truth side of a clip's metrics, fed chunk by chunk in order: for every :attr:`ClipScorer.SUB` frames
    the frames on the 0-255 scale, their side of SSIM (:func:`_ssim_truth`), their LPIPS features
    (:func:`lpips_features`) and the flows of their consecutive pairs (:func:`pair_flows`, the previous chunk's last
    frame carried). Computed once per chunk however many predictions are scored against it
    (:func:`colorizerutils.evaluate.evaluate_all`); the flows are about a third of a gray frame's scoring cost and
    the truth's LPIPS side another sixth."""

    def __init__(self, *, with_lpips: bool = True, temporal: bool = True):
        self.with_lpips, self.temporal = with_lpips, temporal
        self._last = None   # the previous chunk's last frame, (H,W,3) uint8

    def chunk(self, gt: torch.Tensor) -> list[dict]:
        """``gt`` (T,3,H,W) uint8 -> one dict per sub-chunk: ``gt``, ``g255`` (float64, 0-255), ``ssim``, ``lpips``
        (features or None), ``flows`` (or None)."""
        out = []
        for i in range(0, len(gt), ClipScorer.SUB):
            g = gt[i:i + ClipScorer.SUB]
            g255 = _to255(g)
            part = {"gt": g, "g255": g255, "ssim": _ssim_truth(g255),
                    "lpips": _lpips_side(g255) if self.with_lpips else None, "flows": None}
            if self.temporal:
                g8 = g255.permute(0, 2, 3, 1).numpy().astype(np.uint8)
                if self._last is not None:
                    g8 = np.concatenate([self._last[None], g8])
                part["flows"], self._last = pair_flows(g8), g8[-1]
            out.append(part)
        return out


class ClipScorer:
    """Every metric of one clip, fed in chunks of frames in order, so memory stays flat in the clip's length.

    ``update(pred, gt)`` takes (T,3,H,W) uint8 RGB chunks (pred and gt paired in order); ``result()`` gives the
    clip's metrics: the mean over frames of PSNR, SSIM, LPIPS and colourfulness, and CDC and warp error over the
    whole clip (the last frame of each chunk is carried to pair with the next chunk's first). Equal to
    :func:`evaluate_clip` on the whole clip at once. ``score(pred, chunk)`` takes the truth's side already made by a
    :class:`GroundTruth` shared with other scorers of the same clip, with the same numbers.
    """

    def __init__(self, *, with_lpips: bool = True, temporal: bool = True):
        self.with_lpips, self.temporal = with_lpips, temporal
        self.per_frame = {k: [] for k in ("psnr", "ssim", "lpips", "colorfulness") if k != "lpips" or with_lpips}
        self.hist: list[np.ndarray] = []
        self.warp: list[float] = []
        self._last = None   # the previous chunk's last predicted frame, float [0,1] HWC
        self._truth = GroundTruth(with_lpips=with_lpips, temporal=temporal)   # for update()

    SUB = 4   # frames scored at once: at 854x480 a 16-frame LPIPS batch alone peaks above 1 GB (make bench)

    def update(self, pred: torch.Tensor, gt: torch.Tensor) -> None:
        self.score(pred, self._truth.chunk(gt))

    def score(self, pred: torch.Tensor, chunk: list[dict]) -> None:
        """Score ``pred`` (T,3,H,W) against the truth's side of the same frames (:meth:`GroundTruth.chunk`)."""
        if len(pred) != sum(len(part["gt"]) for part in chunk):
            raise ValueError(f"{len(pred)} predicted frames for {sum(len(p['gt']) for p in chunk)} true ones")
        if (part := chunk[0])["lpips"] is None and self.with_lpips or part["flows"] is None and self.temporal:
            raise ValueError("the GroundTruth chunk was made without the LPIPS features or flows this scorer needs")
        for i, part in enumerate(chunk):
            self._update(pred[i * self.SUB:(i + 1) * self.SUB], part)

    def _update(self, pred: torch.Tensor, part: dict) -> None:
        # every metric from one conversion of the prediction to float64 on the 0-255 scale, and the truth's
        # already made: the same numbers as psnr(pred, gt), ssim(pred, gt), ... each converting on its own
        p, g = _to255(pred), part["g255"]
        if p.shape != g.shape:
            raise ValueError(f"prediction {tuple(p.shape)} and ground truth {tuple(g.shape)} differ in shape")
        self.per_frame["psnr"].append(_psnr255(p, g))
        self.per_frame["ssim"].append(_ssim255(p, part["ssim"]))
        if self.with_lpips:
            self.per_frame["lpips"].append(lpips_distance(_lpips_side(p), part["lpips"]))
        self.per_frame["colorfulness"].append(_colorfulness255(p))
        if self.temporal:
            self.hist.append(_histograms255(p, rounded=pred.dtype == torch.uint8))
            pf = (p / 255.0).permute(0, 2, 3, 1).numpy().astype(np.float32)
            if self._last is not None:
                pf = np.concatenate([self._last[None], pf])
            self.warp += _warp_errors(pf, flows=part["flows"])
            self._last = pf[-1]

    @property
    def frames(self) -> int:
        return sum(len(x) for x in self.per_frame["psnr"])

    def result(self) -> dict[str, float]:
        if not self.frames:
            raise ValueError("no frames were scored")
        out = {k: float(torch.cat(v).mean()) for k, v in self.per_frame.items()}
        if self.temporal and self.frames > 4:
            out["cdc"] = cdc_from_histograms(np.concatenate(self.hist))
            out["warp_error"] = float(np.mean(self.warp)) if self.warp else float("nan")
        return out


def _inception_fid():
    """torchmetrics' FID metric (Inception-v3 pool3, 2048 features); raises when its weights cannot be loaded."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    return FrechetInceptionDistance(feature=2048)


def fid_status() -> tuple[bool, str]:
    """Whether FID can be computed here (Inception-v3 'pt_inception-2015-12-05' weights load) and why not."""
    try:
        _inception_fid()
        return True, "Inception-v3 pool3 (pt_inception-2015-12-05) via torchmetrics/torch-fidelity"
    except Exception as e:
        return False, f"unavailable: Inception-v3 weights did not load ({type(e).__name__}: {str(e)[:120]})"


def fid_accumulator():
    """torchmetrics' FID, to be fed in chunks (``update(uint8 frames, real=...)``, then ``compute()``); raises a
    RuntimeError saying why when the Inception-v3 weights cannot be loaded (never another network in its place)."""
    try:
        return _inception_fid()
    except Exception as e:
        raise RuntimeError(f"FID is unavailable here: the Inception-v3 weights (pt_inception-2015-12-05) did not load "
                           f"({type(e).__name__}: {str(e)[:160]})") from e


def fid(pred: torch.Tensor, gt: torch.Tensor) -> float | None:
    """FID between two sets of frames, or None when the Inception weights are unavailable (see :func:`fid_status`)."""
    try:
        m = _inception_fid()
    except Exception:
        return None
    m.update(_to255(gt).to(torch.uint8), real=True)
    m.update(_to255(pred).to(torch.uint8), real=False)
    return float(m.compute())


def evaluate_clip(pred: torch.Tensor, gt: torch.Tensor, *, with_lpips: bool = True,
                  temporal: bool = True, chunk: int = 16) -> dict[str, float]:
    """All per-clip metrics for one predicted clip against its ground truth (frames paired in order)."""
    scorer = ClipScorer(with_lpips=with_lpips, temporal=temporal)
    for i in range(0, len(pred), chunk):
        scorer.update(pred[i:i + chunk], gt[i:i + chunk])
    return scorer.result()

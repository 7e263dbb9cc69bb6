"""What colours a frame: the one colorizer interface, the baselines, and trained models loaded from checkpoints.

Every colorizer is called the same way, by the CLI, the notebooks and the evaluation: ``reset(reference)`` at the
start of a clip (an exemplar image, or None), then ``colorizer(L) -> ab``, with L (B,1,h,w) in [0,100] and ab
(B,2,h,w) in CIE units. Per-frame models ignore the reference; ``sequential`` colorizers (the diffusion model,
propagating flow) keep state from one frame to the next; ``size`` is the shorter side a model runs at. Streaming
whole images, videos and frame folders through a colorizer is :mod:`colorizerutils.video`'s.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from . import paths
from .atomic import load_torch
from .color import denormalize_ab, normalize_l, upsample_ab
from .models import MODELS, build_model

# name -> (run folder under checkpoints/, what creates it)
NAMED = {"mse_unet": "notebook 02_mse_unet (make reproduce)", "gan_unet": "notebook 03_gan_unet (make reproduce)",
         "cic": "notebook 03_gan_unet (make reproduce)", "diffusion": "notebook 04_video_diffusion (make reproduce)"}


class Colorizer:
    """A trained per-frame model: ``colorizer(L)`` with L (B,1,h,w) in [0,100] returns ab (B,2,h,w) in CIE units.

    ``reset(reference)`` starts a new clip (per-frame models ignore the reference; the diffusion colorizer uses it).
    """

    def __init__(self, net: torch.nn.Module, *, objective: str, device: torch.device, bf16: bool = False,
                 name: str = "model", size: int | None = None, weights_sha256: str | None = None):
        self.net, self.objective, self.device, self.bf16, self.name = net.eval(), objective, device, bf16, name
        self.size = size   # shorter side the model runs at (default: its training size); None: the input's own
        self.weights_sha256 = weights_sha256   # of the final.pt it was loaded from (load_colorizer); None: unknown

    @property
    def cache_key(self) -> str | None:
        """What this model's output depends on, for :func:`colorizerutils.evaluate.evaluate_all`'s ``cache``: the
        checkpoint file's sha256, how it runs (objective, size, bf16, device, CPU threads), so that a second notebook
        scoring the same weights the same way reuses the first one's rows. None (not cached) for a model not loaded
        from a file, whose weights may still change."""
        if self.weights_sha256 is None:
            return None
        return json.dumps({"weights": self.weights_sha256, "objective": self.objective, "size": self.size,
                           "bf16": self.bf16, "device": str(self.device), "threads": torch.get_num_threads()},
                          sort_keys=True)

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
            L = F.interpolate(L.float(), size=model_size(h, w, self.size), mode="bilinear", antialias=True,
                              align_corners=False)
        l = normalize_l(L.to(self.device, torch.float32))
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            ab = self.net.colorize(l) if self.objective == "cic" else self.net(l)
        return denormalize_ab(ab.float()).cpu()


class GrayBaseline:
    """The gray baseline as a colorizer (keep L, a=b=0): ``colorizer colorize IN OUT --model gray``."""

    name, objective, size = "gray", "baseline", None   # size None: runs at the frame's own resolution
    cache_key = "gray"   # no weights, no state: its scored rows can be reused (evaluate.evaluate_all(cache=True))

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

    @property
    def cache_key(self) -> str:
        """Names exactly what this baseline computes (no weights), so its scored rows can be reused."""
        return self.name

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

    ``outside``: where a flow leaves its source frame, the border repeated (``replicate``, the plain warps) or colour
    from the exemplar's look-alikes (``retrieve``: with ``fusion="confidence"`` the exemplar colorizer's own anchor).
    """

    sequential = True
    NAMES = {"long": "warp", "short": "propagation", "confidence": "long+short fused by confidence"}

    def __init__(self, method: str = "dis", *, propagate: bool = False, fusion: str | None = None,
                 outside: str = "replicate"):
        from .flow import FlowAnchor

        super().__init__()
        fusion = fusion or ("short" if propagate else "long")
        self.anchor = FlowAnchor(method, fusion, confidence=False, outside=outside)
        self.method, self.fusion = method, fusion
        self.name = f"{method} {self.NAMES[fusion]} from the exemplar" + (
            ", new content from look-alikes" if outside == "retrieve" else "")

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
    are often wrong, and on unseen clips a wrong colour costs more than none. ``scale`` is fitted out of fold on the
    train split (:func:`colorizerutils.recipes.calibrate_cross_fitted`) or on val
    (:func:`colorizerutils.evaluate.calibrate`), never on test.
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

    @property
    def cache_key(self) -> str | None:
        """The inner model's :attr:`Colorizer.cache_key` and the scale (None where the inner model has none)."""
        inner = getattr(self.inner, "cache_key", None)
        return None if inner is None else f"{inner} x {self.scale!r}"

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
             "flow-fused": lambda: FlowReference("dis", fusion="confidence"),
             "flow-anchor": lambda: FlowReference("dis", fusion="confidence", outside="retrieve")}
BASELINE_TITLES = {"gray": "gray baseline", "reference": "reference copy",
                   "farneback": "Farneback warp from the exemplar", "flow": "DIS warp from the exemplar",
                   "flow-propagate": "DIS propagation frame to frame",
                   "flow-fused": "DIS fused, long + short range by confidence",
                   "flow-anchor": "DIS fused, new content from the exemplar's look-alikes (the model's anchor)"}
# notebook 04's variants of the exemplar diffusion: table name -> (sampler options over the default ones, automatic)
DIFFUSION_VARIANTS = {
    "diffusion + exemplar": ({}, False),
    "diffusion + exemplar, residual added everywhere (not gated)": ({"residual": "full"}, False),
    "diffusion + exemplar, anchor at the model size": ({"full_anchor": False}, False),
    "diffusion + exemplar, border repeated where the flow leaves the frame": ({"outside": "replicate"}, False),
    "diffusion, automatic": ({}, True),
    "diffusion, automatic, not calibrated": ({"automatic_scale": 1.0, "automatic_target": None,
                                              "automatic_steps": None}, True),
    "diffusion, automatic, previous output fed back, not calibrated": (
        {"automatic_scale": 1.0, "automatic_target": None, "automatic_steps": None, "automatic_prev": True}, True),
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


CALIBRATION = "calibration.json"   # beside a final.pt: its fitted chroma scale (evaluate.write_calibration)


def read_calibration(checkpoint: str | Path, *, sha256: str | None = None) -> dict | None:
    """The calibration written beside ``checkpoint`` (a final.pt) for exactly these weights, or None: none was
    written, or it was written for weights that have since been retrained (a warning says so, and it is not used).
    ``sha256``: the checkpoint's, where the caller has it already."""
    from .download import sha256sum

    path = Path(checkpoint).parent / CALIBRATION
    if not path.exists():
        return None
    try:
        cal = json.loads(path.read_text())
        sha = cal["checkpoint_sha256"]
        fitted = {k: float(cal[k]) for k in ("chroma_scale", "automatic_target") if cal.get(k) is not None}
        if not fitted:
            raise KeyError("neither chroma_scale nor automatic_target")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: expected JSON with checkpoint_sha256 and chroma_scale or automatic_target "
                         f"(written by colorizerutils.evaluate.calibrate): {e}") from e
    if sha != (sha256 or sha256sum(checkpoint)):
        warnings.warn(f"{path} was fitted for other weights than {checkpoint} (retrained since?): not used; "
                      f"run evaluate.calibrate again", stacklevel=2)
        return None
    return dict(cal, **fitted)


def load_colorizer(name_or_path: str | Path, *, device: str = "auto", bf16: bool = False,
                   sampler_options: dict | None = None, sha256: str | None = None, calibrated: bool = True):
    """Load a model written by :func:`colorizerutils.training.train` (``final.pt``), checking its architecture.

    ``sampler_options`` (steps, seed) go to the diffusion sampler; per-frame models have none and ignore them.
    ``sha256`` verifies a published checkpoint (:func:`checkpoint_path`).
    ``calibrated``: a per-frame model with a calibration beside it (its chroma scale, cross-fitted on train by
    :func:`colorizerutils.recipes.calibrate_cross_fitted` or fitted on val by
    :func:`colorizerutils.evaluate.calibrate`) comes as :class:`ChromaScaled` at that scale, the diffusion model with
    its colourfulness target and step count on its automatic mode (``automatic_target``, ``automatic_steps``; an
    older calibration file's scale as ``automatic_scale``); False: the raw model.
    The checkpoint is read once, with ``weights_only`` (:func:`colorizerutils.atomic.load_torch`).
    """
    from .download import sha256sum
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
    sha = sha256sum(path)                     # ties the calibration and the scored-row cache to these weights
    cal = read_calibration(path, sha256=sha) if calibrated else None
    if ckpt["objective"] == "diffusion":
        from .diffusion import DiffusionColorizer

        fitted = {}
        if cal:   # a colourfulness target (since 2026-12-08), or the one factor of older calibration files
            fitted = ({"automatic_target": cal["automatic_target"]} if "automatic_target" in cal
                      else {"automatic_scale": cal["chroma_scale"]})
            fitted["automatic_steps"] = cal.get("automatic_steps")
        options = {**fitted, **(sampler_options or {})}
        return DiffusionColorizer(net, device=dev, config=ckpt["config"], **options)
    model = Colorizer(net, objective=ckpt["objective"], device=dev, bf16=bf16, name=str(name_or_path),
                      size=ckpt["config"].get("size"), weights_sha256=sha)
    return ChromaScaled(model, cal["chroma_scale"]) if cal else model


def model_size(h: int, w: int, size: int) -> tuple[int, int]:
    """(h, w) scaled so that the shorter side is ``size`` (at least 8 px each), the aspect ratio kept."""
    s = size / min(h, w)
    return max(8, round(h * s)), max(8, round(w * s))

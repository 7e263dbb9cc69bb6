"""Training losses, picked by name and combined with ``+``: ``build_loss("mse+ssim+perceptual", ssim=0.5)``.

Every term takes the prediction and target ab normalised to [-1,1] and the input L normalised to [-1,1], all
(B,·,H,W). Terms on images (SSIM, LPIPS, VGG) see the RGB that L and ab decode to, through the differentiable
:func:`colorizerutils.lab_to_rgb`; VGG16/AlexNet use ImageNet weights (:mod:`.weights`) and ImageNet input
normalisation. The adversarial term lives in the GAN objective (:mod:`.training`), which needs a discriminator.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics.functional.image import structural_similarity_index_measure

from .color import denormalize_ab, denormalize_l, lab_to_rgb
from .weights import IMAGENET_MEAN, IMAGENET_STD, backbone, lpips_model

VGG_LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
# Default weights bring every term to the order of MSE at initialisation (measured on the default data), so that
# an unweighted "a+b" combination is not decided by units alone; pass weights to change them.
DEFAULT_WEIGHTS = {"mse": 1.0, "mae": 1.0, "ssim": 1.0, "lpips": 1.0, "content": 0.02, "perceptual": 0.5, "style": 1.0}
CONTENT_LAYER = "relu2_2"  # Johnson et al. 2016 use relu2_2 for the feature-reconstruction (content) loss


class _Images:
    """Lazily decoded RGB of prediction and target, shared by all terms of one combination."""

    def __init__(self, pred_ab, ab, l):
        self.pred_ab, self.ab, self.l = pred_ab, ab, l
        self._rgb = None

    @property
    def rgb(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._rgb is None:
            L = denormalize_l(self.l.float())
            to = lambda ab: lab_to_rgb(torch.cat([L, denormalize_ab(ab.float())], 1))
            self._rgb = (to(self.pred_ab), to(self.ab).detach())
        return self._rgb


class _VGG(nn.Module):
    """VGG16 relu features up to relu4_3, ImageNet-normalised input; ``bf16``: the convolutions run in bfloat16
    autocast on channels-last tensors and the features come back as float32 (the distances and Gram matrices are
    taken in float32)."""

    def __init__(self):
        super().__init__()
        self.bf16 = False
        self.features = backbone("vgg16")[:VGG_LAYERS["relu4_3"] + 1]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def use_bf16(self, on: bool) -> None:
        """Run in bf16 (weights kept channels-last, where oneDNN's bf16 convolutions are fastest) or in float32."""
        self.bf16 = on
        self.to(memory_format=torch.channels_last if on else torch.contiguous_format)

    def forward(self, rgb: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        want = {VGG_LAYERS[n]: n for n in layers}
        x, out = (rgb - self.mean) / self.std, {}
        if self.bf16:   # oneDNN's bf16 convolutions are faster on channels-last tensors (make bench)
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(rgb.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            for i, layer in enumerate(self.features):
                x = layer(x)
                if i in want:
                    out[want[i]] = x.float()
                    if len(out) == len(want):
                        break
        return out


def _gram(f: torch.Tensor) -> torch.Tensor:
    b, c, h, w = f.shape
    f = f.flatten(2)
    return f @ f.transpose(1, 2) / (c * h * w)


class MSE(nn.Module):
    def forward(self, im: _Images):
        return F.mse_loss(im.pred_ab, im.ab)


class MAE(nn.Module):
    def forward(self, im: _Images):
        return F.l1_loss(im.pred_ab, im.ab)


class SSIMLoss(nn.Module):
    """1 - SSIM (Gaussian 11x11, sigma 1.5) on RGB in [0,1]."""

    def forward(self, im: _Images):
        p, t = im.rgb
        return 1 - structural_similarity_index_measure(p, t, data_range=1.0, gaussian_kernel=True, sigma=1.5,
                                                       kernel_size=11)


class LPIPSLoss(nn.Module):
    """LPIPS-alex v0.1 (frozen), inputs in [-1,1]."""

    def __init__(self):
        super().__init__()
        self.net = lpips_model("alex")

    def forward(self, im: _Images):
        p, t = im.rgb
        return self.net(p * 2 - 1, t * 2 - 1).mean()


class _VGGLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.vgg = _VGG()


class Content(_VGGLoss):
    """L2 between VGG16 relu2_2 features (Johnson et al. 2016 feature reconstruction)."""

    def forward(self, im: _Images):
        p, t = im.rgb
        return F.mse_loss(self.vgg(p, [CONTENT_LAYER])[CONTENT_LAYER], self.vgg(t, [CONTENT_LAYER])[CONTENT_LAYER])


class Perceptual(_VGGLoss):
    """Mean L1 distance of VGG16 relu1_2..relu4_3 features."""

    def forward(self, im: _Images):
        p, t = im.rgb
        fp, ft = self.vgg(p, VGG_LAYERS), self.vgg(t, VGG_LAYERS)
        return sum(F.l1_loss(fp[k], ft[k]) for k in VGG_LAYERS) / len(VGG_LAYERS)


class Style(_VGGLoss):
    """Gram-matrix distance of VGG16 relu1_2..relu4_3 features (Gatys et al. 2016)."""

    def forward(self, im: _Images):
        p, t = im.rgb
        fp, ft = self.vgg(p, VGG_LAYERS), self.vgg(t, VGG_LAYERS)
        return sum(F.mse_loss(_gram(fp[k]), _gram(ft[k])) for k in VGG_LAYERS) * 1e3 / len(VGG_LAYERS)


LOSSES = {"mse": MSE, "mae": MAE, "ssim": SSIMLoss, "lpips": LPIPSLoss, "content": Content,
          "perceptual": Perceptual, "style": Style}


def parse(spec: str) -> list[str]:
    """``"MSE + SSIM"`` -> ``["mse", "ssim"]``; refuses unknown or repeated names."""
    names = [n.strip().lower() for n in spec.split("+")]
    bad = [n for n in names if n not in LOSSES]
    if bad or not names:
        raise ValueError(f"unknown loss {', '.join(bad) or spec!r}; expected names from {', '.join(LOSSES)} "
                         f"joined by '+' (the adversarial term comes with objective='gan')")
    if len(set(names)) != len(names):
        raise ValueError(f"loss {spec!r} names a term twice")
    return names


def uses_vgg(spec: str) -> bool:
    """Whether a combination has a term on VGG16 features (content, perceptual, style)."""
    return any(issubclass(LOSSES[n], _VGGLoss) for n in parse(spec))


class CombinedLoss(nn.Module):
    """Weighted sum of named terms; ``forward`` returns ``(total, {name: term value})``.

    ``vgg_bf16``: the VGG16 that the content, perceptual and style terms share runs in bfloat16 (its features are
    compared in float32). On hardware with native bf16 that makes notebook 05's VGG steps about 1.6x faster
    (``make bench``, ``bench_loss_precision``); elsewhere it is slower, and it changes the numbers, so it is a
    setting of the run (:attr:`colorizerutils.training.TrainConfig.loss_bf16`), never implicit."""

    def __init__(self, spec: str, weights: dict[str, float] | None = None, *, vgg_bf16: bool = False):
        super().__init__()
        self.names = parse(spec)
        weights = {k.lower(): v for k, v in (weights or {}).items()}
        unknown = set(weights) - set(self.names)
        if unknown:
            raise ValueError(f"weights given for {sorted(unknown)}, which are not in {spec!r}")
        self.weights = {n: float(weights.get(n, DEFAULT_WEIGHTS[n])) for n in self.names}
        # VGG-based terms share one network
        vgg = None
        terms = {}
        for n in self.names:
            terms[n] = LOSSES[n]()
            if isinstance(terms[n], _VGGLoss):
                if vgg is None:
                    vgg = terms[n].vgg
                    vgg.use_bf16(vgg_bf16)
                terms[n].vgg = vgg
        self.terms = nn.ModuleDict(terms)
        self.requires_grad_(False)

    def forward(self, pred_ab: torch.Tensor, ab: torch.Tensor, l: torch.Tensor):
        im = _Images(pred_ab, ab, l)
        values = {n: t(im) for n, t in self.terms.items()}
        total = sum(self.weights[n] * v for n, v in values.items())
        return total, {n: v.detach() for n, v in values.items()}


def build_loss(spec: str, *, vgg_bf16: bool = False, **weights: float) -> CombinedLoss:
    return CombinedLoss(spec, weights, vgg_bf16=vgg_bf16)

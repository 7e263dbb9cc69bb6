"""Issue 14 probes of the automatic U-Nets at the quick profile: three levers measured, none adopted.

    python scripts/automatic_probes.py steps          # MSE U-Net: val-calibrated PSNR after 300 ... 4800 steps
    python scripts/automatic_probes.py gan-weight     # GAN U-Net: pix2pix's lambda 10 and 30 against the default 100
    python scripts/automatic_probes.py upsample       # MSE U-Net: ab upsampled by a guided filter; flip averaging

Every run trains into ``COLORIZER_CHECKPOINTS`` (set it to a scratch folder: these runs are not the kit's models) and
scores as notebook 06 does: every 10th of the first 300 frames at shorter side 256 px; val: the 2 val clips and 2
val photos, test: the 5 test clips. The chroma scale of a calibrated row is fitted on val
(:func:`colorizerutils.evaluate.fit_chroma_scale`), never on test. Nothing is written to results/.

Measured on the 2-core AMD EPYC (2026-11-25), seeds 0-2, mean PSNR in dB (val gray 21.79, test gray 25.22):

**steps** (the kit trains 1200; the learning rate is constant, so each row continues the one above):

| steps | val calibrated, seeds 0/1/2 | test at val's scale, seeds 0/1/2 |
|---|---|---|
| 300 | 22.53 / 22.42 / 22.06 | 24.85 / 24.27 / 24.83 |
| 600 | 22.46 / 22.53 / 22.27 | 24.53 / 24.37 / 24.73 |
| 1200 | 22.52 / 22.61 / 22.34 | 24.67 / 24.57 / 24.82 |
| 2400 | 22.55 / 22.61 / 22.39 | 24.53 / 24.64 / 25.07 |
| 4800 | 22.76 / 22.70 / 22.58 | 24.48 / 24.48 / 24.94 |

Four times the steps gain about 0.2 dB on val and nothing on test: the U-Net is not short of training, and stopping
it earlier does not help either.

**gan-weight** (colourfulness as trained; the MSE U-Net's, from notebook 06, is 26.2 / 30.1 / 28.8 on val and
29.8 / 33.4 / 34.1 on test):

| lambda | val colourfulness, seeds 0/1/2 | test colourfulness | test PSNR |
|---|---|---|---|
| 100 (default, notebook 06) | 30.0 / 26.8 / 26.7 | 29.0 / 31.9 / 30.9 | 22.48 / 22.03 / 22.31 |
| 30 | 30.2 / 25.7 / 28.0 | 29.9 / 31.0 / 30.6 | 22.29 / 22.10 / 22.50 |
| 10 | 29.9 / 27.1 / 26.7 | 30.4 / 34.3 / 31.8 | 22.24 / 21.45 / 22.18 |

A tenth of the reconstruction weight leaves the colourfulness within seed noise: the GAN is more colourful than the
MSE U-Net at 1 of 3 seeds on val and 2 of 3 on test at lambda 10, and at 1 of 3 on each at lambda 30. The critic
stays near chance through the adversarial phase (its loss averages 0.63-0.66 over that phase at every lambda and
seed, 0.64 at lambda 100, against log 2 = 0.69 at chance), so at 240 adversarial steps it gives the generator almost
no signal about colour, whatever the weight.

**upsample** (the seed-0 MSE U-Net; ab predicted at a quarter of its 64 px, so one ab pixel spans 16 px of a 256-px
frame; a fast guided filter (He et al. 2015) fitted at ab's resolution with L as the guide, its coefficients
upsampled; the scale refitted on val for each row):

| upsampling | flip averaging | val's scale | val PSNR | test PSNR | test LPIPS |
|---|---|---|---|---|---|
| bilinear (the kit's) | no | 0.45 | 22.52 | 24.86 | 0.149 |
| guided, radius 2, eps 1e-3 | no | 0.55 | 22.73 | 24.70 | 0.145 |
| guided, radius 2, eps 1e-2 | no | 0.65 | 22.80 | 24.50 | 0.149 |
| bilinear | yes | 0.45 | 22.48 | 25.05 | 0.147 |
| guided, radius 2, eps 1e-3 | yes | 0.55 | 22.64 | 24.87 | 0.144 |

The guided filter gains 0.21-0.28 dB on val and loses 0.16-0.36 on test, because val then asks for more colour,
which the test clips punish; averaging the prediction with that of the mirrored frame loses 0.04 dB on val and gains
0.19 on test. Val and test disagree again, as for the encoder and scale augmentation, so none of these is adopted.
"""
import dataclasses
import os
import shutil
import sys

import pandas as pd
import torch
import torch.nn.functional as F

import colorizerutils as cu
from colorizerutils import evaluate, recipes
from colorizerutils.color import upsample_ab
from colorizerutils.inference import ChromaScaled, load_colorizer
from colorizerutils.training import reuse_or_train, train

SEEDS = (0, 1, 2)
P = cu.profile("quick")
SWEEP = evaluate.automatic(P, stride=P.sweep_stride)
SPLITS = {"val": evaluate.test_clips("val", kind=None), "test": evaluate.test_clips("test")}


def _score(models: dict, split: str, protocol=SWEEP) -> pd.DataFrame:
    return evaluate.summarize(evaluate.evaluate_all(models, SPLITS[split], protocol=protocol, progress=False))


def steps(frames) -> None:
    for seed in SEEDS:
        # the probe's own scratch run: a second invocation would otherwise resume at 4800 steps and score that
        shutil.rmtree(recipes.mse_unet(P, run=f"probe_steps_s{seed}").run_dir, ignore_errors=True)
        for n in (300, 600, 1200, 2400, 4800):       # each continues the last: the learning rate is constant
            cfg = dataclasses.replace(recipes.mse_unet(P, seed=seed, run=f"probe_steps_s{seed}"), steps=n,
                                      checkpoint_every=300)
            model = load_colorizer(train(cfg, frames, progress=False).run_dir, calibrated=False)
            scale, table = evaluate.fit_chroma_scale(model, SPLITS["val"], SWEEP, progress=False)
            test = _score({"calibrated": ChromaScaled(model, scale)}, "test")
            print(f"seed {seed} steps {n}: val gray {table.psnr.iloc[0]:.2f}, calibrated {table.psnr.max():.2f} "
                  f"(x{scale:g}); test at val's scale {test.psnr.iloc[0]:.2f}", flush=True)


def gan_weight(frames) -> None:
    for weight in (10.0, 30.0):
        for seed in SEEDS:
            cfg = recipes.gan_unet(P, seed=seed, run=f"probe_gan_w{weight:g}_s{seed}", recon_weight=weight)
            model = load_colorizer(reuse_or_train(cfg, frames, progress=False), calibrated=False)
            for split in SPLITS:
                r = _score({"GAN": model}, split).iloc[0]
                print(f"lambda {weight:g} seed {seed} {split}: PSNR {r.psnr:.2f}, LPIPS {r.lpips:.4f}, "
                      f"colourfulness {r.colorfulness:.1f}", flush=True)


def _box(x: torch.Tensor, r: int) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)


def guided_upsample(ab: torch.Tensor, L: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """ab (B,2,h,w) -> (B,2,H,W) on L (B,1,H,W): the fast guided filter, fitted at ab's resolution with L (in [0,1])
    as the guide, its linear coefficients upsampled bilinearly and applied to the full-resolution L."""
    guide = F.interpolate(L, size=ab.shape[-2:], mode="bilinear", antialias=True, align_corners=False) / 100
    mean_i, mean_p = _box(guide, radius), _box(ab, radius)
    a = (_box(guide * ab, radius) - mean_i * mean_p) / (_box(guide * guide, radius) - mean_i ** 2 + eps)
    b = mean_p - a * mean_i
    up = lambda t: F.interpolate(_box(t, radius), size=L.shape[-2:], mode="bilinear", align_corners=False)
    return up(a) * (L / 100) + up(b)


class Upsampled:
    """The model at its size, its ab (times ``scale``, averaged with the mirrored frame's with ``flip``) brought to
    the frame's resolution bilinearly (``radius`` None) or by :func:`guided_upsample`."""
    full_resolution = True

    def __init__(self, model, scale: float, radius: int | None = None, eps: float = 0.0, flip: bool = False):
        self.model, self.scale, self.radius, self.eps, self.flip = model, scale, radius, eps, flip
        self.size = model.size

    def reset(self, reference=None) -> None:
        pass

    def predict_full(self, L: torch.Tensor, size) -> torch.Tensor:
        small = F.interpolate(L, size=size, mode="bilinear", antialias=True, align_corners=False)
        ab = self.model.predict(small)
        if self.flip:
            ab = (ab + self.model.predict(small.flip(-1)).flip(-1)) / 2
        ab = ab * self.scale
        if self.radius is None:
            return upsample_ab(ab, L.shape[-2:])          # what the kit does (colorizerutils.video.colorize_frames)
        return guided_upsample(ab, L, self.radius, self.eps)


def upsample(frames) -> None:
    model = load_colorizer(reuse_or_train(recipes.mse_unet(P, seed=0, run="probe_mse_s0"), frames, progress=False),
                           calibrated=False)
    fast = dataclasses.replace(SWEEP, lpips=False, temporal=False)     # val picks the scale by PSNR alone
    scales = (0.35, 0.45, 0.55, 0.65, 0.75)
    for flip in (False, True):
        for radius, eps in ((None, 0.0), (2, 1e-3), (2, 1e-2)):
            val = _score({str(s): Upsampled(model, s, radius, eps, flip) for s in scales}, "val", fast)
            best = val.loc[val.psnr.idxmax()]
            test = _score({"x": Upsampled(model, float(best.method), radius, eps, flip)}, "test").iloc[0]
            name = "bilinear" if radius is None else f"guided r{radius} eps{eps:g}"
            print(f"{name}, flip {flip}: val's scale {best.method}, val {best.psnr:.2f}; test PSNR {test.psnr:.2f}, "
                  f"LPIPS {test.lpips:.4f}", flush=True)


if __name__ == "__main__":
    probes = {"steps": steps, "gan-weight": gan_weight, "upsample": upsample}
    if len(sys.argv) != 2 or sys.argv[1] not in probes:
        sys.exit(f"usage: python {sys.argv[0]} {{{'|'.join(probes)}}}")
    if "COLORIZER_CHECKPOINTS" not in os.environ:
        sys.exit("set COLORIZER_CHECKPOINTS to a scratch folder: these probes are not the kit's models")
    probes[sys.argv[1]](recipes.image_frames(P, progress=False))

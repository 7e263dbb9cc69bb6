"""What PROFILE means: one dataclass of sizes and budgets per profile, shared by every notebook.

- ``smoke``: every notebook in a few minutes on 2 CPU cores (the tests run this).
- ``quick``: the laptop-CPU default for ``make reproduce`` (whole chain within ~45 min on 2 cores).
- ``full``: paper-scale settings for a GPU (and DAVIS when prepared).
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    eval_size: int          # automatic models: clips scored at this shorter side, no crop (evaluate.Protocol)
    eval_frames: int        # frames per test clip from its start (the protocol's cap: 300)
    exemplar_size: int      # exemplar models: clips scored at their own resolution up to this shorter side
    train_size: int         # training crops
    train_frames: int       # frames taken per training clip, every train_frame_stride-th
    train_frame_stride: int  # a frame stride (not a training step): every k-th frame of a training clip
    steps: int              # optimiser steps for the image models
    batch: int
    diffusion_steps: int    # optimiser steps for the video diffusion model
    sample_steps: int       # DDIM steps when sampling the diffusion model
    video_frames: int       # frames per test clip scored after the exemplar (frame 0) for the exemplar models
    sweep_steps: tuple      # sampler step counts compared in notebook 04 (on one test clip)
    ablation_steps: int     # optimiser steps per loss combination in notebook 05
    ablation_batch: int     # its batch size (20 combinations, 8 of them through VGG16: the sweep's main cost)
    bf16: bool              # bf16 autocast on CPU (AMX); quality is checked in make bench
    sweep_stride: int = 1   # notebooks 05/06 score every sweep_stride-th of the eval frames (1: all, with CDC/warp)
    seeds: tuple = (0,)     # notebook 06 trains the MSE and GAN U-Nets at these (seed 0: 02/03's runs)
    ablation_seeds: tuple = (0,)  # notebook 05 trains every loss combination at these (mean ± standard error)
    effects: tuple = ()     # notebook 06 also measures these changes at its seeds (keys of recipes.EFFECTS)
    loss_bf16: bool | None = None  # notebook 05's VGG16 loss network in bf16; None: where the hardware computes bf16
                                   # natively (runtime.native_bf16), which makes those runs ~1.6x faster
    amx_bf16: bool = False  # the MSE U-Net, the GAN U-Net and the diffusion model train in bf16 autocast where the CPU
                            # has AMX (runtime.amx_training): scripts/precision_probe.py measured them there
    crossfit_fraction: float = 1.0  # notebook 02's cross-fit trains its fold models for this fraction of the model's
                                    # steps (recipes.calibrate_cross_fitted); the folds only choose the chroma scale

    def train_bf16(self, *, measured: bool) -> bool:
        """Whether a recipe trains in bf16 autocast on this machine: always with ``bf16``; with ``amx_bf16``, where the
        CPU has AMX, for the models whose bf16 training was measured there (``measured``; the others stay float32)."""
        from .runtime import amx_training

        return self.bf16 or (measured and self.amx_bf16 and amx_training())

    def vgg_loss_bf16(self) -> bool:
        """Whether notebook 05 runs the VGG16 of its content/perceptual/style terms in bf16 on this machine."""
        from .runtime import native_bf16

        return native_bf16() if self.loss_bf16 is None else self.loss_bf16


PROFILES = {
    # smoke: every code path once, not a measurement; the diffusion sampler is most of notebook 04's smoke run, so it
    # samples at DDIM 2 (4, and 8 in the sweep, before: 102 s of the suite's 1006 on a Zen 3); 6 frames per clip is
    # the fewest that CDC takes (its dilation 4 needs 5 scored frames)
    "smoke": Profile("smoke", eval_size=64, eval_frames=10, exemplar_size=64, train_size=64, train_frames=6,
                     train_frame_stride=20, steps=30,
                     batch=8, diffusion_steps=30, sample_steps=2, video_frames=6, sweep_steps=(2, 4),
                     ablation_steps=6, ablation_batch=8, bf16=False, seeds=(0, 1), ablation_seeds=(0, 1),
                     effects=("encoder", "NoGAN", "data", "augmentation"), crossfit_fraction=0.5),
    # quick: 0.1 s per U-Net step at 64x64, batch 16, on 2 cores, in fp32: bf16 autocast of a whole U-Net step is
    # slower on a CPU with AVX512-BF16 alone (62 vs 38 ms per step measured), so there only notebook 05's frozen VGG16
    # loss network runs in bf16 (loss_bf16; results/bench_loss_precision.md). With AMX a whole step is 1.1-1.6x
    # faster in bf16 (results/bench_training_steps.md), and the MSE U-Net, GAN U-Net and diffusion model lost nothing
    # on val in it at seeds 0-2 (scripts/precision_probe.py), so there they train in bf16 (amx_bf16).
    # Notebook 05's sweep is dominated by its VGG16 loss terms, so it runs 150 steps at batch 8; at 3 seeds (18
    # distinct combinations each) it is the chain's longest notebook (measured times: docs/findings.md, "Time of
    # the quick profile").
    # quick: the automatic tables score every frame (<= 300) at 256 px; the exemplar tables at up to 480 px cost
    # ~0.35 s per frame and method on 2 cores (metrics at 480p, the sampler at 64 px), so they score 30 frames
    # after the exemplar; the 20-combination and seed sweeps score every 10th frame. DDIM 5 steps: as good as 25 on
    # val and in make bench (see diffusion.DiffusionColorizer), at a fifth of the network calls. Notebook 06's
    # effects leave out the VGG16 encoder at quick: about 7 min of training per seed (0.24 s per frozen step, 0.45
    # fine-tuned, over its first 80 steps) against the U-Net's 38 s. The cross-fit's fold models train 600 of the
    # U-Net's 1200 steps: they chose the same chroma scale (0.3) as full-length folds at seeds 0-2, and 300 steps did
    # not (0.25 at seeds 0 and 1; scripts/automatic_probes.py crossfit-steps).
    "quick": Profile("quick", eval_size=256, eval_frames=300, exemplar_size=480, train_size=64, train_frames=160,
                     train_frame_stride=3, steps=1200,
                     batch=16, diffusion_steps=800, sample_steps=5, video_frames=30, sweep_steps=(5, 10, 25, 50),
                     ablation_steps=150, ablation_batch=8, bf16=False, sweep_stride=10, seeds=(0, 1, 2),
                     ablation_seeds=(0, 1, 2), effects=("NoGAN", "data", "augmentation"), amx_bf16=True,
                     crossfit_fraction=0.5),
    "full": Profile("full", eval_size=256, eval_frames=300, exemplar_size=480, train_size=256, train_frames=10_000,
                    train_frame_stride=1,
                    steps=40_000, batch=32, diffusion_steps=100_000, sample_steps=25, video_frames=299,
                    sweep_steps=(10, 25, 50, 250), ablation_steps=5_000, ablation_batch=32, bf16=False,
                    seeds=(0, 1, 2, 3, 4), ablation_seeds=(0, 1, 2),
                    effects=("encoder", "NoGAN", "data", "augmentation")),
}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown PROFILE {name!r}; expected one of {', '.join(PROFILES)}")
    return PROFILES[name]

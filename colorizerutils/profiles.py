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
    eval_size: int          # test frames are scored at eval_size x eval_size (centre crop)
    eval_frames: int        # frames per test clip (from the start of the clip)
    train_size: int         # training crops
    train_frames: int       # frames taken per training clip (every train_step-th)
    train_step: int
    steps: int              # optimiser steps for the image models
    batch: int
    diffusion_steps: int    # optimiser steps for the video diffusion model
    sample_steps: int       # DDIM steps when sampling the diffusion model
    video_frames: int       # frames per test clip scored for the (sequential) diffusion sampler
    sweep_steps: tuple      # sampler step counts compared in notebook 04 (on one test clip)
    ablation_steps: int     # optimiser steps per loss combination in notebook 05
    ablation_batch: int     # its batch size (20 combinations, 8 of them through VGG16: the sweep's main cost)
    bf16: bool              # bf16 autocast on CPU (AMX); quality is checked in make bench
    seeds: tuple = (0,)     # notebook 06 trains the MSE and GAN U-Nets at these (seed 0: 02/03's runs)


PROFILES = {
    "smoke": Profile("smoke", eval_size=64, eval_frames=10, train_size=64, train_frames=6, train_step=20, steps=30,
                     batch=8, diffusion_steps=30, sample_steps=4, video_frames=6, sweep_steps=(2, 4, 8),
                     ablation_steps=6, ablation_batch=8, bf16=False, seeds=(0, 1)),
    # quick: 0.1 s per U-Net step at 64x64, batch 16, on 2 cores (fp32: these CPUs have no AMX, so bf16 is slower).
    # The 20-combination sweep costs ~9.8 s per step of every combination at batch 16 (VGG16 terms 0.5-1 s each),
    # so it runs 150 steps at batch 8 to fit make reproduce's budget.
    "quick": Profile("quick", eval_size=128, eval_frames=48, train_size=64, train_frames=160, train_step=3, steps=1200,
                     batch=16, diffusion_steps=800, sample_steps=25, video_frames=16, sweep_steps=(10, 25, 50, 250),
                     ablation_steps=150, ablation_batch=8, bf16=False, seeds=(0, 1, 2)),
    "full": Profile("full", eval_size=256, eval_frames=10_000, train_size=256, train_frames=10_000, train_step=1,
                    steps=40_000, batch=32, diffusion_steps=100_000, sample_steps=25, video_frames=10_000,
                    sweep_steps=(10, 25, 50, 250), ablation_steps=5_000, ablation_batch=32, bf16=False,
                    seeds=(0, 1, 2, 3, 4)),
}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown PROFILE {name!r}; expected one of {', '.join(PROFILES)}")
    return PROFILES[name]

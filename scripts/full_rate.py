"""Seconds per optimiser step, on this machine, of every training run ``make reproduce`` does at a profile's settings
(``RATE_PROFILE``, default full), and each run's projected training time (its steps times seconds per step).

A one-off for a lent GPU: ``OUT=folder python scripts/full_rate.py`` writes ``full_rate.json`` there;
``results/gpu_h100/`` holds what it measured. Each run is timed at ``N0`` and ``N1`` steps after a 2-step warm-up
(JIT, cuDNN autotuning), and the rate is the difference: start-up and data loading cancel out. The configurations
are the notebooks' own (:mod:`colorizerutils.recipes`, :func:`colorizerutils.ablation.config`).
"""
import dataclasses
import json
import os
import time

import torch

import colorizerutils as cu
from colorizerutils import ablation, recipes, training

P = cu.profile(os.environ.get("RATE_PROFILE", "full"))
N0, N1 = int(os.environ.get("N0", 10)), int(os.environ.get("N1", 60))
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", flush=True)
frames, clips = recipes.image_frames(P, progress=False), recipes.video_clips(P, progress=False)
runs = {"mse_unet": (recipes.mse_unet(P), frames), "gan_unet": (recipes.gan_unet(P), frames),
        "cic": (recipes.cic(P), frames), "diffusion": (recipes.diffusion(P), clips)}
ablation_frames = ablation.train_frames(P, progress=False)
for combo in ("mse", "mse+ssim+perceptual", "mse+lpips+content", "mse+ssim+style"):
    runs[f"ablation {combo}"] = (ablation.config(combo, P), ablation_frames)
rows = []
for name, (cfg, data) in runs.items():
    seconds = []
    for n in (2, N0, N1):
        run = f"rate/{name.replace(' ', '_').replace('+', '_')}_{n}"
        c = dataclasses.replace(cfg, steps=n, run=run, checkpoint_every=10**9, log_every=10**9)
        t0 = time.perf_counter()
        training.train(c, data, progress=False, resume=False)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - t0)
    per = (seconds[2] - seconds[1]) / (N1 - N0)
    rows.append(dict(run=name, batch=cfg.batch, size=cfg.size, seconds_per_step=per, images_per_s=cfg.batch / per,
                     full_profile_steps=cfg.steps, projected_minutes=cfg.steps * per / 60))
    print(json.dumps(rows[-1]), flush=True)
with open(os.path.join(os.environ.get("OUT", "."), "full_rate.json"), "w") as f:
    json.dump(rows, f, indent=1)

"""The training configurations of the kit's image models, built in one place.

Notebook 02 trains ``mse_unet``, notebook 03 ``gan_unet`` and ``cic``, and notebook 06 trains the first two again at
other seeds. Every one of them takes its configuration from here, so a model with the same name and seed has the same
settings wherever it is trained, and notebook 06 can reuse the seed-0 runs of 02 and 03
(:func:`colorizerutils.training.reuse_or_train`).
"""
from __future__ import annotations

from .profiles import Profile
from .training import TrainConfig


def _common(profile: Profile, seed: int) -> dict:
    return dict(steps=profile.steps, batch=profile.batch, size=profile.train_size, bf16=profile.bf16, seed=seed,
                checkpoint_every=max(profile.steps // 5, 1))


def _unet(ngf: int, depth: int, dropout: float, out_stride: int, encoder: str = "none") -> dict:
    if encoder == "none":
        return dict(model="unet", model_kwargs=dict(ngf=ngf, depth=depth, dropout=dropout, out_stride=out_stride))
    # a pretrained encoder: its own decoder (ngf and depth do not apply); frozen for the first half of training
    return dict(model="unet", model_kwargs=dict(encoder=encoder, out_stride=out_stride))


def _encoder_schedule(profile: Profile, encoder: str) -> dict:
    return {} if encoder == "none" else dict(encoder_frozen_steps=profile.steps // 2, encoder_lr_mult=0.1)


def mse_unet(profile: Profile, *, seed: int = 0, run: str = "mse_unet", ngf: int = 24, depth: int = 6,
             dropout: float = 0.5, out_stride: int = 4, lr: float = 2e-4, encoder: str = "none") -> TrainConfig:
    """Notebook 02: the U-Net regressing ab with the mean squared error (``encoder``: none | vgg16)."""
    return TrainConfig(run=run, **_unet(ngf, depth, dropout, out_stride, encoder), objective="regression", loss="mse",
                       lr=lr, **_encoder_schedule(profile, encoder), **_common(profile, seed))


def gan_unet(profile: Profile, *, seed: int = 0, run: str = "gan_unet", ngf: int = 24, depth: int = 6,
             dropout: float = 0.5, out_stride: int = 4, lr: float = 2e-4, recon: str = "mae",
             recon_weight: float = 100.0, disc_norm: str = "spectral") -> TrainConfig:
    """Notebook 03: the same U-Net against a PatchGAN, plus ``recon_weight`` times the ``recon`` loss (pix2pix)."""
    return TrainConfig(run=run, **_unet(ngf, depth, dropout, out_stride), objective="gan", loss=recon,
                       gan_recon_weight=recon_weight, disc_kwargs=dict(norm=disc_norm), lr=lr, **_common(profile, seed))


def cic(profile: Profile, *, seed: int = 0, run: str = "cic", ngf: int = 24, depth: int = 6,
        temperature: float = 0.38) -> TrainConfig:
    """Notebook 03: Zhang et al.'s classification colorizer (annealed-mean temperature ``temperature``)."""
    return TrainConfig(run=run, model="cic", model_kwargs=dict(ngf=ngf, depth=depth, T=temperature),
                       objective="cic", **_common(profile, seed))

"""Models, picked by name: ``build_model("unet", ngf=32)``."""
from __future__ import annotations

from .cic import CIC
from .diffusion_unet import DiffusionUNet
from .patchgan import PatchGAN
from .unet import UNet

MODELS = {"unet": UNet, "patchgan": PatchGAN, "cic": CIC, "diffusion_unet": DiffusionUNet}


def register(name: str, cls) -> None:
    MODELS[name] = cls


def build_model(name: str, **kwargs):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


__all__ = ["MODELS", "build_model", "register", "UNet", "PatchGAN", "CIC", "DiffusionUNet"]

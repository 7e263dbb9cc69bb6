"""Models, picked by name: ``build_model("unet", ngf=32)``, ``build_model("unet", encoder="vgg16")``."""
from __future__ import annotations

from .cic import CIC
from .diffusion_unet import DiffusionUNet
from .patchgan import PatchGAN
from .unet import UNet
from .vgg_unet import VGG16UNet

ENCODERS = ("none", "vgg16")


def unet(*, encoder: str = "none", **kwargs):
    """The image colorizers' generator: the pix2pix U-Net learnt from scratch (``encoder="none"``), or the U-Net on
    an ImageNet VGG16 encoder (``encoder="vgg16"``)."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; expected one of {', '.join(ENCODERS)}")
    return VGG16UNet(**kwargs) if encoder == "vgg16" else UNet(**kwargs)


MODELS = {"unet": unet, "patchgan": PatchGAN, "cic": CIC, "diffusion_unet": DiffusionUNet}


def build_model(name: str, **kwargs):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


__all__ = ["MODELS", "ENCODERS", "build_model", "unet", "UNet", "VGG16UNet", "PatchGAN", "CIC", "DiffusionUNet"]

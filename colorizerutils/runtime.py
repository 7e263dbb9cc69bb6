"""Where the kit runs and how repeatably: the device (``auto``: CUDA when present) and the seeds."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (CPU and CUDA); returns a torch.Generator seeded the same way.

    On CUDA it also asks for deterministic kernels (cuDNN, cuBLAS's workspace, ``use_deterministic_algorithms``,
    warning where an operation has none): CPU training is bitwise repeatable without them, a GPU's is not (on an H100,
    notebook 05's rerun check differed in 51 of 60 weight tensors without them, in none with them). Call it before
    the first CUDA operation.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when present, else the CPU; any other name is torch's (``cpu``, ``cuda:1``)."""
    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name)

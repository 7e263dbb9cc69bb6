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


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read().split("\n\n")[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if k.strip()}


def cpu_description() -> str:
    """The CPU as provenance records it, e.g. ``AMD EPYC (family 25, model 1; avx2, no avx512f, no avx512_bf16, no
    amx_bf16)``: the machines that run the kit vary in generation, and timings and trained weights depend on it (the
    README's machine notes)."""
    import platform

    info = _cpuinfo()
    if not info:
        return platform.processor() or platform.machine()
    flags = _cpu_flags()
    have = [f"{'' if f in flags else 'no '}{f}" for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")]
    return (f"{info.get('model name', 'unknown')} (family {info.get('cpu family', '?')}, "
            f"model {info.get('model', '?')}; {', '.join(have)})")


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where it cannot be read)."""
    return set(_cpuinfo().get("flags", "").split())


def native_bf16(device: str | torch.device = "auto") -> bool:
    """Whether ``device`` computes in bfloat16 natively, so that bf16 convolutions are faster than fp32 ones: a CUDA
    GPU that supports it, or a CPU with AMX or AVX512-BF16 (read from /proc/cpuinfo; False where it cannot be read).
    Without them (AVX2-only CPUs) oneDNN emulates bf16 and it is slower than fp32. ``make bench`` measures the
    ratio (``bench_loss_precision``)."""
    device = resolve_device(device) if isinstance(device, str) else device
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    return bool({"amx_bf16", "avx512_bf16"} & _cpu_flags())


def amx_training(device: str | torch.device = "auto") -> bool:
    """Whether training on ``device`` runs where bf16 autocast makes a whole training step faster, as measured: a CPU
    with AMX (``amx_bf16`` in /proc/cpuinfo). On a 2-core Xeon with AMX it made the quick profile's training steps
    1.1-1.6x faster (``results/bench_training_steps.md``); on a CPU with AVX512-BF16 alone a U-Net step was slower in
    bf16 (62 against 38 ms); on a GPU it has not been measured here, so it is not assumed."""
    device = resolve_device(device) if isinstance(device, str) else device
    return device.type == "cpu" and "amx_bf16" in _cpu_flags()

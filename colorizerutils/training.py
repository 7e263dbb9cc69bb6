"""One training loop for every model; objectives differ only in their step function.

- Objectives by name (:mod:`.objectives`): ``regression`` (any :mod:`.losses` combination, e.g. MSE), ``gan``
  (pix2pix: adversarial + lambda L1), ``cic`` (Zhang et al. re-weighted cross-entropy), ``diffusion`` (DDPM).
- Each step draws its batch and its randomness from a generator seeded by (seed, step, rank), so a run killed and
  resumed from its last checkpoint ends with exactly the weights of an uninterrupted run (CPU).
- Checkpoints (models, optimisers, step) are written atomically every ``checkpoint_every`` steps with the resolved
  configuration beside them; losses go to ``log.csv``; ``final.pt`` is what inference loads.
- Data parallel: launch with ``torchrun`` (gloo on CPU, nccl on GPU); the same loop wraps the networks in DDP.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path

import pandas as pd
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from . import paths
from .atomic import load_torch, torch_save, write_text
from .data import ITEM_SUBSETS
from .diffusion import upgrade_config
from .objectives import GAN_SCHEDULES, OBJECTIVES, Objective, unwrap
from .runtime import resolve_device


@dataclasses.dataclass
class TrainConfig:
    run: str                                  # checkpoints/<run>/ holds checkpoint.pt, final.pt, config.json, log.csv
    model: str = "unet"                       # a name in colorizerutils.models.MODELS
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    objective: str = "regression"             # regression | gan | cic | diffusion
    loss: str = "mse"                         # regression, and the GAN's reconstruction term: a losses combination
                                              # such as "mse+ssim" ("mae" is pix2pix's L1)
    loss_weights: dict = dataclasses.field(default_factory=dict)   # regression and gan: the loss combination's
                                              # weights, e.g. {"ssim": 0.5} (:func:`colorizerutils.losses.build_loss`)
    diffusion: dict = dataclasses.field(default_factory=dict)      # diffusion: its DiffusionSettings, as a dict
    gan_recon_weight: float = 100.0           # gan: weight of the reconstruction term, pix2pix's lambda
    gan_schedule: str = "joint"               # gan: joint (pix2pix: G and D every step) | nogan (DeOldify's phases)
    nogan_phases: tuple = (0.6, 0.2)          # nogan: fractions of steps for G alone, then D alone; the rest joint
    disc_kwargs: dict = dataclasses.field(default_factory=dict)
    steps: int = 1000
    batch: int = 16
    size: int = 64                            # training crop (frames are cached at this size)
    lr: float = 2e-4                          # pix2pix's Adam settings
    betas: tuple = (0.5, 0.999)
    bf16: bool = False                        # autocast to bfloat16 (fast only where the CPU has AMX, or on GPU)
    loss_bf16: bool = False                   # only the frozen VGG16 of the content/perceptual/style terms in bf16
                                              # (runtime.native_bf16: faster where the hardware has it; notebook 05)
    seed: int = 0
    checkpoint_every: int = 200
    log_every: int = 10
    flip: bool = True                         # random horizontal flips
    augment_scale: float = 1.0                # > 1: frames come at size x this; each item is a random square crop of
                                              # side size..that, resized to size (scale and position augmentation)
    train_items: str = "all"                  # image models: all the train split's items, or half of them (every
                                              # other recording and photo: data.pick_items; notebook 06's data row).
                                              # The caller loads them: recipes.config_frames(profile, cfg)
    encoder_frozen_steps: int = 0             # a pretrained encoder (encoder="vgg16") stays frozen this many steps,
    encoder_lr_mult: float = 0.1              # then fine-tunes at this fraction of lr (DeOldify's two phases)
    init_from: str = ""                       # the generator starts from this finished run's final.pt (a run name
                                              # under CHECKPOINTS, or a path), e.g. a GAN fine-tuned from the MSE
                                              # U-Net; its sha256 is recorded in init_sha256 when training starts
    init_sha256: str = ""                     # set by train(): the init_from file it started from
    device: str = "auto"                      # auto: cuda when present, else cpu

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {self.objective!r}")
        if not (self.steps > 0 and self.batch > 0 and self.checkpoint_every > 0):
            raise ValueError(f"steps, batch and checkpoint_every must be > 0, got {self.steps}, {self.batch} and "
                             f"{self.checkpoint_every}")
        if self.diffusion and self.objective != "diffusion":
            raise ValueError(f"diffusion settings apply to the diffusion objective only, not {self.objective!r}")
        if self.augment_scale < 1:
            raise ValueError(f"augment_scale must be >= 1 (frames at size x augment_scale), got {self.augment_scale}")
        if self.train_items not in ITEM_SUBSETS:
            raise ValueError(f"train_items must be one of {ITEM_SUBSETS}, got {self.train_items!r}")
        if self.gan_schedule not in GAN_SCHEDULES:
            raise ValueError(f"gan_schedule must be one of {GAN_SCHEDULES}, got {self.gan_schedule!r}")
        if self.gan_schedule != "joint" and self.objective != "gan":
            raise ValueError(f"gan_schedule applies to the gan objective only, not {self.objective!r}")
        self.nogan_phases = tuple(self.nogan_phases)
        if len(self.nogan_phases) != 2 or min(self.nogan_phases) < 0 or sum(self.nogan_phases) >= 1:
            raise ValueError(f"nogan_phases: two fractions of the steps (G alone, D alone) summing below 1, got "
                             f"{self.nogan_phases}")
        if self.loss_weights and self.objective not in ("regression", "gan"):
            raise ValueError(f"loss_weights weigh the regression and GAN losses, not the {self.objective} objective")
        self.betas = tuple(self.betas)

    @property
    def run_dir(self) -> Path:
        return paths.CHECKPOINTS / self.run


# --------------------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------------------
def _rank() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 9_973 + rank * 7_919) % (2 ** 62)


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    nets: dict            # the trained networks (unwrapped from DDP)
    steps_done: int       # steps taken by this process (after resuming)
    finished: bool


def train(cfg: TrainConfig, frames: torch.Tensor, *, progress: bool = True, resume: bool = True,
          stop_after: int | None = None, restart_if_changed: bool = False) -> TrainResult:
    """Train ``cfg`` on ``frames`` (N,3,S,S) LAB (or clips, for the diffusion objective).

    With ``resume`` an existing ``checkpoint.pt`` is continued from (a finished run returns at once).
    ``stop_after`` ends early after that many steps in this process (a deliberate interruption, used to show that
    resuming is exact). ``restart_if_changed``: when the run folder holds another configuration, start it over
    (notebooks rerun with another PROFILE) instead of refusing.
    """
    rank, world = _rank()
    device = resolve_device(cfg.device)
    run_dir = cfg.run_dir
    torch.manual_seed(cfg.seed)                           # initial weights depend on the seed only
    obj = OBJECTIVES[cfg.objective](cfg, frames)
    if cfg.init_from:
        cfg = _start_from(cfg, obj)
    to_device(obj, device)
    opts = obj.optimizers()
    start = 0
    ckpt_path = run_dir / "checkpoint.pt"
    if resume and ckpt_path.exists():
        ckpt = load_torch(ckpt_path, map_location=device)
        saved = _saved_config(ckpt["config"])
        if saved != _config_dict(cfg, ignore=("steps",)) and restart_if_changed:
            import shutil

            shutil.rmtree(run_dir)
            ckpt = None
        elif saved != _config_dict(cfg, ignore=("steps",)):
            raise ValueError(f"{ckpt_path} was written by a different configuration; use another run name or "
                             f"delete the folder to start over")
    if resume and ckpt_path.exists():
        for k, n in obj.nets.items():
            n.load_state_dict(ckpt["nets"][k])
        for k, o in opts.items():
            o.load_state_dict(ckpt["opts"][k])
        start = ckpt["step"]
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        for k, n in list(obj.nets.items()):
            if any(p.requires_grad for p in n.parameters()):
                obj.nets[k] = DDP(n, device_ids=[device.index] if device.type == "cuda" else None)
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text(run_dir / "config.json", json.dumps(_config_dict(cfg), indent=1) + "\n")
    log_path = run_dir / "log.csv"
    log_rows = _read_log(log_path, upto=start) if rank == 0 else []

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16)

    for n in obj.nets.values():
        n.train()
    t0 = time.perf_counter()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=cfg.run, disable=not progress or rank)
    done = 0
    for step in bar:
        gen = torch.Generator().manual_seed(_step_seed(cfg.seed, step, rank))
        torch.manual_seed(_step_seed(cfg.seed, step, rank) + 1)   # dropout and other in-model noise
        if hasattr(obj, "at_step"):
            obj.at_step(step)
        b = obj.batch(gen, device)
        values = obj.step(b, opts, autocast)
        if not all(math.isfinite(v) for v in values.values()):
            raise FloatingPointError(f"{cfg.run}: non-finite loss at step {step + 1}: {values}")
        done += 1
        s = step + 1
        if rank == 0 and (s % cfg.log_every == 0 or s == cfg.steps):
            log_rows.append({"step": s, **values, "seconds": round(time.perf_counter() - t0, 3)})
            bar.set_postfix({k: f"{v:.4f}" for k, v in list(values.items())[:1]})   # loss; NoGAN's critic phase: d
        if rank == 0 and (s % cfg.checkpoint_every == 0 or s == cfg.steps):
            _save_checkpoint(cfg, obj, opts, s, ckpt_path)
            _write_log(log_rows, log_path)
        if stop_after is not None and done >= stop_after:
            break
    if world > 1:
        # DDP syncs buffers (BatchNorm statistics) at the start of each forward; after the last step each rank still
        # holds its own batch's statistics, so take rank 0's everywhere before saving
        for n in obj.nets.values():
            for buf in unwrap(n).buffers():
                dist.broadcast(buf, 0)
    if rank == 0 and (done or not (run_dir / "final.pt").exists()):
        # a finished run asked for again (reuse_or_train) trains no step and keeps its files as they are: written
        # again, final.pt's bytes could change (a field added to the configuration since), and with them the sha256
        # that its calibration and any run started from it record
        _write_log(log_rows, log_path)
        if start + done >= cfg.steps:
            save_model(obj, cfg, run_dir / "final.pt")
    if world > 1:
        dist.barrier()
    return TrainResult(run_dir, {k: unwrap(n) for k, n in obj.nets.items()}, done, start + done >= cfg.steps)


def init_path(cfg: TrainConfig) -> Path:
    """The ``final.pt`` that ``cfg.init_from`` names (a run folder under CHECKPOINTS, a run folder, or the file)."""
    p = Path(cfg.init_from)
    p = p if p.is_absolute() or p.exists() else paths.CHECKPOINTS / cfg.init_from
    return p / "final.pt" if p.suffix != ".pt" else p


def _start_from(cfg: TrainConfig, obj) -> TrainConfig:
    """Load ``cfg.init_from``'s weights into the objective's generator; returns ``cfg`` with ``init_sha256`` set to
    the file's sha256 (refusing a file whose sha256 differs from one already set, or whose network differs)."""
    from .download import sha256sum

    path = init_path(cfg)
    if not path.exists():
        raise FileNotFoundError(f"{path}: init_from {cfg.init_from!r} has no final.pt; train that run first")
    digest = sha256sum(path)
    if cfg.init_sha256 and cfg.init_sha256 != digest:
        raise ValueError(f"{path}: sha256 {digest[:12]}... is not the init_sha256 {cfg.init_sha256[:12]}... that "
                         f"{cfg.run} asks for (the run it starts from was trained again)")
    saved = load_torch(path, map_location="cpu")
    if (saved.get("model"), saved.get("model_kwargs")) != (cfg.model, cfg.model_kwargs):
        raise ValueError(f"{path}: a {saved.get('model')} {saved.get('model_kwargs')}, not the {cfg.model} "
                         f"{cfg.model_kwargs} that {cfg.run} trains")
    unwrap(obj.nets["G"]).load_state_dict(saved["state"])
    return dataclasses.replace(cfg, init_sha256=digest)


def reuse_or_train(cfg: TrainConfig, frames: torch.Tensor, *, reuse: tuple | list = (),
                   progress: bool = True) -> Path:
    """The folder of a finished run with ``cfg``'s settings: the first run named in ``reuse`` whose ``final.pt`` was
    trained with exactly these settings (all but the run name), else ``cfg``'s own run, trained now (resumed if
    interrupted; started over if its folder holds other settings).

    Notebook 06 takes its seed-0 models from notebooks 02 and 03 this way instead of training them twice.
    """
    if cfg.init_from and not cfg.init_sha256 and init_path(cfg).exists():   # the file it would start from now
        from .download import sha256sum

        cfg = dataclasses.replace(cfg, init_sha256=sha256sum(init_path(cfg)))
    want = _config_dict(cfg, ignore=("run",))
    for name in reuse:
        final = paths.CHECKPOINTS / name / "final.pt"
        if final.exists():
            got = _saved_config(load_torch(final).get("config", {}))
            got.pop("run", None)
            if got == want:
                return final.parent
    return train(cfg, frames, progress=progress, restart_if_changed=True).run_dir


def to_device(obj, device: torch.device) -> None:
    """Move an objective's networks and every module it holds beside them (loss networks: VGG16, LPIPS) to
    ``device``; a loss left on the CPU fails the first step on a GPU."""
    for n in obj.nets.values():
        n.to(device)
    for v in vars(obj).values():
        if isinstance(v, torch.nn.Module):
            v.to(device)


def _saved_config(config: dict) -> dict:
    """A checkpoint's configuration in today's fields (:func:`colorizerutils.diffusion.upgrade_config`), where a
    field added to :class:`TrainConfig` since it was written holds its default, which is what the run trained with."""
    d = upgrade_config(config)
    for f in dataclasses.fields(TrainConfig):
        if f.name not in d and f.name != "steps" and f.default is not dataclasses.MISSING:
            d[f.name] = f.default
    return d


def _config_dict(cfg: TrainConfig, ignore=()) -> dict:
    d = dataclasses.asdict(cfg)
    d["betas"] = list(d["betas"])
    for k in ignore:
        d.pop(k)
    return d


def _save_checkpoint(cfg, obj, opts, step, path):
    torch_save({"step": step, "config": _config_dict(cfg, ignore=("steps",)),
                "nets": {k: unwrap(n).state_dict() for k, n in obj.nets.items()},
                "opts": {k: o.state_dict() for k, o in opts.items()}}, path)


def _read_log(path: Path, upto: int) -> list[dict]:
    if not path.exists() or upto == 0:
        return []
    df = pd.read_csv(path)
    return df[df["step"] <= upto].to_dict("records")


def _write_log(rows: list[dict], path: Path) -> None:
    if rows:
        from .atomic import atomic_path

        with atomic_path(path) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)


def save_model(obj: Objective, cfg: TrainConfig, path: Path) -> Path:
    G = unwrap(obj.export() if hasattr(obj, "export") else obj.nets["G"])   # diffusion: its weight average
    return save_network(G, cfg, path)


def save_network(net: torch.nn.Module, cfg: TrainConfig, path: Path) -> Path:
    """``net`` as a ``final.pt`` that :func:`colorizerutils.inference.load_colorizer` reads, ``cfg`` its recipe."""
    return torch_save({"model": cfg.model, "model_kwargs": cfg.model_kwargs, "objective": cfg.objective,
                       "state": net.state_dict(), "config": _config_dict(cfg), "kit": "colorizerutils"}, path)


def read_log(run: str | Path) -> pd.DataFrame:
    path = Path(run) if Path(run).is_absolute() else paths.CHECKPOINTS / str(run)
    if (path / "log.csv").exists():
        return pd.read_csv(path / "log.csv")
    raise FileNotFoundError(f"{path / 'log.csv'}: no training log")


def plot_losses(run: str | Path, ax=None, *, smooth: int = 5):
    """Loss curves of a run (rolling mean over ``smooth`` log rows), one line per logged term."""
    import matplotlib.pyplot as plt

    df = read_log(run)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for col in df.columns:
        if col not in ("step", "seconds"):
            ax.plot(df["step"], df[col].rolling(smooth, min_periods=1).mean(), label=col)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(Path(str(run)).name)
    ax.legend(fontsize=8)
    return ax


def ddp_main(argv: list[str] | None = None) -> None:
    """``torchrun --nproc_per_node=N -m colorizerutils.training CONFIG.json FRAMES.pt [REPLICA_DIR]``.

    The same loop in N processes (gloo on CPU, nccl on GPU); with REPLICA_DIR each rank also saves its final
    generator weights there, so that one can check the replicas agree.
    """
    import sys

    argv = sys.argv[1:] if argv is None else argv
    cfg = TrainConfig(**json.loads(Path(argv[0]).read_text()))
    frames = load_torch(argv[1])
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    try:
        result = train(cfg, frames, progress=False)
        if len(argv) > 2:
            Path(argv[2]).mkdir(parents=True, exist_ok=True)
            torch_save(result.nets["G"].state_dict(), Path(argv[2]) / f"rank{dist.get_rank()}.pt")
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    ddp_main()

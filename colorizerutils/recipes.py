"""The training configurations of the kit's models, and their training data, built in one place.

Notebook 02 trains ``mse_unet``, notebook 03 ``gan_unet`` and ``cic``, notebook 04 ``diffusion``, and notebook 06
trains the first two again at other seeds; ``colorizer models`` trains the CLI's defaults (``mse_unet``,
``diffusion``) with the same settings. Every one of them takes its configuration from here, so a model with the same name and seed has the same
settings wherever it is trained, and notebook 06 can reuse the seed-0 runs of 02 and 03
(:func:`colorizerutils.training.reuse_or_train`).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import torch

from .profiles import Profile, profile as get_profile
from .training import TrainConfig
from .inference import read_calibration


def _common(profile: Profile, seed: int, *, bf16_measured: bool = False) -> dict:
    """``bf16_measured``: the recipe's bf16 training was measured on a CPU with AMX (``Profile.train_bf16``)."""
    return dict(steps=profile.steps, batch=profile.batch, size=profile.train_size,
                bf16=profile.train_bf16(measured=bf16_measured), seed=seed, checkpoint_every=max(profile.steps // 5, 1))


def _unet(ngf: int, depth: int, dropout: float, out_stride: int, encoder: str = "none") -> dict:
    if encoder == "none":
        return dict(model="unet", model_kwargs=dict(ngf=ngf, depth=depth, dropout=dropout, out_stride=out_stride))
    # a pretrained encoder: its own decoder (ngf and depth do not apply); frozen for the first half of training
    return dict(model="unet", model_kwargs=dict(encoder=encoder, out_stride=out_stride))


def _encoder_schedule(profile: Profile, encoder: str) -> dict:
    return {} if encoder == "none" else dict(encoder_frozen_steps=profile.steps // 2, encoder_lr_mult=0.1)


def mse_unet(profile: Profile, *, seed: int = 0, run: str = "mse_unet", ngf: int = 24, depth: int = 6,
             dropout: float = 0.5, out_stride: int = 4, lr: float = 2e-4, encoder: str = "none") -> TrainConfig:
    """Notebook 02: the U-Net regressing ab with the mean squared error.

    ``ngf`` 24 keeps 256x256 inference near 60 frames per second on 2 CPU cores (``make bench``); ``depth`` levels
    down and up (inputs are padded to a multiple of 2**depth px); ``dropout``: pix2pix's, in the three innermost
    decoder blocks, curbs overfitting on small data; ``out_stride`` 4 predicts ab at a quarter of the resolution,
    upsampled onto full L as in Zhang et al. (1 is pix2pix); ``lr``: pix2pix's Adam rate; ``encoder``: none | vgg16
    (ImageNet, frozen for the first half of training, then fine-tuned at a tenth of ``lr``).
    """
    return TrainConfig(run=run, **_unet(ngf, depth, dropout, out_stride, encoder), objective="regression", loss="mse",
                       lr=lr, **_encoder_schedule(profile, encoder),
                       **_common(profile, seed, bf16_measured=True))   # its variants too: notebook 06's pairs
                                                                          # differ in one setting only


def gan_unet(profile: Profile, *, seed: int = 0, run: str = "gan_unet", ngf: int = 24, depth: int = 6,
             dropout: float = 0.5, out_stride: int = 4, lr: float = 2e-4, recon: str = "mae",
             recon_weight: float = 100.0, disc_norm: str = "spectral", schedule: str = "nogan") -> TrainConfig:
    """Notebook 03: the same U-Net against a PatchGAN, plus ``recon_weight`` times the ``recon`` loss (pix2pix).

    ``recon``: mae (pix2pix's L1) | mse (notebook 02's loss) | any :mod:`.losses` combination; ``recon_weight``:
    pix2pix's lambda, which keeps the GAN near the target while the adversary adds colour; ``disc_norm``: the
    PatchGAN's normalisation, spectral (Miyato et al. 2018) | batch (pix2pix) | none; ``schedule``: nogan (DeOldify:
    the generator alone, then the critic alone on its outputs, then a short adversarial phase;
    :class:`colorizerutils.objectives.GAN`) | joint (both networks every step, pix2pix). Notebook 06's effects table
    (``results/06_effects.md``) compares the two paired over seeds; NoGAN is the default for its cost, since both
    networks train together only in its last fifth of the steps (50-60% of the joint schedule's time on 2 CPU cores).
    """
    return TrainConfig(run=run, **_unet(ngf, depth, dropout, out_stride), objective="gan", loss=recon,
                       gan_recon_weight=recon_weight, disc_kwargs=dict(norm=disc_norm), lr=lr, gan_schedule=schedule,
                       **_common(profile, seed, bf16_measured=True))


def cic(profile: Profile, *, seed: int = 0, run: str = "cic", ngf: int = 24, depth: int = 6,
        temperature: float = 0.38) -> TrainConfig:
    """Notebook 03: Zhang et al.'s classification colorizer (annealed-mean temperature ``temperature``)."""
    return TrainConfig(run=run, model="cic", model_kwargs=dict(ngf=ngf, depth=depth, T=temperature),
                       objective="cic", **_common(profile, seed))


def diffusion(profile: Profile, *, seed: int = 0, run: str = "diffusion", ch: int = 32, size: int = 64,
              batch: int = 12, lr: float = 2e-4, vgg_features: bool = False, anchor: str = "flow",
              prediction: str = "sample", data_scale: float = 4.0, exemplar_window: int = 5,
              anchor_size: int = 256, synthetic_frames: int = 0) -> TrainConfig:
    """Notebook 04: the exemplar-guided video diffusion model (:mod:`colorizerutils.diffusion`).

    ``ch``: the denoising U-Net's base width; ``size``: it trains and samples at this many px (ab is upsampled onto
    the full-resolution L); ``batch``: frames per step, each with its own dropped conditions; ``lr``: AdamW's;
    ``vgg_features``: add ImageNet VGG16 relu2_2 features of the gray frame (the seed paper's conditioning);
    ``anchor``: the model generates ab minus this, flow (the exemplar moved by optical flow) | exemplar | none |
    fused (the anchor the exemplar colorizer builds at full resolution, :class:`colorizerutils.flow.FlowAnchor`: the
    model trains on that very anchor, built down each train clip at ``anchor_size`` px, and sees its confidence;
    ``synthetic_frames`` > 0 adds a clip that long made from each train photo, :func:`colorizerutils.data.
    synthetic_clips`: a moving window and a moving occluder);
    ``prediction``: the network predicts x0 (sample) | v_prediction | epsilon; ``data_scale``: the residual's scale
    (normalised ab has a std near 0.15, the noise 1); ``exemplar_window``: training exemplars lie within this many
    sampled frames of the target (0: anywhere in the clip).
    """
    from .diffusion import DiffusionSettings

    settings = DiffusionSettings(anchor=anchor, prediction=prediction, data_scale=data_scale,
                                 exemplar_window=exemplar_window, anchor_size=anchor_size,
                                 synthetic_frames=synthetic_frames)
    return TrainConfig(run=run, model="diffusion_unet", model_kwargs=dict(ch=ch, vgg_features=vgg_features),
                       objective="diffusion", diffusion=dataclasses.asdict(settings), steps=profile.diffusion_steps,
                       batch=batch, size=size, lr=lr, betas=(0.9, 0.999), bf16=profile.train_bf16(measured=True),
                       seed=seed, checkpoint_every=max(profile.diffusion_steps // 5, 1))


# Notebook 06's table of what each change moves (issue 14): ``{change: (the model with it, the model without it)}``,
# both trained at every seed, by the names :func:`seed_configs` gives them. The GAN U-Net and the MSE U-Net are the
# kit's defaults; each other name is one of them with one setting changed (:func:`_variant`).
EFFECTS = {
    "encoder": ("MSE U-Net, ImageNet VGG16 encoder", "MSE U-Net"),
    "NoGAN": ("GAN U-Net", "GAN U-Net, joint schedule"),
    "data": ("MSE U-Net", "MSE U-Net, half the training items"),
    "augmentation": ("MSE U-Net, scale augmentation x1.5", "MSE U-Net"),
}


def _variant(name: str, profile: Profile, seed: int, unet: dict, gan: dict) -> tuple[TrainConfig, str | None]:
    """One model of :data:`EFFECTS` that is not a default: its configuration at ``seed`` and the run of notebook 02
    or 03 that can stand in for it at seed 0 (None: no notebook trains it)."""
    if name == "MSE U-Net, ImageNet VGG16 encoder":
        return mse_unet(profile, seed=seed, run=f"seeds/mse_unet_vgg16_s{seed}", encoder="vgg16", **unet), None
    if name == "GAN U-Net, joint schedule":
        return (gan_unet(profile, seed=seed, run=f"seeds/gan_unet_joint_s{seed}", **unet, **dict(gan, schedule="joint")),
                "gan_unet_joint")
    if name == "MSE U-Net, half the training items":
        return dataclasses.replace(mse_unet(profile, seed=seed, run=f"seeds/mse_unet_half_s{seed}", **unet),
                                   train_items="half"), None
    if name == "MSE U-Net, scale augmentation x1.5":
        return dataclasses.replace(mse_unet(profile, seed=seed, run=f"seeds/mse_unet_scale_s{seed}", **unet),
                                   augment_scale=1.5), None
    raise ValueError(f"unknown model {name!r}; the effects' models are {sorted({m for p in EFFECTS.values() for m in p})}")


def seed_configs(profile: Profile, seed: int, *, unet: dict | None = None, gan: dict | None = None,
                 effects=()) -> dict[str, tuple[TrainConfig, str | None]]:
    """Notebook 06's models at ``seed``: ``{name: (configuration, the run of notebook 02 or 03 that can stand in for
    it, or None)}``; ``unet`` overrides both U-Nets' settings, ``gan`` the GAN's own (:func:`mse_unet`,
    :func:`gan_unet`). ``effects`` (keys of :data:`EFFECTS`) adds the models each of those changes is measured by."""
    unet, gan = unet or {}, gan or {}
    unknown = [e for e in effects if e not in EFFECTS]
    if unknown:
        raise ValueError(f"unknown effect {unknown}; expected some of {list(EFFECTS)}")
    out = {"MSE U-Net": (mse_unet(profile, seed=seed, run=f"seeds/mse_unet_s{seed}", **unet), "mse_unet"),
           "GAN U-Net": (gan_unet(profile, seed=seed, run=f"seeds/gan_unet_s{seed}", **unet, **gan), "gan_unet")}
    for name in dict.fromkeys(m for e in effects for m in EFFECTS[e]):
        if name not in out:
            out[name] = _variant(name, profile, seed, unet, gan)
    return out


def seed_sweep(profile: Profile, seeds, frames: torch.Tensor, splits: dict, protocol, *, unet: dict | None = None,
               gan: dict | None = None, effects=(), ground_truth: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Notebook 06's models (:func:`seed_configs`, with the models of ``effects``) at every seed, each trained on
    the frames its configuration asks for (:func:`config_frames`; ``frames``: the profile's default ones, already
    loaded), or taken from notebook 02 or 03 where the settings are the same
    (:func:`colorizerutils.training.reuse_or_train`), and scored as trained on every split of ``splits``
    (``{split: clips}``), all models of a seed side by side. Returns one row per split, model and seed, and the
    configurations; with ``ground_truth`` (a method name), also the real frames' own row per split, once (seed
    None), whose colourfulness is what the models' should be near."""
    from tqdm.auto import tqdm

    from . import evaluate
    from .training import reuse_or_train
    from .inference import load_colorizer

    loaded = {(profile.train_size, "all"): frames}
    rows, configs = [], {}
    for seed in tqdm(seeds, desc="seeds"):
        models, runs = {}, {}
        for name, (cfg, reuse) in seed_configs(profile, seed, unet=unet, gan=gan, effects=effects).items():
            configs[f"{name}, seed {seed}"] = cfg
            run_dir = reuse_or_train(cfg, config_frames(profile, cfg, loaded=loaded), reuse=[reuse] if reuse else [])
            runs[name], models[name] = run_dir.name, load_colorizer(run_dir, calibrated=False)   # as trained
        truth = ground_truth if not rows else None                     # the real frames are the same at every seed
        scored = {split: evaluate.summarize(evaluate.evaluate_all(models, clips, protocol=protocol, progress=False,
                                                                  ground_truth=truth))
                  for split, clips in splits.items()}                     # all models side by side per clip
        rows += [s[s.method == name].assign(split=split, seed=seed, run=runs[name])
                 for name in models for split, s in scored.items()]
        if truth:
            rows += [s[s.method == truth].assign(split=split, seed=None, run=None) for split, s in scored.items()]
    per_seed = pd.concat(rows, ignore_index=True)
    per_seed["seed"] = per_seed["seed"].astype("Int64")                   # the real frames' row has none
    first = ["split", "method", "seed", "run"]
    return per_seed[first + [c for c in per_seed.columns if c not in first]], configs


def config_frames(profile: Profile, cfg: TrainConfig, *, loaded: dict | None = None,
                  progress: bool = True) -> torch.Tensor:
    """The frames an image configuration trains on: at its training size (``augment_scale``:
    :func:`colorizerutils.objectives.training_frame_size`), from its ``train_items``. ``loaded``
    (``{(size, items): frames}``) keeps what was loaded, for the next configuration that needs the same."""
    from .objectives import training_frame_size

    key = (training_frame_size(cfg), cfg.train_items)
    loaded = {} if loaded is None else loaded
    if key not in loaded:
        loaded[key] = image_frames(profile, size=key[0], items=key[1], progress=progress)
    return loaded[key]


def image_frames(profile: Profile, *, progress: bool = True, size: int | None = None,
                 items: str = "all") -> torch.Tensor:
    """The image models' training frames (N,3,S,S) LAB: every train clip and photo (``items="half"``: half of them,
    :func:`colorizerutils.data.pick_items`) at the profile's size, or at ``size`` (a configuration with
    ``augment_scale``: :func:`colorizerutils.objectives.training_frame_size`)."""
    from . import data

    clips = data.load_split("train", size=size or profile.train_size, max_frames=profile.train_frames,
                            step=profile.train_frame_stride, progress=progress, items=items)
    return torch.cat(list(clips.values()))


def video_clips(profile: Profile, *, size: int = 64, progress: bool = True, step: int | None = None
                ) -> dict[str, torch.Tensor]:
    """The video model's training clips ``{name: (T,3,size,size)}`` LAB, every ``step``-th frame (default: the
    profile's ``train_frame_stride``)."""
    from . import data

    return data.load_split("train", kind="video", size=size, max_frames=profile.train_frames,
                           step=profile.train_frame_stride if step is None else step, progress=progress)


def diffusion_clips(profile: Profile, cfg: TrainConfig, *, progress: bool = True) -> dict[str, torch.Tensor]:
    """The training clips a diffusion configuration trains on: at its model size; or, with ``anchor="fused"``,
    consecutive frames (as the exemplar colorizer's anchor chain sees them) at ``anchor_size`` px, from which the
    objective builds its anchors (:func:`colorizerutils.objectives.fused_anchor_clips`)."""
    from . import data

    d = cfg.diffusion
    if d.get("anchor") != "fused":
        return video_clips(profile, size=cfg.size, progress=progress)
    size = d.get("anchor_size", 256)
    clips = video_clips(profile, size=size, step=1, progress=progress)
    if d.get("synthetic_frames", 0):
        photos = data.load_split("train", kind="image", size=round(size * 1.25), progress=progress)
        clips.update(data.synthetic_clips(photos, frames=d["synthetic_frames"], size=size, seed=cfg.seed,
                                          progress=progress))
    return clips


# Measured training times on 2 CPU cores, from the runs' log.csv (mse_unet: 1200 steps in 184.7 s, nothing else
# running; diffusion: 800 steps in 446 s, beside other work): what a notebook announces before it trains a model it
# needs from an earlier notebook. Models without a measured time are announced without one.
TRAIN_SECONDS = {"quick": {"mse_unet": 185, "diffusion": 446}}


def _builders(P: Profile, progress: bool) -> dict:
    image = lambda: image_frames(P, progress=progress)
    return {"mse_unet": (mse_unet(P), image), "gan_unet": (gan_unet(P), image), "cic": (cic(P), image),
            "diffusion": (diffusion(P), lambda: diffusion_clips(P, diffusion(P), progress=progress))}


def ensure_models(names, profile_name: str = "quick", *, progress: bool = True) -> dict[str, Path]:
    """The named models an earlier notebook trains (notebook 03 uses 02's ``mse_unet``): kept when a finished run
    exists under that name, at whatever settings, otherwise trained here at ``profile_name`` with the earlier
    notebook's settings (saying how long that takes first)."""
    from . import paths
    from .training import train

    P = get_profile(profile_name)
    builders = _builders(P, progress)
    unknown = [n for n in names if n not in builders]
    if unknown:
        raise ValueError(f"unknown model {unknown}; expected some of {', '.join(builders)}")
    out = {}
    for name in names:
        run_dir = paths.CHECKPOINTS / name
        if not (run_dir / "final.pt").exists():
            secs = TRAIN_SECONDS.get(P.name, {}).get(name)
            print(f"{name} is not trained yet (an earlier notebook trains it): training it now at PROFILE={P.name}"
                  + (f", about {max(1, round(secs / 60))} min on 2 CPU cores" if secs else ""), flush=True)
            cfg, frames = builders[name]
            train(cfg, frames(), progress=progress)
        out[name] = run_dir
    return out


def starter_models(profile_name: str = "quick", *, progress: bool = True) -> dict[str, Path]:
    """Train the CLI's default models, ``mse_unet`` and ``diffusion``, with notebooks 02 and 04's settings (a
    finished run with the same settings is kept), so ``colorizer colorize`` works without ``make reproduce``.
    Each is calibrated as its notebook does: ``mse_unet`` cross-fitted on train (:func:`calibrate_cross_fitted`,
    5 more trainings), ``diffusion``'s automatic mode on val (:func:`calibrate_on_val`)."""
    from .training import train

    P = get_profile(profile_name)
    builders = _builders(P, progress)
    out, cfgs = {}, {}
    for name in ("mse_unet", "diffusion"):
        cfg, frames = builders[name]
        out[cfg.run] = train(cfg, frames(), progress=progress, restart_if_changed=True).run_dir
        cfgs[cfg.run] = cfg
    for name, run in out.items():
        if read_calibration(run / "final.pt") is None:
            if cfgs[name].objective == "diffusion":
                calibrate_on_val(run, P, progress=progress)
            else:
                calibrate_cross_fitted(cfgs[name], P, progress=progress)
    return out


def fold_config(cfg: TrainConfig, k: int, steps: int) -> TrainConfig:
    """The configuration of the cross-fit's fold ``k`` (:func:`calibrate_cross_fitted`): ``cfg`` as run
    ``<cfg.run>_fold<k>`` for ``steps`` steps, with a pretrained encoder's frozen phase shortened in proportion, so
    that a shorter fold keeps the same schedule (frozen for the first half, then fine-tuned)."""
    frozen = round(cfg.encoder_frozen_steps * steps / cfg.steps)
    return dataclasses.replace(cfg, run=f"{cfg.run}_fold{k}", steps=steps, encoder_frozen_steps=frozen)


def calibrate_cross_fitted(cfg: TrainConfig, profile: Profile, *, protocol=None, scales=None,
                           extra_frames: torch.Tensor | None = None, fold_steps: int | None = None,
                           progress: bool = True) -> pd.DataFrame:
    """Fit the chroma scale of the per-frame model trained with ``cfg`` on the train split itself, cross-fitted by
    source, and write it beside its checkpoint (:func:`colorizerutils.evaluate.write_calibration`, with the folds
    and the items left out). Returns the long table of fold, item, scale, PSNR and colourfulness the scale was
    chosen from (the items left out are not in it).

    For each fold of :func:`colorizerutils.data.source_folds` the same configuration is trained (:func:`fold_config`,
    run ``<cfg.run>_fold<k>``; a finished one with these settings is kept) on the other folds' items, and on
    ``extra_frames`` if given (frames that ``cfg``'s model trained on besides the train split, never scored), for
    ``fold_steps`` steps (default: ``profile.crossfit_fraction`` of ``cfg.steps``; half at the quick profile, where
    half-length folds chose the same scale as full-length ones at seeds 0-2), and
    scored at every chroma scale on its own fold's items (``protocol``, default every ``sweep_stride``-th frame at
    the automatic protocol, as val is). The scale of highest mean PSNR over the items, each weighted equally, is the
    calibration; an item with a gray frame in its truth (a black frame), whose PSNR at scale 0 is infinite, is left
    out.

    Why not the val split: it holds 2 clips and 2 photos, and the scale fitted there moved with the seed (0.35-0.5 at
    the quick profile) and gave the test clips 0.2-0.8 dB less than this one, which chose 0.3 at seeds 0-2 and
    scored within 0.1 dB of val's own best on val (``scripts/automatic_probes.py crossfit``). It costs one training
    per fold (5 on the default data), each of ``fold_steps``."""
    import numpy as np

    from . import data, evaluate, paths
    from .inference import load_colorizer
    from .objectives import training_frame_size
    from .training import reuse_or_train

    protocol = protocol or evaluate.automatic(profile, stride=profile.sweep_stride)
    items = data.pick_items(data.split_items("train"), cfg.train_items)      # the items ``cfg`` trains on
    frames = data.load_split("train", size=training_frame_size(cfg), max_frames=profile.train_frames,
                             step=profile.train_frame_stride, progress=progress, items=cfg.train_items)
    folds = data.source_folds(items)
    if len(folds) < 2:
        raise ValueError(f"cross-fitting needs train items from at least 2 sources; found {', '.join(folds)}")
    fold_steps = fold_steps or max(1, round(cfg.steps * profile.crossfit_fraction))
    curves = []
    for k, (fold, held_out) in enumerate(folds.items()):
        out = {i["name"] for i in held_out}
        rest = torch.cat([v for name, v in frames.items() if name not in out]
                         + ([] if extra_frames is None else [extra_frames]))
        run = reuse_or_train(fold_config(cfg, k, fold_steps), rest, progress=progress)
        model = load_colorizer(run, calibrated=False)
        for item in held_out:
            _, table = evaluate.fit_chroma_scale(model, {item["name"]: Path(item["abspath"])}, protocol,
                                                 scales=scales, progress=False)
            curves.append(table.assign(fold=fold, item=item["name"]))
    long = pd.concat(curves, ignore_index=True)
    kept = long[~long.item.isin(long[np.isinf(long.psnr)].item)]
    mean = kept.groupby("chroma_scale", as_index=False)[["psnr", "colorfulness", "gt_colorfulness"]].mean()
    best = float(mean.loc[mean.psnr.idxmax(), "chroma_scale"])
    evaluate.write_calibration(paths.CHECKPOINTS / cfg.run / "final.pt", best, mean,
                               fitted_on=sorted(kept.item.unique()), protocol=protocol,
                               method="cross-fitted on train by source",
                               folds={f: [i["name"] for i in v] for f, v in folds.items()}, fold_steps=fold_steps,
                               left_out=sorted(set(long.item) - set(kept.item)))
    return kept


def calibrate_on_val(run: str | Path, profile: Profile, *, protocol=None, sampler_options: dict | None = None,
                     progress: bool = True):
    """Fit a model's chroma scale (the diffusion model: its automatic mode's colourfulness target and step count) on the val clips
    (:func:`colorizerutils.evaluate.calibrate`) and return the fit's table. A per-frame model (notebook 02) is fitted on every ``sweep_stride``-th frame at the automatic protocol;
    the diffusion model's automatic mode (notebook 04) at ``protocol``, default the exemplar protocol that notebook
    04 scores with, sampled with ``sampler_options`` (default: the profile's steps)."""
    from . import evaluate
    from .inference import read_checkpoint

    if read_checkpoint(run)["objective"] == "diffusion":
        protocol = protocol or evaluate.exemplar(profile)
        sampler_options = sampler_options or dict(steps=profile.sample_steps)
    else:
        protocol = protocol or evaluate.automatic(profile, stride=profile.sweep_stride)
    return evaluate.calibrate(run, evaluate.test_clips("val"), protocol, sampler_options=sampler_options,
                              progress=progress)

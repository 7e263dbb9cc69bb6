"""The loss-ablation study of "Enhancing Video Colorization with Deep Learning: A Comprehensive Analysis of
Training Loss Functions" (the seed paper), redone with the kit's model, data and metrics; and an audit of how the
paper's numbers were likely produced.

Every combination trains the same U-Net on the same frames for the same steps, at each of the profile's
``ablation_seeds``; a table reports the mean over seeds with its standard error, and the discussion ranks two
combinations only where their paired difference exceeds twice its standard error. A run is named by a hash of its
configuration, so a finished run is never retrained; the two orderings of one set of terms that the paper lists
as separate rows (``mae+lpips+ssim`` and ``mae+ssim+lpips``) are one configuration. Runs are independent processes
that ``make -j`` can run in parallel (``make ablation``); ``make bench`` measures whether that pays.
"""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import torch

from .atomic import load_torch
from .profiles import Profile
from .training import TrainConfig

# The paper's table (its README, "Quantitative results"): combination, SSIM, PSNR, LPIPS as published. The paper's
# header prints LPIPS with an up-arrow; lower is better for LPIPS.
PAPER_TABLE = [
    ("mse", 0.970, 45.460, 0.021), ("mae", 0.970, 44.225, 0.023),
    ("mae+ssim", 0.967, 41.944, 0.024), ("mse+ssim", 0.973, 48.099, 0.021),
    ("mae+content", 0.972, 46.999, 0.022), ("mse+content", 0.953, 33.981, 0.041),
    ("mse+lpips", 0.962, 40.570, 0.028), ("mae+lpips", 0.965, 42.585, 0.026),
    ("mae+perceptual", 0.967, 43.570, 0.023), ("mse+perceptual", 0.970, 46.496, 0.020),
    ("mae+ssim+perceptual", 0.975, 49.532, 0.026), ("mse+ssim+perceptual", 0.975, 49.532, 0.026),
    ("mse+lpips+ssim", 0.974, 49.132, 0.024), ("mae+lpips+ssim", 0.968, 44.883, 0.023),
    ("mae+lpips+content", 0.961, 39.772, 0.030), ("mse+lpips+content", 0.970, 47.040, 0.019),
    ("mae+ssim+lpips", 0.966, 40.183, 0.026), ("mse+ssim+lpips", 0.974, 48.691, 0.024),
    ("mae+ssim+style", 0.971, 43.463, 0.025), ("mse+ssim+style", 0.974, 47.653, 0.023),
]
COMBOS = [row[0] for row in PAPER_TABLE]


def paper_table() -> pd.DataFrame:
    return pd.DataFrame(PAPER_TABLE, columns=["loss", "paper_ssim", "paper_psnr", "paper_lpips"])


def canonical(combo: str) -> str:
    """One spelling per set of terms, in :data:`TERMS` order: ``"MAE + LPIPS + SSIM"`` -> ``"mae+ssim+lpips"``."""
    from .losses import parse

    return "+".join(sorted(parse(combo), key=TERMS.index))


def config(combo: str, profile: Profile, *, seed: int = 0, ngf: int = 24, depth: int = 6) -> TrainConfig:
    """The training configuration of one combination (of its :func:`canonical` spelling); its run name carries a
    hash of everything else."""
    from .losses import uses_vgg

    combo = canonical(combo)
    base = dict(model="unet", model_kwargs={"ngf": ngf, "depth": depth}, objective="regression", loss=combo,
                steps=profile.ablation_steps, batch=profile.ablation_batch, size=profile.train_size, bf16=profile.bf16,
                loss_bf16=uses_vgg(combo) and profile.vgg_loss_bf16(),
                seed=seed, checkpoint_every=max(profile.ablation_steps // 2, 1), log_every=10)
    digest = hashlib.sha256(json.dumps(dict(base, data=[profile.train_frames, profile.train_frame_stride]),
                                       sort_keys=True).encode()).hexdigest()[:10]
    return TrainConfig(run=f"ablation/{combo.replace('+', '_')}-{digest}", **base)


def train_frames(profile: Profile, *, progress: bool = True) -> torch.Tensor:
    from . import data

    clips = data.load_split("train", size=profile.train_size, max_frames=profile.train_frames,
                            step=profile.train_frame_stride, progress=progress)
    return torch.cat(list(clips.values()))


def train_combo(combo: str, profile: Profile, *, seed: int = 0, frames: torch.Tensor | None = None,
                progress: bool = True):
    """Train one combination unless its run already finished; returns the run folder."""
    from .training import train

    cfg = config(combo, profile, seed=seed)
    if (cfg.run_dir / "final.pt").exists():
        return cfg.run_dir
    frames = train_frames(profile, progress=progress) if frames is None else frames
    return train(cfg, frames, progress=progress).run_dir


def train_all(combos, profile: Profile, *, frames: torch.Tensor | None = None,
              progress: bool = True) -> dict[tuple[str, int], object]:
    """Every combination at every seed of ``profile.ablation_seeds`` (each distinct configuration trained once, with
    a bar over them); returns ``{(combo, seed): run folder}``."""
    from tqdm.auto import tqdm

    todo = {(c, s): config(c, profile, seed=s).run for s in profile.ablation_seeds for c in combos}
    distinct = {}                                         # run name -> the first (combo, seed) that names it
    for key, run in todo.items():
        distinct.setdefault(run, key)
    frames = train_frames(profile, progress=progress) if frames is None else frames
    done = {run: train_combo(c, profile, seed=s, frames=frames, progress=False)
            for run, (c, s) in tqdm(distinct.items(), desc="loss combinations x seeds", disable=not progress)}
    return {k: done[v] for k, v in todo.items()}


def label(combo: str, seed: int) -> str:
    """The method name of one combination's model at one seed in the evaluation's rows."""
    return f"{combo} · seed {seed}"


def score_runs(runs: dict[tuple[str, int], object], clips, protocol, *, baselines: dict | None = None,
               progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Score every ``{(combo, seed): run folder}`` of :func:`train_all` on ``clips``; returns the per-clip rows (the
    ``baselines`` first, then one method per :func:`label`, in ``runs`` order) and ``{label: colorizer}``.

    A run that two spellings share (the paper's two orderings of one set of terms) is loaded and scored once, and
    its rows are repeated under the second label: the numbers are the same as scoring it twice."""
    from .evaluate import evaluate_all
    from .inference import load_colorizer

    baselines = dict(baselines or {})
    first: dict = {}                                      # run folder -> the label it is scored under
    for (c, s), run in runs.items():
        first.setdefault(run, label(c, s))
    loaded = {run: load_colorizer(run) for run in first}
    scored = evaluate_all({**baselines, **{first[run]: loaded[run] for run in first}}, clips, protocol=protocol,
                          cache=True, progress=progress)
    rows = [scored[scored.method.isin(list(baselines))]]
    rows += [scored[scored.method == first[run]].assign(method=label(c, s)) for (c, s), run in runs.items()]
    models = {label(c, s): loaded[run] for (c, s), run in runs.items()}
    return pd.concat(rows, ignore_index=True), models


def provenance(runs: dict[tuple[str, int], object], profile: Profile) -> dict:
    """What the ablation's tables record of their runs: the configuration of the first (its ``loss``, ``seed`` and
    ``run`` vary, nothing else), the distinct combinations, the seeds and every distinct run name."""
    (combo, seed), *_ = runs
    names = {config(c, profile, seed=s).run for c, s in runs}
    vgg_bf16 = sorted({canonical(c) for c, s in runs if config(c, profile, seed=s).loss_bf16})
    return {"config": config(combo, profile, seed=seed), "varies": ["loss", "seed", "run", "loss_bf16"],
            "vgg16_in_bf16": vgg_bf16,
            "losses": list(dict.fromkeys(canonical(c) for c, _ in runs)),
            "seeds": list(dict.fromkeys(s for _, s in runs)), "runs": sorted(names)}


def seed_rows(per_clip: pd.DataFrame, runs: dict[tuple[str, int], object]) -> pd.DataFrame:
    """Per combination and seed, the mean over clips (:func:`colorizerutils.evaluate.summarize`) of the rows that
    :func:`label` names; other methods (a baseline) keep their name, with seed NaN."""
    from .evaluate import summarize

    names = {label(c, s): (c, s) for c, s in runs}
    out = summarize(per_clip)
    out.insert(0, "seed", [names[m][1] if m in names else float("nan") for m in out.method])
    out.insert(0, "loss", [names[m][0] if m in names else m for m in out.method])
    return out.drop(columns=["method", "clips"])


def mean_se(per_seed: pd.DataFrame, metrics=("ssim", "psnr", "lpips", "colorfulness")) -> pd.DataFrame:
    """Per combination (in order of appearance): the number of seeds, and each metric's mean over seeds with its
    standard error (sample std / sqrt(seeds); NaN with one seed or a deterministic baseline)."""
    rows = []
    for loss, g in per_seed.groupby("loss", sort=False):
        row = {"loss": loss, "seeds": int(g.seed.notna().sum())}
        for m in metrics:
            n = g[m].notna().sum()
            row[m] = g[m].mean()
            row[f"{m}_se"] = g[m].std() / n ** 0.5 if n > 1 and g.seed.notna().all() else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(per_seed: pd.DataFrame, reference: str, metrics=("psnr", "lpips")) -> pd.DataFrame:
    """Every combination against ``reference`` (another combination, paired by seed: same initial weights and
    batches; or a deterministic baseline, whose single row is subtracted from every seed): per metric the mean
    difference (combination - reference), its standard error over seeds, and whether it exceeds twice that."""
    ref = per_seed[per_seed.loss == reference]
    paired = ref.seed.notna().all()
    ref = ref.set_index("seed") if paired else ref.iloc[0]
    rows = []
    for loss, g in per_seed[per_seed.loss != reference].groupby("loss", sort=False):
        if g.seed.isna().any():
            continue
        g = g.set_index("seed")
        seeds = g.index.intersection(ref.index) if paired else g.index
        row = {"loss": loss, "reference": reference, "seeds": len(seeds)}
        for m in metrics:
            d = g.loc[seeds, m] - (ref.loc[seeds, m] if paired else ref[m])
            se = d.std() / len(d) ** 0.5 if len(d) > 1 else float("nan")
            row.update({f"{m}_difference": d.mean(), f"{m}_se": se, f"{m}_resolved": bool(abs(d.mean()) > 2 * se)})
        rows.append(row)
    return pd.DataFrame(rows)


def discuss_ranking(per_seed: pd.DataFrame, *, baseline: str = "gray baseline") -> str:
    """Markdown generated from the per-seed rows: the best combination by mean PSNR and by mean LPIPS, which others
    it is ahead of by more than twice the paired standard error (the rest are within seed noise of it), and which
    combinations beat the baseline by more than twice their standard error."""
    from .metrics import HIGHER_IS_BETTER

    means = mean_se(per_seed)
    combos = means[means.loss != baseline]
    n = int(combos.seeds.min())
    if n < 2:
        return ("- One seed per combination: no standard error, so no difference between combinations can be told "
                "apart from seed noise (the profile's `ablation_seeds` sets how many).")
    lines = [f"- {n} seeds per combination; a difference counts only where it exceeds twice its standard error."]
    for m in ("psnr", "lpips"):
        hib = HIGHER_IS_BETTER.get(m, True)
        best = combos.loc[combos[m].idxmax() if hib else combos[m].idxmin()]
        diff = paired_differences(per_seed, best.loss, metrics=(m,))
        behind = diff[diff[f"{m}_resolved"]].loss.tolist()
        tied = diff[~diff[f"{m}_resolved"]].loss.tolist()
        lines.append(f"- **{m}** ({'higher' if hib else 'lower'} is better): best mean is *{best.loss}* "
                     f"({best[m]:.4g} ± {best[f'{m}_se']:.2g}). It is ahead of {len(behind)} of {len(diff)} other "
                     f"combinations by more than twice the paired standard error; "
                     + (f"within seed noise of it: {', '.join(f'*{t}*' for t in tied)}." if tied else
                        "none is within seed noise of it."))
        if baseline in set(per_seed.loss):
            vs = paired_differences(per_seed, baseline, metrics=(m,))
            sign = 1 if hib else -1
            wins = vs[vs[f"{m}_resolved"] & (sign * vs[f"{m}_difference"] > 0)].loss.tolist()
            lines.append(f"  - Against the *{baseline}* ({float(means.loc[means.loss == baseline, m].iloc[0]):.4g}): "
                         + (f"better by more than twice the standard error: {', '.join(f'*{w}*' for w in wins)}."
                            if wins else "no combination is better by more than twice its standard error."))
    return "\n".join(lines)


def rerun_matches(combo: str, profile: Profile, *, seed: int = 0, frames: torch.Tensor | None = None) -> dict:
    """Train ``combo`` again from scratch under another run name and compare with the cached run: the number of
    weight tensors, how many differ (bitwise) and the largest absolute difference. The rerun folder is removed
    afterwards."""
    import dataclasses
    import shutil

    from .runtime import resolve_device
    from .training import train

    frames = train_frames(profile, progress=False) if frames is None else frames
    cached = train_combo(combo, profile, seed=seed, frames=frames, progress=False)
    cfg = config(combo, profile, seed=seed)
    cfg = dataclasses.replace(cfg, run=cfg.run + "-rerun")
    shutil.rmtree(cfg.run_dir, ignore_errors=True)
    try:
        train(cfg, frames, progress=False)
        a = load_torch(cached / "final.pt")["state"]
        b = load_torch(cfg.run_dir / "final.pt")["state"]
    finally:
        shutil.rmtree(cfg.run_dir, ignore_errors=True)
    diff = max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0 for k in a)
    return {"combination": combo, "device": str(resolve_device(cfg.device)), "tensors": len(a),
            "bitwise_different": sum(not torch.equal(a[k], b[k]) for k in a), "max_abs_difference": diff}


# --------------------------------------------------------------------------------------------------------------
# Metric audit: the seed code's pitfalls (docs/metrics.md), computed on the same predictions as the correct values
# --------------------------------------------------------------------------------------------------------------
TERMS = ("mse", "mae", "ssim", "lpips", "content", "perceptual", "style")


def term_effect(table: pd.DataFrame) -> pd.DataFrame:
    """For each loss term: mean PSNR and LPIPS of the combinations with it and of those without it (the gray
    baseline's row left out); a term that every combination or none has is skipped."""
    sub = table[table.loss != "gray baseline"]
    rows = []
    for term in TERMS:
        has = sub.loss.str.split("+").apply(lambda parts: term in parts)
        if has.any() and (~has).any():
            rows.append(dict(term=term, psnr_with=sub[has].psnr.mean(), psnr_without=sub[~has].psnr.mean(),
                             lpips_with=sub[has].lpips.mean(), lpips_without=sub[~has].lpips.mean()))
    return pd.DataFrame(rows)


def psnr_floor_div(pred_u8: torch.Tensor, gt_u8: torch.Tensor) -> torch.Tensor:
    """The seed's step: ``uint8 // 255`` (every pixel below 255 becomes 0), then PSNR with data range 1."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    p, g = (pred_u8 // 255).double(), (gt_u8 // 255).double()
    return peak_signal_noise_ratio(p, g, data_range=1.0, reduction="none", dim=(1, 2, 3))


def ssim_floor_div(pred_u8: torch.Tensor, gt_u8: torch.Tensor) -> torch.Tensor:
    """SSIM after the same ``uint8 // 255`` step, data range 1, by torchmetrics.

    In float32: the frames are 0 and 1 after ``// 255``, so float64 adds nothing (within 2e-7 of it per frame,
    tests/test_ablation.py) and costs 80x the time (45 s for 30 frames of 256x341 on 2 cores)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    p, g = (pred_u8 // 255).float(), (gt_u8 // 255).float()
    return structural_similarity_index_measure(p, g, data_range=1.0, gaussian_kernel=True, sigma=1.5, kernel_size=11,
                                               reduction="none")


def psnr_uint8_wrap(pred_u8: torch.Tensor, gt_u8: torch.Tensor) -> torch.Tensor:
    """PSNR with the difference taken in uint8, which wraps around (3 - 5 = 254)."""
    diff = (pred_u8 - gt_u8).double()            # uint8 arithmetic: wraps modulo 256
    mse = diff.pow(2).flatten(1).mean(1)
    return 10 * torch.log10(255.0 ** 2 / mse)


def audit(pred_u8: torch.Tensor, gt_u8: torch.Tensor) -> dict[str, float]:
    """Correct and pitfall metrics of the same frames (T,3,H,W) uint8.

    After ``uint8 // 255`` most frames of prediction and truth are identical (all zero but for pure-white pixels),
    so their PSNR is infinite. The share of such frames and the mean over the finite ones are reported as they are;
    any single "mean PSNR" of these frames is set by whatever cap replaces infinity (:func:`cap_table`).
    """
    from . import metrics

    fd = psnr_floor_div(pred_u8, gt_u8)
    finite = torch.isfinite(fd)
    return {"psnr (correct)": float(metrics.psnr(pred_u8, gt_u8).mean()),
            "ssim (correct)": float(metrics.ssim(pred_u8, gt_u8).mean()),
            "frames identical after // 255": float((~finite).double().mean()),
            "psnr after // 255, finite frames": float(fd[finite].mean()) if finite.any() else float("nan"),
            "ssim after uint8 // 255": float(ssim_floor_div(pred_u8, gt_u8).mean()),
            "psnr with uint8 subtraction": float(psnr_uint8_wrap(pred_u8, gt_u8).mean()),
            "pixels zeroed by // 255": float(((pred_u8 // 255) == 0).double().mean())}


def audit_rows(colorizers: dict, clips, protocol) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`audit` per method and clip under an evaluation protocol, and the per-frame PSNR after ``// 255``."""
    import numpy as np

    from . import evaluate

    rows, frames = [], []
    for name, c in colorizers.items():
        for clip, path in evaluate.clip_paths(clips):
            pred, gt = zip(*evaluate.colorize_clip(c, path, protocol))
            p, g = (torch.from_numpy(np.stack(x)).permute(0, 3, 1, 2) for x in (pred, gt))
            rows.append(dict(method=name, clip=clip, **audit(p, g)))
            frames.append(pd.DataFrame({"method": name, "clip": clip, "psnr_floor_div": psnr_floor_div(p, g).numpy()}))
    return pd.DataFrame(rows), pd.concat(frames, ignore_index=True)


def cap_table(per_frame: pd.DataFrame, caps=(40, 50, 60, 100, 1000)) -> pd.DataFrame:
    """Per method: frames, the share with infinite PSNR after ``// 255``, the mean over finite frames, and the mean
    over all frames when infinity is replaced by each cap. The seed's 45-50 dB is reproduced only where some cap
    puts the mean there."""
    rows = []
    for method, g in per_frame.groupby("method", sort=False):
        x = g.psnr_floor_div
        finite = x[x != float("inf")]
        row = {"method": method, "frames": len(x), "infinite share": float((x == float("inf")).mean()),
               "mean over finite frames": float(finite.mean()) if len(finite) else float("nan")}
        row.update({f"mean, inf -> {c} dB": float(x.clip(upper=c).mean()) for c in caps})
        rows.append(row)
    return pd.DataFrame(rows)


def discuss_audit(caps: pd.DataFrame, band=(45.0, 50.0)) -> str:
    """Markdown generated from :func:`cap_table`: what the ``// 255`` PSNR is, and whether the seed paper's band
    arises and under which cap."""
    lines = []
    for r in caps.to_dict("records"):
        capped = {k: v for k, v in r.items() if k.startswith("mean, inf ->")}
        inside = [k.split("-> ")[1] for k, v in capped.items() if band[0] <= v <= band[1]]
        lines.append(f"- *{r['method']}*: {r['infinite share']:.0%} of {r['frames']} frames become identical after "
                     f"`// 255` (infinite PSNR); the finite ones average {r['mean over finite frames']:.2f} dB. The mean "
                     f"over all frames is whatever the cap makes it: "
                     + ", ".join(f"{k.split('-> ')[1]}: {v:.1f}" for k, v in capped.items()) + ". "
                     + (f"The seed's {band[0]:.0f}-{band[1]:.0f} dB arises only with a cap of {', '.join(inside)}."
                        if inside else f"The seed's {band[0]:.0f}-{band[1]:.0f} dB does not arise at any of these "
                                       f"caps, so this audit does not reproduce it."))
    return "\n".join(lines)


PITFALLS = pd.DataFrame([
    ("uint8 // 255 before PSNR/SSIM", "integer division maps every value below 255 to 0, so prediction and target "
     "become almost all-black images that agree", "cast to float and divide: x.float() / 255"),
    ("PSNR on uint8 tensors", "pred - gt wraps around modulo 256, so small negative errors become large",
     "cast to float (float64) before subtracting"),
    ("argparse type=list on '123'", "parses into ['1','2','3']; combined with logging-only extra losses, only the "
     "first loss is backpropagated", "parse names explicitly; sum every term into the loss that is backpropagated"),
    ("ground truth as the reference", "the previous ground-truth colour frame (train) or frame 10 of the test clip "
     "(test) is given to the model and then scored", "the exemplar is a user-provided frame and is never scored"),
    ("fresh noise per frame", "each frame is sampled from new noise with no temporal link: flicker",
     "share noise across frames or warm-start from the previous output; condition on the previous output"),
    ("Lab to uint8 without clipping; L scaled like ab", "out-of-gamut values wrap; L loses its range",
     "clip in RGB before uint8; normalise L and ab separately"),
], columns=["pitfall", "effect", "fix in this kit"])

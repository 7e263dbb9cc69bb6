"""``make bench``: speed on this machine, each comparison taken in one run (ratios), written to results/.

- matmul peak (fp32, bf16) measured here;
- per model: training img/s and inference frames/s at 256x256, fp32 vs bf16 autocast, and the PSNR change bf16
  causes on real test frames; the U-Net's achieved GFLOP/s against the measured peaks;
- ``colorizer colorize`` end to end on a 720p clip against model-only throughput at the same model size;
- diffusion: DDIM at 2 to 50 steps and DPM-Solver++ at 2 to 5 under the exemplar protocol (PSNR and seconds per
  frame, against DDIM 25 with the PSNR difference's standard error over clips), and the sampler's cost against size,
  steps and frames with its peak memory;
- ``colorizer colorize`` with a reference at 854x480, end to end, against the goal of 2 frames/s;
- ``colorizer evaluate`` at 854x480: peak memory of 300 frames against 30; ``colorizer colorize`` with a reference
  at 854x480: of 1,000 frames against 100;
- evaluation: notebook 04's baselines scored side by side (``evaluate_all``, the truth's side made once per clip)
  against one method at a time, same numbers;
- shots: a clip of three joined test clips with their first frames as references, each shot against colorizing it
  alone;
- the exemplar colorizer's flow anchor: its forward-backward consistency in its previous and present forms;
- notebook 05's sweep: two loss combinations trained one after the other against two processes at once (``make -j2
  ablation``), with the weights compared bitwise;
- training steps: every quick model's step with torch's Adam, fused Adam, bf16, channels_last and torch.compile, and
  where its time goes by kind of operator (``torch.profiler``).
"""
from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from .atomic import load_torch
from . import data, media, paths, recipes, results
from .profiles import profile
from .color import lab_to_rgb, merge_lab, normalize_l, to_uint8
from .metrics import psnr
from .models import build_model

# the very architectures the notebooks train, from their one source (recipes)
DEFAULT_UNET = recipes.mse_unet(profile("quick")).model_kwargs       # notebooks 02, 03 and 06
DEFAULT_CIC = recipes.cic(profile("quick")).model_kwargs             # notebook 03's classification colorizer
DEFAULT_DIFFUSION = recipes.diffusion(profile("quick")).model_kwargs  # notebook 04
# (row name, model, kwargs); the trained checkpoint of that name is used when its kwargs match. unet_pix2pix is the
# full-resolution pix2pix head (out_stride 1), timed on fresh weights for comparison.
BENCH_MODELS = (("mse_unet", "unet", DEFAULT_UNET), ("unet_pix2pix", "unet", dict(DEFAULT_UNET, out_stride=1)),
                ("cic", "cic", DEFAULT_CIC), ("patchgan", "patchgan", {}))


def _time(fn, *, reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of an n x n matmul in ``dtype``."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    reps = reps if dtype == torch.float32 or _fast_bf16() else 1
    return 2 * n ** 3 / _time(lambda: a @ b, reps=reps) / 1e9


def _fast_bf16() -> bool:
    a = torch.randn(256, 256).bfloat16()
    return _time(lambda: a @ a, reps=2) < 0.01


def _flops(model, x) -> float:
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x)
    return fc.get_total_flops()


def _test_frames(size: int, n: int = 8) -> torch.Tensor:
    clips = data.load_split("test", size=size, max_frames=n, progress=False)
    return torch.cat(list(clips.values()))[: n * 2]


def _trained_or_fresh(name: str, model: str, kwargs: dict):
    """(network, where its weights come from, the training configuration or None for fresh weights)."""
    path = paths.CHECKPOINTS / name / "final.pt"
    net = build_model(model, **kwargs)
    source, config = "fresh weights (run make reproduce for trained ones)", None
    if path.exists():
        ckpt = load_torch(path)
        if ckpt["model_kwargs"] == kwargs:
            net.load_state_dict(ckpt["state"])
            source, config = f"checkpoints/{name}", ckpt["config"]
    return net.eval(), source, config


def bench_image_models(*, quick: bool) -> pd.DataFrame:
    rows = []
    lab = _test_frames(256)
    l = normalize_l(lab[:, :1])
    bs = 8
    x = l[:bs].contiguous()
    bf16_fast = _fast_bf16()
    for name, model, kwargs in BENCH_MODELS:
        net, source, _ = _trained_or_fresh(name, model, kwargs)
        gflop = _flops(net, x[:1]) / 1e9 if model != "patchgan" else None
        out = {}
        for bf16 in (False, True):
            reps = (2 if quick else 5) if (not bf16 or bf16_fast) else 1
            # without AMX, bf16 convolutions run ~40x slower: time them on a 2-frame batch, once
            b = bs if (not bf16 or bf16_fast) else 2
            inp = (x[:b], torch.zeros(b, 2, 256, 256)) if model == "patchgan" else (x[:b],)
            fwd = (lambda n=net, i=inp: n(*i))
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                dt = _time(fwd, reps=reps, warmup=1 if (not bf16 or bf16_fast) else 0)
                # the quality comparison always covers all 16 test frames, however the speed was timed
                y = net(l) if model != "patchgan" else fwd()
            out[bf16] = (b / dt, y.float())
            # training: one optimiser step on a batch (generator alone; the GAN adds the PatchGAN row's cost)
            tnet = build_model(model, **kwargs).train()
            opt = torch.optim.Adam(tnet.parameters())

            def step(tn=tnet, o=opt, i=inp, b=bf16):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=b):
                    loss = tn(*i).float().square().mean()
                o.zero_grad()
                loss.backward()
                o.step()
            t_train = _time(step, reps=reps, warmup=1 if (not bf16 or bf16_fast) else 0)
            rows.append(dict(model=name, weights=source, precision="bf16 autocast" if bf16 else "fp32", batch=b,
                             train_img_per_s=b / t_train, infer_frames_per_s=b / dt,
                             gflop_per_frame=gflop, achieved_gflop_s=gflop * b / dt if gflop else None))
        if model != "patchgan":
            to_rgb = lambda ab: to_uint8(lab_to_rgb(merge_lab(lab[:len(ab), :1], _decode(net, model, ab))))
            gt = to_uint8(lab_to_rgb(lab[:len(out[True][1])]))
            d = float(psnr(to_rgb(out[True][1]), gt).mean() - psnr(to_rgb(out[False][1]), gt).mean())
            rows[-1]["psnr_bf16_minus_fp32_db"] = d
    return pd.DataFrame(rows)


def _decode(net, model, y):
    from .color import denormalize_ab
    from .models.cic import annealed_mean

    return annealed_mean(y, T=net.T) if model == "cic" else denormalize_ab(y)   # merge_lab upsamples cic's ab


def bench_end_to_end(*, quick: bool) -> pd.DataFrame:
    """``colorize_path`` on the 720p clip vs model-only throughput at the same model size (256 px shorter side),
    with the default x264 preset and a faster one.

    These machines' speed drifts by tens of percent within a minute, so the runs alternate (model, end to end with
    each preset, model, ...) and each end-to-end run is compared with the mean of the model timings either side of
    it; the table gives the median over the rounds."""
    from .color import l_from_uint8, lab_to_uint8
    from .inference import Colorizer
    from .video import colorize_path

    src = paths.DATA / "default/videos/bigbuckbunny.mp4"
    net, source, _ = _trained_or_fresh("mse_unet", "unet", DEFAULT_UNET)
    colorizer = Colorizer(net, objective="regression", device=torch.device("cpu"), size=256)
    n_frames = 132
    out = paths.ROOT / "build" / "bench_720p.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    # the fused LAB kernels compile once per machine (numba caches them on disk); do that outside the timing
    lab_to_uint8(l_from_uint8(torch.zeros(1, 8, 8, 3, dtype=torch.uint8)), torch.zeros(1, 2, 8, 8))
    x = torch.zeros(8, 1, 256, 455)
    presets = ("veryfast", "superfast")
    model_only = [8 / _time(lambda: colorizer(x), reps=3)]
    runs = []
    for r in range(3 if quick else 5):
        for preset in presets:
            t = time.perf_counter()
            colorize_path(colorizer, src, out, size=256, progress=False, preset=preset, overwrite=True)
            runs.append(dict(round=r, preset=preset, fps=n_frames / (time.perf_counter() - t),
                             mb=out.stat().st_size / 2 ** 20))
        model_only.append(8 / _time(lambda: colorizer(x), reps=3))
    runs = pd.DataFrame(runs)
    runs["model_fps"] = [(model_only[r] + model_only[r + 1]) / 2 for r in runs["round"]]
    runs["ratio"] = runs.fps / runs.model_fps
    decode = n_frames / _time(lambda: sum(1 for _ in media.iter_video(src)), reps=1, warmup=0)
    rows = []
    for preset, g in runs.groupby("preset", sort=False):
        rows.append(dict(clip="bigbuckbunny.mp4 (1280x720, 132 frames)", model_size="256x455", weights=source,
                         preset=preset, rounds=len(g), end_to_end_fps=g.fps.median(), model_only_fps=g.model_fps.median(),
                         decode_only_fps=decode, output_mb=g.mb.iloc[-1], ratio=g.ratio.median(),
                         ratio_min=g.ratio.min(), ratio_max=g.ratio.max()))
    return pd.DataFrame(rows)


def bench_exemplar_end_to_end(*, quick: bool) -> pd.DataFrame:
    """``colorizer colorize CLIP OUT --model diffusion --reference FRAME0`` at 854x480 with the default settings
    (decode, full-resolution flow anchor, sampler, LAB to RGB, x264 veryfast), against the goal of 2 frames/s; and
    the same with a few other step counts, with the anchor's border repeated instead of the look-alike colour where the
    flow leaves the frame, and the non-learned DIS rows through the same path.

    The clip is bigbuckbunny.mp4's first frames scaled to 854x480 (area averaging) and written once as H.264 at CRF
    12; frame 0 is the reference. Each configuration runs twice, alternating, and the table keeps the faster run
    (these machines' speed drifts within a minute)."""
    import cv2
    from PIL import Image

    from .diffusion import DiffusionColorizer
    from .inference import BASELINES
    from .video import colorize_path

    n_frames = 40 if quick else 120
    build = paths.ROOT / "build"
    build.mkdir(parents=True, exist_ok=True)
    src, ref, out = build / "bench_480p.mp4", build / "bench_480p_ref.png", build / "bench_480p_out.mp4"
    frames = [cv2.resize(f, (854, 480), interpolation=cv2.INTER_AREA)
              for f in media.iter_video(paths.DATA / "default/videos/bigbuckbunny.mp4", max_frames=n_frames)]
    media.write_video(iter(frames), src, fps=24, crf=12, progress=False)
    Image.fromarray(frames[0]).save(ref)
    net, source, config = _trained_or_fresh("diffusion", "diffusion_unet", DEFAULT_DIFFUSION)
    runs = {"diffusion, default (DDIM 5, full anchor, gated residual)": lambda: DiffusionColorizer(
                net, device=torch.device("cpu"), config=config, seed=0),
            "diffusion, DDIM 25": lambda: DiffusionColorizer(net, device=torch.device("cpu"), config=config, steps=25,
                                                              seed=0),
            "diffusion, anchor at the model size (DDIM 5)": lambda: DiffusionColorizer(
                net, device=torch.device("cpu"), config=config, seed=0, full_anchor=False),
            "diffusion, default with the border repeated where the flow leaves the frame": lambda: DiffusionColorizer(
                net, device=torch.device("cpu"), config=config, seed=0, outside="replicate"),
            "flow-anchor baseline (the model's anchor)": BASELINES["flow-anchor"],
            "flow-fused baseline (border repeated)": BASELINES["flow-fused"],
            "flow baseline (DIS warp)": BASELINES["flow"]}
    best: dict = {}
    for _ in range(2):
        for name, make in runs.items():
            colorizer = make()
            t = time.perf_counter()
            colorize_path(colorizer, src, out, reference=ref, progress=False, overwrite=True)
            best[name] = max(best.get(name, 0.0), n_frames / (time.perf_counter() - t))
    return pd.DataFrame([dict(configuration=k, clip=f"bigbuckbunny.mp4 at 854x480, {n_frames} frames", weights=source,
                              end_to_end_fps=v, goal_fps=2.0, meets_goal=v >= 2.0) for k, v in best.items()])


def _write_exemplar_end_to_end(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_exemplar_end_to_end", title="colorizer colorize with a reference at 854x480",
                        notes="Measured in one run on this machine. End to end: decode, the flow anchor at full "
                        "resolution, the sampler at 64 px, LAB to RGB and x264 veryfast encode, as `colorizer colorize "
                        "IN OUT --model diffusion --reference FRAME0` runs it; the faster of two alternating runs.",
                        **prov)


# DDIM and DPM-Solver++ step counts compared with the 25-step DDIM reference (the sampler's first default)
STEP_COUNTS = dict(ddim=(2, 3, 4, 5, 10, 25, 50), dpm=(2, 3, 4, 5))


def bench_diffusion_steps(*, quick: bool, rounds: int = 3) -> pd.DataFrame:
    """Sampler settings against DDIM 25, in one run.

    Quality: every test clip, the PSNR difference from DDIM 25 on the same frames, its mean and standard error over
    clips. Speed: the scoring pass's frame-weighted seconds per frame, and ``rounds`` rounds that time every setting
    in turn on the first test clip; ``speedup_vs_25`` is the median over rounds of DDIM 25's time over the setting's
    in the same round (min and max beside it), so that a slow spell of the machine does not fall on one setting."""
    from .diffusion import DiffusionColorizer

    from . import evaluate

    net, source, config = _trained_or_fresh("diffusion", "diffusion_unet", DEFAULT_DIFFUSION)
    # the exemplar protocol on every test clip (frame 0 the exemplar, not scored), frames at shorter side 240
    protocol = evaluate.Protocol(size=240, max_frames=6 if quick else 11, exemplar=True, lpips=False, temporal=False)
    # the residual added everywhere: gated, it barely changes the anchor and the step count would not show;
    # residual=None: as `colorizer colorize` adds it for this model (gated, for one trained against the flow anchor)
    make = lambda kind, n, residual="full": DiffusionColorizer(net, device=torch.device("cpu"), config=config,
                                                               steps=n, sampler_name=kind, seed=0, residual=residual)
    counts = dict(ddim=(5, 25), dpm=(4,)) if quick else STEP_COUNTS
    clips = evaluate.test_clips()
    score = lambda residual: evaluate.sampling_steps(None, clips, protocol, ddim_steps=counts["ddim"],
                                                     dpm_steps=counts["dpm"], make=lambda k, n: make(k, n, residual),
                                                     columns=None, progress=False)
    per_clip, as_default = score("full"), score(None)
    settings = [*(("ddim", n) for n in counts["ddim"]), *(("dpm", n) for n in counts["dpm"])]
    first = dict([next(iter(clips.items()))])
    seconds, sampling = {s: [] for s in settings}, {s: [] for s in settings}
    for _ in range(1 if quick else rounds):
        for kind, n in settings:
            colorizer = _timed_sampling(make(kind, n))
            df = evaluate.evaluate(colorizer, first, method="timing", protocol=protocol, progress=False)
            seconds[kind, n].append(1 / float(df.fps.iloc[0]))
            sampling[kind, n].append(colorizer.sampling_seconds / int(df.frames.iloc[0]))
    ref = per_clip[per_clip.method == "DDIM 25"].set_index("clip").psnr
    ref_default = as_default[as_default.method == "DDIM 25"].set_index("clip").psnr
    rows = []
    for method, g in per_clip.groupby("method", sort=False):
        diff = g.set_index("clip").psnr - ref
        default = as_default[as_default.method == method].set_index("clip").psnr
        default_diff = default - ref_default
        setting = ("ddim" if method.startswith("DDIM") else "dpm", int(g.steps.iloc[0]))
        ratio = pd.Series(seconds["ddim", 25]) / pd.Series(seconds[setting])
        sampling_ratio = pd.Series(sampling["ddim", 25]) / pd.Series(sampling[setting])
        rows.append(dict(sampler=method, steps=int(g.steps.iloc[0]), weights=source, clips=len(g),
                         frames=int(g.frames.sum()), psnr=g.psnr.mean(), psnr_minus_25=diff.mean(),
                         psnr_minus_25_se=diff.std(ddof=1) / len(diff) ** 0.5,
                         default_psnr=default.mean(), default_psnr_minus_25=default_diff.mean(),
                         default_psnr_minus_25_se=default_diff.std(ddof=1) / len(default_diff) ** 0.5,
                         seconds_per_frame=float((g.seconds_per_frame * g.frames).sum() / g.frames.sum()),
                         speedup_vs_25=ratio.median(), speedup_min=ratio.min(), speedup_max=ratio.max(),
                         sampling_seconds_per_frame=float(np.median(sampling[setting])),
                         sampling_speedup_vs_25=sampling_ratio.median(), sampling_speedup_min=sampling_ratio.min(),
                         sampling_speedup_max=sampling_ratio.max(), timing_rounds=len(ratio)))
    return pd.DataFrame(rows)


def _timed_sampling(colorizer):
    """``colorizer`` (a :class:`colorizerutils.diffusion.DiffusionColorizer`) summing in ``sampling_seconds`` the time
    its sampler loop takes (``_sample``: every denoiser call and scheduler step of a frame), which leaves out the flow
    anchor, resizing and LAB conversion around it."""
    inner = colorizer._sample
    colorizer.sampling_seconds = 0.0

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            colorizer.sampling_seconds += time.perf_counter() - t

    colorizer._sample = timed
    return colorizer


def write_diffusion_steps(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_diffusion_steps", title="Diffusion: sampler steps vs PSNR and time",
                        notes="Measured in one run on this machine. The exemplar protocol on every test clip: frame 0 "
                        "is the exemplar and is not scored, the next frames at shorter side 240 px; the flow anchor at "
                        "that resolution, the model at its 64 px, its residual upsampled and added everywhere (not "
                        "gated). seconds_per_frame: the colorizer alone (decoding and scoring excluded), "
                        "frame-weighted over the clips. "
                        "psnr_minus_25: the mean over clips of the clip's PSNR minus DDIM 25's on the same frames; "
                        "psnr_minus_25_se: its standard error over clips. default_*: the same, with the residual added "
                        "as `colorizer colorize` adds it for this model (for one trained against the flow anchor: "
                        "weighted by one minus the anchor's confidence). speedup_vs_25: timing_rounds rounds each "
                        "time every setting in turn on the first test clip; the median over rounds of DDIM 25's "
                        "seconds per frame over the setting's in the same round, with the min and max. "
                        "sampling_*: the same rounds timing the sampler loop alone (every denoiser call and scheduler "
                        "step of a frame), without the flow anchor and the conversions around it; "
                        "sampling_seconds_per_frame is its median over rounds on that clip.", **prov)


def bench_diffusion_cost() -> pd.DataFrame:
    """Sampling time and memory against frame size, step count and frames per call (random L, default sampler)."""
    from .diffusion import DiffusionColorizer

    net, source, config = _trained_or_fresh("diffusion", "diffusion_unet", DEFAULT_DIFFUSION)
    cost = []
    for size, configs in ((128, ((25, 4), (50, 4), (25, 8))), (256, ((25, 2),))):
        for steps, frames in configs:
            c = DiffusionColorizer(net, device=torch.device("cpu"), config=config, steps=steps, seed=0)
            L = torch.rand(frames, 1, size, size) * 100
            tracemalloc.start()
            t = time.perf_counter()
            c(L)
            dt = time.perf_counter() - t
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            cost.append(dict(size=size, steps=steps, frames=frames, seconds=dt, seconds_per_frame=dt / frames,
                             python_peak_mb=peak / 2 ** 20,
                             max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    return pd.DataFrame(cost)


def _rss_of(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one command run as a child process (its own rusage, from wait4).

    Linux carries a process's peak RSS over into the children it forks, so call this from a small process: ``make
    bench`` measures it first, before the other benchmarks grow the parent (run last, the children reported the
    parent's 2.1 GB)."""
    import os
    import subprocess

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t


def bench_evaluate_memory(*, frames=(30, 300), size=(854, 480)) -> pd.DataFrame:
    """``colorizer evaluate`` on clips of 30 and 300 frames at 854x480 (the literature's resolution): peak RSS and
    time of the whole command, each in its own process. Streaming should keep the peak flat in the frame count.

    The clips: the first frames of the test clip vtest.avi resized to 854x480, against their gray version (a real
    prediction with real errors), both written losslessly as PNG frame folders.
    """
    import sys
    import tempfile
    from pathlib import Path

    import cv2
    import numpy as np
    from PIL import Image

    from .color import l_from_uint8, lab_to_uint8

    src = paths.DATA / "default" / "videos" / "vtest.avi"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gt_dir, pred_dir = Path(tmp) / "gt", Path(tmp) / "pred"
        gt_dir.mkdir(), pred_dir.mkdir()
        for i, f in enumerate(media.iter_video(src, max_frames=max(frames))):
            f = cv2.resize(f, size, interpolation=cv2.INTER_AREA)
            L = l_from_uint8(torch.from_numpy(f)[None])
            gray = lab_to_uint8(L, torch.zeros(1, 2, *L.shape[-2:]))[0].numpy()
            Image.fromarray(f).save(gt_dir / f"{i:05d}.png", compress_level=1)
            Image.fromarray(np.ascontiguousarray(gray)).save(pred_dir / f"{i:05d}.png", compress_level=1)
        for n in frames:
            sub = Path(tmp) / f"n{n}"
            for name, d in (("gt", gt_dir), ("pred", pred_dir)):
                (sub / name).mkdir(parents=True)
                for f in sorted(d.iterdir())[:n]:
                    (sub / name / f.name).symlink_to(f)
            rss, sec = _rss_of([sys.executable, "-m", "colorizerutils", "evaluate", str(sub / "pred"), str(sub / "gt"),
                                "--json"])
            rows.append(dict(frames=n, width=size[0], height=size[1], peak_rss_mb=rss, seconds=sec,
                             seconds_per_frame=sec / n))
    df = pd.DataFrame(rows)
    df["rss_vs_fewest_frames"] = df.peak_rss_mb / df.peak_rss_mb.iloc[0]
    return df


def bench_colorize_memory(*, quick: bool, size=(854, 480)) -> pd.DataFrame:
    """``colorizer colorize CLIP OUT --model diffusion --reference FRAME0`` with the default settings on clips of 100
    and 1,000 frames at 854x480 (30 and 300 with ``quick``), each in its own process: peak RSS and time. Streaming
    should keep the peak flat in the frame count (issue goal: at most 1.2x the 100-frame peak at 1,000 frames).

    The clips: the test clip vtest.avi (795 frames, a fixed camera) resized to 854x480 and played again from its start
    for the frames past its last, written as H.264 at CRF 12; frame 0 is the reference. The trained
    diffusion checkpoint is used where it exists, else fresh weights in its format (memory does not depend on them).
    """
    import json
    import sys
    import tempfile
    from pathlib import Path

    import cv2
    from PIL import Image

    from .training import save_network

    counts = (30, 300) if quick else (100, 1000)
    src = paths.DATA / "default" / "videos" / "vtest.avi"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt, source = paths.CHECKPOINTS / "diffusion" / "final.pt", "checkpoints/diffusion"
        if not ckpt.exists():
            cfg = recipes.diffusion(profile("quick"))
            ckpt, source = tmp / "fresh" / "final.pt", "fresh weights (run make reproduce for trained ones)"
            ckpt.parent.mkdir()
            save_network(build_model(cfg.model, **cfg.model_kwargs), cfg, ckpt)

        def frames(n):                    # streamed: a child process inherits this one's peak RSS (_rss_of)
            while True:
                for f in media.iter_video(src):
                    if n == 0:
                        return
                    n -= 1
                    yield cv2.resize(f, size, interpolation=cv2.INTER_AREA)

        Image.fromarray(next(frames(1))).save(tmp / "ref.png")
        for n in counts:
            clip = tmp / f"clip{n}.mp4"
            media.write_video(frames(n), clip, fps=25, crf=12, progress=False)
            rss, sec = _rss_of([sys.executable, "-m", "colorizerutils", "colorize", str(clip), str(tmp / f"out{n}.mp4"),
                                "--checkpoint", str(ckpt), "--reference", str(tmp / "ref.png"), "--quiet"])
            shots = json.loads((tmp / f"out{n}.mp4.shots.json").read_text())
            rows.append(dict(frames=n, width=size[0], height=size[1], weights=source, shots=len(shots),
                             peak_rss_mb=rss, seconds=sec, frames_per_second=n / sec))
    df = pd.DataFrame(rows)
    df["rss_vs_fewest_frames"] = df.peak_rss_mb / df.peak_rss_mb.iloc[0]
    return df


def write_colorize_memory(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_colorize_memory", title="colorizer colorize with a reference: peak memory against "
                        "frames (854x480)",
                        notes="Each row is one `colorizer colorize CLIP OUT --checkpoint DIFFUSION --reference FRAME0` "
                              "process with the default settings (DDIM 5, full-resolution anchor, x264 veryfast): "
                              "vtest.avi resized to 854x480, played again from its start past its last frame (shots: "
                              "the cuts found, the whole clip being one). peak_rss_mb: the "
                              "process's maximum resident set (getrusage via wait4); seconds include start-up and "
                              "loading. Goal: <= 1.2x the fewest frames' peak.", **prov)


def write_evaluate_memory(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_evaluate_memory", title="colorizer evaluate: peak memory against frames (854x480)",
                        notes="Each row is one `colorizer evaluate PRED GT --json` process (PSNR, SSIM, LPIPS, "
                              "colourfulness, CDC, warp error), frames read from PNG folders: vtest.avi resized to "
                              "854x480 against its gray version. peak_rss_mb: the process's maximum resident set "
                              "(getrusage via wait4). Goal: <= 2048 MB at 300 frames and <= 1.2x the 30-frame peak.",
                        **prov)


def bench_evaluate_shared(*, quick: bool) -> pd.DataFrame:
    """Notebook 04's six baselines and ground-truth rows on every test clip under its exemplar protocol (up to 480 px),
    scored one method at a time and then side by side by ``evaluate_all``, in this run; every number but fps must be
    the same (``numbers_equal``)."""
    from . import evaluate, inference

    P = profile("quick")
    clips, proto = evaluate.test_clips(), evaluate.exemplar(P, max_frames=10 if quick else None)
    cols = ["method", "clip", "frames", "psnr", "ssim", "lpips", "colorfulness", "cdc", "warp_error"]
    t0 = time.perf_counter()
    alone = pd.concat([evaluate.evaluate(c, clips, method=m, protocol=proto, progress=False)
                       for m, c in inference.baselines().items()]
                      + [evaluate.ground_truth(clips, protocol=proto)], ignore_index=True)
    t1 = time.perf_counter()
    together = evaluate.evaluate_all(inference.baselines(), clips, protocol=proto, ground_truth="ground truth",
                                     progress=False)
    t2 = time.perf_counter()
    rows = [dict(comparison="one at a time vs side by side", methods=len(inference.baselines()), clips=len(clips),
                 frames_per_method=int(alone.frames.sum()) // (len(inference.baselines()) + 1),
                 before_s=round(t1 - t0, 2), after_s=round(t2 - t1, 2), speedup=(t1 - t0) / (t2 - t1),
                 numbers_equal=bool(together[cols].equals(alone[cols])))]
    if inference.checkpoint_path("diffusion").exists():   # notebook 04's whole pass: its flows shared or not
        def methods():
            return {**inference.baselines(), **inference.diffusion_variants(
                "diffusion", dict(seed=0, guidance=1.0, steps=P.sample_steps))}

        proto = evaluate.exemplar(P, max_frames=6 if quick else 10)
        runs, seconds = {}, {}
        for share in (False, True):
            t = time.perf_counter()
            runs[share] = evaluate.evaluate_all(methods(), clips, protocol=proto, share_flows=share, progress=False)
            seconds[share] = time.perf_counter() - t
        rows.append(dict(comparison="side by side: flows computed by each colorizer vs shared",
                         methods=len(methods()), clips=len(clips), frames_per_method=int(runs[True].frames.sum())
                         // len(methods()), before_s=round(seconds[False], 2), after_s=round(seconds[True], 2),
                         speedup=seconds[False] / seconds[True],
                         numbers_equal=bool(runs[True][cols].equals(runs[False][cols]))))
    return pd.DataFrame(rows)


def write_evaluate_shared(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_evaluate_shared", title="Scoring methods side by side vs one at a time",
                        notes="Measured in one run on this machine. Notebook 04's six baselines and the ground-truth "
                        "rows on every test clip under its exemplar protocol (up to 480 px), scored one method at a "
                        "time, then side by side by evaluate_all: each clip decoded once, the flows and LPIPS features "
                        "of the real frames made once (metrics.GroundTruth). Second row (where the diffusion model "
                        "is trained): notebook 04's whole set of methods (baselines and diffusion variants) side by "
                        "side, the first 10 frames after the exemplar of each test clip, with each flow colorizer "
                        "computing its own DIS flows, then with the flows between two frames computed once for all "
                        "(flow.shared_flows, evaluate_all's default). numbers_equal: every column but fps.", **prov)


SWEEP_COMBOS = ("mse+perceptual", "mse+ssim+style")   # two of notebook 05's VGG16 combinations (its main cost)


def bench_sweep_processes(*, quick: bool) -> pd.DataFrame:
    """Notebook 05's runs as separate processes: two combinations trained one after the other (each process with
    torch's default threads), then two processes at once with the default threads (``make -j2 ablation`` as it is)
    and with one thread each (one process per core). Each row: wall time, the speedup over one after the other, and
    how many weight tensors of its runs differ bitwise from the one-after-the-other runs (0: the same weights)."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    prof = "smoke" if quick else "quick"
    layouts = (("one after the other, default threads", False, None), ("two at once, default threads", True, None),
               ("two at once, one thread each", True, "1"))
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for name, parallel, threads in layouts:
            env = dict(os.environ, COLORIZER_CHECKPOINTS=str(Path(tmp) / name.replace(" ", "_")))
            if threads:
                env["OMP_NUM_THREADS"] = threads
            cmds = [[sys.executable, "-m", "colorizerutils", "ablate", c, "--profile", prof, "--seed", "0", "--quiet"]
                    for c in SWEEP_COMBOS]
            t = time.perf_counter()
            procs = []
            for cmd in cmds:
                procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
                if not parallel:
                    procs[-1].wait()
            for p in procs:
                if p.wait() != 0:
                    raise RuntimeError(f"{' '.join(p.args)} failed: {p.stderr.read().decode()[-500:]}")
            seconds = time.perf_counter() - t
            weights = {f.parent.name: load_torch(f)["state"]
                       for f in sorted(Path(env["COLORIZER_CHECKPOINTS"]).glob("ablation/*/final.pt"))}
            first = first or weights                      # the one-after-the-other runs, compared against
            differ = sum(not torch.equal(first[r][k], weights[r][k]) for r in first for k in first[r])
            rows.append(dict(layout=name, runs=len(cmds), steps=profile(prof).ablation_steps, seconds=round(seconds, 1),
                             speedup=rows[0]["seconds"] / seconds if rows else 1.0,
                             tensors=sum(len(w) for w in first.values()), tensors_differing=differ))
    return pd.DataFrame(rows)


def write_sweep_processes(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_sweep_processes", title="Notebook 05's sweep: runs one after the other or at once",
                        notes="Measured in one run on this machine. Two of notebook 05's combinations "
                        f"({', '.join(SWEEP_COMBOS)}), seed 0, each `colorizer ablate` a process of its own. "
                        "tensors_differing: weight tensors that differ bitwise from the one-after-the-other runs "
                        "(the CPU's reductions depend on the thread count, so a run's weights do too).", **prov)


PRECISION_COMBOS = ("mse+content", "mse+perceptual", "mse+ssim+style")   # notebook 05's three kinds of VGG16 term


def bench_loss_precision(*, quick: bool) -> pd.DataFrame:
    """Notebook 05's VGG16 training steps with the loss network in float32 and in bf16 (``TrainConfig.loss_bf16``):
    quick's ablation settings (U-Net, batch 8, 64 px) on the real training frames, the two precisions alternating
    in rounds in this run; per combination the median ms per step of each, their ratio, and the loss of one fixed
    batch in each precision from the same weights (how far bf16 moves it)."""
    import dataclasses

    from . import ablation
    from .objectives import OBJECTIVES
    from .runtime import native_bf16

    P = profile("quick")
    frames = ablation.train_frames(P, progress=False)
    rounds, steps = (2, 5) if quick else (3, 10)
    off = lambda: torch.autocast("cpu", enabled=False)   # noqa: E731 (the models themselves stay fp32)
    rows = []
    for combo in PRECISION_COMBOS:
        cfg = ablation.config(combo, dataclasses.replace(P, loss_bf16=False))
        objs = {}
        for bf16 in (False, True):
            torch.manual_seed(0)
            obj = OBJECTIVES["regression"](dataclasses.replace(cfg, loss_bf16=bf16), frames)
            objs[bf16] = (obj, obj.optimizers(), torch.Generator().manual_seed(0))
        fixed = objs[False][0].batch(torch.Generator().manual_seed(1), "cpu")
        with torch.no_grad():
            loss = {bf16: float(obj.losses(fixed)[0]) for bf16, (obj, _, _) in objs.items()}
        times = {False: [], True: []}
        for _ in range(rounds):
            for bf16, (obj, opts, gen) in objs.items():
                obj.step(obj.batch(gen, "cpu"), opts, off)        # warm-up step of this round
                t = time.perf_counter()
                for _ in range(steps):
                    obj.step(obj.batch(gen, "cpu"), opts, off)
                times[bf16].append((time.perf_counter() - t) / steps * 1e3)
        fp32_ms, bf16_ms = (float(np.median(times[b])) for b in (False, True))
        rows.append(dict(combination=combo, native_bf16=native_bf16("cpu"), fp32_ms_per_step=round(fp32_ms, 1),
                         bf16_vgg_ms_per_step=round(bf16_ms, 1), speedup=fp32_ms / bf16_ms,
                         loss_fp32=loss[False], loss_bf16_vgg=loss[True],
                         loss_rel_change=(loss[True] - loss[False]) / loss[False]))
    return pd.DataFrame(rows)


def write_loss_precision(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_loss_precision", title="Notebook 05's VGG16 loss network: float32 vs bf16",
                        notes="Measured in one run on this machine, the two precisions alternating in rounds; ms per "
                        "training step (U-Net ngf 24, batch 8, 64 px: quick's ablation settings, real training "
                        "frames), median over rounds; speedup = fp32 / bf16. loss_*: the combination's loss on one "
                        "fixed batch from the same initial weights. native_bf16: the CPU has AMX or AVX512-BF16 "
                        "(runtime.native_bf16), where PROFILE=quick runs notebook 05's VGG16 in bf16.", **prov)


TRAINING_VARIANTS = ("Adam, torch's default", "Adam fused (the kit's)", "Adam fused, bf16 autocast",
                     "Adam fused, channels_last", "Adam fused, bf16 autocast, channels_last",
                     "Adam fused, torch.compile", "Adam fused, bf16 autocast, torch.compile")


def _training_variant(obj, variant: str) -> None:
    """``obj``'s trainable networks in ``variant``'s layout: channels_last weights (a convolution then runs in that
    layout, its input converted), or each wrapped by ``torch.compile`` (inductor's default mode; it compiles at the
    first step, which the bench's untimed round 0 takes)."""
    for k, n in obj.nets.items():
        if not any(p.requires_grad for p in n.parameters()):
            continue                                     # the diffusion model's weight average: no forward pass
        if variant.endswith("channels_last"):
            n.to(memory_format=torch.channels_last)
        elif variant.endswith("torch.compile"):
            obj.nets[k] = torch.compile(n)


def _quick_training_models(P) -> dict:
    """{row name: TrainConfig} of every kind of model the quick chain trains, as its recipes build it on this machine
    (with bf16 where :meth:`Profile.train_bf16` picks it)."""
    from . import ablation

    return {"MSE U-Net (notebook 02)": recipes.mse_unet(P), "GAN U-Net, adversarial phase (03)": recipes.gan_unet(P),
            "Zhang's classifier (03)": recipes.cic(P), "mse+perceptual (05)": ablation.config("mse+perceptual", P),
            "diffusion (04)": recipes.diffusion(P)}


# where a training step's time goes: torch.profiler's operator names (substrings, first match wins) by kind
PROFILE_KINDS = (("convolution, backward", ("convolution_backward",)),
                 ("convolution, forward", ("convolution",)),
                 ("pooling and resampling", ("pool", "upsample", "interpolate")),   # before "linear": bilinear
                 ("matrix products (attention, linear)", ("addmm", "bmm", "mm", "matmul", "linear",
                                                          "scaled_dot_product")),
                 ("normalisation", ("batch_norm", "group_norm", "layer_norm", "instance_norm")),
                 ("optimiser (Adam; vector norms: gradient clipping, spectral norm)", ("adam", "optimizer",
                                                                                      "vector_norm", "foreach")),
                 ("dtype casts and copies", ("copy_", "_to_copy", "to_dense", "contiguous")),
                 ("dropout and random numbers", ("bernoulli", "dropout", "rand", "normal_")),
                 ("activations", ("relu", "clamp_min", "threshold", "silu", "gelu", "sigmoid", "tanh", "softmax")),
                 ("elementwise arithmetic and the rest", ("",)))


def profile_by_kind(fn) -> dict[str, float]:
    """Seconds of one call of ``fn`` by kind of work, from ``torch.profiler``: each operator's self time (on the
    calling thread, so intra-op threads are not counted twice) summed by :data:`PROFILE_KINDS`, and ``Python,
    dispatch and autograd``: the call's wall time that no operator holds. The values sum to the wall time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    kinds = dict.fromkeys([k for k, _ in PROFILE_KINDS], 0.0)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        t = time.perf_counter()
        fn()
        wall = time.perf_counter() - t
    for e in prof.key_averages():
        if e.key.startswith(("Optimizer.", "ProfilerStep", "autograd::engine")):
            continue   # wrappers: their operators are counted under their own names
        kind = next(k for k, keys in PROFILE_KINDS if any(x in e.key.lower() for x in keys))
        kinds[kind] += e.self_cpu_time_total / 1e6
    kinds["Python, dispatch and autograd"] = wall - sum(kinds.values())
    return kinds


def bench_training_profile(*, quick: bool) -> pd.DataFrame:
    """Where each quick model's training step spends its time on this machine (:func:`profile_by_kind`); the
    batch (``Objective.batch``: indexing the LAB cache, crops, flips, noise, the diffusion model's conditioning) is
    timed apart. The models run as the chain trains them here (fused Adam, bf16 where the recipe picks it)."""
    from .objectives import OBJECTIVES

    P = profile("quick")
    frames = recipes.image_frames(P, progress=False)
    warmup, steps = (2, 3) if quick else (3, 12)
    rows, models = [], _quick_training_models(P)
    for name, cfg in models.items():
        data = recipes.diffusion_clips(P, cfg, progress=False) if cfg.objective == "diffusion" else frames
        torch.manual_seed(0)
        obj = OBJECTIVES[cfg.objective](cfg, data)
        opts, gen = obj.optimizers(), torch.Generator().manual_seed(0)
        for n in obj.nets.values():
            n.train()
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16)
        first = cfg.steps - 1 if cfg.objective == "gan" else 0     # the GAN's last phase trains both networks
        batch_s = step_s = 0.0
        for i in range(warmup + steps):
            if hasattr(obj, "at_step"):
                obj.at_step(first)
            t0 = time.perf_counter()
            b = obj.batch(gen, "cpu")
            t1 = time.perf_counter()
            if i < warmup:
                obj.step(b, opts, autocast)
                continue
            kinds = profile_by_kind(lambda: obj.step(b, opts, autocast))
            batch_s, step_s = batch_s + t1 - t0, step_s + sum(kinds.values())
            rows += [dict(model=name, kind=k, seconds=v) for k, v in kinds.items()]
        rows.append(dict(model=name, kind="batch (data)", seconds=batch_s))
        rows.append(dict(model=name, kind="_step", seconds=step_s))
    d = pd.DataFrame(rows).groupby(["model", "kind"], sort=False, as_index=False).seconds.sum()
    total = d[d.kind == "_step"].set_index("model").seconds + d[d.kind == "batch (data)"].set_index("model").seconds
    d = d[d.kind != "_step"].copy()
    d["ms_per_step"] = (d.seconds / steps * 1e3).round(2)
    d["share"] = (d.seconds / d.model.map(total)).round(3)
    d["bf16"] = d.model.map({k: c.bf16 for k, c in models.items()})
    d["steps"] = steps
    return d.drop(columns="seconds")


def write_training_profile(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_training_profile", title="Where a quick training step spends its time",
                        notes="torch.profiler on this machine (its CPU is in the provenance), one run: each model's "
                        "training step as the quick chain trains it here (bf16: whether its recipe picks bf16 "
                        "autocast on this CPU), after warm-up steps. Operators' self times on the calling thread, "
                        "summed by kind (PROFILE_KINDS in colorizerutils/bench.py); 'Python, dispatch and autograd' "
                        "is the step's wall time that no operator holds; 'batch (data)' is making the batch, timed "
                        "apart. share: of the batch plus the step.", **prov)


def bench_training_steps(*, quick: bool) -> pd.DataFrame:
    """The quick profile's training steps for every model the chain trains, on its real training data, seven ways in
    one run: Adam as torch makes it by default (on the CPU: one tensor at a time, from Python), Adam fused (one
    kernel; what :func:`colorizerutils.objectives.adam` uses), fused with bf16 autocast (``TrainConfig.bf16``), and
    those two with channels_last weights or compiled by ``torch.compile`` (:func:`_training_variant`; issue 18 asks
    for both where they pay). The variants alternate in rounds; ms per step is the median over rounds. Each variant
    starts from the same weights and takes the same batches and dropout draws, so ``weight_drift`` (the largest
    absolute weight difference from the default's after the timed steps, over the largest weight) shows how far each
    moves the training."""
    import dataclasses

    from .objectives import OBJECTIVES
    from .runtime import amx_training, native_bf16

    P = profile("quick")
    frames = recipes.image_frames(P, progress=False)
    models = _quick_training_models(P)
    rounds, steps = (2, 3) if quick else (3, 8)
    rows = []
    for name, cfg in models.items():
        data = recipes.diffusion_clips(P, cfg, progress=False) if cfg.objective == "diffusion" else frames
        runs = {}
        for v in TRAINING_VARIANTS:
            torch.manual_seed(0)
            bf16 = "bf16" in v
            obj = OBJECTIVES[cfg.objective](dataclasses.replace(cfg, bf16=bf16), data)
            opts = obj.optimizers()
            _training_variant(obj, v)
            if v.startswith("Adam, torch"):
                opts = {k: type(o)([dict(g, fused=None, foreach=None) for g in o.param_groups])
                        for k, o in opts.items()}
            runs[v] = dict(obj=obj, opts=opts, gen=torch.Generator().manual_seed(0), done=0, ms=[],
                           autocast=lambda b=bf16: torch.autocast("cpu", dtype=torch.bfloat16, enabled=b))
            for n in obj.nets.values():
                n.train()
        first = cfg.steps - 1 if cfg.objective == "gan" else 0     # the GAN's last phase trains both networks
        for _ in range(rounds + 1):                                 # round 0 warms up and is not timed
            for r in runs.values():
                t = time.perf_counter()
                for _ in range(steps):
                    torch.manual_seed(1000 + r["done"])
                    if hasattr(r["obj"], "at_step"):
                        r["obj"].at_step(first)
                    r["obj"].step(r["obj"].batch(r["gen"], "cpu"), r["opts"], r["autocast"])
                    r["done"] += 1
                r["ms"].append((time.perf_counter() - t) / steps * 1e3)
        base = runs[TRAINING_VARIANTS[0]]
        weights = lambda obj: {k: getattr(n, "_orig_mod", n).state_dict() for k, n in obj.nets.items()}
        ref = weights(base["obj"])
        scale = max(float(t.abs().max()) for sd in ref.values() for t in sd.values() if t.is_floating_point())
        for v, r in runs.items():
            ms = float(np.median(r["ms"][1:]))
            drift = max(float((t - ref[k][key]).abs().max()) for k, sd in weights(r["obj"]).items()
                        for key, t in sd.items() if t.is_floating_point())
            rows.append(dict(model=name, variant=v, batch=cfg.batch, size=cfg.size, ms_per_step=round(ms, 1),
                             first_round_ms_per_step=round(r["ms"][0], 1),
                             speedup=float(np.median(base["ms"][1:])) / ms, steps=r["done"],
                             weight_drift=drift / scale, native_bf16=native_bf16("cpu"),
                             amx=amx_training("cpu")))
    return pd.DataFrame(rows)


def write_training_steps(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_training_steps",
                        title="Training steps: Adam as torch makes it, fused, bf16, channels_last, torch.compile",
                        notes="Measured in one run on this machine (its CPU is in the provenance), the seven "
                        "variants of each model alternating in rounds; ms per step is the median over the timed "
                        "rounds, speedup = the default's ms / this row's. first_round_ms_per_step: the untimed first "
                        "round's, which holds torch.compile's compilation. Quick's settings (batch, size, model) on "
                        "the real training data. weight_drift: after all steps (the same batches and dropout draws "
                        "for every variant, from the same initial weights; compiled code draws its dropout masks from "
                        "its own generator), the largest absolute difference of any weight from the default's, over "
                        "the largest absolute weight. native_bf16: the CPU has AMX or AVX512-BF16 "
                        "(runtime.native_bf16); amx: it has AMX (runtime.amx_training), where PROFILE=quick trains "
                        "the MSE U-Net, GAN U-Net and diffusion model in bf16.", **prov)


def _consistency_sum(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """The previous form of :func:`colorizerutils.flow.consistency`, kept to compare in one run: numpy's
    ``.sum(-1)`` over the flows' two components."""
    from .flow import warp

    bw_at = warp(bw, fw)
    d2 = ((fw + bw_at) ** 2).sum(-1)
    tol = 0.01 * ((fw ** 2).sum(-1) + (bw_at ** 2).sum(-1)) + 0.5
    return np.exp(-d2 / tol).astype(np.float32)


def bench_anchor_cost(*, quick: bool) -> pd.DataFrame:
    """The exemplar colorizer's flow anchor (:class:`colorizerutils.flow.FlowAnchor`: per frame, four DIS flows, two
    forward-backward consistencies and two warps) on the first test clip at shorter side 240 (as the steps bench
    runs it), with its consistency in its previous form and its present one, alternating in rounds in this run: the
    consistency per call, and the whole anchor per frame with the previous form patched in; DIS alone per call for
    scale. Every confidence and anchor must be bitwise the same either way."""
    from unittest import mock

    from . import evaluate, flow
    from .color import rgb_to_lab

    name, path = next(iter(evaluate.test_clips().items()))
    protocol = evaluate.Protocol(size=240, max_frames=6 if quick else 11)
    rgb = torch.from_numpy(np.stack(list(evaluate.protocol_frames(path, protocol)))).permute(0, 3, 1, 2)
    lab = rgb_to_lab(rgb.float() / 255)
    g8 = [flow.gray8(f[0]) for f in lab]
    # the anchor's flows: frame t to the exemplar and to frame t-1, and back
    pairs = [p for t in range(1, len(g8)) for c, s in ((g8[t], g8[0]), (g8[t], g8[t - 1])) for p in ((c, s), (s, c))]

    def anchors():
        a, out = flow.FlowAnchor(), []
        a.reset(lab[:1])
        for t in range(1, len(lab)):
            out.append(a(lab[t:t + 1, :1]))
            a.update(out[-1][0])
        return out

    def previous_anchors():
        with mock.patch.object(flow, "consistency", _consistency_sum):
            return anchors()

    t = time.perf_counter()
    flows = [flow.dis(*p) for p in pairs]
    dis_ms = (time.perf_counter() - t) / len(pairs) * 1e3
    fb = list(zip(flows[0::2], flows[1::2]))
    parts = {"forward-backward consistency, per call": (lambda: [_consistency_sum(*f) for f in fb],
                                                        lambda: [flow.consistency(*f) for f in fb], len(fb)),
             "the whole anchor, per frame": (previous_anchors, anchors, len(lab) - 1)}
    rows = []
    for part, (before, now, calls) in parts.items():
        times, outs = {"before": [], "now": []}, {}
        for _ in range(2 if quick else 5):
            for label, fn in (("before", before), ("now", now)):
                t = time.perf_counter()
                outs[label] = fn()
                times[label].append((time.perf_counter() - t) / calls * 1e3)
        equal = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in
                    zip(_flatten(outs["before"]), _flatten(outs["now"])))
        ratio = pd.Series(times["before"]) / pd.Series(times["now"])
        rows.append(dict(part=part, clip=name, size=f"{lab.shape[-1]}x{lab.shape[-2]}", calls=calls,
                         before_ms=float(np.median(times["before"])), now_ms=float(np.median(times["now"])),
                         speedup=ratio.median(), speedup_min=ratio.min(), speedup_max=ratio.max(),
                         rounds=len(ratio), bitwise_equal=equal, dis_ms_per_flow=dis_ms))
    return pd.DataFrame(rows)


def _flatten(x):
    """Arrays and tensors nested in lists and tuples, in order (None kept)."""
    if isinstance(x, (list, tuple)):
        return [y for item in x for y in _flatten(item)]
    return [x]


def write_anchor_cost(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_anchor_cost",
                        title="The exemplar colorizer's flow anchor: its consistency check before and now",
                        notes="Measured in one run on this machine, alternating in rounds; before_ms and now_ms are "
                        "medians over rounds, speedup the median of the rounds' ratios (min and max beside it). "
                        "Consistency: the forward-backward check with numpy's .sum(-1) over the "
                        "flow's two components before, written out now. The whole anchor: flow.FlowAnchor over the "
                        "clip's frames as the exemplar colorizer runs it, with the previous consistency patched in "
                        "before. bitwise_equal: every output the same either way. dis_ms_per_flow: one DIS flow "
                        "(medium preset) of those frames, for scale: the anchor computes four a frame.",
                        **prov)


def bench_flow_threads(*, quick: bool) -> pd.DataFrame:
    """The warp error's Farneback flows of a test clip's real frames (metrics.pair_flows, at 256 px as notebooks
    01-03 score), one thread against one per core, alternating in rounds in this run; the flows must be equal."""
    from concurrent.futures import ThreadPoolExecutor

    from . import evaluate, metrics

    P = profile("quick")
    name, path = next(iter(evaluate.test_clips().items()))
    g8 = np.stack(list(evaluate.protocol_frames(path, evaluate.Protocol(size=P.eval_size,
                                                                        max_frames=9 if quick else 33))))
    n = max(1, torch.get_num_threads())          # the size of the kit's own pool (metrics._flow_pool)
    pools = {1: ThreadPoolExecutor(1), n: ThreadPoolExecutor(n)}
    times, flows = {k: [] for k in pools}, {}
    for _ in range(2 if quick else 3):
        for workers, ex in pools.items():
            t = time.perf_counter()
            flows[workers] = metrics.pair_flows(g8, executor=ex)
            times[workers].append(time.perf_counter() - t)
    for ex in pools.values():
        ex.shutdown()
    equal = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(*flows.values()))
    t1, tn = float(np.median(times[1])), float(np.median(times[n]))
    return pd.DataFrame([dict(clip=name, pairs=len(g8) - 1, size=f"{g8.shape[2]}x{g8.shape[1]}",
                              threads=n, one_thread_s=round(t1, 3), threaded_s=round(tn, 3),
                              speedup=t1 / tn, flows_equal=equal)])


def write_flow_threads(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_flow_threads", title="The warp error's Farneback flows: one thread vs one per core",
                        notes="Measured in one run on this machine, alternating in rounds (median): the forward and "
                        "backward Farneback flows of every consecutive pair of a test clip's first frames at 256 px "
                        "(metrics.pair_flows; OpenCV's Farneback uses one core, so the pairs run on a thread pool). "
                        "flows_equal: every flow and occlusion mask is bitwise the same either way.", **prov)


# joined-clip shots benchmark: three test clips joined, 4:3 at 640x480, their first frames as references
SHOT_CLIPS = ("carphone_pristine.mp4", "cup.mp4", "vtest.avi")


def bench_shots(*, quick: bool, size=(640, 480)) -> pd.DataFrame:
    """Issue 15's joined clip: three test clips with no cut of their own (carphone_pristine.mp4, cup.mp4, vtest.avi;
    60 frames each, 20 with ``quick``) resized to 640x480 and joined into one frame folder, with a folder holding
    their three first frames (named so that file order differs from shot order) as ``--reference``. ``colorize_path``
    runs it as ``colorizer colorize JOINED OUT --reference REFS`` does: is each cut found to the frame, does each shot
    use its own reference, and how far is each shot's PSNR from colorizing that shot alone with its own reference
    (goal: within 0.5 dB)? Frame 0 of each shot is its reference and is not scored. For the exemplar diffusion
    (default settings) and the DIS warp; the diffusion also with ``--no-shots`` (one state and the first reference
    across the cuts), to show what shot handling is worth."""
    import json
    import tempfile
    from pathlib import Path

    from .diffusion import DiffusionColorizer
    from .inference import BASELINES
    from .shots import join_clips, score_shots
    from .video import colorize_frames, colorize_path

    n = 20 if quick else 60
    net, source, config = _trained_or_fresh("diffusion", "diffusion_unet", DEFAULT_DIFFUSION)
    methods = {"exemplar diffusion (DDIM 5, full anchor, gated residual)":
               lambda: DiffusionColorizer(net, device=torch.device("cpu"), config=config, seed=0),
               "DIS warp from the reference": BASELINES["flow"]}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        joined = join_clips([paths.DATA / "default" / "videos" / name for name in SHOT_CLIPS], tmp, frames=n, size=size)
        alone = {}   # each part colorized as a clip of its own with its own first frame as the reference
        for method, make in methods.items():
            own = [list(colorize_frames(make(), iter(part), reference=part[0])) for part in joined.parts]
            alone[method] = [r["psnr"] for r in score_shots([f for p in own for f in p], joined, None)]
            for shots in (True, False) if method.startswith("exemplar") else (True,):
                out = tmp / f"out_{len(rows)}"
                colorize_path(make(), joined.folder, out, reference=joined.references, progress=False, shots=shots)
                got = [media.read_image(f) for f in media.list_frame_files(out)]
                log = json.loads(out.with_name(out.name + ".shots.json").read_text()) if shots else None
                for r, alone_db in zip(score_shots(got, joined, log), alone[method]):
                    rows.append(dict(method=method, shot_handling=shots, **{k: r[k] for k in (
                                         "shot", "clip", "frames", "true_cut", "found_cut")},
                                     reference_used=r["reference_used"] if shots
                                     else min(joined.reference_names) + " (the first)",
                                     own_reference=r["own_reference"], psnr_joined=r["psnr"], psnr_alone=alone_db,
                                     joined_minus_alone=r["psnr"] - alone_db,
                                     within_half_db=abs(r["psnr"] - alone_db) <= 0.5,
                                     cuts_found=len(log) - 1 if shots else None,
                                     weights=source if method.startswith("exemplar") else "none"))
    return pd.DataFrame(rows)


def write_shots(df: pd.DataFrame, **prov) -> None:
    results.write_table(df, "bench_shots", title="A clip of three joined test clips: cuts, references and each shot "
                        "against colorizing it alone",
                        notes="carphone_pristine.mp4, cup.mp4 and vtest.avi (test clips without cuts of their own), "
                        "the same number of frames each, resized to 640x480 and joined; their first frames in one "
                        "reference folder, named c_, a_, b_ so that the folder's order is not the shots' order. The "
                        "model is not told the cuts. found_cut: the shot start that `colorize_path` reported within "
                        "one frame of the true cut (empty: none found there); cuts_found: all cuts it reported. PSNR: "
                        "each shot's frames after its first, mean over frames; alone: the same frames colorized as a "
                        "clip of their own with the shot's own first frame as the reference. Goal: cuts to +-1 frame "
                        "and |joined - alone| <= 0.5 dB for every shot. Without shot handling (`--no-shots`) the "
                        "first reference and the state run across the cuts.", **prov)


def run_all(*, quick: bool = False) -> None:
    torch.manual_seed(0)
    timer = results.Timer().__enter__()
    peaks = pd.DataFrame([dict(dtype="fp32", gflop_s=matmul_peak(torch.float32)),
                          dict(dtype="bf16", gflop_s=matmul_peak(torch.bfloat16))])
    print(peaks.to_string(index=False), flush=True)
    # first: their child processes would inherit a larger parent's peak RSS
    memory, colorize_memory = bench_evaluate_memory(), bench_colorize_memory(quick=quick)
    print(memory.to_string(index=False), colorize_memory.to_string(index=False), sep="\n", flush=True)
    img = bench_image_models(quick=quick)
    img["fraction_of_fp32_peak"] = img.achieved_gflop_s / peaks.gflop_s[0]
    img["fraction_of_bf16_peak"] = img.achieved_gflop_s / peaks.gflop_s[1]
    print(img.to_string(index=False), flush=True)
    e2e = bench_end_to_end(quick=quick)
    print(e2e.to_string(index=False), flush=True)
    steps_df, cost = bench_diffusion_steps(quick=quick), bench_diffusion_cost()
    print(steps_df.to_string(index=False), cost.to_string(index=False), sep="\n", flush=True)
    exemplar = bench_exemplar_end_to_end(quick=quick)
    print(exemplar.to_string(index=False), flush=True)
    shared = bench_evaluate_shared(quick=quick)
    print(shared.to_string(index=False), flush=True)
    shots = bench_shots(quick=quick)
    print(shots.to_string(index=False), flush=True)
    sweep = bench_sweep_processes(quick=quick)
    print(sweep.to_string(index=False), flush=True)
    precision, flow_threads = bench_loss_precision(quick=quick), bench_flow_threads(quick=quick)
    print(precision.to_string(index=False), flow_threads.to_string(index=False), sep="\n", flush=True)
    anchor = bench_anchor_cost(quick=quick)
    print(anchor.to_string(index=False), flush=True)
    training, training_profile = bench_training_steps(quick=quick), bench_training_profile(quick=quick)
    print(training.to_string(index=False), training_profile.to_string(index=False), sep="\n", flush=True)
    timer.__exit__()
    prov = dict(notebook="make bench", params={"quick": quick, "unet": DEFAULT_UNET,
                                               "threads": torch.get_num_threads()}, seed=0, wall_time_s=timer.seconds)
    note = "Measured in one run of `make bench` on this machine; compare ratios, not absolute numbers across machines."
    results.write_table(peaks, "bench_matmul_peak", title="Matmul peak (2048x2048)", notes=note, **prov)
    results.write_table(img, "bench_models", title="Training and inference at 256x256, fp32 vs bf16 autocast",
                        notes=note + " psnr_bf16_minus_fp32_db: mean PSNR over 16 test frames at 256x256 with bf16 "
                        "autocast minus fp32, same weights.", **prov)
    results.write_table(e2e, "bench_end_to_end", title="colorizer colorize on a 720p clip vs the model alone",
                        notes=note + " End to end: decode, L, model, LAB to RGB and x264 encode (CRF 20; veryfast is "
                        "the default of `colorizer colorize`, superfast is `--preset superfast`), with the fused LAB "
                        "kernels compiled beforehand (numba caches them on disk after the first use). Rounds alternate "
                        "model-only and end-to-end runs; ratio is the median over rounds of end to end / the mean of "
                        "the model-only timings either side (min and max beside it).", **prov)
    write_diffusion_steps(steps_df, **prov)
    results.write_table(cost, "bench_diffusion_cost", title="Diffusion sampling cost vs size, steps and frames",
                        notes=note, **prov)
    write_evaluate_memory(memory, **prov)
    write_colorize_memory(colorize_memory, **prov)
    _write_exemplar_end_to_end(exemplar, **prov)
    write_evaluate_shared(shared, **prov)
    write_shots(shots, **prov)
    write_sweep_processes(sweep, **prov)
    write_loss_precision(precision, **prov)
    write_flow_threads(flow_threads, **prov)
    write_anchor_cost(anchor, **prov)
    write_training_steps(training, **prov)
    write_training_profile(training_profile, **prov)


def run_only(which: str, *, quick: bool = False) -> pd.DataFrame:
    """One benchmark alone, its table written to results/ with provenance (``colorizer bench --only WHICH``):
    ``shared`` (side-by-side scoring), ``evaluate`` (colorizer evaluate's memory), ``colorize-memory`` (colorizer
    colorize's memory with a reference, 100 against 1,000 frames), ``exemplar`` (colorize with a
    reference, end to end), ``sweep`` (notebook 05's runs one after the other or at once), ``steps`` (the diffusion
    sampler's step counts), ``shots`` (a clip of three joined test clips: cuts, references, each shot against
    colorizing it alone), ``precision`` (notebook 05's VGG16 loss network, fp32 vs bf16), ``flows`` (the warp
    error's Farneback flows, one thread vs one per core) or ``anchor`` (the exemplar colorizer's flow anchor, its
    consistency check before and now) or ``training`` (every quick model's training step: Adam as torch makes it,
    fused, bf16 autocast, each also with channels_last or torch.compile) or ``profile`` (where each quick model's
    training step spends its time, by kind of operator)."""
    import os

    threads = {"quick": quick, "threads": torch.get_num_threads()}
    runs = {"shared": (lambda: bench_evaluate_shared(quick=quick), write_evaluate_shared, threads),
            "evaluate": (bench_evaluate_memory, write_evaluate_memory,
                         {"torch_threads": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}),
            "colorize-memory": (lambda: bench_colorize_memory(quick=quick), write_colorize_memory, threads),
            "exemplar": (lambda: bench_exemplar_end_to_end(quick=quick), _write_exemplar_end_to_end, threads),
            "sweep": (lambda: bench_sweep_processes(quick=quick), write_sweep_processes, threads),
            "steps": (lambda: bench_diffusion_steps(quick=quick), write_diffusion_steps, threads),
            "shots": (lambda: bench_shots(quick=quick), write_shots, threads),
            "precision": (lambda: bench_loss_precision(quick=quick), write_loss_precision, threads),
            "flows": (lambda: bench_flow_threads(quick=quick), write_flow_threads, threads),
            "anchor": (lambda: bench_anchor_cost(quick=quick), write_anchor_cost, threads),
            "training": (lambda: bench_training_steps(quick=quick), write_training_steps, threads),
            "profile": (lambda: bench_training_profile(quick=quick), write_training_profile, threads)}
    if which not in runs:
        raise ValueError(f"no benchmark named {which!r}: choose one of {sorted(runs)}")
    bench, write, params = runs[which]
    with results.Timer() as timer:
        df = bench()
    write(df, notebook="make bench", seed=0, wall_time_s=timer.seconds, params={"only": which, **params})
    return df

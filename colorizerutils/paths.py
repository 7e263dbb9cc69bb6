"""Every directory the kit uses, derived from one root.

The root is the repository checkout (the folder holding ``pyproject.toml``); set ``COLORIZER_ROOT`` to point the kit
somewhere else (for example a Google Drive folder on Colab).
"""
from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    env = os.environ.get("COLORIZER_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd().resolve()


ROOT = _find_root()
DATA = ROOT / "data"                  # prepared datasets + manifest (git-ignored, except code and READMEs)
CACHE = DATA / "cache"                # resized LAB tensors per clip (keyed by source hash and size) and, under
                                      # rows/, the baselines' scored rows (evaluate.evaluate_all(cache=True))
WEIGHTS = ROOT / "weights"            # ImageNet backbone weights (git-ignored)
# trained models written by the notebooks (git-ignored); tests point this and RESULTS at temporary folders
CHECKPOINTS = Path(os.environ.get("COLORIZER_CHECKPOINTS", ROOT / "checkpoints"))
# tables (CSV + Markdown) and provenance, written only by colorizerutils.results
RESULTS = Path(os.environ.get("COLORIZER_RESULTS", ROOT / "results"))
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed"  # papermill's executed copies (git-ignored)

"""One setup call at the top of every notebook: on a fresh Colab runtime as on a laptop.

Each notebook's first code cell installs the kit on Colab only (a clone of ``KIT_GIT_URL``, its parameter), then its
next cell calls :func:`colab_setup`, which is idempotent and fast when everything is in place:

- the default dataset (``make data``) and the ImageNet weights (``make weights``);
- the trained models the notebook uses from an earlier notebook (03 uses 02's ``mse_unet``), trained here at the
  notebook's ``PROFILE`` when missing, with a progress bar and the time it takes
  (:func:`colorizerutils.recipes.ensure_models`).
"""
from __future__ import annotations

import sys


def on_colab() -> bool:
    return "google.colab" in sys.modules


def colab_setup(profile: str, *, needs: tuple[str, ...] | list[str] = (), progress: bool = True) -> None:
    """Prepare the data, the weights and the models in ``needs`` for a notebook run at ``profile``."""
    from . import data, recipes, weights

    data.prepare_default(progress=progress)
    weights.fetch_all()
    recipes.ensure_models(list(needs), profile, progress=progress)

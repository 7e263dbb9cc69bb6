"""colorizerutils: the logic of the colorization research kit (the notebooks only tell the story).

Conventions: RGB (B,3,H,W) float in [0,1]; LAB with L in [0,100] and a/b in CIE units; see :mod:`.color`.
"""
from . import paths
from .colab import colab_setup
from .color import (denormalize_ab, denormalize_l, lab_to_rgb, merge_lab, normalize_ab, normalize_l, rgb_to_lab,
                    split_lab)
from .profiles import PROFILES, profile
from .runtime import seed_everything

__all__ = ["paths", "rgb_to_lab", "lab_to_rgb", "split_lab", "merge_lab", "normalize_l", "denormalize_l",
           "normalize_ab", "denormalize_ab", "profile", "PROFILES", "seed_everything", "colab_setup"]
__version__ = "0.1.0"

"""Fused 8-bit LAB kernels for video on CPU (numba): uint8 RGB -> L, and (L, ab) -> uint8 RGB.

Written as one loop per pixel so that a 720p frame is read and written once, instead of the dozen full-size
temporaries the tensor formulas in :mod:`.color` create (71 ms per 720p frame on 2 cores, more than the model).
Same formulas and constants as :func:`colorizerutils.color.rgb_to_lab` / :func:`colorizerutils.color.lab_to_rgb`;
the gamma curves go through lookup tables. ``tests/test_color.py`` checks them against the exact conversion and
against the tensor versions, which remain the path for GPU tensors.

Compiled on first use (about a second) and cached next to this file (``cache=True``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

LUT_SIZE = 65536
_EPS = 0.008856     # (6/29)^3
_KAPPA = 7.787


@njit(parallel=True, cache=True)
def _rgb8_to_l(rgb, lin, wy, ylut, out):           # pragma: no cover - compiled
    n = rgb.shape[0]
    top = ylut.shape[0] - 1
    for p in prange(n):
        y = wy[0] * lin[rgb[p, 0]] + wy[1] * lin[rgb[p, 1]] + wy[2] * lin[rgb[p, 2]]
        y = min(max(y, 0.0), 1.0) * top
        i = min(int(y), top - 1)
        f = y - i
        out[p] = ylut[i] + f * (ylut[i + 1] - ylut[i])   # linear interpolation of L(Y) between table entries


@njit(parallel=True, cache=True)
def _lab_to_rgb8(L, a, b, m, white, u8lut, out):   # pragma: no cover - compiled
    n = L.shape[0]
    top = u8lut.shape[0] - 1
    for p in prange(n):
        fy = (L[p] + 16.0) / 116.0
        fx = fy + a[p] / 500.0
        fz = max(fy - b[p] / 200.0, 0.0)                # skimage clips negative z before the inverse
        x = (fx * fx * fx if fx > 0.2068966 else (fx - 16.0 / 116.0) / _KAPPA) * white[0]
        y = (fy * fy * fy if fy > 0.2068966 else (fy - 16.0 / 116.0) / _KAPPA) * white[1]
        z = (fz * fz * fz if fz > 0.2068966 else (fz - 16.0 / 116.0) / _KAPPA) * white[2]
        for c in range(3):
            v = m[c, 0] * x + m[c, 1] * y + m[c, 2] * z
            v = min(max(v, 0.0), 1.0)
            out[p, c] = u8lut[int(v * top + 0.5)]


def l_from_rgb8(rgb: np.ndarray, lin: np.ndarray, wy: np.ndarray, ylut: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB -> (...) float32 L in [0,100]."""
    flat = np.ascontiguousarray(rgb).reshape(-1, 3)
    out = np.empty(flat.shape[0], np.float32)
    _rgb8_to_l(flat, lin, wy, ylut, out)
    return out.reshape(rgb.shape[:-1])


def lab_to_rgb8(L: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray, white: np.ndarray,
                u8lut: np.ndarray) -> np.ndarray:
    """float32 L, a, b of one shape -> (..., 3) uint8 sRGB, clipped to the gamut."""
    shape = L.shape
    out = np.empty((L.size, 3), np.uint8)
    _lab_to_rgb8(np.ascontiguousarray(L).ravel(), np.ascontiguousarray(a).ravel(), np.ascontiguousarray(b).ravel(),
                 m, white, u8lut, out)
    return out.reshape(*shape, 3)

"""Fused 8-bit LAB kernels for video on CPU (numba): uint8 RGB -> L, and (L, ab) -> uint8 RGB.

Written as one loop per pixel so that a 720p frame is read and written once, instead of the dozen full-size
temporaries the tensor formulas in :mod:`.color` create (71 ms per 720p frame on 2 cores, more than the model).
Same formulas and constants as :func:`colorizerutils.color.rgb_to_lab` / :func:`colorizerutils.color.lab_to_rgb`;
the gamma curves go through lookup tables. ``tests/test_color.py`` checks them against the exact conversion
(tensors on a GPU are brought to the CPU for these kernels).

Compiled on first use (about a second) and cached next to this file (``cache=True``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

LUT_SIZE = 65536
_KAPPA = 7.787      # slope of CIE's linear segment (as in colorizerutils.color)


@njit(parallel=True, cache=True, nogil=True)
def _rgb8_to_l(rgb, lin, wy, ylut, out):           # pragma: no cover - compiled
    n = rgb.shape[0]
    top = ylut.shape[0] - 1
    for p in prange(n):
        y = wy[0] * lin[rgb[p, 0]] + wy[1] * lin[rgb[p, 1]] + wy[2] * lin[rgb[p, 2]]
        y = min(max(y, 0.0), 1.0) * top
        i = min(int(y), top - 1)
        f = y - i
        out[p] = ylut[i] + f * (ylut[i + 1] - ylut[i])   # linear interpolation of L(Y) between table entries


@njit(parallel=True, cache=True, nogil=True)
def _lab_to_rgb8(L, ab, m, white, u8lut, out):   # pragma: no cover - compiled
    nb, H, W = L.shape
    h, w = ab.shape[2], ab.shape[3]
    top = u8lut.shape[0] - 1
    sy, sx = h / H, w / W
    for r in prange(nb * H):
        k, y = r // H, r % H
        # bilinear sampling of the low-resolution ab, as torch's interpolate(align_corners=False)
        fy_src = max((y + 0.5) * sy - 0.5, 0.0)
        y0 = int(fy_src)
        y1 = y0 + 1 if y0 < h - 1 else y0
        ly = fy_src - y0
        for xx in range(W):
            fx_src = max((xx + 0.5) * sx - 0.5, 0.0)
            x0 = int(fx_src)
            x1 = x0 + 1 if x0 < w - 1 else x0
            lx = fx_src - x0
            av = ((1 - ly) * ((1 - lx) * ab[k, 0, y0, x0] + lx * ab[k, 0, y0, x1])
                  + ly * ((1 - lx) * ab[k, 0, y1, x0] + lx * ab[k, 0, y1, x1]))
            bv = ((1 - ly) * ((1 - lx) * ab[k, 1, y0, x0] + lx * ab[k, 1, y0, x1])
                  + ly * ((1 - lx) * ab[k, 1, y1, x0] + lx * ab[k, 1, y1, x1]))
            fy = (L[k, y, xx] + 16.0) / 116.0
            fx = fy + av / 500.0
            fz = max(fy - bv / 200.0, 0.0)                # skimage clips negative z before the inverse
            X = (fx * fx * fx if fx > 0.2068966 else (fx - 16.0 / 116.0) / _KAPPA) * white[0]
            Y = (fy * fy * fy if fy > 0.2068966 else (fy - 16.0 / 116.0) / _KAPPA) * white[1]
            Z = (fz * fz * fz if fz > 0.2068966 else (fz - 16.0 / 116.0) / _KAPPA) * white[2]
            for c in range(3):
                v = m[c, 0] * X + m[c, 1] * Y + m[c, 2] * Z
                v = min(max(v, 0.0), 1.0)
                out[k, y, xx, c] = u8lut[int(v * top + 0.5)]


def l_from_rgb8(rgb: np.ndarray, lin: np.ndarray, wy: np.ndarray, ylut: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB -> (...) float32 L in [0,100]."""
    flat = np.ascontiguousarray(rgb).reshape(-1, 3)
    out = np.empty(flat.shape[0], np.float32)
    _rgb8_to_l(flat, lin, wy, ylut, out)
    return out.reshape(rgb.shape[:-1])


def lab_to_rgb8(L: np.ndarray, ab: np.ndarray, m: np.ndarray, white: np.ndarray, u8lut: np.ndarray) -> np.ndarray:
    """float32 L (B,H,W) and ab (B,2,h,w), at H,W or lower (then upsampled bilinearly on the fly) -> (B,H,W,3)
    uint8 sRGB, clipped to the gamut."""
    out = np.empty((*L.shape, 3), np.uint8)
    _lab_to_rgb8(np.ascontiguousarray(L), np.ascontiguousarray(ab), m, white, u8lut, out)
    return out

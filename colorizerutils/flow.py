"""Dense optical flow (OpenCV's Farneback and DIS) and backward warping, shared by the warp-error metric and the
flow-warped exemplar of the diffusion model.

``farneback(a, b)`` on two gray uint8 images gives, for every pixel p of ``a``, the offset to its match in ``b``;
``warp(img_b, flow)`` then pulls ``b``'s values onto ``a``'s grid (bilinear, borders replicated).
"""
from __future__ import annotations

import numpy as np
import torch


# Farneback's settings, as in OpenCV's own dense-flow sample (python/opt_flow.py)
FARNEBACK = dict(pyr_scale=0.5,   # each pyramid level half the size of the one below
                 levels=3,        # pyramid levels above the image
                 winsize=15,      # averaging window: larger is smoother and steadier on fast motion
                 iterations=3,    # per pyramid level
                 poly_n=5,        # neighbourhood of the polynomial expansion
                 poly_sigma=1.2,  # its Gaussian (1.1 for poly_n 5 in the paper; 1.2 as OpenCV's sample)
                 flags=0)


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H,W) uint8, (H,W) uint8 -> (H,W,2) float32 flow from a to b (x, y), with :data:`FARNEBACK`'s settings."""
    import cv2

    return cv2.calcOpticalFlowFarneback(a, b, None, **FARNEBACK)


def dis(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H,W) uint8, (H,W) uint8 -> (H,W,2) float32 flow from a to b with OpenCV's DIS (Kroeger et al. 2016), medium
    preset: faster than Farneback and better on large motion."""
    import cv2

    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)


FLOWS = {"farneback": farneback, "dis": dis}


def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """(H,W[,C]) float32 image of the flow's target frame -> the same on the flow's source grid."""
    import cv2

    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def warp_lab_onto(src: torch.Tensor, dst_L: torch.Tensor, *, method: str = "farneback") -> torch.Tensor:
    """Move each frame of ``src`` (B,C,h,w), whose channel 0 is L in [0,100], onto the frame whose L is ``dst_L``
    (B,1,h,w): optical flow (``method``: farneback | dis) between the two L channels, then backward warping of every
    channel of ``src``."""
    if method not in FLOWS:
        raise ValueError(f"unknown flow {method!r}; expected one of {', '.join(FLOWS)}")
    if src.shape[0] != dst_L.shape[0] or src.shape[-2:] != dst_L.shape[-2:]:
        raise ValueError(f"warp_lab_onto: src {tuple(src.shape)} and dst_L {tuple(dst_L.shape)} must have the same "
                         f"batch and size")
    to_u8 = lambda L: (L.detach().float().cpu().clamp(0, 100) * 2.55 + 0.5).to(torch.uint8).numpy()
    s8, d8 = to_u8(src[:, 0]), to_u8(dst_L[:, 0])
    img = src.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    out = []
    for i in range(len(src)):
        w = warp(np.ascontiguousarray(img[i]), FLOWS[method](d8[i], s8[i]))
        out.append(torch.from_numpy(w.reshape(*w.shape[:2], -1)).permute(2, 0, 1))
    return torch.stack(out).to(src)

"""CIE LAB colour space in torch: batched, differentiable, CPU or GPU.

Conventions (stated once, used everywhere):
- RGB: (B,3,H,W) float in [0,1], sRGB with the D65 white point (what ``skimage.color.rgb2lab`` assumes).
- LAB: (B,3,H,W) float; L in [0,100], a and b in CIE units (roughly [-128,127]).
- Network space: ``L_norm = L/50 - 1`` in [-1,1], ``ab_norm = ab/AB_SCALE`` in about [-1,1]. Only
  :func:`normalize_l`, :func:`normalize_ab` and their inverses know these constants.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

L_CENTER = 50.0   # L in [0,100] -> [-1,1]
L_SCALE = 50.0
AB_SCALE = 110.0  # |a|,|b| of in-gamut sRGB stay below ~107, so ab/110 lies in [-1,1]

_WHITE_D65 = (0.95047, 1.0, 1.08883)
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
_EPS = 0.008856     # (6/29)^3: CIE switch between the cube root and the linear segment
_KAPPA = 7.787      # slope of the linear segment


def _check(x: torch.Tensor, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name}: expected a (B,3,H,W) tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a float tensor, got {x.dtype}; convert uint8 with x.float()/255 first")


def _mix(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", m.to(x), x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (B,3,H,W) in [0,1] -> LAB (B,3,H,W): L in [0,100], a/b in CIE units. Agrees with skimage.color.rgb2lab."""
    _check(rgb, "rgb_to_lab")
    rgb = rgb.clamp(0.0, 1.0)
    lin = torch.where(rgb > 0.04045, ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = _mix(_RGB_TO_XYZ, lin) / torch.tensor(_WHITE_D65, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp(min=_EPS) ** (1.0 / 3.0), _KAPPA * xyz + 16.0 / 116.0)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """LAB (B,3,H,W) -> sRGB (B,3,H,W) in [0,1]; out-of-gamut colours are clipped. Inverse of :func:`rgb_to_lab`."""
    _check(lab, "lab_to_rgb")
    L, a, b = lab[:, 0:1], lab[:, 1:2], lab[:, 2:3]
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = (fy - b / 200.0).clamp(min=0.0)  # skimage also clips negative z before the inverse
    f = torch.cat([fx, fy, fz], dim=1)
    t = torch.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / _KAPPA)
    xyz = t * torch.tensor(_WHITE_D65, dtype=lab.dtype, device=lab.device).view(1, 3, 1, 1)
    lin = _mix(_XYZ_TO_RGB, xyz)
    rgb = torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0.0031308) ** (1.0 / 2.4) - 0.055, 12.92 * lin)
    return rgb.clamp(0.0, 1.0)


def normalize_l(L: torch.Tensor) -> torch.Tensor:
    """L in [0,100] -> [-1,1]."""
    return (L - L_CENTER) / L_SCALE


def denormalize_l(l_norm: torch.Tensor) -> torch.Tensor:
    return l_norm * L_SCALE + L_CENTER


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """ab in CIE units -> about [-1,1]."""
    return ab / AB_SCALE


def denormalize_ab(ab_norm: torch.Tensor) -> torch.Tensor:
    return ab_norm * AB_SCALE


def split_lab(lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """LAB (B,3,H,W) -> (L (B,1,H,W), ab (B,2,H,W)), same units."""
    return lab[:, :1], lab[:, 1:]


def upsample_ab(ab: torch.Tensor, size) -> torch.Tensor:
    """ab (B,2,h,w) predicted at a lower resolution -> (B,2,*size), bilinear; unchanged when already that size."""
    size = tuple(size)
    if tuple(ab.shape[-2:]) == size:
        return ab
    return F.interpolate(ab, size=size, mode="bilinear", align_corners=False)


def merge_lab(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (B,1,H,W) and ab (B,2,h,w) -> LAB (B,3,H,W). ab at a lower resolution is upsampled bilinearly onto L's grid:
    colour at low resolution, full-resolution L (the eye is far less sensitive to chroma detail)."""
    return torch.cat([L, upsample_ab(ab, L.shape[-2:]).to(L.dtype)], dim=1)


def to_uint8(rgb: torch.Tensor) -> torch.Tensor:
    """RGB float in [0,1] -> uint8 in [0,255] with clipping and rounding (never truncation)."""
    return (rgb.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    """uint8 (…,3,H,W) -> float32 in [0,1]."""
    return x.to(torch.float32) / 255.0


# --------------------------------------------------------------------------------------------------------------
# Fast 8-bit paths for video (full-resolution L in, full-resolution RGB out): fused per-pixel loops (numba, in
# :mod:`.lab8`) with lookup tables instead of pow(). Same formulas as above; tests/test_color.py checks them
# against rgb_to_lab / lab_to_rgb + to_uint8 (within 0.02 in L, and one 8-bit level).
# --------------------------------------------------------------------------------------------------------------
_LUTS: dict = {}


def _tables() -> dict:
    if not _LUTS:
        from .lab8 import LUT_SIZE

        c = torch.arange(256, dtype=torch.float64) / 255
        lin = torch.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
        y = torch.arange(LUT_SIZE, dtype=torch.float64) / (LUT_SIZE - 1)
        f = torch.where(y > _EPS, y ** (1 / 3), _KAPPA * y + 16 / 116)
        s = torch.where(y > 0.0031308, 1.055 * y ** (1 / 2.4) - 0.055, 12.92 * y)
        _LUTS.update(lin=lin.float().numpy(), wy=_RGB_TO_XYZ[1].float().numpy(), L=(116 * f - 16).float().numpy(),
                     u8=(s * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy(),
                     m=_XYZ_TO_RGB.float().numpy(), white=torch.tensor(_WHITE_D65).float().numpy())
    return _LUTS


def l_from_uint8(frames: torch.Tensor) -> torch.Tensor:
    """L (B,1,H,W) in [0,100] of uint8 RGB frames given channels-last, (B,H,W,3)."""
    from .lab8 import l_from_rgb8

    t = _tables()
    L = l_from_rgb8(frames.cpu().numpy(), t["lin"], t["wy"], t["L"])
    return torch.from_numpy(L).unsqueeze(1)


def lab_to_uint8(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (B,1,H,W) and ab (B,2,h,w) -> uint8 RGB channels-last (B,H,W,3), clipped to the gamut. ab at a lower
    resolution is upsampled bilinearly on the fly (as :func:`upsample_ab`), never stored at full size."""
    from .lab8 import lab_to_rgb8

    t = _tables()
    f32 = lambda x: x.detach().to("cpu", torch.float32).numpy()
    return torch.from_numpy(lab_to_rgb8(f32(L[:, 0]), f32(ab), t["m"], t["white"], t["u8"]))

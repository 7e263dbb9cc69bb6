import numpy as np
import pytest
import skimage.color
import skimage.data
import torch
import torch.nn.functional as F

import colorizerutils as cu
from colorizerutils import color


def _img(name):
    return torch.from_numpy(getattr(skimage.data, name)()[..., :3].copy()).permute(2, 0, 1)[None].double() / 255


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_rgb_to_lab_matches_skimage_on_real_images(name):
    rgb = _img(name)
    ours = cu.rgb_to_lab(rgb)[0].permute(1, 2, 0).numpy()
    ref = skimage.color.rgb2lab(rgb[0].permute(1, 2, 0).numpy())
    assert np.abs(ours - ref).max() < 1e-3


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_lab_to_rgb_matches_skimage_and_round_trips(name):
    rgb = _img(name)
    lab = cu.rgb_to_lab(rgb)
    back = cu.lab_to_rgb(lab)
    assert (back - rgb).abs().max() < 1e-3
    ref = skimage.color.lab2rgb(lab[0].permute(1, 2, 0).numpy())
    assert np.abs(back[0].permute(1, 2, 0).numpy() - ref).max() < 1e-3


def test_float32_batched_on_odd_sizes_matches_kornia():
    import kornia.color

    rgb = torch.rand(3, 3, 37, 53)
    ours = cu.rgb_to_lab(rgb)
    assert ours.shape == (3, 3, 37, 53)
    assert (ours - kornia.color.rgb_to_lab(rgb)).abs().max() < 1e-2
    assert (cu.lab_to_rgb(ours) - rgb).abs().max() < 1e-3


def test_out_of_gamut_lab_is_clipped():
    lab = torch.tensor([100.0, 127.0, -128.0]).view(1, 3, 1, 1).expand(1, 3, 4, 4).clone()
    rgb = cu.lab_to_rgb(lab)
    assert rgb.min() >= 0 and rgb.max() <= 1 and torch.isfinite(rgb).all()


def test_differentiable_without_nans_at_black_and_white():
    rgb = torch.cat([torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2), torch.rand(1, 3, 2, 2)]).requires_grad_()
    loss = cu.lab_to_rgb(cu.rgb_to_lab(rgb)).sum() + cu.rgb_to_lab(rgb).sum()
    loss.backward()
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0


def test_normalisation_is_invertible_and_in_range():
    lab = cu.rgb_to_lab(_img("astronaut").float())
    L, ab = cu.split_lab(lab)
    assert cu.normalize_l(L).abs().max() <= 1.0 + 1e-6
    assert cu.normalize_ab(ab).abs().max() <= 1.0
    assert torch.allclose(cu.denormalize_ab(cu.normalize_ab(ab)), ab, atol=1e-5)
    assert torch.allclose(cu.denormalize_l(cu.normalize_l(L)), L, atol=1e-5)


def test_low_resolution_ab_is_upsampled_onto_full_resolution_l():
    lab = cu.rgb_to_lab(_img("chelsea").float())
    L, ab = cu.split_lab(lab)
    small = torch.nn.functional.interpolate(ab, scale_factor=0.25, mode="bilinear", antialias=True)
    merged = cu.merge_lab(L, small)
    assert merged.shape == lab.shape
    assert torch.equal(merged[:, :1], L)  # L is untouched, only chroma is coarse
    assert (cu.lab_to_rgb(merged) - cu.lab_to_rgb(lab)).abs().mean() < 0.02


def test_bad_shapes_and_dtypes_are_refused():
    with pytest.raises(ValueError, match="B,3,H,W"):
        cu.rgb_to_lab(torch.rand(3, 8, 8))
    with pytest.raises(TypeError, match="uint8"):
        cu.rgb_to_lab(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_uint8_conversion_rounds_and_clips():
    x = torch.tensor([-0.1, 0.0, 0.5, 1.0, 1.2]).view(1, 1, 1, 5)
    assert color.to_uint8(x).flatten().tolist() == [0, 0, 128, 255, 255]


def test_fast_uint8_paths_agree_with_the_exact_conversion():
    rgb8 = torch.from_numpy(skimage.data.astronaut().copy())[None]              # (1,H,W,3) uint8
    exact = cu.rgb_to_lab(rgb8.permute(0, 3, 1, 2).double() / 255)
    assert (color.l_from_uint8(rgb8).double() - exact[:, :1]).abs().max() < 0.02
    ab = exact[:, 1:].float() * 1.3                                            # push some colours out of gamut
    fast = color.lab_to_uint8(exact[:, :1].float(), ab)
    slow = color.to_uint8(cu.lab_to_rgb(torch.cat([exact[:, :1].float(), ab], 1))).permute(0, 2, 3, 1)
    assert (fast.int() - slow.int()).abs().max() <= 1
    low = F.interpolate(ab, scale_factor=0.25, mode="bilinear", antialias=True)  # ab at the model's resolution
    fused = color.lab_to_uint8(exact[:, :1].float(), low)                       # upsampled inside the kernel
    slow = color.to_uint8(cu.lab_to_rgb(color.merge_lab(exact[:, :1].float(), low))).permute(0, 2, 3, 1)
    assert (fused.int() - slow.int()).abs().max() <= 1


def test_fast_uint8_paths_leave_torchs_thread_count_alone():
    """numba's OpenMP pool, started by the first fast conversion, once set torch's thread count to every core in a
    process that had asked for one thread, so that training after it gave other weights than before it (notebook 05's
    rerun check failed under OMP_NUM_THREADS=1). A fresh process, since the pool starts once per process."""
    import os
    import subprocess
    import sys

    code = ("import torch, skimage.data\n"
            "from colorizerutils import color\n"
            "assert torch.get_num_threads() == 1\n"
            "rgb8 = torch.from_numpy(skimage.data.astronaut().copy())[None]\n"
            "L = color.l_from_uint8(rgb8)\n"
            "after_l = torch.get_num_threads()\n"
            "color.lab_to_uint8(L, torch.zeros(1, 2, 128, 128))\n"
            "print(after_l, torch.get_num_threads())\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="2")   # numba's pool: 2 threads, on any machine
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1", "1"], p.stdout

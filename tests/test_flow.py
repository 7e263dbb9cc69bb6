"""Optical-flow warping (shared by the warp-error metric and the diffusion model's flow-warped exemplar)."""
import pytest
import torch

from colorizerutils import data, paths
from colorizerutils.flow import warp_lab_onto


def test_warping_a_real_frame_onto_its_shifted_copy_recovers_the_copy(manifest):
    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=64, max_frames=1)
    src = lab[:1].float()
    dst = torch.roll(src, shifts=(2, 3), dims=(-2, -1))           # the same frame moved 2 px down, 3 px right
    moved = warp_lab_onto(src, dst[:, :1])
    inner = (..., slice(8, -8), slice(8, -8))                      # away from the wrapped-around border
    err_warped = (moved - dst)[inner].abs().mean()
    err_still = (src - dst)[inner].abs().mean()
    assert err_warped < 0.25 * err_still, (float(err_warped), float(err_still))


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="same batch and size"):
        warp_lab_onto(torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 8, 8))

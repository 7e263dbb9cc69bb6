"""The guided filter against an independent computation: a ridge least-squares fit solved window by window."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorizerutils.filters import box_filter, guided_filter


def _brute_force(I: np.ndarray, p: np.ndarray, r: int, eps: float, w: np.ndarray | None = None) -> np.ndarray:
    """He et al.'s definition, one window at a time in float64: in the window around each pixel k (borders
    replicated), (a_k, b_k) minimise sum_j w_j (a I_j + b - p_j)^2 + eps a^2 sum_j w_j; then q_i is the mean over
    the windows covering i of a_k I_i + b_k (again with the border's coefficients replicated)."""
    H, W = I.shape
    w = np.ones_like(I) if w is None else w
    pad = lambda x: np.pad(x, r, mode="edge")
    Ip, wp = pad(I), pad(w)
    a = np.zeros((p.shape[0], H, W))
    b = np.zeros_like(a)
    for c in range(p.shape[0]):
        pp = pad(p[c])
        for y in range(H):
            for x in range(W):
                win = np.s_[y:y + 2 * r + 1, x:x + 2 * r + 1]
                sw = np.sqrt(wp[win].ravel())
                A = np.stack([Ip[win].ravel(), np.ones(sw.size)], 1) * sw[:, None]
                A = np.vstack([A, [np.sqrt(eps * wp[win].sum()), 0.0]])
                rhs = np.append(pp[win].ravel() * sw, 0.0)
                a[c, y, x], b[c, y, x] = np.linalg.lstsq(A, rhs, rcond=None)[0]
    mean = lambda t: np.stack([[pad(t[c])[y:y + 2 * r + 1, x:x + 2 * r + 1].mean() for x in range(W)]
                               for c in range(len(t)) for y in range(H)]).reshape(t.shape)
    return mean(a) * I + mean(b)


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    I = torch.rand(1, 1, 11, 13, generator=g)
    I[..., 6:] += 0.8                                      # a vertical edge in the guide
    p = torch.randn(1, 2, 11, 13, generator=g) * 0.3 + I * torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
    return I, p


def test_box_filter_is_the_window_mean_with_replicated_borders(images):
    I, _ = images
    ref = F.pad(I, (2, 2, 2, 2), mode="replicate").unfold(2, 5, 1).unfold(3, 5, 1).mean((-1, -2))
    torch.testing.assert_close(box_filter(I, 2), ref)


@pytest.mark.parametrize("weighted", [False, True])
def test_guided_filter_matches_window_by_window_ridge_regression(images, weighted):
    I, p = images
    w = torch.rand(1, 1, 11, 13, generator=torch.Generator().manual_seed(1)) if weighted else None
    out = guided_filter(I.double(), p.double(), 2, 1e-3, weight=None if w is None else w.double())
    ref = _brute_force(I[0, 0].double().numpy(), p[0].double().numpy(), 2, 1e-3,
                       None if w is None else w[0, 0].double().numpy())
    np.testing.assert_allclose(out[0].numpy(), ref, rtol=0, atol=1e-5)
    assert not np.allclose(out[0].numpy(), p[0].numpy(), atol=1e-2)        # it did filter


def test_a_linear_function_of_the_guide_passes_unchanged_and_the_fast_form_follows_the_full_guide(images):
    I, _ = images
    p = torch.cat([3 * I + 2, -I], 1)
    torch.testing.assert_close(guided_filter(I, p, 3, 1e-9), p, atol=1e-4, rtol=0)
    # fitted at half resolution, applied to the full-resolution guide: the same line, at full resolution
    full = F.interpolate(I, scale_factor=2, mode="bilinear", align_corners=False)
    out = guided_filter(I, p, 2, 1e-9, full_guide=full)
    assert out.shape == (1, 2, 22, 26)
    torch.testing.assert_close(out, torch.cat([3 * full + 2, -full], 1), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="guide"):
        guided_filter(p, p, 2, 1e-3)

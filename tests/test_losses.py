"""Every term of a combination reaches the gradient, and the combination is the weighted sum of its terms."""
import pytest
import torch

from colorizerutils import losses

PAPER_COMBOS = ["mse", "mae", "mae+ssim", "mse+ssim", "mae+content", "mse+content", "mse+lpips", "mae+lpips",
                "mae+perceptual", "mse+perceptual", "mae+ssim+perceptual", "mse+ssim+perceptual", "mse+lpips+ssim",
                "mae+lpips+ssim", "mae+lpips+content", "mse+lpips+content", "mae+ssim+lpips", "mse+ssim+lpips",
                "mae+ssim+style", "mse+ssim+style"]


@pytest.fixture(scope="module")
def batch():
    from colorizerutils import data, normalize_ab, normalize_l

    lab = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=48, max_frames=2)
    torch.manual_seed(0)
    pred = (normalize_ab(lab[:, 1:]) + 0.2 * torch.randn(2, 2, 48, 48)).clamp(-1, 1)
    return pred, normalize_ab(lab[:, 1:]), normalize_l(lab[:, :1])


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_each_term_has_a_nonzero_gradient(name, batch):
    pred, ab, l = batch
    pred = pred.clone().requires_grad_()
    total, terms = losses.build_loss(name)(pred, ab, l)
    total.backward()
    assert total.item() > 0 and pred.grad.abs().sum() > 0, name


def test_combo_is_the_weighted_sum_and_each_term_contributes(batch):
    pred, ab, l = batch
    combo = losses.build_loss("mse+ssim+perceptual", ssim=0.5, perceptual=2.0)
    total, terms = combo(pred, ab, l)
    assert total.item() == pytest.approx(float(terms["mse"] + 0.5 * terms["ssim"] + 2.0 * terms["perceptual"]), rel=1e-5)
    grads = {}
    for n in combo.names:
        p = pred.clone().requires_grad_()
        t, _ = losses.build_loss(n, **{n: 1.0})(p, ab, l)  # the raw term
        t.backward()
        grads[n] = p.grad
    p = pred.clone().requires_grad_()
    combo(p, ab, l)[0].backward()
    expected = grads["mse"] + 0.5 * grads["ssim"] + 2.0 * grads["perceptual"]
    assert torch.allclose(p.grad, expected, rtol=1e-4, atol=1e-8)
    for n, g in grads.items():
        assert g.abs().sum() > 0, f"{n} does not reach the gradient"


def test_every_paper_combination_parses():
    for c in PAPER_COMBOS:
        assert losses.parse(c) == c.split("+")
    assert len(PAPER_COMBOS) == 20


def test_bad_specs_are_refused():
    with pytest.raises(ValueError, match="unknown loss"):
        losses.build_loss("mse+adversarial")
    with pytest.raises(ValueError, match="twice"):
        losses.build_loss("mse+mse")
    with pytest.raises(ValueError, match="not in"):
        losses.build_loss("mse", ssim=1.0)


@pytest.mark.parametrize("name", ["content", "perceptual", "style"])
def test_vgg_terms_in_bf16_stay_close_to_float32_and_really_change_precision(name, batch):
    """The bf16 VGG16 (notebook 05 where the hardware has native bf16) gives each VGG term and its gradient within a
    few percent of float32's, and is not a no-op: the numbers differ."""
    pred, ab, l = batch
    out = {}
    for bf16 in (False, True):
        p = pred.clone().requires_grad_()
        loss = losses.build_loss(name, vgg_bf16=bf16)
        assert losses.uses_vgg(name) and loss.terms[name].vgg.bf16 is bf16
        total, _ = loss(p, ab, l)
        total.backward()
        out[bf16] = (total.detach(), p.grad)
    (t32, g32), (t16, g16) = out[False], out[True]
    assert t16.dtype == torch.float32 and t16 != t32
    assert float(t16) == pytest.approx(float(t32), rel=0.05)
    cos = torch.nn.functional.cosine_similarity(g16.flatten(), g32.flatten(), dim=0)
    assert cos > 0.95, f"{name}: the bf16 gradient points elsewhere (cosine {cos:.3f})"


def test_only_vgg_terms_count_as_vgg():
    assert [c for c in PAPER_COMBOS if losses.uses_vgg(c)] == [
        c for c in PAPER_COMBOS if {"content", "perceptual", "style"} & set(c.split("+"))]

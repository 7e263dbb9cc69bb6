import pytest
import torch

from colorizerutils import profile
from colorizerutils.models import build_model, cic


@pytest.mark.parametrize("hw", [(37, 53), (64, 64), (17, 200)])
def test_unet_any_size_in_l_out_ab(hw):
    m = build_model("unet", ngf=8, depth=5).eval()
    y = m(torch.randn(2, 1, *hw))
    assert y.shape == (2, 2, *hw) and y.abs().max() <= 1


def test_patchgan_scores_patches():
    d = build_model("patchgan", ndf=8)
    out = d(torch.randn(2, 1, 64, 64), torch.randn(2, 2, 64, 64))
    assert out.shape[:2] == (2, 1) and out.shape[-1] > 1


def test_patchgan_spectral_norm_bounds_every_layer():
    d = build_model("patchgan", ndf=8, norm="spectral").train()
    for _ in range(50):                                   # each training-mode forward takes a power-iteration step
        d(torch.randn(2, 1, 64, 64), torch.randn(2, 2, 64, 64))
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    for m in convs:   # the largest singular value of each (out, in*k*k) weight matrix, computed independently
        assert abs(torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item() - 1) < 0.05


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet")


def test_cic_bins_cover_the_srgb_gamut():
    bins = cic.ab_bins()
    assert 250 <= len(bins) <= 313 and (bins % 10 == 0).all()
    from colorizerutils import rgb_to_lab

    ab = rgb_to_lab(torch.rand(1, 3, 64, 64))[0, 1:].reshape(2, -1).T
    assert torch.cdist(ab, bins).min(1).values.max() <= 5 * 2 ** 0.5 + 1e-4  # every colour lies in some bin's cell


def test_soft_encoding_and_annealed_mean():
    ab = torch.tensor([[[[30.0]], [[-20.0]]]])
    q = cic.soft_encode(ab)
    assert q.sum(1).item() == pytest.approx(1) and (q > 0).sum() == 5
    nearest = q.argmax(1).item()
    assert torch.allclose(cic.ab_bins()[nearest], torch.tensor([30.0, -20.0]))
    logits = torch.full((1, len(cic.ab_bins()), 1, 1), -30.0)
    logits[0, nearest] = 30.0
    assert torch.allclose(cic.annealed_mean(logits)[0, :, 0, 0], torch.tensor([30.0, -20.0]), atol=1e-3)


def test_sparse_soft_encoding_matches_brute_force_nearest_bins():
    # real colours, plus points spread past the gamut and past the candidate table (brute-force fallback)
    from colorizerutils import rgb_to_lab

    g = torch.Generator().manual_seed(0)
    ab = torch.cat([rgb_to_lab(torch.rand(1, 3, 100, 100, generator=g))[0, 1:].reshape(2, -1).T,
                    (torch.rand(20000, 2, generator=g) - 0.5) * 320])
    idx, w = cic.soft_encode_sparse(ab.T.reshape(1, 2, -1, 1))
    idx, w = idx[0, :, :, 0].T, w[0, :, :, 0].T
    d2 = torch.cdist(ab, cic.ab_bins()) ** 2
    near = d2.topk(5, dim=1, largest=False).values
    assert torch.allclose(d2.gather(1, idx), near)             # the same 5 distances, nearest first (ties aside)
    assert torch.allclose(w, torch.softmax(-near / 50, dim=1), atol=1e-4) and torch.allclose(w.sum(1), torch.ones(len(ab)))


def test_cic_predicts_at_a_quarter_resolution_and_decodes_to_full():
    net = build_model("cic", ngf=8, depth=4)
    l = torch.randn(2, 1, 37, 45)
    logits = net(l)
    assert logits.shape == (2, len(cic.ab_bins()), 10, 12) and net.colorize(l).shape == (2, 2, 37, 45)
    loss = net.loss(logits, torch.randn(2, 2, 37, 45) * 20)
    loss.backward()
    assert torch.isfinite(loss) and all(p.grad is not None for p in net.parameters())


def test_rebalancing_upweights_rare_colours_with_unit_expectation():
    common = torch.zeros(9000, 2)
    rare = torch.tensor([[60.0, 60.0]]).repeat(100, 1)
    w = cic.rebalance_weights(torch.cat([common, rare]))
    bins = cic.ab_bins()
    i_common = torch.cdist(torch.zeros(1, 2), bins).argmin()
    i_rare = torch.cdist(torch.tensor([[60.0, 60.0]]), bins).argmin()
    assert w[i_rare] > 5 * w[i_common]


def test_unet_overfits_one_batch():
    torch.manual_seed(0)
    from colorizerutils import data, normalize_ab, normalize_l

    m = build_model("unet", ngf=8, depth=4)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    lab = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=4)
    l, ab = normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])
    first = None
    for _ in range(150):
        loss = torch.nn.functional.mse_loss(m(l), ab)
        first = first if first is not None else loss.item()
        opt.zero_grad(); loss.backward(); opt.step()
    assert loss.item() < 0.1 * first


def test_bench_models_build_with_the_notebooks_settings():
    from colorizerutils import bench

    from colorizerutils import recipes

    P = profile("quick")
    trained = {"mse_unet": recipes.mse_unet(P).model_kwargs, "cic": recipes.cic(P).model_kwargs}
    for name, model, kwargs in bench.BENCH_MODELS:
        if name in trained:   # bench times the very models notebooks 02/03 train (it loads their checkpoints)
            assert kwargs == trained[name], name
        net = build_model(model, **kwargs)
        y = net(torch.zeros(1, 1, 64, 64)) if model != "patchgan" else net(torch.zeros(1, 1, 64, 64),
                                                                             torch.zeros(1, 2, 64, 64))
        assert torch.isfinite(y).all(), name


def test_a_quarter_resolution_unet_trains_by_regression_and_colours_at_full_resolution(tmp_path, monkeypatch):
    import numpy as np
    import torch.nn.functional as F

    from colorizerutils import data, inference, paths, video
    from colorizerutils.color import l_from_uint8, lab_to_rgb, merge_lab, to_uint8, upsample_ab
    from colorizerutils.training import TrainConfig, train

    monkeypatch.setattr(paths, "CHECKPOINTS", tmp_path)
    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=32, max_frames=8, step=4)
    cfg = TrainConfig(run="q", model="unet", model_kwargs=dict(ngf=8, depth=4, out_stride=4), steps=150, batch=8,
                      size=32, lr=3e-3, betas=(0.9, 0.999), flip=False, checkpoint_every=150, log_every=10)
    r = train(cfg, lab, progress=False)
    import pandas as pd

    log = pd.read_csv(r.run_dir / "log.csv")
    assert log["loss"].tail(3).mean() < 0.5 * log["loss"].head(2).mean()       # it learns through the upsampling
    colorizer = inference.load_colorizer(r.run_dir)
    ab = colorizer(lab[:, :1])
    assert ab.shape == (8, 2, 32, 32)                                           # full resolution out
    assert (ab - lab[:, 1:]).abs().mean() < 0.8 * lab[:, 1:].abs().mean()       # closer to the colours than gray
    low = colorizer.predict(lab[:, :1])
    assert low.shape == (8, 2, 8, 8) and torch.equal(ab, upsample_ab(low, (32, 32)))
    # streaming a 4x larger clip: the model runs at 32 px and its 8 px ab is upsampled once, straight to 128 px
    rgb = to_uint8(lab_to_rgb(F.interpolate(lab, size=(128, 128), mode="bilinear"))).permute(0, 2, 3, 1).contiguous()
    frames = list(video.colorize_frames(colorizer, iter(rgb.numpy()), size=32, batch=4))
    L_full = l_from_uint8(rgb)
    small = F.interpolate(L_full, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    once = lab_to_rgb(merge_lab(L_full, colorizer.predict(small)))             # exact conversion, one upsampling
    assert (torch.from_numpy(np.stack(frames)).int() - to_uint8(once).permute(0, 2, 3, 1).int()).abs().max() <= 1


@pytest.mark.parametrize("depth,stride", [(4, 2), (4, 8), (6, 4), (6, 32)])
def test_unet_out_stride_shapes_including_the_innermost_level(depth, stride):
    net = build_model("unet", ngf=8, depth=depth, out_stride=stride)   # depth 6: channels capped by max_mult
    y = net(torch.randn(2, 1, 70, 45))
    assert y.shape == (2, 2, -(-70 // stride), -(-45 // stride))

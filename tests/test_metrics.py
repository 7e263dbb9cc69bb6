"""Metrics against independent computations (skimage, scipy, hand-made inputs, golden values in docs/metrics.md)."""
import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.metrics
import torch
from scipy.spatial.distance import jensenshannon

from colorizerutils import media, metrics


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]


def _gray(a):
    lab = skimage.color.rgb2lab(a)
    lab[..., 1:] = 0
    return (np.clip(skimage.color.lab2rgb(lab), 0, 1) * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("name,golden_psnr", [("astronaut", 17.803), ("coffee", 14.124), ("chelsea", 19.403)])
def test_psnr_and_ssim_match_skimage_and_golden_values(name, golden_psnr):
    a = getattr(skimage.data, name)()[..., :3]
    g = _gray(a)
    p = metrics.psnr(_t(g), _t(a)).item()
    assert p == pytest.approx(golden_psnr, abs=1e-3)
    assert p == pytest.approx(skimage.metrics.peak_signal_noise_ratio(a, g, data_range=255), abs=1e-6)
    s = metrics.ssim(_t(g), _t(a)).item()
    ref = skimage.metrics.structural_similarity(a.astype(np.float64), g.astype(np.float64), data_range=255,
                                                channel_axis=2, gaussian_weights=True, sigma=1.5,
                                                use_sample_covariance=False)
    assert s == pytest.approx(ref, abs=2e-3)


def test_uint8_and_float_inputs_agree_and_do_not_wrap():
    a = torch.full((1, 3, 16, 16), 10, dtype=torch.uint8)
    b = torch.full((1, 3, 16, 16), 20, dtype=torch.uint8)  # uint8 10-20 would wrap to 246
    expected = 10 * np.log10(255 ** 2 / 100)
    assert metrics.psnr(a, b).item() == pytest.approx(expected)
    assert metrics.psnr(a.float() / 255, b.float() / 255).item() == pytest.approx(expected, abs=1e-4)  # float32 input


def test_lpips_metric_golden_value():
    a = skimage.data.astronaut()
    assert metrics.lpips(_t(_gray(a)), _t(a)).item() == pytest.approx(0.1882, abs=5e-4)


def test_lpips_split_into_two_sides_is_bitwise_the_lpips_package():
    """metrics.lpips computes each side's features once (so a shared ground truth is not recomputed); the numbers
    are exactly those of calling lpips.LPIPS on the pair."""
    from colorizerutils.weights import lpips_model

    a = np.stack([skimage.data.astronaut()[:384, :384], skimage.data.coffee()[:384, :384]])
    g = torch.from_numpy(a).permute(0, 3, 1, 2)
    p = torch.from_numpy(np.stack([_gray(x) for x in a])).permute(0, 3, 1, 2)
    with torch.no_grad():
        want = lpips_model("alex")((p.double() / 127.5 - 1).float(), (g.double() / 127.5 - 1).float()).flatten()
    got = metrics.lpips(p, g)
    assert got.dtype == torch.float64 and torch.equal(got, want.double())
    assert torch.equal(metrics.lpips_distance(metrics.lpips_features(p), metrics.lpips_features(g)), got)


def test_scorers_sharing_one_ground_truth_equal_scorers_on_their_own(manifest):
    """evaluate_all scores several predictions against one GroundTruth (flows and LPIPS features made once); each
    prediction's metrics equal those of a ClipScorer fed (pred, gt) by itself, exactly."""
    from colorizerutils import paths

    gt = torch.from_numpy(np.stack(list(media.iter_video(paths.DATA / "default/videos/carphone_pristine.mp4",
                                                        max_frames=11)))).permute(0, 3, 1, 2)
    preds = [torch.roll(gt, shifts=1, dims=1), (gt.int() * 3 // 4).to(torch.uint8)]
    truth = metrics.GroundTruth()
    shared = [metrics.ClipScorer() for _ in preds]
    for i in range(0, len(gt), 6):                       # chunks of 6, 5: the last frame carried across
        chunk = truth.chunk(gt[i:i + 6])
        for scorer, p in zip(shared, preds):
            scorer.score(p[i:i + 6], chunk)
    for scorer, p in zip(shared, preds):
        alone = metrics.evaluate_clip(p, gt, chunk=6)
        assert scorer.result() == alone and set(alone) >= {"lpips", "warp_error", "cdc"}
    assert shared[0].result()["psnr"] != shared[1].result()["psnr"]
    with pytest.raises(ValueError, match="without the LPIPS features"):
        metrics.ClipScorer().score(preds[0][:4], metrics.GroundTruth(with_lpips=False).chunk(gt[:4]))


def test_colorfulness_on_hand_made_images():
    flat = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    flat[:, 0] = 200  # pure red: rg = 200, yb = 100, no spread
    assert metrics.colorfulness(flat).item() == pytest.approx(0.3 * np.hypot(200, 100))
    half = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    half[:, 0, :, :4] = 255  # half red, half black: sd(rg) = 127.5, sd(yb) = 63.75
    expected = np.hypot(127.5, 63.75) + 0.3 * np.hypot(127.5, 63.75)
    assert metrics.colorfulness(half).item() == pytest.approx(expected)
    gray = torch.full((1, 3, 8, 8), 90, dtype=torch.uint8)
    assert metrics.colorfulness(gray).item() == 0


def test_cdc_against_hand_made_histograms():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(7, 3, 12, 12), dtype=np.uint8)
    got = metrics.cdc(torch.from_numpy(frames))
    # independent: scipy's jensenshannon is sqrt(JS) with natural log
    total = []
    for c in (2, 1, 0):
        h = [np.bincount(f[c].ravel(), minlength=256) / f[c].size for f in frames]
        total.append(sum(np.mean([jensenshannon(h[i], h[i + d]) ** 2 for i in range(len(h) - d)]) / 3
                         for d in (1, 2, 4)))
    assert got == pytest.approx(np.mean(total), rel=1e-9)
    still = torch.from_numpy(np.repeat(frames[:1], 6, axis=0))
    assert metrics.cdc(still) == 0.0
    with pytest.raises(ValueError, match="more than 4 frames"):
        metrics.cdc(still[:4])


def test_warp_error_is_zero_for_a_static_clip_and_grows_with_flicker():
    base = skimage.transform_rescale = skimage.data.astronaut()[::4, ::4]
    gt = torch.from_numpy(np.stack([base] * 5)).permute(0, 3, 1, 2)
    assert metrics.warp_error(gt, gt) < 1e-5  # Farneback flow on a static clip is ~0, not exactly 0
    flicker = gt.clone()
    flicker[1::2, 0] = (flicker[1::2, 0].int() + 60).clamp(max=255).to(torch.uint8)
    assert metrics.warp_error(flicker, gt) > 0.01


def test_threaded_pair_flows_equal_opencv_one_by_one_on_a_real_clip():
    """pair_flows runs Farneback on a thread pool; each flow must be exactly what OpenCV gives called one at a time,
    in order, with the forward-backward mask made from those flows."""
    import cv2

    from colorizerutils import paths
    from colorizerutils.flow import FARNEBACK

    g8 = np.stack(list(media.iter_video(paths.DATA / "default/videos/bikes.mp4", max_frames=6)))
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in g8]
    got = metrics.pair_flows(g8)
    assert len(got) == len(g8) - 1
    for t, (bw, mask) in enumerate(got, start=1):
        want_bw = cv2.calcOpticalFlowFarneback(gray[t], gray[t - 1], None, **FARNEBACK)
        want_fw = cv2.calcOpticalFlowFarneback(gray[t - 1], gray[t], None, **FARNEBACK)
        assert np.array_equal(bw, want_bw)
        fw_at = metrics.warp(want_fw, want_bw)   # the forward flow read at where each pixel came from
        consistent = ((want_bw + fw_at) ** 2).sum(-1) < 0.01 * ((want_bw ** 2).sum(-1) + (fw_at ** 2).sum(-1)) + 0.5
        assert np.array_equal(mask, consistent) and 0.5 < mask.mean() <= 1.0


def test_fid_is_inception_or_refused_never_another_network():
    ok, _ = metrics.fid_status()
    frames = (torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    if ok:   # weights loaded (a machine with network or a cached copy): identical sets are at distance ~0
        acc = metrics.fid_accumulator()
        assert acc.inception.num_features == 2048 if hasattr(acc.inception, "num_features") else True
        acc.update(frames, real=True), acc.update(frames, real=False)
        assert abs(float(acc.compute())) < 1e-2
    else:    # offline: a clear refusal, and the no-network API gives None rather than a substitute number
        with pytest.raises(RuntimeError, match="Inception-v3 weights"):
            metrics.fid_accumulator()
        assert metrics.fid(frames, frames) is None


def test_ssim_float32_equals_torchmetrics_float64_on_a_real_clip(manifest):
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from colorizerutils import paths

    gt = torch.from_numpy(np.stack(list(media.iter_video(paths.DATA / "default/videos/bikes.mp4", max_frames=4))))
    gt = gt.permute(0, 3, 1, 2)
    pred = (gt.float() * 0.8 + 25 + torch.randn(gt.shape, generator=torch.Generator().manual_seed(0)) * 8)
    pred = pred.clamp(0, 255).round().to(torch.uint8)
    _, full = tm_ssim(pred.double(), gt.double(), data_range=255.0, gaussian_kernel=True, sigma=1.5, kernel_size=11,
                      reduction="none", return_full_image=True)
    want = full[..., 5:-5, 5:-5].mean(dim=(1, 2, 3))
    assert torch.allclose(metrics.ssim(pred, gt), want, atol=1e-5)


def test_streaming_scorer_equals_the_whole_clip_at_once(manifest):
    from colorizerutils import paths

    gt = torch.from_numpy(np.stack(list(media.iter_video(paths.DATA / "default/videos/carphone_pristine.mp4",
                                                        max_frames=23)))).permute(0, 3, 1, 2)
    pred = torch.roll(gt, shifts=1, dims=1)            # a wrong colouring: channels rotated
    whole = metrics.evaluate_clip(pred, gt, chunk=len(gt))
    chunked = metrics.evaluate_clip(pred, gt, chunk=5)  # 5 does not divide 23: carried frames across chunks
    assert whole.keys() == chunked.keys() and {"cdc", "warp_error", "lpips"} <= set(whole)
    for k in whole:
        # LPIPS runs in float32, whose sums depend on the batch: equal to 1e-6; the rest is float64
        assert chunked[k] == pytest.approx(whole[k], rel=1e-6 if k == "lpips" else 1e-9, abs=1e-12), k
    # every piece against the stand-alone definitions
    assert whole["psnr"] == pytest.approx(float(metrics.psnr(pred, gt).mean()), rel=1e-12)
    assert whole["ssim"] == pytest.approx(float(metrics.ssim(pred, gt).mean()), rel=1e-12)
    assert whole["lpips"] == pytest.approx(float(metrics.lpips(pred, gt).mean()), rel=1e-6)
    assert whole["colorfulness"] == pytest.approx(float(metrics.colorfulness(pred).mean()), rel=1e-12)
    assert 10 < whole["psnr"] < 40 and whole["colorfulness"] > 1
    assert whole["cdc"] == pytest.approx(metrics.cdc(pred), rel=1e-12)
    assert whole["warp_error"] == pytest.approx(metrics.warp_error(pred, gt), rel=1e-12)


def test_clip_scorer_per_frame_values_are_exactly_the_stand_alone_metrics(manifest):
    """ClipScorer converts a prediction once and takes the truth's side (0-255 frames, SSIM's local statistics) from
    GroundTruth; each per-frame value must be bitwise what psnr, ssim, colorfulness and the histograms give on their
    own, for uint8 predictions and for float ones (which the histograms round)."""
    from colorizerutils import paths

    gt = torch.from_numpy(np.stack(list(media.iter_video(paths.DATA / "default/videos/bikes.mp4",
                                                        max_frames=7)))).permute(0, 3, 1, 2)
    for pred in (torch.roll(gt, shifts=1, dims=1), gt.float().div(255).pow(1.3)):   # uint8, float in [0,1]
        scorer = metrics.ClipScorer(with_lpips=False)
        scorer.update(pred, gt)
        for name, fn in (("psnr", metrics.psnr), ("ssim", metrics.ssim)):
            assert torch.equal(torch.cat(scorer.per_frame[name]), fn(pred, gt)), name
        assert torch.equal(torch.cat(scorer.per_frame["colorfulness"]), metrics.colorfulness(pred))
        assert np.array_equal(np.concatenate(scorer.hist), metrics._histograms(pred))
        assert scorer.result()["warp_error"] == metrics.warp_error(pred, gt)


def test_colorfulness_gain_brings_real_frames_near_the_target(clip_path):
    from colorizerutils.color import l_from_uint8, lab_to_uint8, rgb_to_lab

    frames = torch.from_numpy(np.stack(list(media.iter_video(clip_path, max_frames=4))))   # (T,H,W,3) uint8
    L = l_from_uint8(frames)
    ab = rgb_to_lab(frames.permute(0, 3, 1, 2).float() / 255)[:, 1:]
    ab_small = torch.nn.functional.interpolate(ab, scale_factor=0.25, mode="bilinear", antialias=True)
    as_is = metrics.colorfulness(lab_to_uint8(L, ab_small).permute(0, 3, 1, 2))
    for target in (0.5 * float(as_is.mean()), 1.5 * float(as_is.mean())):
        gain = metrics.colorfulness_gain(L, ab_small, target)
        assert gain.shape == (len(frames),) and ((gain > 0) & (gain < 2)).all()
        # measured at ab's size, so the full-size frame lands near the target, not on it
        scaled = metrics.colorfulness(lab_to_uint8(L, ab_small * gain.view(-1, 1, 1, 1)).permute(0, 3, 1, 2))
        assert scaled.float() == pytest.approx(torch.full_like(scaled.float(), target), rel=0.1)
    assert torch.equal(metrics.colorfulness_gain(L, ab_small, 0.0), torch.zeros(len(frames)))
    assert torch.equal(metrics.colorfulness_gain(L, torch.zeros_like(ab_small), 20.0), torch.full((len(frames),), 2.0))
    with pytest.raises(ValueError, match="colourfulness target -1"):
        metrics.colorfulness_gain(L, ab_small, -1.0)

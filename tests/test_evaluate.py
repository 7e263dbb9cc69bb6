"""The evaluation protocol on real clips: sizes, frame counts, the exemplar rule, and scores equal to a direct
computation of the same frames."""
import numpy as np
import pytest
import torch

from colorizerutils import evaluate, inference, metrics, paths
from colorizerutils.color import l_from_uint8, lab_to_uint8

BIKES = "default/videos/bikes.mp4"          # 640x272
CARPHONE = "default/videos/carphone_pristine.mp4"   # 176x144: smaller than the protocol's 256


def test_protocol_frames_resize_the_shorter_side_without_crop_or_upsampling(manifest):
    p = evaluate.Protocol(size=128, max_frames=7, temporal=False, stride=2)
    frames = list(evaluate.protocol_frames(paths.DATA / BIKES, p))
    assert len(frames) == 4 and frames[0].shape == (128, round(640 * 128 / 272), 3)   # frames 0, 2, 4, 6
    small = list(evaluate.protocol_frames(paths.DATA / CARPHONE, evaluate.Protocol(size=256, max_frames=2)))
    assert small[0].shape == (144, 176, 3)                                           # kept at its own size


def test_protocol_refuses_what_it_cannot_measure():
    with pytest.raises(ValueError, match="consecutive frames"):
        evaluate.Protocol(stride=2)                   # CDC and warp error need every frame
    with pytest.raises(ValueError, match="size >= 16"):
        evaluate.Protocol(size=8)


def test_gray_rows_equal_a_direct_computation(manifest):
    p = evaluate.Protocol(size=96, max_frames=12)
    row = evaluate.evaluate(inference.GrayBaseline(), {"bikes": paths.DATA / BIKES}, method="gray", protocol=p,
                            progress=False).iloc[0]
    gt = np.stack(list(evaluate.protocol_frames(paths.DATA / BIKES, p)))
    L = l_from_uint8(torch.from_numpy(gt))
    gray = lab_to_uint8(L, torch.zeros(len(gt), 2, *L.shape[-2:])).numpy()
    chw = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2)
    want = metrics.evaluate_clip(chw(gray), chw(gt))
    assert row.frames == 12 and row.colorfulness < 1          # gray has (almost) no colour
    for k, v in want.items():
        assert row[k] == pytest.approx(v, rel=1e-9), k


def test_exemplar_protocol_gives_frame_0_and_never_scores_it(manifest):
    p = evaluate.Protocol(size=96, max_frames=9, exemplar=True)
    clips = {"bikes": paths.DATA / BIKES}
    ref = evaluate.evaluate(inference.ReferenceCopy(), clips, method="copy", protocol=p, progress=False).iloc[0]
    assert ref.frames == 8
    # the reference copy is exact on frame 0 itself, so scoring frame 0 would show up as an infinite PSNR
    pairs = list(evaluate.colorize_clip(inference.ReferenceCopy(), clips["bikes"], p))
    assert np.abs(pairs[0][0].astype(int) - pairs[0][1].astype(int)).max() <= 2
    assert np.isfinite(ref.psnr) and ref.psnr > 25
    with pytest.raises(ValueError, match="needs an exemplar"):
        evaluate.evaluate(inference.ReferenceCopy(), clips, method="copy", protocol=evaluate.Protocol(size=96,
                                                                                                  max_frames=3))


def test_flow_baselines_follow_motion_better_than_a_copy(manifest):
    # bikes pans: warping the exemplar with optical flow must beat copying it, and DIS must run at full size
    p = evaluate.Protocol(size=128, max_frames=25, exemplar=True)
    clips = {"bikes": paths.DATA / BIKES}
    rows = {k: evaluate.evaluate(inference.BASELINES[k](), clips, method=k, protocol=p, progress=False).iloc[0]
            for k in ("reference", "flow", "flow-propagate", "farneback")}
    assert rows["flow"].psnr > rows["reference"].psnr + 0.5
    assert rows["farneback"].psnr > rows["reference"].psnr
    assert all(r.frames == 24 for r in rows.values())


def test_without_reference_hides_the_exemplar():
    seen = []

    class Spy:
        size = None

        def reset(self, reference=None):
            seen.append(reference)

        def __call__(self, L):
            return torch.zeros(L.shape[0], 2, *L.shape[-2:])

    wrapped = inference.WithoutReference(Spy())
    wrapped.reset(torch.ones(1, 3, 8, 8))
    assert seen == [None]


def _davis_folder(root, manifest):
    """A small DAVIS-2017-layout folder built from real clips: JPEGImages/480p/<seq>/00000.jpg, ImageSets/2017."""
    from PIL import Image

    from colorizerutils.media import iter_video

    for seq, clip in (("carphone", CARPHONE), ("bikes", BIKES)):
        d = root / "JPEGImages" / "480p" / seq
        d.mkdir(parents=True)
        for i, f in enumerate(iter_video(paths.DATA / clip, max_frames=8)):
            Image.fromarray(f).save(d / f"{i:05d}.jpg", quality=95)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("carphone\n")
    return root


def test_benchmark_follows_the_davis_protocol(manifest, tmp_path):
    import json
    import subprocess
    import sys

    root = _davis_folder(tmp_path / "DAVIS", manifest)
    run = lambda *a: subprocess.run([sys.executable, "-m", "colorizerutils", "benchmark", str(root), *a, "--quiet"],
                                    capture_output=True, text=True, timeout=600)
    p = run("--model", "flow", "--output", str(tmp_path / "flow.json"))
    assert p.returncode == 0, p.stderr
    rows = json.loads((tmp_path / "flow.json").read_text())
    assert [r["clip"] for r in rows] == ["carphone", "mean of 1 clips"]    # val.txt picks the sequences
    assert rows[0]["frames"] == 7                                          # frame 0 is the exemplar, not scored
    assert {"psnr", "ssim", "lpips", "cdc", "warp_error"} <= set(rows[0])
    (tmp_path / "all.txt").write_text("carphone\nbikes\n")
    p = run("--model", "gray", "--list", str(tmp_path / "all.txt"), "--output", str(tmp_path / "gray.csv"))
    assert p.returncode == 0, p.stderr
    import pandas as pd

    t = pd.read_csv(tmp_path / "gray.csv")
    assert list(t["clip"]) == ["carphone", "bikes", "mean of 2 clips"] and list(t["frames"]) == [8, 8, 16]  # all
    assert t.psnr.iloc[2] == pytest.approx(t.psnr.iloc[:2].mean())
    p = run("--model", "gray", "--list", str(tmp_path / "nothing.txt"))
    assert p.returncode == 2 and "nothing.txt" in p.stderr


def test_chroma_scale_fit_reproduces_the_evaluation_at_0_and_1(manifest):
    # the fit applies each scale to stored ab; at 0 it must equal the gray baseline's PSNR, at 1 the model's own
    # evaluation, and a scaled colorizer at the best scale must score what the fit's table says
    from colorizerutils.models import build_model

    torch.manual_seed(0)
    model = inference.Colorizer(build_model("unet", ngf=8, depth=3).eval(), objective="regression",
                            device=torch.device("cpu"), name="untrained", size=32)
    clips = {"bikes": paths.DATA / BIKES, "carphone": paths.DATA / CARPHONE}
    p = evaluate.Protocol(size=64, max_frames=9, stride=3, lpips=False, temporal=False)
    best, table = evaluate.fit_chroma_scale(model, clips, p, scales=[0.0, 0.3, 1.0], progress=False)
    psnr = lambda c: evaluate.evaluate(c, clips, method="m", protocol=p, progress=False).psnr.mean()
    at = table.set_index("chroma_scale").psnr
    assert at[0.0] == pytest.approx(psnr(inference.GrayBaseline()), abs=1e-9)
    assert at[1.0] == pytest.approx(psnr(model), abs=1e-9)
    assert at[0.3] == pytest.approx(psnr(inference.ChromaScaled(model, 0.3)), abs=1e-9)
    assert best == float(at.idxmax()) and len(table) == 3


def test_sampling_steps_scores_each_sampler_setting_it_builds(manifest):
    # make(sampler, steps) is called once per setting, and the setting reaches the sampler: the rows are those a
    # colorizer built by hand at that setting scores (the bench and notebook 04 share this loop)
    from colorizerutils import recipes
    from colorizerutils.diffusion import DiffusionColorizer
    from colorizerutils.models import build_model
    from colorizerutils.profiles import profile

    torch.manual_seed(0)
    net = build_model("diffusion_unet", **recipes.diffusion(profile("smoke")).model_kwargs).eval()
    with torch.no_grad():   # a fresh network's output layer is zero, and every step count would then agree
        for w in net.parameters():
            w.add_(0.05 * torch.randn_like(w))
    make = lambda kind, n: DiffusionColorizer(net, device=torch.device("cpu"), steps=n, sampler_name=kind, seed=0,
                                              residual="full")
    built = []
    clips = {"bikes": paths.DATA / BIKES, "carphone": paths.DATA / CARPHONE}
    p = evaluate.Protocol(size=32, max_frames=6, exemplar=True)
    table = evaluate.sampling_steps(None, clips, p, ddim_steps=(1, 3), dpm_steps=(2, 1), progress=False,
                                    make=lambda kind, n: built.append((kind, n)) or make(kind, n))
    assert built == [("ddim", 1), ("ddim", 3), ("dpm", 2), ("dpm", 1)]
    assert list(table.columns) == list(evaluate.STEPS_COLUMNS) and len(table) == 8
    assert table.method.tolist() == ["DDIM 1"] * 2 + ["DDIM 3"] * 2 + ["DPM-Solver 2"] * 2 + ["DPM-Solver 1"] * 2
    by_hand = evaluate.evaluate(make("ddim", 3), clips, method="x", protocol=p, progress=False)
    np.testing.assert_allclose(table[table.method == "DDIM 3"].psnr, by_hand.psnr, atol=1e-9)
    assert not np.allclose(table[table.method == "DDIM 1"].psnr, by_hand.psnr)


def test_calibration_is_fitted_on_the_given_clips_tied_to_the_weights_and_used_by_load_colorizer(
        manifest, tmp_path, monkeypatch):
    import json

    from colorizerutils import data, inference
    from colorizerutils.training import TrainConfig, train

    monkeypatch.setattr(paths, "CHECKPOINTS", tmp_path)
    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=32, max_frames=8, step=4)
    cfg = TrainConfig(run="c", model="unet", model_kwargs=dict(ngf=8, depth=3, out_stride=4), steps=20, batch=4,
                      size=32, checkpoint_every=20, log_every=10)
    run = train(cfg, lab, progress=False).run_dir
    clips = {"bikes": paths.DATA / BIKES, "carphone": paths.DATA / CARPHONE}
    p = evaluate.Protocol(size=64, max_frames=6, stride=3, lpips=False, temporal=False)
    assert isinstance(inference.load_colorizer(run), inference.Colorizer)                # nothing fitted yet: the raw model
    table = evaluate.calibrate(run, clips, p, scales=[0.0, 0.25, 0.5, 1.0], progress=False)
    cal = json.loads((run / inference.CALIBRATION).read_text())
    best = float(table.loc[table.psnr.idxmax(), "chroma_scale"])
    assert cal["chroma_scale"] == best and cal["fitted_on"] == ["bikes", "carphone"]
    model = inference.load_colorizer(run)
    assert isinstance(model, inference.ChromaScaled) and model.scale == best
    psnr = lambda c: evaluate.evaluate(c, clips, method="m", protocol=p, progress=False).psnr.mean()
    assert psnr(model) == pytest.approx(table.psnr.max(), abs=1e-9)              # what the fit said it would score
    with pytest.raises(ValueError, match="calibrated by one chroma scale"):      # targets are the diffusion model's
        evaluate.calibrate(run, clips, p, targets=[10.0], progress=False)
    assert isinstance(inference.load_colorizer(run, calibrated=False), inference.Colorizer)
    model.size = 16                                                              # colorizer --size reaches the model
    assert model.inner.size == 16
    # weights trained again in the same folder: the old calibration no longer applies, and load_colorizer says so
    other = cfg.__class__(**{**cfg.__dict__, "seed": 1})
    train(other, lab, progress=False, resume=False)
    assert (run / inference.CALIBRATION).exists()
    with pytest.warns(UserWarning, match="other weights"):
        assert isinstance(inference.load_colorizer(run), inference.Colorizer)


def test_methods_scored_side_by_side_equal_each_method_alone(manifest):
    """evaluate_all decodes a clip once and shares the truth's flows and LPIPS features among its methods; every
    number except fps equals scoring each method by itself, under the exemplar protocol (frame 0 skipped, stateful
    flow colorizers) and chunks that do not divide the clip."""
    import pandas as pd

    p = evaluate.Protocol(size=96, max_frames=12, exemplar=True)
    clips = {"bikes": paths.DATA / BIKES, "carphone": paths.DATA / CARPHONE}
    methods = inference.baselines          # gray, reference copy, the flow warps: fresh objects per call
    together = evaluate.evaluate_all(methods(), clips, protocol=p, chunk=5, progress=False)
    alone = pd.concat([evaluate.evaluate(c, clips, method=m, protocol=p, chunk=5, progress=False)
                       for m, c in methods().items()], ignore_index=True)
    assert together[["method", "clip"]].equals(alone[["method", "clip"]])
    cols = ["frames", "psnr", "ssim", "lpips", "colorfulness", "cdc", "warp_error"]
    pd.testing.assert_frame_equal(together[cols], alone[cols], check_exact=True)
    assert (together.frames == 11).all() and together.psnr.nunique() == len(together)   # the methods differ
    flow = next(c for c in methods().values() if getattr(c, "uses_reference", False))
    with pytest.raises(ValueError, match="same colorizer object"):
        evaluate.evaluate_all({"a": flow, "b": flow}, clips, protocol=p, progress=False)


def test_ground_truth_rows_from_the_shared_pass_equal_a_direct_computation(manifest):
    """evaluate_all(..., ground_truth=name) appends the real frames' own rows, from the flows it makes anyway; they
    equal metrics.evaluate_clip of the truth against itself, and ground_truth() alone gives the same rows."""
    p = evaluate.Protocol(size=96, max_frames=12)
    clips = {"bikes": paths.DATA / BIKES}
    both = evaluate.evaluate_all({"gray": inference.GrayBaseline()}, clips, protocol=p, ground_truth="truth",
                                 progress=False)
    assert list(both.method) == ["gray", "truth"] and both.psnr.isna().tolist() == [False, True]
    gt = torch.from_numpy(np.stack(list(evaluate.protocol_frames(paths.DATA / BIKES, p)))).permute(0, 3, 1, 2)
    want = metrics.evaluate_clip(gt, gt, with_lpips=False)
    row = both.iloc[1]
    for k in ("colorfulness", "cdc", "warp_error"):
        assert row[k] == want[k], k
    alone = evaluate.ground_truth(clips, protocol=p, method="truth")
    assert alone.iloc[0][["colorfulness", "cdc", "warp_error"]].tolist() == row[["colorfulness", "cdc", "warp_error"]].tolist()
    assert row.colorfulness > 10 * both.iloc[0].colorfulness      # the real frames are coloured, gray is not


def test_baseline_rows_are_reused_only_under_the_same_inputs(manifest, tmp_path, monkeypatch):
    """cache=True keeps the gray baseline's rows and reuses them for the same clip bytes, protocol and code; another
    protocol is scored afresh, and a chroma-scaled wrapper is kept under a key of its own."""
    import dataclasses
    import json

    monkeypatch.setattr(paths, "CACHE", tmp_path)
    p = evaluate.Protocol(size=64, max_frames=8)
    clips = {"bikes": paths.DATA / BIKES}
    first = evaluate.evaluate(inference.GrayBaseline(), clips, method="gray", protocol=p, cache=True, progress=False)
    stored = list((tmp_path / "rows").glob("*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text())["psnr"] == first.psnr[0]
    # the stored row is what a second call returns (marked, to show it was read rather than recomputed)
    stored[0].write_text(json.dumps(dict(json.loads(stored[0].read_text()), psnr=-1.0)))
    again = evaluate.evaluate(inference.GrayBaseline(), clips, method="gray again", protocol=p, cache=True,
                              progress=False)
    assert again.psnr[0] == -1.0 and again.method[0] == "gray again" and again.ssim[0] == first.ssim[0]
    assert list(again.columns) == list(first.columns)
    other = evaluate.evaluate(inference.GrayBaseline(), clips, method="gray", protocol=dataclasses.replace(p, max_frames=7),
                              cache=True, progress=False)
    assert other.psnr[0] > 0 and len(list((tmp_path / "rows").glob("*.json"))) == 2
    scaled = inference.ChromaScaled(inference.GrayBaseline(), 0.5)          # its own key: not the unscaled row
    assert scaled.cache_key != inference.GrayBaseline.cache_key
    row = evaluate.evaluate(scaled, clips, method="scaled", protocol=p, cache=True, progress=False)
    assert row.psnr[0] == first.psnr[0] and len(list((tmp_path / "rows").glob("*.json"))) == 3


def test_a_loaded_models_rows_are_reused_only_for_the_same_weights_and_scale(manifest, tmp_path, monkeypatch):
    """A model loaded from its final.pt is keyed by the file's sha256 (and how it runs), so notebook 03 reuses
    notebook 02's rows of the same U-Net. The same weights at another chroma scale, retrained weights in the same
    folder, and a model not loaded from a file (whose weights may still change) are scored afresh."""
    import json

    from colorizerutils import data
    from colorizerutils.training import TrainConfig, train

    monkeypatch.setattr(paths, "CHECKPOINTS", tmp_path / "ckpt")
    monkeypatch.setattr(paths, "CACHE", tmp_path / "cache")
    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=32, max_frames=8, step=4)
    cfg = TrainConfig(run="c", model="unet", model_kwargs=dict(ngf=8, depth=3, out_stride=4), steps=20, batch=4,
                      size=32, checkpoint_every=20, log_every=10)
    run = train(cfg, lab, progress=False).run_dir
    p = evaluate.Protocol(size=64, max_frames=6, lpips=False, temporal=False)
    clips = {"bikes": paths.DATA / BIKES}
    stored = lambda: sorted((tmp_path / "cache" / "rows").glob("*.json"))
    score = lambda c: evaluate.evaluate(c, clips, method="m", protocol=p, cache=True, progress=False).iloc[0]

    fresh = evaluate.evaluate(inference.load_colorizer(run), clips, method="m", protocol=p, progress=False).iloc[0]
    first = score(inference.load_colorizer(run))
    assert len(stored()) == 1 and first.psnr == fresh.psnr and first.ssim == fresh.ssim
    path, = stored()
    path.write_text(json.dumps(dict(json.loads(path.read_text()), psnr=-1.0)))   # marked: read, not recomputed
    assert score(inference.load_colorizer(run)).psnr == -1.0
    half = score(inference.ChromaScaled(inference.load_colorizer(run), 0.5))
    assert len(stored()) == 2 and half.psnr > 0 and half.psnr != fresh.psnr
    loaded = inference.load_colorizer(run)
    unfiled = inference.Colorizer(loaded.net, objective=loaded.objective, device=loaded.device, size=loaded.size)
    assert unfiled.cache_key is None and score(unfiled).psnr == fresh.psnr and len(stored()) == 2
    train(cfg.__class__(**{**cfg.__dict__, "seed": 1}), lab, progress=False, resume=False)   # new weights, same folder
    retrained = score(inference.load_colorizer(run))
    assert len(stored()) == 3 and retrained.psnr > 0 and retrained.psnr != fresh.psnr


def test_residual_ceiling_bounds_the_anchor_and_at_full_size_returns_the_truth(manifest):
    """The ceiling adds the true residual to the fused flow anchor: made at the clip's own size and added everywhere
    it gives back the ground truth (up to LAB rounding); gated, each pixel moves from the anchor towards the truth,
    so it scores above the fused-anchor row that evaluate_all gives through colorize_frames. Made at a quarter of
    the size and added everywhere, it lies between the anchor and the truth."""
    p = evaluate.Protocol(size=96, max_frames=7, exemplar=True, lpips=False)
    clips = {"bikes": paths.DATA / BIKES}
    fused = evaluate.evaluate(inference.FlowReference("dis", fusion="confidence"), clips, method="fused", protocol=p,
                              progress=False).iloc[0]
    full = evaluate.residual_ceiling(clips, p, size=96, progress=False).set_index("method")
    gated, everywhere = (full.loc[k] for k in evaluate.CEILING_ROWS)
    assert everywhere.psnr > 48 and gated.frames == everywhere.frames == fused.frames == 6
    assert gated.psnr > fused.psnr + 0.05
    small = evaluate.residual_ceiling(clips, p, size=24, progress=False).set_index("method")
    assert fused.psnr < small.loc[evaluate.CEILING_ROWS[1], "psnr"] < everywhere.psnr
    with pytest.raises(ValueError, match="exemplar protocol"):
        evaluate.residual_ceiling(clips, evaluate.Protocol(size=96, max_frames=7), size=24)


def test_flows_reused_side_by_side_are_charged_to_each_colorizers_speed(manifest, monkeypatch):
    """evaluate_all lets the flow colorizers of a clip share their DIS flows (flow.shared_flows); the fps it reports
    must still be each colorizer's speed alone, so a reused flow's cost is counted for every colorizer that uses
    it. DIS is slowed by a fixed 30 ms per call here, so that the flows dominate the time and the check is robust:
    the fused anchor's measured time side by side stays within 15% of its time alone (without the charge it would
    fall by about a quarter: its long-range flows all come from the DIS warp scored before it)."""
    import time

    from colorizerutils import flow

    real = flow.FLOWS["dis"]
    monkeypatch.setitem(flow.FLOWS, "dis", lambda a, b: time.sleep(0.03) or real(a, b))
    p = evaluate.Protocol(size=64, max_frames=10, exemplar=True, lpips=False)
    clips = {"bikes": paths.DATA / BIKES}
    names = ["DIS warp from the exemplar", "DIS fused, long + short range by confidence"]

    def methods():
        return {k: v for k, v in inference.baselines().items() if k in names}

    together = evaluate.evaluate_all(methods(), clips, protocol=p, progress=False).set_index("method")
    alone = evaluate.evaluate(methods()[names[1]], clips, method=names[1], protocol=p,
                              progress=False).set_index("method")
    ratio = float(alone.fps.iloc[0] / together.fps[names[1]])
    assert 0.87 < ratio < 1.15, ratio
    assert together.psnr[names[1]] == alone.psnr.iloc[0]

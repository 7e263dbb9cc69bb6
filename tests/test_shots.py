"""Shots: cuts found on the gray input, each shot colorized with the reference that fits it, on real clips.

bikes.mp4 is itself a montage: its cuts at frames 30, 76, 137, 187 and 242 were checked by eye (frames 29|30,
75|76, ... show different scenes), and its fast pan around frame 98 is not a cut. cityCC0.mpg cuts from one tower to
another at frame 116 (NCC 0.418, the hardest cut in the data).
"""
import json
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from colorizerutils import inference, media, metrics, paths, shots, video

V = "default/videos/"


def _cuts(name, **kw):
    det = shots.CutDetector(**kw)
    return [i for i, f in enumerate(media.iter_video(paths.DATA / V / name)) if det(f)]


def test_cuts_are_found_exactly_and_single_shot_clips_have_none(manifest):
    assert _cuts("bikes.mp4") == [30, 76, 137, 187, 242]
    assert _cuts("cityCC0.mpg") == [116]
    for name in ("cup.mp4", "vtest.avi", "carphone_pristine.mp4", "WolfgangLanger_Pexels.mp4", "box.mp4"):
        assert _cuts(name) == [], name


def _joined(tmp_path):
    """Three test clips joined (30 frames each, 320x240), their first frames as the references (in another order)."""
    parts = [list(media.iter_video(paths.DATA / V / n, max_frames=30)) for n in ("bikes.mp4", "cup.mp4", "vtest.avi")]
    size = lambda f: np.asarray(Image.fromarray(f).resize((320, 240), Image.BILINEAR))
    parts = [[size(f) for f in p] for p in parts]
    clip, refs = tmp_path / "joined", tmp_path / "refs"
    clip.mkdir(), refs.mkdir()
    for i, f in enumerate(f for p in parts for f in p):
        Image.fromarray(f).save(clip / f"{i:05d}.png")
    for name, k in (("a_vtest", 2), ("b_bikes", 0), ("c_cup", 1)):    # file order differs from shot order
        Image.fromarray(parts[k][0]).save(refs / f"{name}.png")
    return clip, refs, parts


def test_joined_clip_each_shot_uses_its_reference_and_matches_colorizing_it_alone(tmp_path, manifest):
    clip, refs, parts = _joined(tmp_path)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "colorizerutils", "colorize", clip, out, "--model", "flow",
                        "--reference", refs], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    log = json.loads((tmp_path / "out.shots.json").read_text())
    assert [s["start_frame"] for s in log] == [0, 30, 60]                   # the cuts, to the frame
    assert [s["reference_file"].rsplit("/", 1)[1] for s in log] == ["b_bikes.png", "c_cup.png", "a_vtest.png"]
    assert all(s["fits"] for s in log) and "shot 1 from frame 30: c_cup.png" in p.stderr
    assert "shots: 3" in p.stderr.rsplit("\r", 1)[-1]                   # the progress bar's last state counts them
    got = [media.read_image(f) for f in media.list_frame_files(out)]
    chw = lambda fs: torch.from_numpy(np.stack(fs)).permute(0, 3, 1, 2)
    for k, part in enumerate(parts):
        alone = list(video.colorize_frames(inference.FlowReference("dis"), iter(part), reference=part[0]))
        # frame 0 of a shot is its reference itself (infinite PSNR): scored from frame 1, as the protocol does
        joined_psnr = metrics.psnr(chw(got[30 * k + 1:30 * k + 30]), chw(part[1:])).mean()
        alone_psnr = metrics.psnr(chw(alone[1:]), chw(part[1:])).mean()
        assert abs(float(joined_psnr - alone_psnr)) <= 0.5, (k, float(joined_psnr), float(alone_psnr))


def test_without_shot_handling_the_first_reference_runs_across_the_cuts(tmp_path, manifest):
    # what --no-shots does, and what the kit did before: the state and the reference cross the cuts
    clip, refs, parts = _joined(tmp_path)
    frames = [f for p in parts for f in p]
    log = []
    with_shots = list(video.colorize_frames(inference.FlowReference("dis"), iter(frames),
                                            references=[parts[0][0], parts[1][0], parts[2][0]], shots=log))
    without = list(video.colorize_frames(inference.FlowReference("dis"), iter(frames), reference=parts[0][0]))
    chw = lambda fs: torch.from_numpy(np.stack(fs)).permute(0, 3, 1, 2)
    second = slice(31, 60)
    gain = metrics.psnr(chw(with_shots[second]), chw(frames[second])).mean() - \
        metrics.psnr(chw(without[second]), chw(frames[second])).mean()
    assert len(log) == 3 and gain > 1.0, float(gain)


def test_a_shot_no_reference_fits_runs_without_one_where_the_model_can(manifest):
    frames = list(media.iter_video(paths.DATA / V / "cup.mp4", max_frames=3))
    other = next(media.iter_video(paths.DATA / V / "vtest.avi", max_frames=1))
    k, score, fits = shots.best_reference(frames[0], [other])
    assert k == 0 and not fits and score < shots.MATCH_NCC
    log = []
    list(video.colorize_frames(inference.FlowReference("dis"), iter(frames), references=[other], shots=log))
    assert log[0]["reference"] == 0 and not log[0]["fits"]     # the flow baseline needs one: the closest is used

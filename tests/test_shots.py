"""Shots: cuts found on the gray input, each shot colorized with the reference that fits it, on real clips.

bikes.mp4 is itself a montage: its cuts at frames 30, 76, 137, 187 and 242 were checked by eye (frames 29|30,
75|76, ... show different scenes), and its fast pan around frame 98 is not a cut. cityCC0.mpg cuts from one tower to
another at frame 116 (NCC 0.418, the hardest cut in the data).
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

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
    return shots.join_clips([paths.DATA / V / n for n in ("bikes.mp4", "cup.mp4", "vtest.avi")], tmp_path,
                            frames=30, size=(320, 240))


def test_joined_clip_each_shot_uses_its_reference_and_matches_colorizing_it_alone(tmp_path, manifest):
    joined = _joined(tmp_path)
    parts = joined.parts
    assert joined.reference_names == ["c_bikes.png", "a_cup.png", "b_vtest.png"] and joined.cuts == [30, 60]
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "colorizerutils", "colorize", joined.folder, out, "--model", "flow",
                        "--reference", joined.references], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    log = json.loads((tmp_path / "out.shots.json").read_text())
    assert [s["start_frame"] for s in log] == [0, 30, 60]                   # the cuts, to the frame
    assert [s["reference_file"].rsplit("/", 1)[1] for s in log] == ["c_bikes.png", "a_cup.png", "b_vtest.png"]
    assert all(s["fits"] for s in log) and "shot 1 from frame 30: a_cup.png" in p.stderr
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
    parts = _joined(tmp_path).parts
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


def test_join_clips_and_the_cut_signal_on_real_clips(tmp_path, manifest):
    joined = shots.join_clips([paths.DATA / V / n for n in ("cup.mp4", "vtest.avi")], tmp_path, frames=5,
                              size=(160, 120))
    files = media.list_frame_files(joined.folder)
    assert len(files) == 10 and joined.cuts == [5] and joined.names == ["cup.mp4", "vtest.avi"]
    assert media.read_image(files[5]).shape == (120, 160, 3)
    assert np.array_equal(media.read_image(files[7]), joined.parts[1][2])             # written as kept
    assert [f.name for f in media.list_frame_files(joined.references)] == ["a_vtest.png", "b_cup.png"]
    assert joined.reference_names == ["b_cup.png", "a_vtest.png"]
    signal = shots.cut_signal([media.read_image(f) for f in files])
    assert np.isnan(signal[0]) and signal[5] < shots.CUT_NCC and np.nanmin(np.delete(signal, 5)) > shots.CUT_NCC
    blank = np.zeros((120, 160, 3), np.uint8)          # a blank frame has no NCC and does not reset the comparison
    with_blank = shots.cut_signal([joined.parts[0][0], blank, joined.parts[0][1]])
    assert np.isnan(with_blank[1]) and with_blank[2] > 0.9
    with pytest.raises(FileExistsError):                                              # never into an existing clip
        shots.join_clips([paths.DATA / V / "cup.mp4"] * 2, tmp_path, frames=2, size=(64, 48))
    with pytest.raises(ValueError, match="cup.mp4: decoded 1 frame"):                  # a shot needs 2 frames
        shots.join_clips([paths.DATA / V / "cup.mp4"] * 2, tmp_path / "short", frames=1, size=(64, 48))
    assert not (tmp_path / "short").exists()                                          # and nothing was written


def test_score_shots_maps_the_log_to_the_true_cuts_and_scores_after_each_reference(tmp_path, manifest):
    joined = shots.join_clips([paths.DATA / V / n for n in ("cup.mp4", "vtest.avi")], tmp_path, frames=4,
                              size=(64, 48))
    truth = [f for p in joined.parts for f in p]
    got = [f.copy() for f in truth]
    got[0][:] = 0                                            # a shot's first frame is its reference: not scored
    for t in (5, 6, 7):                                      # every scored frame of shot 1 (frames 4-7) brightened
        got[t] = np.clip(got[t].astype(int) + 10 * (t - 4), 0, 255).astype(np.uint8)
    log = [{"start_frame": 0, "reference_file": str(joined.references / "b_cup.png")},
           {"start_frame": 5, "reference_file": str(joined.references / "a_vtest.png")}]   # one frame late
    rows = shots.score_shots(got, joined, log)
    assert [(r["found_cut"], r["reference_used"], r["own_reference"]) for r in rows] == \
        [(0, "b_cup.png", "b_cup.png"), (5, "a_vtest.png", "a_vtest.png")]
    assert np.isinf(rows[0]["psnr"])                          # frames 1-3 exact, frame 0 not scored
    mse = [np.mean((got[t].astype(float) - truth[t]) ** 2) for t in (5, 6, 7)]   # independently: RGB, peak 255
    assert abs(rows[1]["psnr"] - np.mean([10 * np.log10(255 ** 2 / m) for m in mse])) < 1e-3, rows[1]
    assert shots.score_shots(got, joined, None)[1]["found_cut"] is None
    assert shots.score_shots(got, joined, log[:1])[1]["reference_used"] is None      # no shot began near frame 4
    with pytest.raises(ValueError, match="7 output frames"):
        shots.score_shots(got[:-1], joined, log)

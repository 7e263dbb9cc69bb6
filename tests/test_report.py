"""The generated discussions: what they rank as better follows each metric's direction, and colourfulness is judged
by its distance from the real frames' value, not by its size."""
from pathlib import Path

import pandas as pd
import pytest

from colorizerutils import report
from colorizerutils.metrics import arrow, direction

ROOT = Path(__file__).resolve().parents[1]


def _table():
    return pd.DataFrame({"method": ["gray baseline", "washed out", "vivid", "garish", "ground truth"],
                         "psnr": [25.0, 25.5, 24.0, 22.0, float("nan")],
                         "lpips": [0.15, 0.14, 0.16, 0.2, float("nan")],
                         "colorfulness": [0.1, 12.0, 31.0, 60.0, 30.0]})


def test_colourfulness_is_ranked_by_its_distance_from_the_truth():
    lines = report.discuss(_table(), baseline="gray baseline", truth="ground truth").splitlines()
    colour = next(l for l in lines if l.startswith("- **colorfulness**"))
    assert "nearest is *vivid*" in colour and "30" in colour
    # |60 - 30| = 30 is not nearer than gray's |0.1 - 30| = 29.9, though 60 is far more colourful
    assert "*garish* vs *gray baseline*: +59.9" in next(l for l in lines if "*garish* vs" in l and "x the truth" in l)
    assert "not nearer" in next(l for l in lines if "*garish* vs" in l and "x the truth" in l)
    assert "(nearer)" not in next(l for l in lines if "*garish* vs" in l and "x the truth" in l)
    assert ": nearer)" in next(l for l in lines if "*washed out* vs" in l and "x the truth" in l)
    # the truth row is neither ranked nor compared, and PSNR keeps its direction
    assert not any("*ground truth* vs" in l for l in lines)
    assert "- **psnr** (higher is better): best is *washed out* (25.5)." in lines
    assert "- **lpips** (lower is better): best is *washed out* (0.14)." in lines


def test_without_a_truth_row_colourfulness_is_listed_not_ranked():
    table = _table()[lambda t: t.method != "ground truth"]
    text = report.discuss(table, baseline="gray baseline")
    colour = next(l for l in text.splitlines() if l.startswith("- **colorfulness**"))
    assert "not ranked" in colour and "best" not in colour and "*garish* 60" in colour
    with pytest.raises(ValueError, match="truth 'real'"):
        report.discuss(table, baseline="gray baseline", truth="real")


def test_directions_and_figure_marks():
    assert [direction(m) for m in ("psnr", "lpips", "cdc", "colorfulness")] == [
        "higher", "lower", "lower", "nearer the truth"]
    assert [arrow(m) for m in ("psnr", "lpips", "colorfulness")] == ["↑", "↓", "→ truth"]


def test_committed_comparison_discussion_picks_the_model_nearest_the_real_colourfulness():
    """On notebook 03's committed table the nearest model by colourfulness is the one the numbers say, computed
    here independently of the report code."""
    table = pd.read_csv(ROOT / "results" / "03_comparison.csv")
    truth = "ground truth (reference)"
    t = table.set_index("method")
    models = t.drop(index=truth)
    expected = (models.colorfulness - t.loc[truth, "colorfulness"]).abs().idxmin()
    text = report.discuss(table, baseline="gray baseline", truth=truth)
    assert f"nearest is *{expected}*" in text


def _shots_table(reference_used, found=(0, 31, 62)):
    rows = []
    for method, psnr in (("by shot", [39.0, 48.0, 38.5]), ("across", [25.0, 47.0, 20.0])):
        for k, clip in enumerate(("carphone.mp4", "cup.mp4", "vtest.avi")):
            rows.append(dict(method=method, shot=k, clip=clip, true_cut=31 * k, psnr=psnr[k], found_cut=found[k],
                             own_reference=f"{'cab'[k]}_{clip}.png",
                             reference_used=reference_used[k] if method == "by shot" else None))
    return pd.DataFrame(rows)


def test_shot_discussion_counts_cuts_and_references_and_signs_each_shot():
    own = ["c_carphone.mp4.png", "a_cup.mp4.png", "b_vtest.avi.png"]
    text = report.discuss_shots(_shots_table(own), cuts_found=[32, 62], shot_by_shot="by shot", across="across")
    assert "2 of the 2 true cuts (frames 31, 62) found to within one frame, and no other" in text
    assert "3 of the 3 shots took their own first frame" in text
    assert "shot 0 (carphone.mp4): 39.00 dB shot by shot, 25.00 across the cuts: +14.00 dB" in text
    text = report.discuss_shots(_shots_table([own[0], own[2], None], found=(0, 31, 62)), cuts_found=[31, 45],
                                shot_by_shot="by shot", across="across")
    assert "1 of the 2 true cuts" in text and "1 found where there is none (frames 45)" in text
    assert "1 of the 3 shots took their own first frame" in text
    assert "shot 1 (cup.mp4) took b_vtest.avi.png" in text and "shot 2 (vtest.avi) took no reference (automatic" in text
    table = _shots_table([own[0], None, own[2]], found=(0, None, 62))   # as read back from the CSV: NaN, not None
    text = report.discuss_shots(table, cuts_found=[62], shot_by_shot="by shot", across="across")
    assert "shot 1 (cup.mp4): no shot began within one frame of it" in text and "1 of the 2 true cuts" in text

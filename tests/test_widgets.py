"""The notebook viewers, driven as a user would (slider moves, the Play button), on real clips of the default data."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from colorizerutils import data, evaluate, paths, widgets  # noqa: E402

CLIP = "default/videos/carphone_pristine.mp4"


def _frames(n=6):
    return np.stack(list(data.iter_video(paths.DATA / CLIP, max_frames=n)))


def _descendants(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from _descendants(c)


def _find(w, kind):
    return [c for c in _descendants(w) if type(c).__name__ == kind]


def test_scrubber_plays_and_redraws_without_leaking_figures(manifest):
    plt.close("all")
    v = _frames()
    box = widgets.frame_scrubber({"gray": v.mean(-1, keepdims=True).repeat(3, -1).astype(np.uint8), "colour": v})
    (play,), (slider,) = _find(box, "Play"), _find(box, "IntSlider")
    assert play.max == slider.max == len(v) - 1
    for k in range(len(v)):
        play.value = k                         # what the Play button does at each tick
        assert slider.value == k
    assert plt.get_fignums() == []             # every redraw closed its figure


def test_clip_viewer_over_protocol_clips(manifest):
    plt.close("all")
    lab = evaluate.lab_clip(paths.DATA / CLIP, evaluate.Protocol(size=32, max_frames=5))
    box = widgets.clip_viewer({"carphone": lab})
    (play,), (slider,) = _find(box, "Play"), _find(box, "IntSlider")
    (channel,) = _find(box, "ToggleButtons")
    for c in widgets.CHANNELS:
        channel.value = c
    play.value = 4
    assert slider.value == 4 and plt.get_fignums() == []


def test_mismatched_inputs_are_refused_with_the_sizes(manifest):
    v = _frames(3)
    with pytest.raises(ValueError, match=r"gray is 176x144 but colour is 88x144"):
        widgets.before_after(v[0], v[0][:, :88])
    with pytest.raises(ValueError, match="different frame counts"):
        widgets.frame_scrubber({"a": v, "b": v[:2]})
    with pytest.raises(ValueError, match=r"expected an \(H,W,3\) RGB frame"):
        widgets.before_after(v[0][..., 0], v[0][..., 0])

"""The notebook viewers, driven as a user would (slider moves, the Play button), on real clips of the default data."""
import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from colorizerutils import evaluate, media, paths, widgets  # noqa: E402

CLIP = "default/videos/carphone_pristine.mp4"


def _frames(n=6, clip=CLIP):
    return np.stack(list(media.iter_video(paths.DATA / clip, max_frames=n)))


def _descendants(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from _descendants(c)


def _find(w, kind):
    return [c for c in _descendants(w) if type(c).__name__ == kind]


def _decoded(image_widget):
    return np.asarray(Image.open(io.BytesIO(image_widget.value)).convert("RGB"))


def test_scrubbing_300_frames_at_480p_is_fast_and_leaks_no_figures(manifest):
    # issue 19's goal: a 300-frame 480p clip, < 50 ms per update, no matplotlib figure left open
    plt.close("all")
    clip = np.stack(list(evaluate.protocol_frames(paths.DATA / "default/videos/vtest.avi",
                                                  evaluate.Protocol(size=480, max_frames=300))))
    assert clip.shape == (300, 480, 640, 3)
    box = widgets.frame_scrubber({"vtest": clip})
    (play,), (slider,), (image,) = _find(box, "Play"), _find(box, "IntSlider"), _find(box, "Image")
    assert play.max == slider.max == 299
    times = []
    for k in range(300):
        t = time.perf_counter()
        play.value = k                         # what the Play button does at each tick
        times.append(time.perf_counter() - t)
        assert slider.value == k
    assert np.array_equal(_decoded(image), clip[299])     # the widget shows exactly the frame (lossless PNG)
    assert plt.get_fignums() == []
    print(f"scrubber update at 640x480: median {np.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms")
    assert np.median(times) < 0.050


def test_before_after_wipes_between_the_two_frames(manifest):
    v = _frames(1)[0]
    gray = np.repeat(v.mean(-1, keepdims=True).astype(np.uint8), 3, -1)
    box = widgets.before_after(gray, v)
    (split,), (image,) = _find(box, "FloatSlider"), _find(box, "Image")
    split.value = 0.25
    shown, cut = _decoded(image), int(0.25 * v.shape[1])
    assert np.array_equal(shown[:, :cut - 1], gray[:, :cut - 1]) and np.array_equal(shown[:, cut + 1:], v[:, cut + 1:])
    split.value = 1.0
    assert np.array_equal(_decoded(image)[:, :-1], gray[:, :-1])


def test_clip_viewer_over_protocol_clips(manifest):
    lab = evaluate.lab_clip(paths.DATA / CLIP, evaluate.Protocol(size=32, max_frames=5))
    box = widgets.clip_viewer({"carphone": lab})
    (play,), (slider,), (image,) = _find(box, "Play"), _find(box, "IntSlider"), _find(box, "Image")
    (channel,) = _find(box, "ToggleButtons")
    seen = set()
    for c in widgets.CHANNELS:
        channel.value = c
        seen.add(image.value)
    play.value = 4
    assert slider.value == 4 and len(seen) == len(widgets.CHANNELS)   # every channel draws something different
    assert _decoded(image).shape == (32, lab.shape[-1], 3)


def test_mismatched_inputs_are_refused_with_the_sizes(manifest):
    v = _frames(3)
    with pytest.raises(ValueError, match=r"gray is 176x144 but colour is 88x144"):
        widgets.before_after(v[0], v[0][:, :88])
    with pytest.raises(ValueError, match="different frame counts"):
        widgets.frame_scrubber({"a": v, "b": v[:2]})
    with pytest.raises(ValueError, match=r"expected an \(H,W,3\) RGB frame"):
        widgets.before_after(v[0][..., 0], v[0][..., 0])


def test_scrubber_titles_wrap_within_their_image_and_are_escaped(manifest):
    v = _frames(2)
    long = "one state and the first reference across the cuts (--no-shots) <b>"
    box = widgets.frame_scrubber({"gray": v, long: v}, width=200)
    titles = [h.value for h in _find(box, "HTML")]
    assert len(titles) == 2 and all("width:200px" in t and "white-space:normal" in t for t in titles), titles
    assert "(--no-shots) &lt;b&gt;" in titles[1] and "<b>" not in titles[1]

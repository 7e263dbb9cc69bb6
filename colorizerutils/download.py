"""Downloads that resume, verify a sha256, and fail fast offline with a message saying what to fetch and where."""
from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    pass


def sha256sum(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _offline_message(url: str, dest: Path, err: Exception) -> str:
    return (f"could not download {url} ({err}).\n"
            f"This machine may be offline. Download the file by hand and place it at:\n    {dest}\n"
            f"then run the same command again (a file already in place is checked, not downloaded again).")


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None, timeout: float = 30.0,
             progress: bool = True) -> Path:
    """Fetch ``url`` to ``dest``, resuming a partial ``dest.part`` with an HTTP Range request.

    - The file appears at ``dest`` only once complete: a body shorter than the server's Content-Length raises
      :class:`DownloadError` and keeps ``dest.part``, which the next call resumes.
    - A resume carries ``If-Range`` with the ETag (or Last-Modified) of the first response, stored beside the part
      file, so a file that changed on the server is fetched again from the start instead of being spliced.
    - With ``sha256`` the complete file is verified; a mismatch deletes the partial download and raises.
    """
    import json

    dest = Path(dest)
    if dest.exists():
        if sha256 is None or sha256sum(dest) == sha256:
            return dest
        raise DownloadError(f"{dest} exists but its sha256 is {sha256sum(dest)}, expected {sha256}; delete it and retry")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part, meta_path = dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".part.json")
    have = part.stat().st_size if part.exists() else 0
    meta = json.loads(meta_path.read_text()) if have and meta_path.exists() else {}
    headers = {}
    if have:
        headers["Range"] = f"bytes={have}-"
        if meta.get("validator"):
            headers["If-Range"] = meta["validator"]
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # range not satisfiable: the part file is already complete
            resp = None
        else:
            raise DownloadError(_offline_message(url, dest, e)) from e
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(_offline_message(url, dest, e)) from e
    total = meta.get("total")
    if resp is not None:
        with resp:
            resumed = have and resp.status == 206
            if not resumed:                  # a fresh start, or the server's file changed (If-Range failed)
                have = 0
                meta = {"validator": resp.headers.get("ETag") or resp.headers.get("Last-Modified")}
            length = resp.headers.get("Content-Length")
            total = int(length) + have if length is not None else None
            meta["total"] = total
            from .atomic import write_text

            write_text(meta_path, json.dumps(meta))
            with open(part, "ab" if resumed else "wb") as f, tqdm(total=total, initial=have, unit="B",
                                                                   unit_scale=True, desc=dest.name,
                                                                   disable=not progress) as bar:
                try:
                    for block in iter(lambda: resp.read(CHUNK), b""):
                        f.write(block)
                        bar.update(len(block))
                except (OSError, urllib.error.URLError) as e:
                    raise DownloadError(f"{url}: connection lost after {f.tell()} bytes ({e}); rerun to resume "
                                        f"from {part}") from e
    got_bytes = part.stat().st_size if part.exists() else 0
    if total is not None and got_bytes < total:
        raise DownloadError(f"{url}: the connection ended after {got_bytes} of {total} bytes; rerun to resume from "
                            f"{part}")
    if sha256 is not None:
        got = sha256sum(part)
        if got != sha256:
            part.unlink()
            meta_path.unlink(missing_ok=True)
            raise DownloadError(f"{url}: sha256 mismatch for {dest.name}: got {got}, expected {sha256}. "
                                f"The partial file was deleted; rerun to download again.")
    os.replace(part, dest)
    meta_path.unlink(missing_ok=True)
    return dest


GDRIVE_URL = "https://drive.google.com/uc?id={id}"   # gdown follows Drive's confirmation page for big files
_DRIVE_ID = re.compile(r"drive\.google\.com/(?:file/d/|open\?id=|uc\?(?:export=download&)?id=)([\w-]{10,})")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def user_cache() -> Path:
    """``~/.cache/colorizerutils`` (or under ``$XDG_CACHE_HOME``): what the kit fetches for a user, outside any clone."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "colorizerutils"


def download_gdrive(file_id: str, dest: str | os.PathLike, *, sha256: str | None = None,
                    progress: bool = True) -> Path:
    """Fetch a Google-Drive file (a mirror, or a checkpoint someone published) with gdown, under
    :func:`download`'s contract: the file appears at ``dest`` only complete and, with ``sha256``, verified.

    gdown resumes its own partial file beside ``dest`` when a transfer breaks off.
    """
    import gdown

    dest = Path(dest)
    url = GDRIVE_URL.format(id=file_id)
    if dest.exists():
        if sha256 is None or sha256sum(dest) == sha256:
            return dest
        raise DownloadError(f"{dest} exists but its sha256 is {sha256sum(dest)}, expected {sha256}; delete it and retry")
    dest.parent.mkdir(parents=True, exist_ok=True)
    landing = dest.with_name(dest.name + ".download")   # gdown renames its part file to this when complete
    try:
        out = gdown.download(url=url, output=str(landing), quiet=not progress, resume=True)
    except Exception as e:  # gdown raises several unrelated types when offline
        raise DownloadError(_offline_message(url, dest, e)) from e
    if out is None or not landing.exists():
        raise DownloadError(_offline_message(url, dest, RuntimeError("gdown returned nothing")))
    if sha256 is not None:
        got = sha256sum(landing)
        if got != sha256:
            landing.unlink()
            raise DownloadError(f"{url}: sha256 mismatch for {dest.name}: got {got}, expected {sha256}. The file was "
                                f"deleted; check the file id and the sha256 you were given.")
    os.replace(landing, dest)
    return dest


def fetch_checkpoint(spec: str, sha256: str | None, *, progress: bool = True) -> Path:
    """A published checkpoint -> its local path, downloaded once into :func:`user_cache` and always verified.

    ``spec`` is ``gdrive:FILE_ID``, a Google-Drive share link, or an http(s) URL. ``sha256`` is required: the
    publisher prints it with ``sha256sum final.pt``, and it makes what runs here exactly what was published (the
    file is also loaded with ``weights_only``, so it cannot run code either way).
    """
    if sha256 is None or not _SHA256.fullmatch(sha256.lower()):
        raise ValueError(f"{spec}: a downloaded checkpoint needs --sha256 with its 64-hex-digit sha256 (the publisher "
                         f"gets it with `sha256sum final.pt`); got {sha256!r}")
    sha256 = sha256.lower()
    dest = user_cache() / "checkpoints" / f"{sha256[:16]}.pt"   # by content: a second use downloads nothing
    m = _DRIVE_ID.search(spec)
    if spec.startswith("gdrive:") or m:
        return download_gdrive(spec[len("gdrive:"):] if spec.startswith("gdrive:") else m.group(1), dest,
                               sha256=sha256, progress=progress)
    return download(spec, dest, sha256=sha256, progress=progress)


def is_remote(spec: str) -> bool:
    """Whether a checkpoint argument names a download (``gdrive:ID`` or an http(s) URL) rather than a local file."""
    return str(spec).startswith(("gdrive:", "http://", "https://"))

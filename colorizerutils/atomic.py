"""Write files so that a crash never leaves a half-written one behind: write a temporary sibling, then rename."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success it is renamed onto ``dest``, on error it is removed.

    The temporary name keeps ``dest``'s extension (writers such as PyAV and matplotlib choose the format from it).
    A directory may be written too: it replaces ``dest`` as a whole.
    """
    dest = Path(dest)
    if not dest.parent.exists():
        raise FileNotFoundError(f"{dest}: the folder {dest.parent} does not exist")
    suffix = dest.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".part{suffix}", dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp = Path(tmp)
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"{dest}: the writer produced nothing")
        if dest.is_dir() and tmp.is_dir():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


def write_text(dest: str | os.PathLike, text: str) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_text(text)
    return Path(dest)


def write_bytes(dest: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def torch_save(obj, dest: str | os.PathLike) -> Path:
    import torch

    with atomic_path(dest) as tmp:
        torch.save(obj, tmp)
    return Path(dest)

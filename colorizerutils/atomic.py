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
    _remove_stale(dest.parent, f".{dest.stem}.*.part{suffix}")
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


STALE_S = 600   # a partial write untouched this long was abandoned (a killed process); a live writer keeps it fresh


def _remove_stale(folder: Path, pattern: str) -> None:
    """Remove partial writes to the same destination that a killed process left behind."""
    import time

    for old in folder.glob(pattern):
        try:
            if time.time() - old.stat().st_mtime > STALE_S:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        except OSError:
            pass


def write_text(dest: str | os.PathLike, text: str) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_text(text)
    return Path(dest)


def torch_save(obj, dest: str | os.PathLike) -> Path:
    import torch

    with atomic_path(dest) as tmp:
        torch.save(obj, tmp)
    return Path(dest)


def load_torch(path: str | os.PathLike, *, map_location="cpu"):
    """``torch.load`` that can never run code: tensors, containers and plain numbers/strings only.

    Every file the kit writes is of that kind. A pickle that asks for anything else (the classic ``__reduce__``
    payload) is refused before any of it runs, with a ValueError naming the file.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(f"{path}: refused, it is not a plain tensor file (a checkpoint may only hold tensors, "
                         f"numbers, strings and containers; this one asks for other Python objects, which could "
                         f"run code): {str(e).splitlines()[0][:200]}") from e
    except (RuntimeError, EOFError, OSError) as e:
        raise ValueError(f"{path}: not a readable torch file ({type(e).__name__}: {str(e)[:200]})") from e

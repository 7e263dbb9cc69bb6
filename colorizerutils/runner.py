"""Run the numbered notebooks headlessly with papermill (``make reproduce``).

Executed copies go to ``build/executed/`` (git-ignored); the committed notebooks stay free of outputs. On failure the
run stops with a message naming the notebook and the failing cell.
"""
from __future__ import annotations

import time
from pathlib import Path

from . import paths

PROFILES = ("smoke", "quick", "full")


class NotebookFailed(RuntimeError):
    pass


def notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in order."""
    folder = Path(folder or paths.NOTEBOOKS)
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(nb: Path, *, profile: str, out_dir: Path | None = None, parameters: dict | None = None,
                 kernel: str = "python3", progress: bool = False) -> Path:
    """Execute one notebook with papermill at ``profile``; ``progress`` shows a bar over its cells."""
    import papermill as pm

    if profile not in PROFILES:
        raise ValueError(f"unknown PROFILE {profile!r}; expected one of {', '.join(PROFILES)}")
    nb = Path(nb)
    out_dir = Path(out_dir or paths.EXECUTED)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / nb.name
    import os

    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # figures inline in the executed copy
    try:
        pm.execute_notebook(str(nb), str(out), parameters={"PROFILE": profile, **(parameters or {})},
                            kernel_name=kernel, cwd=str(nb.parent), progress_bar=progress, log_output=False)
    except pm.PapermillExecutionError as e:
        raise NotebookFailed(f"{nb.name} failed in cell {e.exec_count} ({e.ename}: {e.evalue}).\n"
                             f"The executed copy with the traceback is {out}") from e
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous
    return out


def reproduce(profile: str = "quick", *, only: list[str] | None = None) -> list[tuple[str, float]]:
    """Run every numbered notebook (or those whose names start with one of ``only``) in order."""
    found = notebooks()
    if not found:
        raise FileNotFoundError(f"{paths.NOTEBOOKS}: holds no numbered notebooks (NN_name.ipynb); run from a clone of "
                                f"the kit, or set COLORIZER_ROOT to one")
    unknown = [o for o in only or [] if not any(nb.name.startswith(o) for nb in found)]
    if unknown:
        raise ValueError(f"--only {' '.join(unknown)}: no notebook starts with that; expected prefixes of "
                         f"{', '.join(nb.name for nb in found)}")
    timings = []
    for nb in found:
        if only and not any(nb.name.startswith(o) for o in only):
            continue
        t = time.perf_counter()
        print(f"[reproduce] {nb.name} (PROFILE={profile}) ...", flush=True)
        from .results import save_notebook

        save_notebook(run_notebook(nb, profile=profile, progress=True))
        timings.append((nb.name, time.perf_counter() - t))
        print(f"[reproduce] {nb.name} done in {timings[-1][1]:.0f}s", flush=True)
    return timings

"""Run the numbered notebooks headlessly with papermill (``make reproduce``).

Executed copies go to ``build/executed/`` (git-ignored); the committed notebooks stay free of outputs. On failure the
run stops with a message naming the notebook and the failing cell.
"""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

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
    if timings:
        write_time_table()
    return timings


def time_table(folder: Path | None = None, *, min_seconds: float = 5.0) -> pd.DataFrame:
    """Where the published notebooks' time went (``results/notebooks/``, as the last ``make reproduce`` ran them):
    per notebook its total, then every cell that took at least ``min_seconds`` (papermill's per-cell durations) with
    its first line of code, and one row for all its other cells. ``share`` is of the notebook's total."""
    import nbformat

    folder = Path(folder or paths.RESULTS / "notebooks")
    rows = []
    for path in notebooks(folder):
        nb = nbformat.read(str(path), as_version=4)
        pm = nb.metadata.get("papermill", {})
        cells = [(c.get("execution_count"), c.source.strip().splitlines()[0] if c.source.strip() else "",
                  float(c.metadata.get("papermill", {}).get("duration") or 0.0)) for c in nb.cells
                 if c.cell_type == "code"]
        if not any(d for _, _, d in cells):
            raise ValueError(f"{path}: no papermill cell durations; expected a notebook executed by make reproduce")
        total = sum(d for _, _, d in cells)
        base = dict(notebook=path.stem, profile=pm.get("parameters", {}).get("PROFILE"),
                    executed=str(pm.get("end_time", ""))[:19])
        rows.append(dict(base, cell="all", code="(the whole notebook)", seconds=total, share=1.0))
        big = [c for c in cells if c[2] >= min_seconds]
        rows += [dict(base, cell=str(n), code=code[:90], seconds=d, share=d / total) for n, code, d in big]
        rest = total - sum(d for _, _, d in big)
        rows.append(dict(base, cell="other", code=f"the other {len(cells) - len(big)} cells", seconds=rest,
                         share=rest / total))
    if not rows:
        raise FileNotFoundError(f"{folder}: no executed notebooks; run make reproduce first")
    return pd.DataFrame(rows).round({"seconds": 1, "share": 3})


def _utc_seconds(iso: str) -> float:
    """Seconds since the epoch of papermill's ISO time (UTC where it names no zone)."""
    import datetime as dt

    t = dt.datetime.fromisoformat(iso)
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def training_table(folder: Path | None = None, checkpoints: Path | None = None) -> pd.DataFrame:
    """How much of each published notebook's time was training: the runs under ``checkpoints`` (default: the kit's
    CHECKPOINTS) whose ``final.pt`` was written while the notebook ran (papermill's start and end times in its executed
    copy), and the training seconds their ``log.csv`` records (the training loop alone: no data loading, no scoring).
    A run taken over from an earlier notebook (:func:`colorizerutils.training.reuse_or_train`) was not trained there
    and is not counted. Runs trained in processes side by side would count their seconds twice; ``make reproduce``
    trains one at a time."""
    import nbformat

    folder = Path(folder or paths.RESULTS / "notebooks")
    checkpoints = Path(checkpoints or paths.CHECKPOINTS)
    runs = []
    for log in checkpoints.rglob("log.csv"):
        final = log.parent / "final.pt"
        try:
            seconds = pd.read_csv(log)["seconds"] if final.exists() else None
        except (KeyError, ValueError):   # not a training log of the kit's (ValueError: empty, unparsable): not a run
            seconds = None
        if seconds is not None and len(seconds):
            runs.append((final.stat().st_mtime, float(seconds.iloc[-1])))
    rows = []
    for path in notebooks(folder):
        pm = nbformat.read(str(path), as_version=4).metadata.get("papermill", {})
        if not pm.get("start_time") or not pm.get("end_time"):
            raise ValueError(f"{path}: no papermill start and end times; expected a notebook executed by make "
                             f"reproduce")
        start, end = (_utc_seconds(pm[k]) for k in ("start_time", "end_time"))
        mine = [sec for t, sec in runs if start <= t <= end]
        total = float(pm.get("duration") or end - start)
        rows.append(dict(notebook=path.stem, profile=pm.get("parameters", {}).get("PROFILE"), runs_trained=len(mine),
                         training_seconds=sum(mine), notebook_seconds=total, training_share=sum(mine) / total))
    if not rows:
        raise FileNotFoundError(f"{folder}: no executed notebooks; run make reproduce first")
    df = pd.DataFrame(rows)
    whole = dict(notebook="all", profile=df.profile.iloc[0], runs_trained=int(df.runs_trained.sum()),
                 training_seconds=df.training_seconds.sum(), notebook_seconds=df.notebook_seconds.sum())
    df = pd.concat([df, pd.DataFrame([dict(whole, training_share=whole["training_seconds"] /
                                           whole["notebook_seconds"])])], ignore_index=True)
    return df.round({"training_seconds": 1, "notebook_seconds": 1, "training_share": 3})


def write_time_table(folder: Path | None = None) -> None:
    """``results/reproduce_time.{csv,md}``: :func:`time_table` with provenance; then :func:`write_training_table`."""
    from .results import write_table

    df = time_table(folder)
    write_table(df, "reproduce_time", title="Where make reproduce spends its time, by notebook and cell",
                notes="From papermill's per-cell durations in the published executed notebooks (results/notebooks/); "
                "cells under 5 s are summed in 'other'. A notebook's cells each name the notebook run they come "
                "from (executed, UTC). Training cells dominate: notebook 05 trains its 54 runs in one cell, 06 "
                "its seed and effect runs in one.", notebook="make reproduce",
                params={"notebooks": sorted(df.notebook.unique().tolist())})
    write_training_table(folder)


def write_training_table(folder: Path | None = None) -> None:
    """``results/reproduce_training.{csv,md}``: :func:`training_table` with provenance."""
    from .results import write_table

    training = training_table(folder)
    write_table(training, "reproduce_training", title="How much of make reproduce is training, by notebook",
                notes="training_seconds: the training loops of the runs each notebook trained (their log.csv; a "
                "run's final.pt written while the notebook ran), without data loading or scoring; runs taken over "
                "from an earlier notebook count where they were trained. notebook_seconds: papermill's duration of "
                "the executed copy in results/notebooks/. The rest is loading, scoring, sampling and figures.",
                notebook="make reproduce", params={"notebooks": training.notebook.tolist()[:-1]})

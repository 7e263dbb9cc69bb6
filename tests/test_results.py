import json
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from colorizerutils import results
from colorizerutils.atomic import atomic_path

matplotlib.use("Agg")


def test_table_written_as_csv_and_markdown_with_provenance(tmp_path):
    df = pd.DataFrame({"method": ["gray"], "psnr": [23.5]})
    out = results.write_table(df, "t", results_dir=tmp_path, notebook="01", params={"size": 64}, seed=3,
                              wall_time_s=1.234)
    assert pd.read_csv(out["csv"]).equals(df)
    md = out["md"].read_text()
    assert "| gray" in md and '"seed": 3' in md and '"notebook": "01"' in md
    meta = json.loads(out["provenance"].read_text())
    assert meta["parameters"] == {"size": 64} and meta["wall_time_s"] == 1.23 and meta["git_commit"]
    assert meta["device"].startswith(("cpu", "cuda"))
    if Path("/proc/cpuinfo").exists():     # the CPU's generation and its bf16 flags, which timings depend on
        assert "family" in meta["cpu"] and "avx512_bf16" in meta["cpu"], meta["cpu"]
    assert not list(tmp_path.glob(".*part*"))


def test_failed_write_leaves_no_partial_file(tmp_path):
    dest = tmp_path / "x.csv"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert dest.read_text() == "old" and list(tmp_path.iterdir()) == [dest]


def test_bad_table_names_and_empty_tables_are_refused(tmp_path):
    with pytest.raises(ValueError, match="plain file stem"):
        results.write_table(pd.DataFrame({"a": [1]}), "../x", results_dir=tmp_path)
    with pytest.raises(ValueError, match="empty"):
        results.write_table(pd.DataFrame(), "x", results_dir=tmp_path)


def test_figure_png_carries_provenance(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    p = results.save_figure(fig, "f", results_dir=tmp_path, notebook="01", seed=1)
    meta = json.loads(Image.open(p).info["Description"])
    assert meta["seed"] == 1 and meta["notebook"] == "01"


def test_git_commit_is_dirty_for_code_changes_but_not_for_rewritten_results(tmp_path):
    import subprocess

    from colorizerutils.results import git_commit

    git = lambda *a: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=tmp_path, check=True,
                                    capture_output=True)
    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "table.md").write_text("old\n")
    git("add", ".")
    git("commit", "-qm", "init")
    sha = git("rev-parse", "HEAD").stdout.decode().strip()
    assert git_commit(tmp_path) == sha
    (tmp_path / "results" / "table.md").write_text("new\n")          # a reproduce run rewrites a table
    assert git_commit(tmp_path) == sha
    (tmp_path / "code.py").write_text("x = 2\n")                       # the code itself changed
    assert git_commit(tmp_path) == sha + "+dirty"


def test_published_notebook_drops_its_largest_figures_to_stay_under_the_cap(tmp_path):
    # the quick profile's notebook 05 came to 4.2 MB and stopped `make reproduce` before 06; now its largest inline
    # figures give way (they are in results/figures/ in full) and the small ones stay
    import base64
    import io

    import nbformat
    import numpy as np
    from PIL import Image

    from colorizerutils.results import save_notebook

    def png(side):   # noise does not compress: about 3 * side**2 bytes
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(side).integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, "PNG")
        return base64.b64encode(buf.getvalue()).decode()

    cells = [nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": png(side), "text/plain": "<Figure>"})]) for side in (500, 300, 60)]
    cells.append(nbformat.v4.new_code_cell("path", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/plain": f"PosixPath('{tmp_path}/results/figures/a.gif')"}, execution_count=1)]))
    cells.append(nbformat.v4.new_code_cell("note", outputs=[nbformat.v4.new_output(
        "stream", name="stderr", text=f"note: cached in {Path.home()}/.cache/colorizerutils/numba\n")]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["papermill"] = {"input_path": str(tmp_path / "notebooks" / "05_x.ipynb"), "output_path": str(tmp_path / "build" / "05_x.ipynb")}
    src = tmp_path / "05_x.ipynb"
    nbformat.write(nb, str(src))
    assert src.stat().st_size > 1.2 * 2 ** 20
    out = save_notebook(src, results_dir=tmp_path / "results", max_mb=1.0)
    assert out.stat().st_size <= 2 ** 20
    kept = [("image/png" in c.outputs[0].data) for c in nbformat.read(str(out), as_version=4).cells[:3]]
    assert kept == [False, True, True]                 # only the largest had to go
    assert str(tmp_path) not in out.read_text()   # no machine paths: papermill's, nor printed ones
    assert f"{Path.home()}/" not in out.read_text() and "cached in ~/.cache/colorizerutils/numba" in out.read_text()
    assert "left out of this published copy" in nbformat.read(str(out), as_version=4).cells[0].outputs[0].data["text/plain"]


def test_notebook_run_fills_in_the_notebook_seed_and_time_since_it_started(tmp_path):
    import time

    from PIL import Image

    out = results.NotebookRun("02_mse_unet", seed=7, results_dir=tmp_path)
    time.sleep(0.05)
    out.table(pd.DataFrame({"method": ["gray"], "psnr": [25.0]}), "t", params={"protocol": "p"}, title="T")
    prov = json.loads((tmp_path / "t.provenance.json").read_text())
    assert prov["notebook"] == "02_mse_unet" and prov["seed"] == 7 and prov["parameters"] == {"protocol": "p"}
    assert 0.05 <= prov["wall_time_s"] <= out.seconds
    fig = matplotlib.figure.Figure()
    fig.add_subplot().plot([0, 1])
    meta = json.loads(Image.open(out.figure(fig, "f", params=[1])).text["Description"])
    assert meta["notebook"] == "02_mse_unet" and meta["parameters"] == [1] and meta["seed"] == 7


def test_time_table_splits_each_published_notebook_and_adds_up_to_papermills_own_duration():
    """On the executed notebooks make reproduce published: each notebook's cells and 'other' add up to its total,
    which papermill's notebook-level duration (cells plus kernel start and overhead) bounds from above."""
    import nbformat

    from colorizerutils import paths, runner

    folder = paths.ROOT / "results" / "notebooks"
    df = runner.time_table(folder)
    assert set(df.notebook) == {p.stem for p in runner.notebooks(folder)} and len(set(df.notebook)) >= 6
    for name, g in df.groupby("notebook"):
        total = g[g.cell == "all"].seconds.item()
        parts = g[~g.cell.isin(["all"])]
        assert parts.seconds.sum() == pytest.approx(total, abs=0.1 * len(parts))
        assert parts.share.sum() == pytest.approx(1.0, abs=2e-3 * len(parts))
        whole = nbformat.read(str(folder / f"{name}.ipynb"), as_version=4).metadata.papermill.duration
        assert 0 < total <= whole
    with pytest.raises(ValueError, match="no papermill cell durations"):
        runner.time_table(paths.ROOT / "notebooks")     # the committed notebooks carry no outputs


def test_training_table_counts_the_runs_a_notebook_trained_and_not_those_it_took_over(tmp_path, monkeypatch):
    """A run trained before the notebook started (one it would reuse) is not its training; a run trained while it
    ran is, with the seconds its log records; an executed copy without papermill's times is refused by name."""
    import datetime as dt
    import time

    import nbformat
    import torch

    from colorizerutils import runner
    from colorizerutils.training import TrainConfig, train

    tiny = dict(model="unet", model_kwargs={"ngf": 8, "depth": 4}, batch=4, size=32, seed=7, checkpoint_every=5)
    frames = torch.rand(8, 3, 32, 32) * torch.tensor([100, 40, 40]).view(1, 3, 1, 1)
    ckpt, folder = tmp_path / "checkpoints", tmp_path / "executed"
    folder.mkdir()
    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", ckpt)
    train(TrainConfig(run="earlier", steps=10, **tiny), frames, progress=False)   # before the notebook: taken over
    time.sleep(0.05)
    start = dt.datetime.now(dt.timezone.utc)
    r = train(TrainConfig(run="mine", steps=20, **tiny), frames, progress=False)
    end = dt.datetime.now(dt.timezone.utc)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["papermill"] = {"start_time": start.isoformat(), "end_time": end.isoformat(),
                                "duration": (end - start).total_seconds(), "parameters": {"PROFILE": "smoke"}}
    nbformat.write(nb, str(folder / "02_x.ipynb"))
    (ckpt / "notes").mkdir()
    (ckpt / "notes" / "log.csv").write_text("when,what\ntoday,a user's own table\n")   # not a run: ignored
    (ckpt / "notes" / "final.pt").write_bytes(b"")
    df = runner.training_table(folder, ckpt).set_index("notebook")
    logged = pd.read_csv(r.run_dir / "log.csv").seconds.iloc[-1]
    assert df.loc["02_x", "runs_trained"] == 1 and df.loc["02_x", "training_seconds"] == pytest.approx(logged, abs=0.05)
    assert 0 < df.loc["02_x", "training_share"] <= 1 and df.loc["all", "runs_trained"] == 1
    del nb.metadata["papermill"]["end_time"]
    nbformat.write(nb, str(folder / "02_x.ipynb"))
    with pytest.raises(ValueError, match="02_x.ipynb: no papermill start and end times"):
        runner.training_table(folder, ckpt)

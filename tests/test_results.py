import json

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

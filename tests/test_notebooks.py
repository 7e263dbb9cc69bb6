"""Every numbered notebook runs through papermill in PROFILE=smoke, writing to temporary results."""
import os

import nbformat
import pytest

from colorizerutils import runner

NOTEBOOKS = runner.notebooks()


def test_notebooks_exist_and_are_clean():
    assert [n.name[:2] for n in NOTEBOOKS][:1] == ["01"]
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1, nb_path.name
        assert "parameters" in code[0].metadata.get("tags", []), f"{nb_path.name}: parameters cell must come first"
        assert "PROFILE" in code[0].source
        assert not any(c.outputs for c in code), f"{nb_path.name} has committed outputs: make strip"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_in_smoke_profile(nb, tmp_path, monkeypatch):
    # Notebooks run in a kernel: point its results and checkpoints at temporary folders through the environment.
    monkeypatch.setenv("COLORIZER_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COLORIZER_CHECKPOINTS", str(os.environ.get("COLORIZER_TEST_CHECKPOINTS",
                                                                   tmp_path.parent / "smoke_checkpoints")))
    monkeypatch.setenv("COLORIZER_HEADLESS", "1")
    out = runner.run_notebook(nb, profile="smoke", out_dir=tmp_path / "executed")
    assert out.exists()
    assert list((tmp_path / "results").glob("*.csv")), f"{nb.name} wrote no table"


def test_failure_names_notebook_and_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('PROFILE = "smoke"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(runner.NotebookFailed, match=r"99_broken.ipynb failed in cell \d+ \(ValueError: broken on purpose\)"):
        runner.run_notebook(path, profile="smoke", out_dir=tmp_path / "out")
    with pytest.raises(ValueError, match="unknown PROFILE"):
        runner.run_notebook(path, profile="huge")

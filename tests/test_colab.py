"""Colab from a fresh runtime, simulated: a new virtual environment, the notebook's own install cell run against a
clone of this repository, then notebook 03 at smoke without notebook 02 having run (its setup call trains 02's model),
and the video notebook 04 after it in the same runtime: its install cell must find the clone in place, and its setup,
data and checkpoint must be the clone's. Each runs through its training cell, which is what differs on Colab; the
rest of each is the same code in Colab as anywhere, and their smoke runs in ``test_notebooks.py`` cover it (running
the rest of 04 here as well cost about 75 s on 2 cores, the rest of 03 about 16 s on a Zen 3).

What is simulated, and only that: the runtime marks itself as Colab by having imported ``google.colab`` (a one-line
module on PYTHONPATH here), and the new environment sees the already-installed dependencies through a ``.pth`` line
instead of downloading torch again. The install cell, the clone, the kit's data preparation (from the package
registry), the weights and the training all run for real. The clone is of the committed HEAD, as Colab would get it.
"""
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from colorizerutils import paths


def _run(*cmd, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)
    assert p.returncode == 0, f"{cmd}: {p.stderr[-3000:]}"
    return p


@pytest.mark.slow
def test_notebooks_03_and_04_run_from_a_fresh_runtime_through_their_colab_cell(tmp_path, manifest, monkeypatch):
    import papermill as pm

    venv, content, stub = tmp_path / "venv", tmp_path / "content", tmp_path / "colab"
    content.mkdir()
    _run(sys.executable, "-m", "venv", venv)
    site = _run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout
    (Path(site.strip()) / "kit_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (stub / "google" / "colab").mkdir(parents=True)
    (stub / "google" / "colab" / "__init__.py").write_text('"""Stand-in: this runtime is Colab."""\n')
    (stub / "sitecustomize.py").write_text("import google.colab  # the Colab runtime imports it at start-up\n")
    kernels = tmp_path / "jupyter"
    _run(venv / "bin" / "python", "-m", "ipykernel", "install", "--prefix", kernels, "--name", "colab-sim")

    for k in [k for k in os.environ if k.startswith("COLORIZER_")]:
        monkeypatch.delenv(k)               # the kit in the runtime finds its own root: the clone
    monkeypatch.setenv("JUPYTER_PATH", str(kernels / "share" / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(stub))
    monkeypatch.setenv("PATH", f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "03.ipynb"
    run = lambda nb, dest: pm.execute_notebook(str(nb), str(dest), kernel_name="colab-sim",
                                               parameters={"PROFILE": "smoke", "KIT_GIT_URL": f"file://{paths.ROOT}"},
                                               cwd=str(content), progress_bar=False)
    for name, dest in (("03_gan_unet", out), ("04_video_diffusion", tmp_path / "04.ipynb")):
        nb = nbformat.read(paths.NOTEBOOKS / f"{name}.ipynb", as_version=4)
        last = next(i for i, c in enumerate(nb.cells) if "training.train(" in c.source)
        nb.cells = nb.cells[:last + 1]                          # install, setup, data and training
        nbformat.write(nb, tmp_path / f"{name}_head.ipynb")
        run(tmp_path / f"{name}_head.ipynb", dest)              # 04 in the same runtime as 03

    kit = content / "kit"
    assert (kit / "pyproject.toml").exists() and (kit / "data" / "manifest.json").exists()
    assert (kit / "checkpoints" / "mse_unet" / "final.pt").exists()            # 02's model, trained by the setup
    rewritten = lambda rel: _run("git", "status", "--porcelain", "--", rel, cwd=kit).stdout.strip()
    assert rewritten("results/figures/03_losses.png").startswith("M")       # the clone's committed figure, redone
    assert (kit / "checkpoints" / "gan_unet" / "final.pt").exists()             # 03 trained into the clone
    nb = json.loads(out.read_text())
    text = "".join(o.get("text", "") if isinstance(o.get("text"), str) else "".join(o.get("text", []))
                   for c in nb["cells"] for o in c.get("outputs", []))
    assert "mse_unet is not trained yet" in text                           # it said what it was doing
    assert (kit / "checkpoints" / "diffusion" / "final.pt").exists()            # 04 trained into the clone
    assert rewritten("results/figures/04_diffusion_loss.png").startswith("M")
    assert not (kit / "kit").exists()                                      # the second install cell did not clone again
    where = _run(venv / "bin" / "python", "-c", "import colorizerutils; print(colorizerutils.__file__)",
                 cwd=content).stdout
    assert where.startswith(str(kit)), where                                # the runtime uses the clone

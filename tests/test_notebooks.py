"""Every numbered notebook runs through papermill in PROFILE=smoke, writing to temporary results."""
import os
from pathlib import Path

import nbformat
import papermill
import pytest

from colorizerutils import data, evaluate, profile, recipes, runner
from colorizerutils.atomic import load_torch

NOTEBOOKS = runner.notebooks()


def test_notebooks_exist_and_are_clean():
    assert [n.name[:2] for n in NOTEBOOKS][:1] == ["01"]
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1, nb_path.name
        assert "parameters" in code[0].metadata.get("tags", []), f"{nb_path.name}: parameters cell must come first"
        assert "PROFILE" in code[0].source
        assigned = [line.split("=")[0].strip() for line in code[0].source.splitlines() if "=" in line.split("#")[0]]
        assert list(papermill.inspect_notebook(nb_path)) == assigned, \
            f"{nb_path.name}: papermill cannot read every parameter (a comment with '=' in it?)"
        assert not any(c.outputs for c in code), f"{nb_path.name} has committed outputs: make strip"


def test_notebooks_tell_the_story_and_the_package_holds_the_logic():
    """No notebook defines a function, a class or a lambda, and no code cell is longer than 15 lines (blank lines
    aside): logic a cell would need goes into colorizerutils, where it is tested."""
    import ast

    for nb_path in NOTEBOOKS:
        for i, c in enumerate(nbformat.read(nb_path, as_version=4).cells):
            if c.cell_type != "code":
                continue
            where = f"{nb_path.name}, cell {i}"
            lines = [line for line in c.source.splitlines() if line.strip()]
            assert len(lines) <= 15, f"{where}: {len(lines)} lines; move the logic into colorizerutils"
            tree = ast.parse("\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith("%")))
            defined = [type(n).__name__ for n in ast.walk(tree)
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))]
            assert not defined, f"{where} defines {defined}; put it in colorizerutils"


# per notebook: the tables it must write -> the methods (rows) each must hold, or None for any rows
EXPECTED = {
    "01_lab_preprocessing": {"01_gray_baseline": ["gray (L only, a=b=0)"], "01_gray_baseline_per_clip": None},
    "02_mse_unet": {"02_mse_unet": ["gray baseline", "MSE U-Net as trained", "MSE U-Net, calibrated",
                                    "ground truth (reference)"]},
    "03_gan_unet": {"03_comparison": ["gray baseline", "MSE U-Net", "GAN U-Net", "GAN U-Net, joint schedule (pix2pix)",
                                      "classification (Zhang)", "ground truth (reference)"]},
    "04_video_diffusion": {"04_video_comparison": ["gray baseline", "reference copy", "Farneback warp from the exemplar",
                                                   "DIS warp from the exemplar", "DIS propagation frame to frame",
                                                   "diffusion + exemplar", "diffusion, automatic",
                                                   "diffusion, automatic, not calibrated", "ground truth"],
                           "04_sampling_steps": None},
    "05_loss_ablation": {"05_loss_ablation": ["gray baseline", "mse", "mae", "mae+ssim"],
                         "05_loss_ablation_per_seed": ["gray baseline", "mse", "mae", "mae+ssim"], "05_metric_audit": None,
                         "05_floor_div_caps": None, "05_rerun_check": None},
    "06_seed_variation": {"06_seed_variation": None, "06_effects": None,
                          "06_seed_variation_per_seed": ["MSE U-Net", "GAN U-Net", "ground truth (reference)"]
                          + [m for e in profile("smoke").effects for m in recipes.EFFECTS[e]]},
    "07_long_videos": {"07_shots": ["shot by shot (the default)",
                                    "one state and the first reference across the cuts (--no-shots)"]},
}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_in_smoke_profile(nb, tmp_path, monkeypatch):
    # Notebooks run in a kernel: point its results and checkpoints at temporary folders through the environment.
    monkeypatch.setenv("COLORIZER_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COLORIZER_CHECKPOINTS", str(os.environ.get("COLORIZER_TEST_CHECKPOINTS",
                                                                   tmp_path.parent / "smoke_checkpoints")))
    monkeypatch.setenv("COLORIZER_HEADLESS", "1")
    out = runner.run_notebook(nb, profile="smoke", out_dir=tmp_path / "executed")
    assert out.exists()
    import json

    import pandas as pd

    results = tmp_path / "results"
    for table, methods in EXPECTED[nb.stem].items():
        df = pd.read_csv(results / f"{table}.csv")
        assert len(df), table
        if methods is not None:
            col = "method" if "method" in df.columns else "loss"
            assert set(methods) <= set(df[col]), (table, sorted(set(df[col])))
            scored = df[~df[col].str.startswith("ground truth")]
            if "psnr" in scored.columns:
                assert scored.psnr.between(5, 60).all(), (table, scored.psnr.tolist())   # real scores, not inf/nan
        prov = json.loads((results / f"{table}.provenance.json").read_text())
        assert prov["notebook"] == nb.stem and prov["git_commit"]
        if table[:2] in ("01", "02", "03", "04", "05") and table != "05_rerun_check":   # the scored tables
            assert "protocol" in json.dumps(prov["parameters"]), f"{table}: provenance must record the protocol"
    assert list((results / "figures").glob(f"{nb.stem[:2]}_*")), f"{nb.name} saved no figure"
    if nb.stem == "05_loss_ablation":   # every combination at every seed of the profile, with its standard error
        t = pd.read_csv(results / "05_loss_ablation.csv").set_index("loss").drop("gray baseline")
        assert (t.seeds == len(profile("smoke").ablation_seeds)).all() and t.psnr_se.notna().all(), t
    if nb.stem == "06_seed_variation":   # every change of the profile, on both splits, paired over its seeds
        t = pd.read_csv(results / "06_effects.csv")
        assert list(dict.fromkeys(t.change)) == list(profile("smoke").effects), t.change.unique()
        assert set(t.split) == {"val", "test"} and (t.seeds == len(profile("smoke").seeds)).all(), t
        assert t[["difference", "difference se"]].notna().all().all(), t
    if nb.stem == "07_long_videos":   # on real test clips, at the smoke size: every cut found, every shot its reference
        t = pd.read_csv(results / "07_shots.csv")
        by_shot = t[t.method == "shot by shot (the default)"]
        assert len(by_shot) == 3 and (by_shot.found_cut == by_shot.true_cut).all(), t
        assert (by_shot.reference_used == by_shot.own_reference).all(), t
        assert t[t.method != "shot by shot (the default)"].found_cut.isna().all(), t
    if nb.stem == "02_mse_unet":   # cross-fitted on train, never on val or test, and used: its row scores that scale
        ckpts = Path(os.environ["COLORIZER_CHECKPOINTS"])
        cal = json.loads((ckpts / "mse_unet" / "calibration.json").read_text())
        train = {i["name"] for i in data.split_items("train")}
        assert sorted(cal["fitted_on"] + cal["left_out"]) == sorted(train) and len(cal["left_out"]) <= 2, cal
        assert not set(cal["fitted_on"]) & (set(evaluate.test_clips("val", kind=None)) | set(evaluate.test_clips()))
        assert sorted(n for names in cal["folds"].values() for n in names) == sorted(train)
        assert all((ckpts / f"mse_unet_fold{k}" / "final.pt").exists() for k in range(len(cal["folds"])))
        smoke = profile("smoke")   # the folds train the profile's fraction of the U-Net's steps, and say so
        assert cal["fold_steps"] == round(smoke.steps * smoke.crossfit_fraction) < smoke.steps, cal["fold_steps"]
        assert all(load_torch(ckpts / f"mse_unet_fold{k}" / "final.pt")["config"]["steps"] == cal["fold_steps"]
                   for k in range(len(cal["folds"])))
        assert f"{len(cal['folds'])} folds of {cal['fold_steps']} steps" in (results / "02_mse_unet.md").read_text()
        assert (results / "figures" / "02_mse_unet_calibration.png").exists()
        assert f"ab x {cal['chroma_scale']:g}" in (results / "02_mse_unet.md").read_text()
    from colorizerutils.results import save_notebook

    published = nbformat.read(save_notebook(out, results_dir=results), as_version=4)   # what a visitor sees
    assert any("image/png" in o.get("data", {}) for c in published.cells for o in c.get("outputs", [])), \
        f"{nb.name}: the executed copy carries no inline figure"


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

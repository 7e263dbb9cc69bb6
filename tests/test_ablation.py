import re

import pytest
import torch

from colorizerutils import ablation, profile
from conftest import ROOT, SHARED


PAPER_EXCERPT = ROOT / "docs" / "paper_loss_table.md"
_ROW = re.compile(r"\|\s*(?:Single|Two|Three)\s*\|\s*([A-Za-z +]+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)")


def _rows(text: str) -> list[tuple]:
    return [(n.lower().replace(" ", ""), float(a), float(b), float(c)) for n, a, b, c in _ROW.findall(text)]


def test_paper_table_matches_the_published_rows_kept_in_docs():
    """ablation.PAPER_TABLE is typed by hand; docs/paper_loss_table.md holds the published rows verbatim."""
    assert _rows(PAPER_EXCERPT.read_text()) == ablation.PAPER_TABLE


def test_the_rows_kept_in_docs_are_verbatim_from_the_seed_readme():
    """Provenance of the excerpt above: every one of its table lines occurs, character for character, in the
    paper's README (../shared/seeds, present in CI beside the checkout)."""
    seed = next((SHARED / "seeds").glob("000_*.txt"), None)
    if seed is None:
        pytest.skip("../shared/seeds is not beside this checkout (the excerpt itself is checked above)")
    lines = [ln for ln in PAPER_EXCERPT.read_text().splitlines() if ln.startswith("|")]
    assert len(lines) == 22 and set(lines) <= set(seed.read_text().splitlines())


def test_configs_are_hashed_and_identical_except_the_loss():
    P = profile("smoke")
    a, b = ablation.config("mse", P), ablation.config("mse+ssim", P)
    assert a.run != b.run and ablation.config("mse", P).run == a.run
    da, db = dict(vars(a)), dict(vars(b))
    for d in (da, db):
        d.pop("run"), d.pop("loss")
    assert da == db


def test_audit_reports_identical_frames_instead_of_a_capped_mean():
    import math

    import pandas as pd

    g = torch.randint(0, 250, (4, 3, 32, 32), dtype=torch.uint8)
    p = (g.int() + torch.randint(-40, 40, g.shape)).clamp(0, 254).to(torch.uint8)
    g[:2, :, :4] = 255                                 # frames 0-1 keep some pure white in the truth only
    out = ablation.audit(p, g)
    assert out["psnr (correct)"] < 30
    assert out["frames identical after // 255"] == 0.5   # frames 2-3 become all-zero in both: infinite PSNR
    assert math.isfinite(out["psnr after // 255, finite frames"])
    assert out["psnr with uint8 subtraction"] < out["psnr (correct)"]
    per_frame = pd.DataFrame({"method": "m", "clip": "c", "psnr_floor_div": ablation.psnr_floor_div(p, g).numpy()})
    caps = ablation.cap_table(per_frame, caps=(50, 100))
    finite = out["psnr after // 255, finite frames"]
    assert caps.loc[0, "mean, inf -> 50 dB"] == pytest.approx((finite + 50) / 2, rel=1e-6)   # 2 finite, 2 inf
    assert caps.loc[0, "mean, inf -> 100 dB"] - caps.loc[0, "mean, inf -> 50 dB"] == pytest.approx(25)
    text = ablation.discuss_audit(caps, band=(45.0, 50.0))
    assert "50% of 4 frames become identical" in text


def test_rerun_check_compares_weights_bitwise(tmp_path, monkeypatch, manifest):
    """Two trainings of one configuration and seed end with identical weights; another seed gives other weights,
    so the equality is not trivial."""
    import dataclasses

    from colorizerutils import data

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    P = dataclasses.replace(profile("smoke"), ablation_steps=3, ablation_batch=2, train_size=32)
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=4)
    row = ablation.rerun_matches("mse", P, frames=frames)
    assert row == {"combination": "mse", "device": "cpu", "tensors": row["tensors"], "bitwise_different": 0,
                   "max_abs_difference": 0.0} and row["tensors"] > 10
    other = ablation.rerun_matches("mse", P, seed=1, frames=frames)     # the cached run of seed 1 is trained first
    final = torch.load(ablation.train_combo("mse", P, seed=1, frames=frames, progress=False) / "final.pt",
                       weights_only=False)["state"]
    cached0 = torch.load(ablation.train_combo("mse", P, seed=0, frames=frames, progress=False) / "final.pt",
                         weights_only=False)["state"]
    assert other["bitwise_different"] == 0
    assert any(not torch.equal(final[k], cached0[k]) for k in final)   # another seed: other weights


def test_term_effect_averages_the_combinations_with_and_without_each_term():
    import pandas as pd

    table = pd.DataFrame(dict(loss=["gray baseline", "mse", "mse+ssim", "mae+ssim", "mae"],
                              psnr=[99.0, 20.0, 22.0, 26.0, 30.0], lpips=[0.0, 0.4, 0.3, 0.2, 0.1]))
    e = ablation.term_effect(table).set_index("term")
    assert list(e.index) == ["mse", "mae", "ssim"]                  # terms no combination has are left out
    assert e.loc["mse", "psnr_with"] == 21.0 and e.loc["mse", "psnr_without"] == 28.0   # gray's 99 never counted
    assert e.loc["ssim", "psnr_with"] == 24.0 and e.loc["ssim", "psnr_without"] == 25.0
    assert e.loc["mae", "lpips_with"] == pytest.approx(0.15) and e.loc["mae", "lpips_without"] == pytest.approx(0.35)
    everywhere = table.assign(loss=["gray baseline", "mse", "mse+ssim", "mse+mae", "mse+lpips"])
    assert "mse" not in set(ablation.term_effect(everywhere).term)   # in every combination: nothing to compare


def test_floor_div_ssim_equals_torchmetrics_in_float64_on_real_frames(manifest):
    """The audit's SSIM after ``// 255`` runs in float32 for speed; on real frames (bikes, the truth against its own
    brightened copy, so some pixels reach 255 in one and not the other) it equals the float64 computation."""
    import numpy as np
    from torchmetrics.functional.image import structural_similarity_index_measure

    from colorizerutils import evaluate, paths

    g = torch.from_numpy(np.stack(list(evaluate.protocol_frames(paths.DATA / "default/videos/bikes.mp4",
                                                                 evaluate.Protocol(size=128, max_frames=6)))))
    g = g.permute(0, 3, 1, 2).contiguous()
    p = (g.int() * 5 // 4).clamp(0, 255).to(torch.uint8)
    want = structural_similarity_index_measure((p // 255).double(), (g // 255).double(), data_range=1.0,
                                               gaussian_kernel=True, sigma=1.5, kernel_size=11, reduction="none")
    got = ablation.ssim_floor_div(p, g)
    assert want.min() < 0.99                   # the two differ after // 255: not a trivial all-ones comparison
    assert torch.allclose(got.double(), want, atol=2e-7, rtol=0)


def test_orderings_of_one_set_of_terms_are_one_configuration():
    P = profile("smoke")
    assert ablation.canonical("MAE + LPIPS + SSIM") == ablation.canonical("mae+ssim+lpips") == "mae+ssim+lpips"
    assert ablation.config("mae+lpips+ssim", P) == ablation.config("mae+ssim+lpips", P)
    assert ablation.config("mae+ssim", P, seed=1).run != ablation.config("mae+ssim", P).run
    runs = {ablation.config(c, P, seed=s).run for s in (0, 1) for c in ablation.COMBOS}
    assert len(runs) == 2 * 18    # the paper's 20 rows hold 18 distinct sets of terms


def _per_seed():
    """Three seeds of two combinations and a deterministic baseline, in the layout of ablation.seed_rows."""
    import pandas as pd

    rows = [dict(loss="gray baseline", seed=float("nan"), psnr=25.0, lpips=0.15, ssim=0.95, colorfulness=0.1)]
    for seed, (a, b) in enumerate([(24.0, 22.0), (26.0, 23.0), (25.0, 21.0)]):
        rows += [dict(loss="mse", seed=seed, psnr=a, lpips=0.20, ssim=0.9, colorfulness=20.0),
                 dict(loss="mae", seed=seed, psnr=b, lpips=0.20 + seed / 100, ssim=0.9, colorfulness=20.0)]
    return pd.DataFrame(rows)


def test_mean_and_standard_error_over_seeds_against_numpy():
    import numpy as np

    t = ablation.mean_se(_per_seed()).set_index("loss")
    assert t.loc["mse", "seeds"] == 3 and t.loc["gray baseline", "seeds"] == 0
    assert t.loc["mse", "psnr"] == 25.0
    assert np.isclose(t.loc["mae", "psnr_se"], np.std([22.0, 23.0, 21.0], ddof=1) / np.sqrt(3))
    assert np.isnan(t.loc["gray baseline", "psnr_se"])


def test_paired_differences_and_the_generated_ranking():
    import numpy as np

    d = ablation.paired_differences(_per_seed(), "mse").set_index("loss")
    # paired by seed: mae - mse = -2, -3, -4 -> mean -3, se std([-2,-3,-4])/sqrt(3) = 0.577: resolved
    assert np.isclose(d.loc["mae", "psnr_difference"], -3.0)
    assert np.isclose(d.loc["mae", "psnr_se"], 1 / np.sqrt(3)) and d.loc["mae", "psnr_resolved"]
    g = ablation.paired_differences(_per_seed(), "gray baseline").set_index("loss")
    assert np.isclose(g.loc["mse", "psnr_difference"], 0.0) and not g.loc["mse", "psnr_resolved"]
    text = ablation.discuss_ranking(_per_seed())
    assert "best mean is *mse* (25 ± 0.58)" in text and "ahead of 1 of 1" in text
    assert "no combination is better by more than twice its standard error" in text   # mse ties gray: 25 vs 25
    one_seed = _per_seed()
    assert "no standard error" in ablation.discuss_ranking(one_seed[one_seed.seed.isna() | (one_seed.seed == 0)])


def test_score_runs_scores_a_shared_run_once_with_the_numbers_of_scoring_it_alone(tmp_path, monkeypatch, manifest):
    """The paper's two orderings of one set of terms are one run: scored once, its rows repeated under both labels,
    equal to evaluating that run on its own; the provenance names each distinct run once, and the configuration it
    records differs from every run's only in loss, seed and run name."""
    import dataclasses

    import numpy as np

    from colorizerutils import data, evaluate, inference

    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    P = dataclasses.replace(profile("smoke"), ablation_steps=3, ablation_batch=2, train_size=32, ablation_seeds=(0, 1))
    frames = data.clip_lab(data.paths.DATA / "default/videos/carphone_pristine.mp4", size=32, max_frames=4)
    combos = ["mse", "mae+lpips+ssim", "mae+ssim+lpips"]
    runs = ablation.train_all(combos, P, frames=frames, progress=False)
    assert len(runs) == 6 and len(set(runs.values())) == 4
    clips = {"bikes": data.paths.DATA / "default/videos/bikes.mp4"}
    protocol = evaluate.Protocol(size=32, max_frames=4)
    per_clip, models = ablation.score_runs(runs, clips, protocol, baselines={"gray": inference.GrayBaseline()},
                                           progress=False)
    labels = [ablation.label(c, s) for c, s in runs]
    assert per_clip.method.tolist() == ["gray", *labels] and list(models) == labels
    a, b = ablation.label("mae+lpips+ssim", 1), ablation.label("mae+ssim+lpips", 1)
    assert models[a] is models[b]                     # loaded once
    alone = evaluate.evaluate(inference.load_colorizer(runs["mae+ssim+lpips", 1]), clips, method=b,
                              protocol=protocol, progress=False)
    metrics = ["psnr", "ssim", "lpips", "colorfulness"]
    for name in (a, b):
        np.testing.assert_allclose(per_clip.loc[per_clip.method == name, metrics].to_numpy(float),
                                   alone[metrics].to_numpy(float), rtol=1e-6)
    other = per_clip.loc[per_clip.method == ablation.label("mse", 1), "psnr"].item()
    assert other != per_clip.loc[per_clip.method == a, "psnr"].item()   # the rows are not all one model's

    prov = ablation.provenance(runs, P)
    assert prov["losses"] == ["mse", "mae+ssim+lpips"] and prov["seeds"] == [0, 1] and len(prov["runs"]) == 4
    for c, s in runs:
        cfg = ablation.config(c, P, seed=s)
        assert cfg.run in prov["runs"]
        assert dataclasses.replace(prov["config"], loss=cfg.loss, seed=s, run=cfg.run) == cfg


def test_vgg16_loss_network_in_bf16_only_for_vgg_combinations_and_only_where_asked():
    import dataclasses

    quick = profile("quick")
    for want in (False, True):
        p = dataclasses.replace(quick, loss_bf16=want)
        assert ablation.config("mse+perceptual", p).loss_bf16 is want
        assert ablation.config("mae+ssim+style", p).loss_bf16 is want
        assert ablation.config("mse+ssim+lpips", p).loss_bf16 is False   # no VGG term: fp32 everywhere
    on, off = (ablation.config("mse+content", dataclasses.replace(quick, loss_bf16=b)) for b in (True, False))
    assert on.run != off.run   # another precision is another run, never reused for the other
    runs = {("mse", 0): None, ("mse+perceptual", 0): None}
    assert ablation.provenance(runs, dataclasses.replace(quick, loss_bf16=True))["vgg16_in_bf16"] == ["mse+perceptual"]

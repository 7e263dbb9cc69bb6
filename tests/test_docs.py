"""The numbers that README.md and docs/findings.md quote from `results/` are the committed tables' numbers.

The docs' headline tables are written by hand (their row titles explain more than a table's method names), so
nothing but this test keeps them from going stale when `make reproduce` rewrites `results/`: each quoted value must
equal the table's value rounded to the digits the doc shows."""
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"

# a doc's row title (its start) -> (the results table, its method); the columns are named by the doc's header
AUTOMATIC = {
    "gray (L only": ("03_comparison", "gray baseline"),
    "MSE U-Net, calibrated": ("02_mse_unet", "MSE U-Net, calibrated"),
    "MSE U-Net as trained": ("03_comparison", "MSE U-Net"),
    "GAN U-Net (NoGAN": ("03_comparison", "GAN U-Net"),
    "GAN U-Net, pix2pix's joint": ("03_comparison", "GAN U-Net, joint schedule (pix2pix)"),
    "classification (Zhang)": ("03_comparison", "classification (Zhang)"),
}
EXEMPLAR = {
    "reference copy": ("04_video_comparison", "reference copy"),
    "Farneback warp": ("04_video_comparison", "Farneback warp from the exemplar"),
    "DIS warp of frame 0": ("04_video_comparison", "DIS warp from the exemplar"),
    "DIS propagation": ("04_video_comparison", "DIS propagation frame to frame"),
    "DIS warp and propagation fused": ("04_video_comparison", "DIS fused, long + short range by confidence"),
    "the same, new content coloured": (
        "04_video_comparison", "DIS fused, new content from the exemplar's look-alikes (the model's anchor)"),
    "exemplar diffusion (that anchor": ("04_video_comparison", "diffusion + exemplar"),
    "the same on the anchor with the border": (
        "04_video_comparison", "diffusion + exemplar, border repeated where the flow leaves the frame"),
    "the same with its residual added": (
        "04_video_comparison", "diffusion + exemplar, residual added everywhere (not gated)"),
    "exemplar diffusion with everything at 64": ("04_video_comparison", "diffusion + exemplar, anchor at the model size"),
    "diffusion without the exemplar": ("04_video_comparison", "diffusion, automatic"),
    "the same before this calibration": (
        "04_video_comparison", "diffusion, automatic, previous output fed back, not calibrated"),
}
TRUTH = {"03_comparison": "ground truth (reference)", "04_video_comparison": "ground truth"}
COLUMNS = {"PSNR": "psnr", "LPIPS": "lpips", "colourfulness": "colorfulness"}
NUMBER = re.compile(r"[−+-]?\d+(?:\.\d+)?")


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / f"{name}.csv").set_index("method")


def _cells(line: str) -> list[str]:
    return [c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]


def _value(text: str) -> tuple[float, int]:
    """The first number in a cell and how many decimals it shows."""
    m = NUMBER.search(text)
    assert m, f"no number in {text!r}"
    s = m.group().replace("−", "-")
    return float(s), len(s.split(".")[1]) if "." in s else 0


def _agrees(shown: tuple[float, int], value: float) -> bool:
    number, decimals = shown
    return abs(number - value) <= 0.5 * 10 ** -decimals + 1e-9


def _doc_tables(doc: Path, rows: dict) -> list[tuple[list[str], list[list[str]]]]:
    """Every markdown table in ``doc`` whose first column holds all of ``rows``' titles: (header, body rows)."""
    found, block = [], []
    for line in [*doc.read_text().splitlines(), ""]:
        if line.startswith("|"):
            block.append(_cells(line))
            continue
        if len(block) > 2:
            header, body = block[0], block[2:]
            if all(any(r[0].startswith(t) for r in body) for t in rows):
                found.append((header, body))
        block = []
    return found


@pytest.mark.parametrize("doc", ["README.md", "docs/findings.md"])
@pytest.mark.parametrize("rows", [AUTOMATIC, EXEMPLAR], ids=["automatic", "exemplar"])
def test_quoted_headline_tables_match_results(doc, rows):
    tables = _doc_tables(ROOT / doc, rows)
    assert tables, f"{doc}: no table quotes the rows {list(rows)}"
    wrong = []
    for header, body in tables:
        for row in body:
            key = next((t for t in rows if row[0].startswith(t)), None)
            assert key is not None, f"{doc}: row {row[0]!r} is not mapped to a results table in this test"
            name, method = rows[key]
            t = _table(name)
            for col, cell in zip(header[1:], row[1:]):
                metric = next(v for k, v in COLUMNS.items() if col.startswith(k))
                if not _agrees(_value(cell), t.loc[method, metric]):
                    wrong.append(f"{row[0][:50]!r} {col}: {cell} in the doc, {t.loc[method, metric]:.4f} in "
                                 f"results/{name}.csv")
        truth_col = next(c for c in header if c.startswith("colourfulness"))
        truth = _table(name).loc[TRUTH[name], "colorfulness"]
        if not _agrees(_value(truth_col.split(":")[1]), truth):
            wrong.append(f"header {truth_col!r}: the real frames' {truth:.2f} in results/{name}.csv")
    assert not wrong, f"{doc} quotes numbers that results/ no longer holds:\n" + "\n".join(wrong)


EFFECTS = {"NoGAN": "NoGAN", "data:": "data", "scale augmentation": "augmentation"}


def test_findings_effects_table_matches_results():
    """docs/findings.md's table of what each change moves (its committed rows: the fourth, the encoder, comes from a
    separate run and is not in results/06_effects.csv)."""
    (header, body), = [tb for tb in _doc_tables(ROOT / "docs/findings.md", EFFECTS) if tb[0][0] == "change"]
    t = pd.read_csv(RESULTS / "06_effects.csv")
    wrong = []
    for row in body:
        key = next((k for k in EFFECTS if row[0].startswith(k)), None)
        if key is None:
            continue
        for col, cell in zip(header[1:], row[1:]):
            split, metric = col.split()
            r = t[(t.change == EFFECTS[key]) & (t.split == split) & (t.metric == metric.lower())]
            assert len(r) == 1, (key, col)
            diff, se = (_value(s) for s in cell.split("±"))
            if not (_agrees(diff, r.difference.iloc[0]) and _agrees(se, r["difference se"].iloc[0])):
                wrong.append(f"{row[0][:40]!r} {col}: {cell} in the doc, {r.difference.iloc[0]:+.4f} ± "
                             f"{r['difference se'].iloc[0]:.4f} in results/06_effects.csv")
    assert not wrong, "docs/findings.md's effects table no longer matches results/:\n" + "\n".join(wrong)


def _targets() -> dict[str, list[str]]:
    """README's table of the targets not met yet: its first cell (the target) -> the row."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| target | now |"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        row = _cells(line)
        rows[row[0]] = row
    return rows


def _target(prefix: str) -> list[str]:
    rows = [r for k, r in _targets().items() if k.startswith(prefix)]
    assert len(rows) == 1, f"README.md's targets table: no single row starts with {prefix!r}"
    return rows[0]


def test_readme_targets_quote_results():
    """Each target's "now", and its goal where it is computed from a baseline, as results/ holds them."""
    auto, mse, video = _table("03_comparison"), _table("02_mse_unet"), _table("04_video_comparison")
    gray = auto.loc["gray baseline"]
    checks = []

    row = _target("MSE U-Net ≥ gray + 0.5 dB")
    checks += [(row[0].split("(")[1], gray.psnr + 0.5), (row[1], mse.loc["MSE U-Net, calibrated", "psnr"])]
    row = _target("MSE U-Net's LPIPS")
    checks.append((row[1], mse.loc["MSE U-Net, calibrated", "lpips"] / mse.loc["gray baseline", "lpips"]))

    row = _target("GAN U-Net more colourful")
    seeds = pd.read_csv(RESULTS / "06_seed_variation.csv").set_index(["split", "metric"]).loc[("test", "colorfulness")]
    less, of = (int(n) for n in re.search(r"less colourful at (\d+) of (\d+) seeds", row[1]).groups())
    assert (less, of) == (seeds.seeds - seeds["seeds higher"], seeds.seeds), row[1]

    row = _target("a loss combination of notebook 05")
    ablation = pd.read_csv(RESULTS / "05_loss_ablation.csv").set_index("loss")
    best = ablation.drop("gray baseline").psnr.idxmax()
    assert f"the best, {best}," in row[1], row[1]
    checks.append((row[1].split(",")[2], ablation.loc["gray baseline", "psnr"] - ablation.loc[best, "psnr"]))

    row = _target("automatic diffusion")
    a = video.loc["diffusion, automatic"]
    checks += [(row[0].split("(")[1], video.loc["gray baseline", "psnr"] - 1), (row[1].split(" at ")[0], a.psnr),
               (row[1].split(" at ")[1], a.colorfulness / video.loc["ground truth", "colorfulness"])]

    row = _target("exemplar diffusion")
    anchor = "DIS fused, new content from the exemplar's look-alikes (the model's anchor)"
    checks += [(row[0].split("(")[1], video.loc[anchor, "psnr"] + 1), (row[1], video.loc["diffusion + exemplar", "psnr"])]

    wrong = [f"{cell!r} against {value:.4f}" for cell, value in checks if not _agrees(_value(cell), value)]
    assert not wrong, "README.md's targets table quotes numbers that results/ no longer holds:\n" + "\n".join(wrong)


def test_readme_gan_summary_quotes_notebook_06():
    """README's summary of the GAN U-Net: NoGAN against the joint schedule (06_effects) and the GAN against the MSE
    U-Net paired by seed (06_seed_variation), on test."""
    text = " ".join((ROOT / "README.md").read_text().split())
    m = re.search(r"ties pix2pix's joint schedule within seed noise \(test PSNR (\S+) ± (\S+) dB, LPIPS (\S+) ± (\S+),",
                  text)
    assert m, "README.md: the GAN U-Net's summary no longer quotes NoGAN against the joint schedule"
    effects = pd.read_csv(RESULTS / "06_effects.csv").set_index(["change", "split", "metric"])
    checks = [(m.group(1), effects.loc[("NoGAN", "test", "psnr"), "difference"]),
              (m.group(2), effects.loc[("NoGAN", "test", "psnr"), "difference se"]),
              (m.group(3), effects.loc[("NoGAN", "test", "lpips"), "difference"]),
              (m.group(4), effects.loc[("NoGAN", "test", "lpips"), "difference se"])]
    seeds = pd.read_csv(RESULTS / "06_seed_variation.csv").set_index(["split", "metric"])
    m = re.search(r"It gains LPIPS over the MSE U-Net at every seed \(test (\S+) ± (\S+)\)", text)
    assert m, "README.md: the GAN U-Net's summary no longer quotes its LPIPS against the MSE U-Net"
    lp = seeds.loc[("test", "lpips")]
    assert lp["seeds higher"] == 0, "the GAN's test LPIPS is no longer lower at every seed"
    checks += [(m.group(1), lp["difference mean"]), (m.group(2), lp["difference se"])]
    col = seeds.loc[("test", "colorfulness")]
    assert f"less colourful at all {int(col.seeds)} seeds on test" in text and col["seeds higher"] == 0
    wrong = [f"{cell!r} against {value:.4f}" for cell, value in checks if not _agrees(_value(cell), value)]
    assert not wrong, "README.md's GAN summary quotes numbers that results/ no longer holds:\n" + "\n".join(wrong)

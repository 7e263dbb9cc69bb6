import re

import pytest
import torch

from colorizerutils import ablation, profile
from conftest import SHARED


def test_paper_table_matches_the_seed_readme():
    seed = next((SHARED / "seeds").glob("000_*.txt"), None)
    if seed is None:
        pytest.skip("../shared/seeds is not beside this checkout")
    rows = re.findall(r"\|\s*(?:Single|Two|Three)\s*\|\s*([A-Za-z +]+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)",
                      seed.read_text())
    parsed = [(n.lower().replace(" ", ""), float(a), float(b), float(c)) for n, a, b, c in rows]
    assert parsed == ablation.PAPER_TABLE


def test_configs_are_hashed_and_identical_except_the_loss():
    P = profile("smoke")
    a, b = ablation.config("mse", P), ablation.config("mse+ssim", P)
    assert a.run != b.run and ablation.config("mse", P).run == a.run
    da, db = dict(vars(a)), dict(vars(b))
    for d in (da, db):
        d.pop("run"), d.pop("loss")
    assert da == db


def test_audit_reproduces_the_inflation():
    g = torch.randint(0, 250, (2, 3, 32, 32), dtype=torch.uint8)
    p = (g.int() + torch.randint(-40, 40, g.shape)).clamp(0, 254).to(torch.uint8)
    out = ablation.audit(p, g)
    assert out["psnr (correct)"] < 30
    assert out["psnr after uint8 // 255"] > 60 and out["pixels zeroed by // 255"] == 1.0
    assert out["psnr with uint8 subtraction"] < out["psnr (correct)"]

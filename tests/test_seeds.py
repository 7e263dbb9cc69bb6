"""Notebook 06's parts: the shared model recipes, reusing a finished run with the same settings, and the paired
comparison over seeds (checked against scipy's paired t-test)."""
import re

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import colorizerutils as cu
from colorizerutils import data, recipes, report, training
from colorizerutils.atomic import load_torch


def _frames():
    clips = data.load_split("train", size=32, kind="video", max_frames=2, step=30, progress=False)
    return torch.cat(list(clips.values()))


def test_reuse_or_train_reuses_only_identical_settings(tmp_path, monkeypatch, manifest):
    monkeypatch.setattr("colorizerutils.paths.CHECKPOINTS", tmp_path)
    P = cu.profile("smoke")
    small = dict(ngf=8, depth=4)
    frames = _frames()
    first = recipes.mse_unet(P, seed=0, **small)                          # what notebook 02 trains, as "mse_unet"
    training.train(first, frames, progress=False)
    stamp = (tmp_path / "mse_unet" / "final.pt").stat().st_mtime_ns

    same = recipes.mse_unet(P, seed=0, run="seeds/mse_unet_s0", **small)  # notebook 06, seed 0: same settings
    assert training.reuse_or_train(same, frames, reuse=["mse_unet"], progress=False) == tmp_path / "mse_unet"
    assert not (tmp_path / "seeds").exists(), "a run with identical settings was trained again"
    assert (tmp_path / "mse_unet" / "final.pt").stat().st_mtime_ns == stamp

    other = recipes.mse_unet(P, seed=1, run="seeds/mse_unet_s1", **small)  # another seed: trained, under its own name
    got = training.reuse_or_train(other, frames, reuse=["mse_unet"], progress=False)
    assert got == tmp_path / "seeds" / "mse_unet_s1" and (got / "final.pt").exists()
    a = load_torch(got / "final.pt")["state"]
    b = load_torch(tmp_path / "mse_unet" / "final.pt")["state"]
    assert any(not torch.equal(a[k], b[k]) for k in a), "seed 1 ended with seed 0's weights"

    wider = recipes.mse_unet(P, seed=0, run="seeds/mse_unet_s0", ngf=12, depth=4)  # a changed setting: not reused
    got = training.reuse_or_train(wider, frames, reuse=["mse_unet"], progress=False)
    assert got == tmp_path / "seeds" / "mse_unet_s0"


def test_recipes_differ_only_where_the_models_do():
    P = cu.profile("quick")
    mse, gan = training._config_dict(recipes.mse_unet(P)), training._config_dict(recipes.gan_unet(P))
    differing = {k for k in mse if mse[k] != gan[k]}
    assert differing == {"run", "objective", "loss", "disc_kwargs", "gan_schedule"}, differing
    assert gan["gan_recon_weight"] == 100.0 and gan["loss"] == "mae" and gan["disc_kwargs"] == {"norm": "spectral"}
    assert gan["gan_schedule"] == "nogan" and mse["gan_schedule"] == "joint"   # the field's default: not a GAN
    assert recipes.cic(P, temperature=0.5).model_kwargs["T"] == 0.5


def test_seed_zero_configs_are_notebook_02_and_03s_so_they_are_reused():
    """Notebook 06 trains recipes.seed_configs; at seed 0, with the same overrides, they must equal notebooks 02 and
    03's configurations in everything but the run name, or reuse_or_train would train them again."""
    P = cu.profile("quick")
    without_run = lambda cfg: {k: v for k, v in training._config_dict(cfg).items() if k != "run"}
    for unet, gan in (({}, {}), ({"ngf": 16}, {"recon_weight": 10.0})):
        configs = recipes.seed_configs(P, 0, unet=unet, gan=gan)
        (mse, mse_reuse), (g, gan_reuse) = configs["MSE U-Net"], configs["GAN U-Net"]
        assert (mse_reuse, gan_reuse) == ("mse_unet", "gan_unet")
        assert without_run(mse) == without_run(recipes.mse_unet(P, **unet))
        assert without_run(g) == without_run(recipes.gan_unet(P, **unet, **gan))
        assert mse.run == "seeds/mse_unet_s0" and g.run == "seeds/gan_unet_s0"
    s3 = recipes.seed_configs(P, 3)
    assert s3["MSE U-Net"][0].seed == 3 and s3["GAN U-Net"][0].run == "seeds/gan_unet_s3"


def _per_seed(rng, n=6):
    rows = []
    for seed in range(n):
        for split, shift in (("val", 0.0), ("test", 2.0)):
            mse = rng.normal(25, 2)
            rows.append(dict(split=split, method="MSE U-Net", seed=seed, colorfulness=mse, psnr=rng.normal(30, 1)))
            rows.append(dict(split=split, method="GAN U-Net", seed=seed, colorfulness=mse + shift + rng.normal(0, 1),
                             psnr=rng.normal(30, 1)))
    return pd.DataFrame(rows).sample(frac=1, random_state=0)               # order of rows must not matter


def test_paired_seeds_matches_scipy_paired_t_test():
    df = _per_seed(np.random.default_rng(0))
    out = report.paired_comparison(df, method="GAN U-Net", baseline="MSE U-Net", metrics=("colorfulness", "psnr"))
    assert len(out) == 4 and set(out.split) == {"val", "test"}
    for r in out.to_dict("records"):
        g = df[df.split == r["split"]].pivot_table(index="seed", columns="method", values=r["metric"])
        a, b = g["GAN U-Net"].to_numpy(), g["MSE U-Net"].to_numpy()
        t = stats.ttest_rel(a, b).statistic
        assert r["seeds"] == 6 and r["seeds higher"] == int((a > b).sum())
        assert r["difference mean"] == pytest.approx((a - b).mean())
        assert r["difference mean"] / r["difference se"] == pytest.approx(t)
        assert r["GAN U-Net mean"] == pytest.approx(a.mean()) and r["MSE U-Net std"] == pytest.approx(b.std(ddof=1))


def test_discussion_follows_the_numbers():
    df = _per_seed(np.random.default_rng(1))
    out = report.paired_comparison(df, method="GAN U-Net", baseline="MSE U-Net", metrics=("colorfulness",))
    text = report.discuss_seeds(out, method="GAN U-Net", baseline="MSE U-Net").splitlines()
    test_line = next(l for l in text if l.startswith("- **test"))
    val_line = next(l for l in text if l.startswith("- **val"))
    # test: a shift of 2 with noise 1 at 6 seeds is far beyond two standard errors; val: no shift
    t = out.set_index("split")
    assert t.loc["test", "difference mean"] > 2 * t.loc["test", "difference se"]
    assert "is higher than" in test_line and "more than twice its standard error" in test_line
    assert abs(t.loc["val", "difference mean"]) <= 2 * t.loc["val", "difference se"]
    assert "seed noise can explain it" in val_line


def test_paired_seeds_needs_common_seeds():
    df = pd.DataFrame([dict(split="test", method="MSE U-Net", seed=0, psnr=1.0),
                       dict(split="test", method="GAN U-Net", seed=1, psnr=2.0)])
    with pytest.raises(ValueError, match="no seed has both"):
        report.paired_comparison(df, method="GAN U-Net", baseline="MSE U-Net", metrics=("psnr",))


def test_each_effect_changes_one_setting_and_seed_zero_reuses_notebook_03():
    """Notebook 06's effects table pairs two models that differ only in the setting it names; the joint GAN at seed 0
    is notebook 03's, so it is reused, not trained again."""
    P = cu.profile("quick")
    without_run = lambda cfg: {k: v for k, v in training._config_dict(cfg).items() if k != "run"}
    configs = recipes.seed_configs(P, 1, effects=list(recipes.EFFECTS))
    changed = {"encoder": {"model_kwargs", "encoder_frozen_steps"}, "NoGAN": {"gan_schedule"},
               "data": {"train_items"}, "augmentation": {"augment_scale"}}
    for change, (with_, without) in recipes.EFFECTS.items():
        a, b = without_run(configs[with_][0]), without_run(configs[without][0])
        assert {k for k in a if a[k] != b[k]} == changed[change], change
        assert configs[with_][0].seed == configs[without][0].seed == 1
    assert len({cfg.run for cfg, _ in configs.values()}) == len(configs) == 6      # every model its own folder
    joint, reuse = recipes.seed_configs(P, 0, effects=["NoGAN"])["GAN U-Net, joint schedule"]
    assert reuse == "gan_unet_joint"
    assert without_run(joint) == without_run(recipes.gan_unet(P, run="gan_unet_joint", schedule="joint"))
    assert list(recipes.seed_configs(P, 0)) == ["MSE U-Net", "GAN U-Net"]       # no effects: notebook 06's pair
    with pytest.raises(ValueError, match="unknown effect"):
        recipes.seed_configs(P, 0, effects=["colour"])


def test_half_the_items_is_every_other_recording_and_photo(manifest):
    items = data.split_items("train")
    half = data.pick_items(items, "half")
    for kind in ("video", "image"):
        names = sorted(i["name"] for i in items if i["kind"] == kind)
        assert sorted(i["name"] for i in half if i["kind"] == kind) == names[::2]
    assert data.pick_items(items, "all") == items
    with pytest.raises(data.DataError, match="unknown item subset"):
        data.pick_items(items, "most")
    with pytest.raises(ValueError, match="train_items"):
        training.TrainConfig(run="x", train_items="most")
    loaded = data.load_split("train", size=32, kind="video", max_frames=1, items="half", progress=False)
    assert sorted(loaded) == sorted(i["name"] for i in half if i["kind"] == "video")


def test_effects_table_pairs_by_seed_and_judges_against_noise():
    rng = np.random.default_rng(2)
    rows = []
    for seed in range(5):
        for split in ("val", "test"):
            base = dict(psnr=rng.normal(22, 1), lpips=rng.normal(0.2, 0.02), colorfulness=rng.normal(30, 2))
            rows.append(dict(split=split, method="MSE U-Net", seed=seed, **base))
            rows.append(dict(split=split, method="bigger data", seed=seed, psnr=base["psnr"] + 1 + rng.normal(0, .05),
                             lpips=base["lpips"] + rng.normal(0, 0.02), colorfulness=base["colorfulness"] - 5))
    table = report.effects_table(pd.DataFrame(rows), {"data": ("bigger data", "MSE U-Net")})
    t = table.set_index(["split", "metric"])
    df = pd.DataFrame(rows)
    for split in ("val", "test"):
        g = df[df.split == split].pivot_table(index="seed", columns="method", values="psnr")
        assert t.loc[(split, "psnr"), "difference"] == pytest.approx((g["bigger data"] - g["MSE U-Net"]).mean())
        assert t.loc[(split, "psnr"), "beyond noise"] and t.loc[(split, "colorfulness"), "beyond noise"]
    text = report.discuss_effects(table, truth={"val": 22.0, "test": 40.0})
    val = next(l for l in text.splitlines() if "data · val" in l)
    test = next(l for l in text.splitlines() if "data · test" in l)
    assert re.search(r"psnr \+(0\.9|1\.0)\d* \(better\), beyond seed noise", val), val
    assert "colorfulness -5 (better)" in val and "colorfulness -5 (worse)" in test   # nearer 22, further from 40

"""Seed sweep of the GAN's reconstruction weight (lambda) against the MSE U-Net, quick-profile settings of
notebooks 02/03, scored on the val and test splits. Usage:
  python gan_sweep.py OUT_CSV --lambdas 100 30 10 3 --seeds 0 1 2 3 --jobs 4
  python gan_sweep.py --one KIND LAMBDA SEED OUT_JSON     (a worker)
"""
import argparse, json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def one(kind, lam, seed, out):
    import torch
    import colorizerutils as cu
    from colorizerutils import data, evaluate, training, video
    P = cu.profile(os.environ.get("SWEEP_PROFILE", "quick"))
    cu.seed_everything(seed)
    clips = data.load_split("train", size=P.train_size, max_frames=P.train_frames, step=P.train_step, progress=False)
    frames = torch.cat(list(clips.values()))
    mk = dict(ngf=24, depth=6, dropout=0.5, out_stride=4)
    common = dict(steps=P.steps, batch=P.batch, size=P.train_size, bf16=P.bf16, seed=seed,
                  checkpoint_every=max(P.steps // 5, 1))
    if kind == "mse":
        cfg = training.TrainConfig(run=f"sweep/mse_s{seed}", model="unet", model_kwargs=mk, objective="regression",
                                   loss="mse", **common)
    else:
        cfg = training.TrainConfig(run=f"sweep/gan_l{lam:g}_s{seed}", model="unet", model_kwargs=mk, objective="gan",
                                   loss=kind, gan_recon_weight=lam, disc_kwargs=dict(norm="spectral"), **common)
    t = time.perf_counter()
    training.train(cfg, frames, progress=False, restart_if_changed=True)
    train_s = time.perf_counter() - t
    m = video.load_colorizer(cfg.run_dir / "final.pt")
    rows = []
    for split in ("val", "test"):
        ev = data.load_split(split, size=P.eval_size, max_frames=P.eval_frames, progress=False)
        pc = evaluate.evaluate(lambda L, lab: m(L), ev, method=cfg.run)
        s = evaluate.summarize(pc).iloc[0].to_dict()
        rows.append(dict(kind=kind, lam=lam, seed=seed, split=split, train_s=round(train_s, 1),
                         **{k: s[k] for k in ("psnr", "ssim", "lpips", "colorfulness", "cdc")}))
    Path(out).write_text(json.dumps(rows))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--lambdas", type=float, nargs="+", default=[100, 30, 10, 3])
    ap.add_argument("--recon", default="mae")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--jobs", type=int, default=4)
    a = ap.parse_args()
    tmp = Path(a.out).with_suffix(".parts"); tmp.mkdir(parents=True, exist_ok=True)
    tasks = [("mse", 0.0, s) for s in a.seeds] + [(a.recon, l, s) for l in a.lambdas for s in a.seeds]

    def run(t):
        kind, lam, seed = t
        f = tmp / f"{kind}_{lam:g}_{seed}.json"
        if not f.exists():
            r = subprocess.run([sys.executable, __file__, "--one", kind, str(lam), str(seed), str(f)],
                               capture_output=True, text=True)
            if r.returncode:
                print(r.stderr[-3000:], flush=True)
        print("done", t, flush=True)
        return json.loads(f.read_text()) if f.exists() else []

    with ThreadPoolExecutor(a.jobs) as ex:
        rows = [r for rs in ex.map(run, tasks) for r in rs]
    import pandas as pd
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    g = df.groupby(["split", "kind", "lam"])[["psnr", "lpips", "colorfulness"]].agg(["mean", "std", "min", "max"])
    print(g.round(3).to_string())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main()

"""Seconds per optimiser step at PROFILE=full settings on this machine, for each training run make reproduce does,
and the projected wall time of the full profile's training (steps x seconds per step)."""
import dataclasses, json, os, sys, time
import torch
import colorizerutils as cu
from colorizerutils import ablation, data, training
from colorizerutils.diffusion import DiffusionSettings

P = cu.profile(os.environ.get("RATE_PROFILE", "full"))
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", flush=True)
frames = ablation.train_frames(P, progress=False)
clips = data.load_split("train", kind="video", size=64, max_frames=P.train_frames, step=P.train_step, progress=False)
print("frames", tuple(frames.shape), {k: tuple(v.shape) for k, v in clips.items()}, flush=True)
unet = dict(ngf=24, depth=6, dropout=0.5, out_stride=4)
common = dict(batch=P.batch, size=P.train_size, checkpoint_every=10**9, log_every=10**9)
runs = {
    "mse_unet": (training.TrainConfig(run="r_mse", model="unet", model_kwargs=unet, loss="mse", **common), P.steps, frames),
    "gan_unet": (training.TrainConfig(run="r_gan", model="unet", model_kwargs=unet, objective="gan", loss="mae",
                                      disc_kwargs=dict(norm="spectral"), **common), P.steps, frames),
    "cic": (training.TrainConfig(run="r_cic", model="cic", model_kwargs=dict(ngf=24, depth=6, T=0.38), objective="cic",
                                 **common), P.steps, frames),
    "diffusion": (training.TrainConfig(run="r_diff", model="diffusion_unet", model_kwargs=dict(ch=32, vgg_features=False),
                                       objective="diffusion", loss_weights=dataclasses.asdict(DiffusionSettings(anchor="flow", prediction="sample", data_scale=4.0, exemplar_window=5)),
                                       batch=12, size=64, lr=2e-4, betas=(0.9, 0.999), checkpoint_every=10**9, log_every=10**9),
                  P.diffusion_steps, clips),
}
for combo in ("mse", "mse+ssim+perceptual", "mse+lpips+content", "mse+ssim+style"):
    c = ablation.config(combo, P)
    runs[f"ablation {combo}"] = (dataclasses.replace(c, run="r_abl_" + combo.replace("+", "_"), checkpoint_every=10**9, log_every=10**9),
                                 P.ablation_steps, frames)
rows = []
for name, (cfg, steps, fr) in runs.items():
    t = []
    for n in (2, int(os.environ.get("N0", 10)), int(os.environ.get("N1", 60))):  # the first call warms up (JIT, cuDNN)
        c = dataclasses.replace(cfg, steps=n, run=cfg.run + f"_{n}")
        t0 = time.perf_counter(); training.train(c, fr, progress=False, resume=False)
        if torch.cuda.is_available(): torch.cuda.synchronize()
        t.append(time.perf_counter() - t0)
    per = (t[2] - t[1]) / (int(os.environ.get("N1", 60)) - int(os.environ.get("N0", 10)))
    rows.append(dict(run=name, batch=cfg.batch, size=cfg.size, seconds_per_step=per, images_per_s=cfg.batch / per,
                     full_profile_steps=steps, projected_minutes=steps * per / 60))
    print(json.dumps(rows[-1]), flush=True)
out = os.environ.get("OUT", ".")
json.dump(rows, open(f"{out}/full_rate.json", "w"), indent=1)

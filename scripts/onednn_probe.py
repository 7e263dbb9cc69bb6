"""Issue 18: do oneDNN's (mkldnn) convolutions pay for the quick models' training steps on this CPU, against torch's
native ones? Each model's step as the chain trains it here, both ways, in alternating rounds (median ms per step).

    python scripts/onednn_probe.py

Measured on the 2-core AMD EPYC (Zen 4, AVX512-BF16, no AMX), 2026-12-07, at 53b8816 (this script, then a scratch
copy outside the repository; the training code has not changed since):

| model | oneDNN | native | oneDNN / native |
|---|---|---|---|
| MSE U-Net (notebook 02) | 43.2 ms | 193.1 ms | 0.22 |
| GAN U-Net, adversarial phase (03) | 126.5 ms | 436.6 ms | 0.29 |
| Zhang's classifier (03) | 54.6 ms | 268.6 ms | 0.20 |
| mse+perceptual (05, VGG16 loss in bf16) | 229.3 ms | 4668.5 ms | 0.05 |
| diffusion (04) | 384.9 ms | 853.1 ms | 0.45 |

oneDNN is 2.2-20x faster for every model, so torch's default stays: nothing to gain from the convolution backend."""
import time, torch, statistics
from colorizerutils import recipes
from colorizerutils.profiles import profile
from colorizerutils.bench import _quick_training_models
from colorizerutils.objectives import OBJECTIVES

P = profile("quick")
frames = recipes.image_frames(P, progress=False)
models = _quick_training_models(P)
for name, cfg in models.items():
    data = recipes.diffusion_clips(P, cfg, progress=False) if cfg.objective == "diffusion" else frames
    res = {True: [], False: []}
    objs = {}
    for flag in (True, False):
        torch.manual_seed(0)
        obj = OBJECTIVES[cfg.objective](cfg, data)
        objs[flag] = (obj, obj.optimizers(), torch.Generator().manual_seed(0))
        for n in obj.nets.values(): n.train()
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16)
    first = cfg.steps - 1 if cfg.objective == "gan" else 0
    for rnd in range(4):
        for flag in (True, False):
            obj, opts, gen = objs[flag]
            with torch.backends.mkldnn.flags(enabled=flag):
                ts = []
                for i in range(6):
                    if hasattr(obj, "at_step"): obj.at_step(first)
                    b = obj.batch(gen, "cpu")
                    t = time.perf_counter(); obj.step(b, opts, autocast); ts.append(time.perf_counter() - t)
                if rnd > 0: res[flag] += ts[1:]
    on, off = statistics.median(res[True]) * 1e3, statistics.median(res[False]) * 1e3
    print(f"{name}: oneDNN {on:.1f} ms, without {off:.1f} ms, ratio on/off {on/off:.2f}", flush=True)

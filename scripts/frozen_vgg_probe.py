"""Issue 14 probe: a U-Net on ImageNet VGG16 features that stay frozen for the whole run, trained at 128 px.

The encoder never trains, so its relu3_3, relu4_3 and relu5_3 maps are computed once for every training frame (and
its mirror image) and only the decoder of :class:`colorizerutils.models.vgg_unet.VGG16UNet` is trained on them: about
0.3 s per step at batch 16 on 2 cores, where the full forward pass costs 1.7 s. At 300, 600, 1000 and the last step
the model is scored (:func:`colorizerutils.evaluate.fit_chroma_scale`) on val, which picks the chroma scale, and on
test at gray (scale 0), as trained (1) and at val's scale. Nothing is written to results/.

    python scripts/frozen_vgg_probe.py SIZE WIDTH STEPS LR DROPOUT     # e.g. 128 128 1500 1e-3 0.5

Measured on the 2-core AMD EPYC (2026-11-24), every 5th frame of the first 300, shorter side 256, mean PSNR (dB):

| run | val gray | val at its scale | test gray | test as trained | test at val's scale |
|---|---|---|---|---|---|
| 128 128 1500 1e-3 0.0, step 1500 | 21.77 | 21.98 (x0.25) | 25.21 | 22.96 | 25.24 |
| 128 128 1500 1e-3 0.5, step 600 | 21.77 | 22.00 (x0.15) | 25.21 | 22.73 | 25.35 |
| 128 128 1500 1e-3 0.5, step 1500 | 21.77 | 21.88 (x0.2) | 25.21 | 23.01 | 25.34 |
| the kit's MSE U-Net (scratch, 64 px), same scoring | 21.77 | 22.49 (x0.45) | 25.21 | 22.51 | 24.87 |

On test the frozen encoder gains about 0.5 dB over the scratch U-Net and sits 0.1 dB above gray; on val it loses
0.5 dB to it. The evidence points both ways, and neither reaches the goal of gray + 0.5 dB, so it is not the default.
"""
import dataclasses
import sys
import time

import torch
import torch.nn.functional as F

from colorizerutils import evaluate, inference, profiles, recipes
from colorizerutils.color import normalize_ab, normalize_l, upsample_ab
from colorizerutils.models.vgg_unet import _TAPS, VGG16UNet
from colorizerutils.runtime import seed_everything

SIZE, WIDTH, STEPS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
LR, DROPOUT = float(sys.argv[4]), float(sys.argv[5])
seed_everything(0)
frames = recipes.image_frames(dataclasses.replace(profiles.profile("quick"), train_size=SIZE), progress=False)
frames = torch.cat([frames, frames.flip(-1)])
net = VGG16UNet(width=WIDTH, dropout=DROPOUT, out_stride=4)
net.encoder.requires_grad_(False).eval()
feats = [[], [], []]
with torch.no_grad():
    for i in range(0, len(frames), 32):
        x, k = net._rgb(normalize_l(frames[i:i + 32, :1])), 0
        for j, layer in enumerate(net.encoder):
            x = layer(x)
            if j in _TAPS[2:]:
                feats[k].append(x.half())
                k += 1
feats = [torch.cat(f) for f in feats]
protocol = evaluate.Protocol(size=256, max_frames=300, stride=5, temporal=False, lpips=False)
val, test = evaluate.test_clips("val", kind=None), evaluate.test_clips("test")


def score(at: int) -> None:
    net.eval()
    c = inference.Colorizer(net, objective="regression", device=torch.device("cpu"), size=SIZE)
    best, tab = evaluate.fit_chroma_scale(c, val, protocol, progress=False)
    _, ttab = evaluate.fit_chroma_scale(c, test, protocol, scales=[0, 1, best], progress=False)
    print(f"step {at}: val gray {tab.psnr.iloc[0]:.3f} at x{best} {tab.psnr.max():.3f}; "
          f"test gray/as trained/at val's scale {ttab.psnr.round(3).tolist()}", flush=True)
    net.train()
    net.encoder.eval()


target = normalize_ab(frames[:, 1:])
opt = torch.optim.Adam([p for n, p in net.named_parameters() if not n.startswith("encoder")], lr=LR)
gen = torch.Generator().manual_seed(0)
up = lambda y, s: torch.cat([F.interpolate(y, size=s.shape[-2:], mode="bilinear", align_corners=False), s], 1)
net.train()
net.encoder.eval()
t = time.time()
for step in range(STEPS):
    idx = torch.randint(len(frames), (16,), generator=gen)
    s3, s4, s5 = (f[idx].float() for f in feats)
    y = torch.tanh(net.head(net.up3(up(net.up4(up(net.mid(s5), s4)), s3))))
    loss = F.mse_loss(upsample_ab(y, target.shape[-2:]), target[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 100 == 0:
        print(f"step {step} loss {loss.item():.4f} {time.time() - t:.0f}s", flush=True)
    if step + 1 in (300, 600, 1000, STEPS):
        score(step + 1)

"""Training objectives for the one loop of :mod:`.training`: each builds its networks, draws a batch and takes one
optimisation step; they are picked by name (:data:`OBJECTIVES`).

- ``regression``: any :mod:`.losses` combination (MSE, MAE, SSIM, perceptual, ...);
- ``gan``: pix2pix, adversarial + lambda times a reconstruction loss (Isola et al. 2017);
- ``cic``: Zhang et al.'s re-weighted cross-entropy over quantised ab;
- ``diffusion``: DDPM's simple loss on the video diffusion model's target (:mod:`.diffusion` holds its settings,
  schedules and sampler).

Every batch's randomness comes from the generator the loop passes in, so resumed runs are exact.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .color import normalize_ab, normalize_l, upsample_ab
from .diffusion import ddpm_scheduler, make_cond, settings_from
from .flow import warp_lab_onto
from .models import build_model

if TYPE_CHECKING:
    from .training import TrainConfig


def unwrap(net):
    return net.module if hasattr(net, "module") else net


def adam(params, *, lr: float, betas, decoupled: bool = False) -> torch.optim.Optimizer:
    """Adam (AdamW with ``decoupled``) in torch's fused form: one kernel over all the parameters. On the CPU torch's
    default updates them one tensor at a time from Python, which took about 11 of the quick MSE U-Net's 48 ms per step
    on a 2-core Xeon (torch.profiler). The fused update is the same arithmetic: from the same gradients its steps
    match torch's to float rounding (``tests/test_training.py``), and over a run those differences grow as they do
    between two CPUs (``make bench``: ``bench_training_steps`` times both per model and shows the drift)."""
    return (torch.optim.AdamW if decoupled else torch.optim.Adam)(params, lr=lr, betas=betas, fused=True)


class Objective:
    """Base: one generator network ``G`` on frames; subclasses override :meth:`losses`."""

    def __init__(self, cfg: TrainConfig, frames: torch.Tensor):
        self.cfg = cfg
        self.frames = frames                  # (N,3,S,S) LAB, CIE units; S = size x augment_scale
        want = training_frame_size(cfg)
        if cfg.augment_scale > 1 and (frames.shape[-1] != want or frames.shape[-2] != want):
            raise ValueError(f"{cfg.run}: frames are {tuple(frames.shape[-2:])} px, the configuration trains on "
                             f"{want}x{want} (size {cfg.size} x augment_scale {cfg.augment_scale:g})")
        self.nets = {"G": build_model(cfg.model, **cfg.model_kwargs)}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam per trainable network; a pretrained encoder gets its own group at ``encoder_lr_mult`` times lr."""
        opts = {}
        for k, n in self.nets.items():
            if not any(p.requires_grad for p in n.parameters()):
                continue
            enc = {id(p) for p in n.encoder_parameters()} if hasattr(n, "encoder_parameters") else set()
            groups = [{"params": [p for p in n.parameters() if id(p) not in enc]}]
            if enc:
                groups.append({"params": [p for p in n.parameters() if id(p) in enc],
                               "lr": self.cfg.lr * self.cfg.encoder_lr_mult})
            opts[k] = adam(groups, lr=self.cfg.lr, betas=self.cfg.betas)
        return opts

    def at_step(self, step: int) -> None:
        """Called by the loop before each step: a pretrained encoder trains only from ``encoder_frozen_steps`` on
        (frozen, it costs no backward pass)."""
        G = unwrap(self.nets["G"])
        if hasattr(G, "encoder_parameters"):
            G.encoder.requires_grad_(step >= self.cfg.encoder_frozen_steps)

    def batch(self, gen: torch.Generator, device) -> dict[str, torch.Tensor]:
        idx = torch.randint(len(self.frames), (self.cfg.batch,), generator=gen)
        lab = self.frames[idx].float()
        if self.cfg.augment_scale > 1:
            lab = _random_resized_crops(lab, self.cfg.size, gen)
        if self.cfg.flip:
            flip = torch.rand(self.cfg.batch, generator=gen) < 0.5
            lab = torch.where(flip.view(-1, 1, 1, 1), lab.flip(-1), lab)
        lab = lab.to(device)
        return {"l": normalize_l(lab[:, :1]), "ab": normalize_ab(lab[:, 1:]), "ab_cie": lab[:, 1:]}

    def step(self, b: dict, opts: dict, autocast) -> dict[str, float]:
        with autocast():
            total, terms = self.losses(b)
        opts["G"].zero_grad(set_to_none=True)
        total.backward()
        opts["G"].step()
        return {"loss": float(total.detach()), **{k: float(v) for k, v in terms.items()}}


def training_frame_size(cfg) -> int:
    """The side of the square frames a configuration's image objectives train on: its ``size`` times its
    ``augment_scale`` (random crops of side ``size`` to that are resized to ``size``)."""
    return round(cfg.size * cfg.augment_scale)


def _random_resized_crops(lab: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Each frame of ``lab`` (B,3,S,S): a square crop of random side in [size, S] at a random position, resized to
    ``size`` (antialiased), so the model sees its training images at several scales and framings."""
    S = lab.shape[-1]
    out = []
    for x in lab:
        side = int(torch.randint(size, S + 1, (1,), generator=gen))
        y0, x0 = (int(torch.randint(S - side + 1, (1,), generator=gen)) for _ in range(2))
        crop = x[None, :, y0:y0 + side, x0:x0 + side]
        out.append(crop if side == size else F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True,
                                                           align_corners=False))
    return torch.cat(out)


class Regression(Objective):
    def __init__(self, cfg, frames):
        super().__init__(cfg, frames)
        from .losses import build_loss

        self.loss_fn = build_loss(cfg.loss, vgg_bf16=cfg.loss_bf16, **cfg.loss_weights)

    def losses(self, b):
        pred = upsample_ab(self.nets["G"](b["l"]), b["ab"].shape[-2:])   # out_stride > 1: low-res ab
        total, terms = self.loss_fn(pred.float(), b["ab"], b["l"])
        return total, terms


GAN_SCHEDULES = ("joint", "nogan")


class GAN(Objective):
    """pix2pix: D learns real (L,ab) vs (L,G(L)); G minimises adversarial + lambda * L1 (Isola et al. 2017, eq. 4).

    The reconstruction term is ``cfg.loss`` from :mod:`.losses`, as for regression: ``"mae"`` is pix2pix's L1;
    ``"mse"`` makes the GAN differ from the MSE regression only by the adversary.

    ``cfg.gan_schedule``: ``joint`` trains both networks at every step (pix2pix); ``nogan`` is DeOldify's NoGAN:
    the generator alone on the reconstruction term for the first ``nogan_phases[0]`` of the steps, then the critic
    alone on the pretrained generator's outputs for the next ``nogan_phases[1]``, then both, adversarially, for the
    rest. :meth:`phase` names the phase of a step.
    """

    def __init__(self, cfg, frames):
        super().__init__(cfg, frames)
        from .losses import build_loss

        self.nets["D"] = build_model("patchgan", **cfg.disc_kwargs)
        self.recon_fn = build_loss(cfg.loss, vgg_bf16=cfg.loss_bf16, **cfg.loss_weights)
        self._phase = self.phase(0)

    def phase(self, step: int) -> str:
        """``"generator"``, ``"critic"`` or ``"adversarial"``: what step ``step`` (0-based) trains."""
        if self.cfg.gan_schedule == "joint":
            return "adversarial"
        g, d = (round(f * self.cfg.steps) for f in self.cfg.nogan_phases)
        return "generator" if step < g else "critic" if step < g + d else "adversarial"

    def at_step(self, step: int) -> None:
        super().at_step(step)
        self._phase = self.phase(step)

    def step(self, b, opts, autocast):
        if self._phase == "generator":
            return self._generator_alone(b, opts, autocast)
        G, D = self.nets["G"], self.nets["D"]
        with autocast():
            if self._phase == "critic":
                with torch.no_grad():
                    fake = upsample_ab(G(b["l"]), b["ab"].shape[-2:])
            else:
                fake = upsample_ab(G(b["l"]), b["ab"].shape[-2:])
            # 1. discriminator: real -> 1, fake -> 0
            d_real = D(b["l"], b["ab"])
            d_fake = D(b["l"], fake.detach())
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_real.float(), torch.ones_like(d_real.float()))
                            + F.binary_cross_entropy_with_logits(d_fake.float(), torch.zeros_like(d_fake.float())))
        opts["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        opts["D"].step()
        if self._phase == "critic":
            return {"d": loss_d.item()}
        with autocast():
            # 2. generator: fool D, stay near the target (cfg.loss)
            d_fake = D(b["l"], fake)
            adv = F.binary_cross_entropy_with_logits(d_fake.float(), torch.ones_like(d_fake.float()))
            recon, terms = self.recon_fn(fake.float(), b["ab"], b["l"])
            loss_g = adv + self.cfg.gan_recon_weight * recon
        opts["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        opts["G"].step()
        return {"loss": loss_g.item(), "g_adv": adv.item(), **{f"g_{n}": v.item() for n, v in terms.items()},
                "d": loss_d.item()}

    def _generator_alone(self, b, opts, autocast):
        """NoGAN's first phase: the generator on its reconstruction term alone, as a regression."""
        with autocast():
            fake = upsample_ab(self.nets["G"](b["l"]), b["ab"].shape[-2:])
            recon, terms = self.recon_fn(fake.float(), b["ab"], b["l"])
        opts["G"].zero_grad(set_to_none=True)
        (self.cfg.gan_recon_weight * recon).backward()
        opts["G"].step()
        return {"loss": self.cfg.gan_recon_weight * recon.item(), **{f"g_{n}": v.item() for n, v in terms.items()}}


class CICObjective(Objective):
    def __init__(self, cfg, frames):
        super().__init__(cfg, frames)
        G = self.nets["G"]
        ab = frames[:, 1:].float().permute(0, 2, 3, 1).reshape(-1, 2)
        sample = ab[torch.randperm(len(ab), generator=torch.Generator().manual_seed(cfg.seed))[:200_000]]
        G.fit_rebalancing(sample)

    def losses(self, b):
        G = self.nets["G"]
        G = unwrap(G)
        loss = G.loss(self.nets["G"](b["l"]), b["ab_cie"])
        return loss, {"ce": loss.detach()}


class DiffusionObjective:
    """Training objective for :func:`colorizerutils.training.train`: Ho et al. 2020's simple loss, MSE on the
    network's target (x0 by default; v as in Salimans & Ho 2022, or the noise)."""

    def __init__(self, cfg, clips: dict[str, torch.Tensor]):
        if not isinstance(clips, dict):
            raise TypeError("the diffusion objective trains on clips: pass {name: (T,3,S,S) LAB}")
        self.cfg = cfg
        self.settings = settings_from(dataclasses.asdict(cfg))
        self.clips = [c for c in clips.values()]
        self.anchors = None
        if self.settings.anchor == "fused":
            self.clips, self.anchors = fused_anchor_clips(self.clips, size=cfg.size)
        self.weights = torch.tensor([float(len(c)) for c in self.clips])
        self.nets = {"G": build_model(cfg.model, **cfg.model_kwargs)}
        if self.settings.ema:
            # the averaged weights sample better than the last iterate (Ho et al. 2020; Song & Ermon 2020). They live
            # in nets, so checkpoints and resuming carry them like any other network
            self.nets["G_ema"] = copy.deepcopy(self.nets["G"]).requires_grad_(False)
        self.scheduler = ddpm_scheduler(self.settings)

    def optimizers(self):
        return {"G": adam(self.nets["G"].parameters(), lr=self.cfg.lr, betas=self.cfg.betas, decoupled=True)}

    def batch(self, gen: torch.Generator, device) -> dict:
        s, B = self.settings, self.cfg.batch
        cur, prev, ex, has_prev, has_ex, ex_mask = [], [], [], [], [], []
        for _ in range(B):
            k = int(torch.multinomial(self.weights, 1, generator=gen))
            c = self.clips[k]
            T = len(c)
            t = int(torch.randint(T, (1,), generator=gen))
            frame = c[t].float()
            flip = self.cfg.flip and bool(torch.rand(1, generator=gen) < 0.5)
            if flip:
                c = c.flip(-1)
                frame = frame.flip(-1)
            cur.append(frame)
            p_ok = t > 0 and torch.rand(1, generator=gen) >= s.p_drop_prev
            prev.append(c[t - 1].float() if p_ok else torch.zeros_like(frame))
            has_prev.append(bool(p_ok))
            e_ok = T > 1 and torch.rand(1, generator=gen) >= s.p_drop_exemplar
            mask = torch.ones_like(frame[:1])
            if e_ok and self.anchors is not None:
                # the fused anchor of frame t, built from frame 0 down the chain as at inference (frame 0 has none),
                # with its per-pixel confidence in the exemplar's mask channel
                e_ok = t > 0
                if e_ok:
                    a, conf = (x[t - 1].float() for x in self.anchors[k])
                    e, mask = (a.flip(-1), conf.flip(-1)) if flip else (a, conf)
            elif e_ok:
                # exemplar: another frame of the same clip (never the target frame itself)
                w = s.exemplar_window or T
                lo, hi = max(0, t - w), min(T - 1, t + w)          # candidates lo..hi without t itself
                j = lo + int(torch.randint(hi - lo, (1,), generator=gen))
                j = j + 1 if j >= t else j
                e = c[j].float()
                if s.anchor == "flow":                              # the exemplar moved onto this frame
                    e = warp_lab_onto(e[None], frame[None, :1])[0]
            ex.append(e if e_ok else torch.zeros_like(frame))
            ex_mask.append(mask if e_ok else torch.zeros_like(mask))
            has_ex.append(bool(e_ok))
        cur, prev, ex = torch.stack(cur), torch.stack(prev), torch.stack(ex)
        l = normalize_l(cur[:, :1])
        ab = normalize_ab(cur[:, 1:])
        prev_ab = normalize_ab(prev[:, 1:])
        # corrupt the previous ground truth: noise and a small random shift, so copying it is not enough
        prev_ab = prev_ab + s.prev_noise * torch.randn(prev_ab.shape, generator=gen)
        dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=gen))
        prev_ab = torch.roll(prev_ab, shifts=(dy, dx), dims=(-2, -1))
        mp = torch.tensor(has_prev, dtype=torch.float32).view(-1, 1, 1, 1)
        me = torch.tensor(has_ex, dtype=torch.float32).view(-1, 1, 1, 1)
        ex_lab = torch.cat([normalize_l(ex[:, :1]), normalize_ab(ex[:, 1:])], 1) * me
        cond = make_cond(l, ex_lab, prev_ab * mp, ex_mask=torch.stack(ex_mask), prev_mask=mp)
        x0 = s.data_scale * (ab - ex_lab[:, 1:] if s.anchor != "none" else ab)   # dropped exemplar: zero anchor
        noise = torch.randn(ab.shape, generator=gen)
        t = torch.randint(self.scheduler.config.num_train_timesteps, (B,), generator=gen)
        x_t = self.scheduler.add_noise(x0, noise, t)
        target = {"v_prediction": lambda: self.scheduler.get_velocity(x0, noise, t), "sample": lambda: x0,
                  "epsilon": lambda: noise}[s.prediction]()
        return {k: v.to(device) for k, v in dict(x_t=x_t, t=t, cond=cond, target=target).items()}

    def step(self, b, opts, autocast):
        with autocast():
            pred = self.nets["G"](b["x_t"], b["t"], b["cond"])
            loss = F.mse_loss(pred.float(), b["target"])
        opts["G"].zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.nets["G"].parameters(), 1.0)
        opts["G"].step()
        if self.settings.ema:
            self._update_ema(opts["G"])
        return {"loss": float(loss.detach())}

    def _update_ema(self, opt) -> None:
        G = unwrap(self.nets["G"])
        n = int(opt.state[next(G.parameters())]["step"])     # optimiser steps so far (restored on resume)
        ema_update(self.nets["G_ema"], G, n, self.settings.ema)

    def export(self) -> torch.nn.Module:
        """The network final.pt holds: the weight average when ``ema`` is on."""
        return self.nets["G_ema" if self.settings.ema else "G"]


def fused_anchor_clips(clips: list[torch.Tensor], *, size: int) -> tuple[list[torch.Tensor], list[tuple]]:
    """The diffusion objective's training data for ``anchor="fused"``: each clip (T,3,H,W) LAB and its time-reversed
    copy, with :func:`colorizerutils.flow.anchor_chain`'s anchors and confidences built at the clips' resolution from
    their frame 0, all downsized to the model's ``size`` as :meth:`colorizerutils.diffusion.DiffusionColorizer.
    predict_full` downsizes them. Returns ``(clips, [(anchors (T-1,3,size,size), confidences (T-1,1,size,size))])``;
    clips shorter than 2 frames are left out."""
    from tqdm.auto import tqdm

    from .flow import anchor_chain

    small = lambda x: x if x.shape[-1] == size and x.shape[-2] == size else F.interpolate(
        x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    out, anchors = [], []
    runs = [c for clip in clips if len(clip) > 1 for c in (clip, clip.flip(0))]
    for c in tqdm(runs, desc="fused anchors (clips both ways)", unit="clip"):
        a, conf = anchor_chain(c.float())
        out.append(small(c.float()).half())
        anchors.append((small(a).half(), small(conf).clamp(0, 1).half()))
    if not out:
        raise ValueError("anchor='fused' trains on clips of at least 2 frames; none was given")
    return out, anchors


@torch.no_grad()
def ema_update(average: torch.nn.Module, net: torch.nn.Module, step: int, max_decay: float) -> None:
    """One update of the weight average after optimiser step ``step`` (1, 2, ...): decay ``min(max_decay,
    (1 + step) / (10 + step))``. This is diffusers' ``EMAModel`` (no ``use_ema_warmup``) started from the initial
    weights, one of its steps ahead; tests/test_diffusion.py checks it against EMAModel. It is written out because
    the average lives in ``nets`` as a module (checkpoints and resuming carry it like any other network) and its
    step comes from the optimiser's state, so nothing else needs saving."""
    decay = min(max_decay, (1 + step) / (10 + step))
    for p_avg, p in zip(average.parameters(), net.parameters()):
        p_avg.lerp_(p, 1 - decay)


OBJECTIVES = {"regression": Regression, "gan": GAN, "cic": CICObjective, "diffusion": DiffusionObjective}

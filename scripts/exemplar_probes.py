"""Issue 15 probes of the exemplar mode at notebook 04's protocol: where the DIS warp's error lies, and the levers
measured against it; two adopted (``retrieval``, and ``horizon-forget``'s pull, judged over 300 frames).

    python scripts/exemplar_probes.py scales     # the DIS warp plus the *true* correction made at 1 ... 64 px
    python scripts/exemplar_probes.py flow       # DIS's presets and settings (and a stronger Farneback) as the warp
    python scripts/exemplar_probes.py contrib    # opencv-contrib's DeepFlow, dense RLOF, SparseToDense as the warp
    python scripts/exemplar_probes.py refiner    # a small CNN at full resolution that learns the warp's residual
    python scripts/exemplar_probes.py fusion     # long and short range fused with a photometric check as well
    python scripts/exemplar_probes.py guided     # the warp's ab snapped to frame t's edges by a guided filter on L
    python scripts/exemplar_probes.py lightness  # the warp's colour moved as chromaticity: ab x (L_t+16)/(L_warp+16)
    python scripts/exemplar_probes.py border     # the colour where the exemplar's flow leaves its frame (a pan)
    python scripts/exemplar_probes.py retrieval  # there, the colour of the exemplar patches that look most alike
    python scripts/exemplar_probes.py carried    # what the short range carries: colours, or exemplar positions
    python scripts/exemplar_probes.py blur       # the anchor's ab through a Gaussian, everywhere or where unsure
    python scripts/exemplar_probes.py horizon    # the anchors over 300 frames instead of 30
    python scripts/exemplar_probes.py forget     # the carried colours pulled a little towards the exemplar's warp
    python scripts/exemplar_probes.py horizon-forget  # the same over 300 frames
    python scripts/exemplar_probes.py occluded   # where both flows are unsure, colour from the exemplar's look-alikes
    python scripts/exemplar_probes.py skip       # there, colour from the anchor's own output 2, 4 or 8 frames back
    python scripts/exemplar_probes.py sure-wrong  # the anchor's error by its own confidence (reported)
    python scripts/exemplar_probes.py misaligned  # how much of it a small offset of the anchor's ab removes (reported)
    python scripts/exemplar_probes.py recoloured  # how much of it a colour map per tile removes (reported)
    python scripts/exemplar_probes.py codec-grid  # whether the per-tile colour error sits on the codec's block grid (reported)
    python scripts/exemplar_probes.py regional-pull  # the carried colours' drift from the exemplar's warp taken back regionally
    python scripts/exemplar_probes.py feedback   # per frame on one clip: DDIM 25 vs 5, with or without the link, gated
    python scripts/exemplar_probes.py prev-link  # notebook 04's model with and without its previous output as input

The protocol is notebook 04's (:func:`colorizerutils.evaluate.exemplar` at the quick profile): frame 0 of each clip
is the exemplar and is not scored, the next 30 frames are, at the clip's resolution up to 480 px. The row every probe
starts from is notebook 04's strongest non-learned one: frame 0's ab moved onto each frame by OpenCV's DIS flow
(medium preset) between the gray frames. Val: the 2 val clips; test: the 5 test clips. Nothing is written to results/.

Measured on the 2-core AMD EPYC (2026-11-25), mean PSNR in dB:

**scales** (an upper bound per scale, read from the ground truth: the warp plus the true residual downsized so that
its shorter side is s px and upsampled back, added everywhere; 1 px is one ab offset per frame):

| correction | val: tree / box | val mean | test: bikes / carphone / cityCC0 / vtest / cup | test mean |
|---|---|---|---|---|
| none (the DIS warp) | 33.49 / 40.41 | 36.95 | 40.89 / 38.84 / 33.70 / 39.22 / 48.14 | 40.16 |
| true, at 1 px | 33.49 / 40.42 | 36.95 | 41.09 / 39.34 / 33.75 / 39.23 / 48.22 | 40.32 |
| true, at 4 px | 33.51 / 40.43 | 36.97 | 42.73 / 39.51 / 33.77 / 39.24 / 48.26 | 40.70 |
| true, at 16 px | 33.67 / 40.50 | 37.08 | 46.53 / 40.03 / 34.02 / 39.45 / 48.77 | 41.76 |
| true, at 64 px | 34.92 / 41.01 | 37.96 | 52.57 / 41.91 / 35.86 / 40.77 / 50.99 | 44.42 |

A colour drift of the whole frame explains 0.16 dB of the test clips' error, and everything coarser than 16 px
1.60 dB, 1.13 of it on bikes.mp4 alone. Elsewhere a perfect correction at 16 px gains 1.19 dB on carphone and
0.09-0.63 dB on the other three test clips and both val clips; the rest of the error lies at finer scales, along
moving edges and small objects (walkers in vtest, cars in cityCC0). The goal (the DIS warp + 1 dB = 41.16) therefore needs
corrections at the scale of objects' edges, finer than the 64 px at which the diffusion network works.

**flow** (seconds: the forward flows alone over the split's 60 and 150 frames):

| flow | val mean | test mean | test seconds |
|---|---|---|---|
| DIS medium (the kit's) | 36.95 | 40.16 | 1.7 |
| DIS fast | 36.84 | 39.83 | 0.5 |
| DIS medium, finest scale 0 | 36.99 | 40.25 | 5.9 |
| DIS medium, finest scale 0, 10 refinement iterations | 36.98 | 40.24 | 7.2 |
| DIS medium, patch 12, stride 4 | 36.93 | 40.09 | 2.8 |
| Farneback, 5 levels, window 21 | 36.89 | 39.13 | 6.8 |

Flow at the finest pyramid level gains 0.04 dB on val and 0.10 on test at 3.5 times the flow's cost (the exemplar
colorizer computes four flows a frame; its end-to-end speed with this setting was not measured). A tenth of the
1 dB the goal asks does not pay for that, so the kit keeps the medium preset: better flow is not where the gain is.

**contrib** (opencv-contrib-python-headless 5.1.0.95's ``cv2.optflow``, default settings, installed apart as the
probe's docstring says; the Zen 3 EPYC, 2026-12-06; seconds: the forward flows over the split; the DIS row equals the
one above):

| flow | val: tree / box | val mean | test: bikes / carphone / cityCC0 / vtest / cup | test mean | test seconds |
|---|---|---|---|---|---|
| DIS medium (the kit's) | 33.49 / 40.41 | **36.95** | 40.89 / 38.84 / 33.70 / 39.22 / 48.14 | **40.16** | 3.3 |
| DeepFlow | 33.43 / 40.40 | 36.91 | 39.02 / 38.74 / 33.49 / 38.93 / 48.06 | 39.65 | 78.8 |
| RLOF dense | 33.44 / 39.16 | 36.30 | 38.74 / 38.51 / 32.37 / 37.65 / 47.79 | 39.01 | 52.9 |
| SparseToDense | 33.45 / 39.20 | 36.32 | 39.70 / 38.33 / 33.01 / 37.43 / 47.78 | 39.25 | 13.7 |

The issue asks for the strongest classical flow available offline, "OpenCV DIS, or better". Of opencv-contrib's dense
flows, none is better as the exemplar's warp: DIS medium scores highest on all 7 clips, and DeepFlow, the closest,
loses 0.04 dB on val and 0.51 on test at 24 times the cost. PCAFlow, in a first version of this probe, failed on a test
frame (an OpenCV error on an empty matrix) after scoring 39.99 against DIS's 40.41 on box.mp4, so it is left out. DualTVL1 was not run: 8.4 s for one 854x480 flow
on this machine, 5.6 times DeepFlow's 1.5 s on the same frame, about 30 min for the splits. The kit's DIS stays.

**refiner** (381 training pairs; 1500 steps of 8 crops of 128 px, about 280 s each on 2 cores):

| row | val: tree / box | val mean | test: bikes / carphone / cityCC0 / vtest / cup | test mean |
|---|---|---|---|---|
| DIS warp | 33.49 / 40.41 | 36.95 | 40.89 / 38.84 / 33.70 / 39.22 / 48.14 | 40.16 |
| refined, MSE loss | 33.46 / 40.27 | 36.86 | 36.07 / 38.55 / 32.07 / 38.39 / 47.57 | 38.53 |
| refined, L1 loss | 33.49 / 40.41 | 36.95 | 37.18 / 38.76 / 33.70 / 38.65 / 48.10 | 39.28 |

A network that sees the warp at full resolution, with the evidence of where it fails (warped L against the real L,
the flows' disagreement), lowers the warp on every test clip with the MSE loss (-1.63 dB, -4.8 on bikes.mp4).
With L1 it learns to leave the warp alone on val (0.00) but still lowers the test clips (-0.88, -3.7 on bikes): what
it learns from 5 training recordings and 48 photos moved around does not carry to the test clips' motion. As with
the diffusion network trained against its own anchor (docs/metrics.md), the learned part takes the flow's colour
down, not up.
**fusion** (how the long range, the exemplar warped, and the short range, the previous output warped, combine per
pixel; the photometric rules weigh each candidate's forward-backward confidence by exp(-e / tau), e its warped L's
absolute error against the frame's L in L units, box-filtered; mean PSNR over the clips of each split; train: the 5
train recordings' first 31 frames, fair judges here because nothing is learned):

| fusion | val | train | test |
|---|---|---|---|
| long range alone (the DIS warp) | 36.95 | 35.11 | 40.16 |
| short range alone (DIS propagation) | 38.12 | 35.51 | 39.66 |
| confidence, short range first (the kit's) | **38.13** | 35.66 | 40.03 |
| photometric, short range first, tau 1 / 3 / 10 | 37.87 / 37.84 / 37.96 | 35.68 / **35.70** / **35.70** | 40.21 / 40.26 / 40.23 |
| photometric, in proportion to the weights, tau 1 / 3 / 10 | 37.38 / 37.33 / 37.28 | 35.62 / 35.60 / 35.58 | 40.41 / 40.41 / 40.40 |
| the candidate with the smaller error, box 1 / 9 / 25 px | 37.41 / 37.76 / 37.88 | 35.54 / 35.58 / 35.64 | **40.47** / 40.37 / 40.15 |

(A 9-px box moves the photometric rows by at most 0.14 dB.) The test clips prefer a photometric check: every such
row scores above the DIS warp there, the best (the smaller error) by 0.31 dB, still 0.69 dB short of the goal
(41.16). Val and the train recordings do not: val loses 0.12-0.85 dB with every photometric rule, and on train the
best gains 0.04 dB over the kit's rule. On the 7 recordings outside test the kit's rule is within 0.04 dB of the
best, so it stays.

**guided** (``colorizerutils.filters.guided_filter`` with frame t's L as the guide, radius r px, eps 1e-4 with L in
[0,1], borders replicated; "gated": blended in by one minus the flow's forward-backward confidence; "weighted": its
fit weighted by that confidence, so that unsure pixels take their colour from sure ones; measured on the 2-core Zen 3
EPYC, 2026-12-06, where the DIS warp and the fused anchor score what notebook 04 committed; the first run, with
OpenCV's box filter and mirrored borders, differed by at most 0.02 dB in any cell):

| row | val | test |
|---|---|---|
| DIS warp as is | 36.95 | 40.16 |
| DIS warp, guided, r 2 / 4 / 8 | **37.04** / 35.43 / 33.19 | 39.86 / 38.88 / 37.52 |
| DIS warp, gated, r 4 / 8 / 16 | **37.05** / 37.01 / 36.94 | **40.32** / 40.25 / 40.06 |
| DIS warp, weighted, gated, r 4 / 8 / 16 | 37.04 / 37.00 / 36.92 | 38.49 / 38.82 / 38.94 |
| fused anchor as is (the kit's) | **38.13** | 40.03 |
| fused anchor, guided, r 2 / 4 / 8 | 36.86 / 35.26 / 33.12 | 39.42 / 38.53 / 37.26 |
| fused anchor, gated, r 4 / 8 / 16 | **38.13** / **38.13** / **38.13** | 40.04 / 40.04 / 40.00 |
| fused anchor, weighted, gated, r 4 / 8 / 16 | **38.13** / **38.13** / **38.13** | 39.98 / 40.01 / 39.96 |

Filtered everywhere, the fused anchor loses 1.3 to 5.0 dB on val and 0.6 to 2.8 on test: even over a 5-px window,
chroma is not a linear function of L, and the filter bleeds it across edges that the flow had right. Gated, the filter
touches only the pixels the flow is unsure of; on the fused anchor, whose confidence is high almost everywhere, that
leaves val's PSNR as it is and moves test's by at most 0.07 dB. On the bare DIS warp, gating gains 0.1 dB on val and
up to 0.16 on test, still below the fused anchor on val. The warp's errors along moving edges are not chroma pushed
off an edge that L shows, so an edge-aware filter does not take them back. Nothing adopted.

**feedback** (the trained diffusion model, not the DIS warp: `make bench`'s steps protocol, frames 1-10 of a test clip
at shorter side 240; run on the Zen 3 EPYC with the model trained there, 2026-12-06), PSNR per frame on vtest.avi:

| sampler | previous output as conditioning | residual | mean | frame 1 | frame 5 | frame 10 |
|---|---|---|---|---|---|---|
| DDIM 25 | yes (the default) | everywhere | 19.86 | 22.5 | 19.5 | 19.2 |
| DDIM 25 | no | everywhere | 24.34 | 24.5 | 24.4 | 24.1 |
| DDIM 5 | yes | everywhere | 40.92 | 43.7 | 40.6 | 39.4 |
| DDIM 5 | no | everywhere | 35.64 | 36.5 | 35.6 | 35.1 |
| any of the four | | gated (the default) | 41.30-41.31 | 45.0 | 40.9 | 39.6 |

With 25 steps this model's residual on vtest.avi is wrong from the first frame, with or without the link to the
previous output, and the link makes it worse frame after frame; 5 steps keep it small. Gated by the anchor's
confidence, as `colorizer colorize` adds it, every variant scores the same. This is why `make bench`'s DDIM 25
averaged 36.7 dB over the test clips on that machine with the residual added everywhere (docs/findings.md).

**lightness** (the warp's ab times the lightness ratio (L_t + 16) / (L_warped + 16), clamped; box: both lightnesses
box-filtered first; global: the frames' means; mean PSNR over clips; the 2-core Xeon with AMX, 2026-12-07; the
uncorrected rows equal the ones above):

| row | val | train | test |
|---|---|---|---|
| DIS warp as is | 36.95 | 35.11 | 40.16 |
| DIS warp, pixel, clamp 2 / 1.25 | 36.64 / 36.66 | 34.64 / 34.85 | 39.81 / 40.01 |
| DIS warp, box 9 / 31, clamp 2 | 36.95 / 36.95 | 34.79 / 34.84 | 40.03 / 40.09 |
| DIS warp, global | 36.95 | 35.05 | 40.14 |
| fused anchor as is (the kit's) | **38.13** | **35.66** | 40.03 |
| fused anchor, pixel, clamp 2 / 1.25 | 37.05 / 37.06 | 34.99 / 35.04 | 39.40 / 39.45 |
| fused anchor, box 9 / 31, clamp 2 | 38.12 / 38.12 | 35.34 / 35.48 | 39.90 / 39.95 |
| fused anchor, global | 38.13 | 35.62 | 40.01 |

The rule (in the probe's docstring, fixed before the run) asked for more than +0.05 dB on val and on train: every
correction loses on train (−0.04 to −0.68 dB on the fused anchor) and none gains on val, and test agrees (−0.01 to
−0.62). Per pixel it loses most: where the flow lands on the wrong side of an edge, the ratio of the two lightnesses
says more about that error than about the light. Smoothed or global, the factor is near 1 and changes little. The
test clips' coarse error (``scales``: 1.6 dB coarser than 16 px) is therefore not a change of brightness that CIELAB's
cube root would carry to ab. Nothing adopted.

**border** (what colour the warp gives where the exemplar's flow leaves its frame: the border repeated, as cv2.remap
with replicated borders does, no colour, or the border's colour faded by exp(-distance / T); pans: the 57 synthetic
camera pans over every val and train item of ``_pans``; mean PSNR over clips; the 2-core Xeon with AMX, 2026-12-07):

| row | val | train | pans | test |
|---|---|---|---|---|
| DIS warp, border repeated (as is) | 36.95 | 35.11 | 32.77 | 40.16 |
| DIS warp, no colour outside | 36.70 | 33.22 | 27.77 | 38.64 |
| DIS warp, faded, T 4 / 16 / 64 px | 36.95 / 36.95 / 36.95 | 34.19 / 34.78 / 35.06 | 28.85 / 30.54 / 32.29 | 39.84 / 40.12 / 40.19 |
| fused anchor, border repeated (the kit's) | **38.13** | **35.66** | **34.99** | 40.03 |
| fused anchor, no colour outside | 37.62 | 33.09 | 29.02 | 38.31 |
| fused anchor, faded, T 4 / 16 / 64 px | 38.12 / 38.13 / 38.13 | 34.46 / 35.22 / 35.59 | 30.18 / 32.18 / 34.50 | 39.86 / 40.19 / 40.23 |

On bikes.mp4 the pixels whose flow leaves the exemplar (7.2% of them) hold 40% of the DIS warp's squared error, on
cityCC0.mpg 4.3% hold 27% (counted with the flow's target outside the frame). Yet the repeated border is the best guess
the flow has there: on the pans, where this is most of the error, fading its colour loses 0.5 to 6 dB, and giving no
colour loses most. Colours near a frame's edge go on beyond it more often than they stop. The rule asked for +0.1 dB on
the pans: nothing passes, and nothing is adopted. Test alone gains a little with the slowest fade (+0.2 dB on the
fused anchor, mostly bikes.mp4), which the rule does not read. New content needs colour from what it is, not from where
it is: the automatic colorizer's job, as issue 15's confidence-gated hybrid asks.

**retrieval** (there, the mean ab of the 8 exemplar patches whose lightness looks most like the pixel's own, 8 times
downsized, 5 × 5 patches; "position 1": where the long-range flow lands is part of the match; "blend 16 px": a share
exp(-distance / 16 px) of the repeated border stays; the same sets; the 2-core AMD EPYC with AVX-512, 2026-12-07,
453 s; rerun after the probe switched to the kit's ``LookAlikeColour``, with every figure the same):

| row | val | train | pans | test |
|---|---|---|---|---|
| DIS warp, border repeated (as is) | 36.95 | 35.11 | 32.77 | 40.16 |
| DIS warp, retrieved | 36.89 | 34.83 | 31.35 | 40.07 |
| DIS warp, retrieved, position 1 | 36.90 | 35.06 | 32.45 | 40.20 |
| DIS warp, retrieved, position 1, blend 16 px | 36.95 | 35.13 | 33.35 | 40.30 |
| fused anchor, border repeated (the kit's until now) | 38.13 | 35.66 | 34.99 | 40.03 |
| fused anchor, retrieved | 37.99 | 35.29 | 33.82 | 40.15 |
| fused anchor, retrieved, position 1 | 38.03 | 35.58 | 35.28 | 40.31 |
| **fused anchor, retrieved, position 1, blend 16 px** | **38.13** | **35.68** | **36.11** | **40.40** |

Test per clip, fused anchor (bikes / carphone / cityCC0 / vtest / cup): border repeated 40.09 / 38.70 / 33.63 / 39.19
/ 48.53; retrieved, position 1, blend 16 px 42.35 / 38.72 / 33.78 / 38.63 / 48.53.

By the rule, the last row passes: +1.12 dB on the pans, +0.00 on val, +0.02 on train. Retrieval alone loses
everywhere but on bikes.mp4 (on the pans −1.17 dB): a look-alike far from where the content enters is often the
wrong object. With the landing point in the match it gains on the pans (+0.29) but loses 0.10 on val. Kept next to
the repeated border for 16 px, it gains on every set. So :class:`colorizerutils.flow.FlowAnchor` adopts it as
``outside="retrieve"``, the exemplar colorizer's anchor. Test, read after the choice, agrees: the fused anchor gains
0.37 dB (2.26 on bikes.mp4, −0.56 on vtest.avi), and it is now 0.24 dB above the plain DIS warp.

**carried** (what the kit's short range carries from frame to frame, the previous fused colours warped bilinearly,
against carrying per pixel where in the exemplar its colour comes from, the flows composed and the exemplar sampled
once; the same sets; the 2-core AMD EPYC with AVX-512, 2026-12-07, 379 s; rule fixed before the run):

| row | val | train | pans | test | test LPIPS |
|---|---|---|---|---|---|
| colours carried (the kit's) | **38.13** | **35.68** | **36.11** | **40.40** | **0.0135** |
| colours carried, bicubic warp | 36.66 | 35.09 | 36.00 | 39.88 | |
| exemplar positions carried | 36.86 | 35.21 | 35.69 | 39.95 | 0.0146 |
| exemplar positions carried, fused hard | 36.85 | 35.23 | 35.46 | 40.00 | |

Nothing passes: both ways of carrying a sharper colour lose on every set, by 0.46-1.47 dB on val and train. Each
bilinear warp blurs a little (a resampling at sub-pixel offset u is a [1-u, u] kernel), so after t frames the
carried chroma has been averaged over a couple of pixels; where the flow may be off by that much, the averaged colour
is nearer the truth in squared error than a sharp one at the wrong place. The sharper colour does not even lower
LPIPS on average (bikes.mp4 0.0199 -> 0.0302, cityCC0.mpg 0.0187 -> 0.0150).

**blur** (the anchor's ab through a Gaussian of sigma px, everywhere or only where the flow is unsure, weighted by
one minus the confidence; what is scored is blurred, the next frame's short range carries the unblurred anchor except
in the "fed back" rows; the same sets and machine, 2026-12-07, 731 s; rule fixed before the run, against the fused
anchor unblurred):

| row | val | train | pans | test |
|---|---|---|---|---|
| DIS warp | 36.95 | 35.11 | 32.77 | 40.16 |
| DIS warp, sigma 0.5 | 37.52 | 35.19 | 32.59 | 40.29 |
| DIS warp, sigma 1 | 37.75 | 35.11 | 32.00 | 40.07 |
| DIS warp, sigma 2 | 36.85 | 34.81 | 31.12 | 39.00 |
| DIS warp, gated, sigma 2 | 37.06 | 35.28 | 32.89 | 40.21 |
| **fused anchor (the kit's)** | **38.13** | 35.68 | **36.11** | **40.40** |
| fused anchor, sigma 0.5 | 38.11 | 35.66 | 35.88 | 40.34 |
| fused anchor, sigma 1 | 37.65 | 35.45 | 35.18 | 39.97 |
| fused anchor, sigma 2 | 36.54 | 35.05 | 34.04 | 38.94 |
| fused anchor, gated, sigma 1 | 38.13 | 35.70 | 36.10 | 40.39 |
| fused anchor, gated, sigma 2 | 38.13 | 35.72 | 36.09 | 40.36 |
| fused anchor, gated, sigma 4 | 38.13 | 35.73 | 36.06 | 40.30 |
| fused anchor, sigma 1, fed back | 34.96 | 34.69 | 33.44 | 38.22 |

Nothing passes: no blur of the fused anchor gains 0.05 dB on val (gated, its confidence is about 1 on both val
clips), and the one that gains 0.05 on train (gated, sigma 4) loses 0.05 on the pans. The fused anchor already
carries about the blur that pays. The single-resample DIS warp gains from one (+0.80 dB on val at sigma 1, +0.13 on
test at 0.5), which accounts for much of the fused anchor's lead over it on val (38.13 against 36.95). Fed back, the
blur compounds and loses 1-5 dB.

**horizon** (the DIS warp, the kit's fused anchor and the anchor carrying exemplar positions, over up to 300 frames
after the exemplar at the protocol's resolution, in windows of frames; mean over the clips that reach each window:
tree.avi has 67 frames, carphone 119, cityCC0 189; the same machine, 2026-12-07, 654 s; reported, no rule):

| row | val 1-30 | 31-100 | 101-300 | train 1-30 | 31-100 | 101-300 | test 1-30 | 31-100 | 101-300 |
|---|---|---|---|---|---|---|---|---|---|
| DIS warp | 36.95 | 33.44 | 24.19 | 35.11 | 27.91 | 23.09 | 40.16 | 33.47 | 33.48 |
| fused anchor (colours carried, the kit's) | **38.13** | **34.57** | **29.31** | **35.68** | **29.30** | **24.67** | **40.40** | **34.52** | **33.58** |
| exemplar positions carried | 36.86 | 33.28 | 27.42 | 35.21 | 28.52 | 24.04 | 39.95 | 34.11 | 32.59 |

The fused anchor keeps its lead over the DIS warp beyond the 30 frames it was chosen on, in every window of every
split: the blur it carries does not grow into a loss over 300 frames. One clip goes the other way: on vtest.avi
(a still camera, people walking) it falls behind the DIS warp after frame 30 (36.20 against 37.89 dB in frames
31-100, 34.06 against 37.68 in 101-300), where the chained flows lose the still background's colour around the
walkers' paths while the exemplar's own warp keeps it.

**forget** (the carried colours pulled towards the exemplar's own warp: where both flows are sure, a share a of the
long range enters each frame; a = 0 is the kit's; the same sets and machine, 2026-12-07, about 8 min; rule fixed
before the run, ``carried``'s):

| row | val: tree / box | val | train | pans | test: bikes / carphone / cityCC0 / vtest / cup | test |
|---|---|---|---|---|---|---|
| the kit's (a = 0) | 34.23 / 42.03 | 38.13 | 35.68 | 36.11 | 42.35 / 38.72 / 33.78 / 38.63 / 48.53 | 40.40 |
| a = 0.02 | 34.20 / 42.07 | 38.13 | 35.69 | 36.16 | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | 40.48 |
| a = 0.05 | 34.13 / 42.02 | 38.08 | 35.71 | 36.22 | 42.39 / 39.04 / 34.10 / 38.72 / 48.53 | 40.56 |
| a = 0.1 | 34.02 / 41.85 | 37.93 | 35.71 | 36.28 | 42.42 / 39.20 / 34.19 / 38.77 / 48.52 | 40.62 |
| a = 0.2 | 33.86 / 41.51 | 37.68 | 35.69 | 36.30 | 42.46 / 39.31 / 34.18 / 38.82 / 48.48 | 40.65 |
| a = 0.4 | 33.69 / 41.06 | 37.37 | 35.63 | 36.23 | 42.51 / 39.31 / 34.07 / 38.88 / 48.42 | 40.64 |

Nothing passes: no share gains 0.05 dB on val (both val clips lose from a = 0.05 on) or on train (at most +0.03).
The pans gain (+0.06 to +0.20) and test gains more (+0.08 to +0.25, carphone and cityCC0 most), read after the
choice: the val clips are where the carried colour is most right, and the rule reads val. Not adopted at 30 frames;
``horizon-forget`` then judged the shares over 300 frames, and adopted 0.02.

**horizon-forget** (``forget`` over up to 300 frames; mean over the clips that reach the window; the same machine,
2026-12-07, 737 s; rule fixed before the run: a share that moved val, train and the pans by no less than -0.02 dB
at 30 frames, which only 0.02 did, is adopted if over frames 31-300 it gains more than 0.05 dB on val and on train):

| row | val 1-30 | val 31-300 | train 1-30 | train 31-300 | test 1-30 | test 31-300 |
|---|---|---|---|---|---|---|
| the kit's until now (a = 0) | 38.13 | 31.65 | 35.68 | 27.00 | 40.40 | 34.05 |
| **a = 0.02 (adopted)** | 38.13 | **31.85** | 35.70 | **27.15** | 40.48 | **34.42** |
| a = 0.05 | 38.08 | 31.87 | 35.71 | 27.16 | 40.56 | 34.60 |

a = 0.02 passes: +0.20 dB on val and +0.15 on train over frames 31-300 (box.mp4 +0.42, bigbuckbunny.mp4 +0.68; the
other clips within 0.1). :class:`colorizerutils.flow.FlowAnchor` takes it as ``pull=0.02``, the default. Test, read
after: +0.37 over frames 31-300 (vtest.avi +1.15), +0.08 over the first 30.
"""
import functools
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

import colorizerutils as cu
from colorizerutils import data, evaluate, inference, metrics
from colorizerutils.color import AB_SCALE, lab_to_uint8, rgb_to_lab
from colorizerutils.filters import guided_filter
from colorizerutils.flow import LookAlikeColour, _grid, candidate_flow, distance_outside, gray8, warp

P = cu.profile("quick")
EX = evaluate.exemplar(P)


def _clips(split: str, protocol=EX):
    """(name, LAB (T,3,H,W), RGB uint8 (T,3,H,W)) for each clip of ``split`` under notebook 04's protocol."""
    for name, path in evaluate.clip_paths(evaluate.test_clips(split)):
        rgb = torch.from_numpy(np.stack(list(evaluate.protocol_frames(path, protocol)))).permute(0, 3, 1, 2)
        yield name, rgb_to_lab(rgb.float() / 255), rgb


def _score(rgb_t: torch.Tensor, L: torch.Tensor, ab: torch.Tensor, scorer) -> None:
    scorer.update(lab_to_uint8(L[None], ab[None].clamp(-AB_SCALE, AB_SCALE)).permute(0, 3, 1, 2), rgb_t[None])


def _table(rows: list[dict], column: str) -> None:
    d = pd.DataFrame(rows)
    for split, part in d.groupby("split", sort=False):
        t = part.pivot_table(index=column, columns="clip", values="psnr", sort=False)
        print(f"\n{split}\n" + t.assign(mean=t.mean(axis=1)).round(2).to_markdown(), flush=True)


def _warp_from(ref: torch.Tensor, L: torch.Tensor):
    """``ref`` (3,H,W) LAB moved onto the frame whose L is ``L`` (1,H,W) by DIS, as the exemplar colorizer's long
    range moves it (:func:`colorizerutils.flow.candidate_flow`): warped LAB (3,H,W), the flow's forward-backward
    confidence (H,W) and the flow (H,W,2)."""
    fw, conf = candidate_flow("dis", gray8(L[0]), gray8(ref[0]))
    img = np.ascontiguousarray(ref.permute(1, 2, 0).numpy())
    return torch.from_numpy(warp(img, fw)).permute(2, 0, 1), conf, fw


def scales() -> None:
    """The DIS warp plus the true residual (ground truth ab minus the warp's) downsized so that its shorter side is
    ``s`` px and upsampled back (1 px: one ab offset per frame), added everywhere. An upper bound per scale, not a
    method: how much of the warp's error is coarse and how much fine."""
    sizes = (None, 1, 2, 4, 8, 16, 64)
    rows = []
    for split in ("val", "test"):
        for name, lab, rgb in _clips(split):
            h, w = lab.shape[-2:]
            scorers = {s: metrics.ClipScorer(with_lpips=False, temporal=False) for s in sizes}
            for t in range(1, len(lab)):
                ab = _warp_from(lab[0], lab[t, :1])[0][1:]
                d = (lab[t, 1:] - ab)[None]
                for s in sizes:
                    if s is None:
                        fix = 0
                    else:
                        small = (s, max(1, round(s * w / h))) if h <= w else (max(1, round(s * h / w)), s)
                        fix = F.interpolate(F.interpolate(d, size=small, mode="bilinear", antialias=True,
                                                          align_corners=False),
                                            size=(h, w), mode="bilinear", align_corners=False)[0]
                    _score(rgb[t], lab[t, :1], ab + fix, scorers[s])
            rows += [dict(split=split, clip=name, correction="none (the DIS warp)" if s is None else f"true, at {s} px",
                          psnr=v.result()["psnr"]) for s, v in scorers.items()]
    _table(rows, "correction")


def _warp_with(flows: dict) -> None:
    """Frame 0's LAB warped onto every scored frame by each ``flows[k](frame_t_gray8, frame0_gray8)`` (a backward flow,
    (H,W,2)), scored per clip on val and test; prints the PSNR tables and the seconds of flow per split."""
    rows = []
    for split in ("val", "test"):
        seconds = dict.fromkeys(flows, 0.0)
        for name, lab, rgb in _clips(split):
            img, r8 = np.ascontiguousarray(lab[0].permute(1, 2, 0).numpy()), gray8(lab[0, 0])
            for k, f in flows.items():
                scorer = metrics.ClipScorer(with_lpips=False, temporal=False)
                for t in range(1, len(lab)):
                    t0 = time.perf_counter()
                    fw = f(gray8(lab[t, 0]), r8)
                    seconds[k] += time.perf_counter() - t0
                    _score(rgb[t], lab[t, :1], torch.from_numpy(warp(img, fw)).permute(2, 0, 1)[1:], scorer)
                rows.append(dict(split=split, clip=name, flow=k, psnr=scorer.result()["psnr"]))
        print(split, "seconds of flow:", {k: round(v, 1) for k, v in seconds.items()}, flush=True)
    _table(rows, "flow")


def flow() -> None:
    """The exemplar warped with other flow settings: DIS's fast and medium presets, medium with the finest pyramid
    level (finest scale 0), with variational refinement as well, with larger patches; Farneback with 5 levels and a
    21-px window. Seconds: the forward flows alone, summed over the split."""
    import cv2

    def make(preset, finest=None, refine=None, patch=None, stride=None):
        def f(a, b):
            d = cv2.DISOpticalFlow_create(preset)
            for value, setter in ((finest, d.setFinestScale), (refine, d.setVariationalRefinementIterations),
                                  (patch, d.setPatchSize), (stride, d.setPatchStride)):
                if value is not None:
                    setter(value)
            return d.calc(a, b, None)
        return f

    medium = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
    flows = {"DIS medium (the kit's)": make(medium), "DIS fast": make(cv2.DISOPTICAL_FLOW_PRESET_FAST),
             "DIS medium, finest scale 0": make(medium, finest=0),
             "DIS medium, finest scale 0, 10 refinement iterations": make(medium, finest=0, refine=10),
             "DIS medium, patch 12, stride 4": make(medium, patch=12, stride=4),
             "Farneback, 5 levels, window 21": lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 5, 21, 5,
                                                                                          7, 1.5, 0)}
    _warp_with(flows)


def contrib() -> None:
    """The exemplar warped by the dense flows of opencv-contrib's ``optflow`` module (DeepFlow, dense RLOF,
    SparseToDense) against the kit's DIS medium. opencv-contrib-python-headless replaces the kit's OpenCV (both are the
    module ``cv2``), so install it apart and put it first on the path::

        pip install --no-deps --target /tmp/contrib opencv-contrib-python-headless
        PYTHONPATH=/tmp/contrib python scripts/exemplar_probes.py contrib
    """
    import cv2

    if not hasattr(cv2, "optflow"):
        sys.exit(f"{cv2.__file__} is OpenCV without the contrib modules; see this probe's docstring")

    def make(create):
        return lambda a, b: create().calc(a, b, None)

    bgr = lambda g: cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    _warp_with({"DIS medium (the kit's)": lambda a, b: cv2.DISOpticalFlow_create(
                    cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None),
                "DeepFlow": make(cv2.optflow.createOptFlow_DeepFlow),
                "RLOF dense": lambda a, b: cv2.optflow.calcOpticalFlowDenseRLOF(bgr(a), bgr(b), None),
                "SparseToDense": make(cv2.optflow.createOptFlow_SparseToDense)})


class Refiner(nn.Module):
    """A fully convolutional residual on the warp, at full resolution: 7 convolutions of 32 channels (dilations 1 to
    16, receptive field 69 px), the last zero-initialised so that it starts as the warp itself. In: frame t's L, the
    warped ab, the warped L minus frame t's (where the warp is wrong, it often shows in L), the forward-backward
    confidence and the flow's length."""

    def __init__(self, ch: int = 32, dilations=(1, 2, 4, 8, 16, 1)):
        super().__init__()
        layers = [nn.Conv2d(6, ch, 3, padding=1), nn.LeakyReLU(0.1)]
        for d in dilations:
            layers += [nn.Conv2d(ch, ch, 3, padding=d, dilation=d), nn.LeakyReLU(0.1)]
        self.body, self.out = nn.Sequential(*layers), nn.Conv2d(ch, 2, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        return self.out(self.body(x))


def _features(ref: torch.Tensor, L: torch.Tensor):
    warped, conf, fw = _warp_from(ref, L)
    x = torch.cat([L / 50 - 1, warped[1:] / AB_SCALE, (warped[:1] - L) / 20, torch.from_numpy(conf)[None],
                   torch.from_numpy(np.linalg.norm(fw, axis=-1))[None] / 20])
    return x, warped[1:]


def refiner(size: int = 320, steps: int = 1500, crop: int = 128, batch: int = 8) -> None:
    """:class:`Refiner` trained on pairs (exemplar frame i, frame j, up to 30 frames apart either way) from the 5
    train clips (40 pairs each, at ``size`` px, the first 120 frames) and from a 31-frame synthetic clip made from each
    of the 48 train photos (:func:`colorizerutils.data.synthetic_clips`: pan, zoom, turn and a moving occluder; 4 pairs
    each); Adam at 1e-3 with a cosine decay, random crops and flips; once with an MSE loss on the residual, once with L1
    (whose median pulls the residual to zero where the warp's error is not predictable). A probe that was not adopted,
    so it keeps its own few lines of training rather than a model and objective in the package."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    clips = data.load_split("train", kind="video", size=size, max_frames=120, progress=False)
    photos = data.load_split("train", kind="image", size=round(size * 1.25), progress=False)
    clips.update(data.synthetic_clips(photos, frames=31, size=size, seed=0, progress=False))
    X, Y = [], []
    for name, c in clips.items():
        for _ in range(4 if name.startswith("synthetic/") else 40):
            i = int(rng.integers(0, len(c)))
            j = min(max(i + int(rng.integers(1, 31)) * int(rng.choice([-1, 1])), 0), len(c) - 1)
            if j != i:
                x, ab = _features(c[i].float(), c[j, :1].float())
                X.append(x.half())
                Y.append(((c[j, 1:].float() - ab) / AB_SCALE).half())
    X, Y = torch.stack(X), torch.stack(Y)
    print(f"{len(X)} training pairs from {len(clips)} clips at {size} px", flush=True)
    rows = []
    for loss_name, loss_fn in (("MSE", F.mse_loss), ("L1", F.l1_loss)):
        torch.manual_seed(0)
        net = Refiner()
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        t0 = time.perf_counter()
        for _ in range(steps):
            idx = torch.randint(len(X), (batch,))
            y0, x0 = (int(v) for v in torch.randint(size - crop + 1, (2,)))
            xb, yb = (T[idx, :, y0:y0 + crop, x0:x0 + crop].float() for T in (X, Y))
            if torch.rand(()) < 0.5:
                xb, yb = xb.flip(-1), yb.flip(-1)
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"{loss_name}: {steps} steps in {time.perf_counter() - t0:.0f} s", flush=True)
        for split in ("val", "test"):
            for name, lab, rgb in _clips(split):
                scorers = {k: metrics.ClipScorer(with_lpips=False, temporal=False) for k in ("warp", "refined")}
                for t in range(1, len(lab)):
                    x, ab = _features(lab[0], lab[t, :1])
                    with torch.no_grad():
                        r = net(x[None])[0] * AB_SCALE
                    _score(rgb[t], lab[t, :1], ab, scorers["warp"])
                    _score(rgb[t], lab[t, :1], ab + r, scorers["refined"])
                rows += [dict(split=split, clip=name, row="DIS warp" if k == "warp" else f"refined, {loss_name} loss",
                              psnr=s.result()["psnr"]) for k, s in scorers.items()]
    _table(rows, "row")        # the DIS warp rows of the two runs are the same numbers


def _photometric_error(lab_warped: np.ndarray, L: np.ndarray, box: int) -> np.ndarray:
    """|warped L - frame t's L| (H,W), box-filtered over ``box`` px: where a warp moved the wrong pixel, its L often
    shows it."""
    import cv2

    e = np.abs(lab_warped[..., 0] - L)
    return cv2.blur(e, (box, box)) if box > 1 else e


def _fuse(rule: str, tau: float, box: int, long_, short, L: np.ndarray) -> np.ndarray:
    """One fusion of the long range (the exemplar warped) and the short range (the previous output warped), each
    ``(warped LAB (H,W,3), forward-backward confidence (H,W))``, onto frame t whose L is ``L``."""
    (a_l, c_l), (a_s, c_s) = long_, short
    if rule == "long":
        return a_l
    if rule == "short":
        return a_s
    if rule == "smaller error":
        w_l = (_photometric_error(a_l, L, box) < _photometric_error(a_s, L, box)).astype(np.float32)
    else:
        if rule != "confidence":   # the confidences times exp(-photometric error / tau)
            c_l = c_l * np.exp(-_photometric_error(a_l, L, box) / tau)
            c_s = c_s * np.exp(-_photometric_error(a_s, L, box) / tau)
        w_l = c_l / (c_l + c_s + 1e-6) if rule.endswith("proportional") else (1 - c_s) * c_l
    return w_l[..., None] * a_l + (1 - w_l[..., None]) * a_s


def fusion() -> None:
    """:class:`colorizerutils.flow.FlowAnchor`'s two candidates fused by other rules, each run as the colorizer runs
    it (the previous frame's fused colours are the next frame's short range). The photometric rules multiply each
    candidate's confidence by ``exp(-e / tau)``, ``e`` its warped L's error against frame t's L (box-filtered), then
    fuse short range first (as the kit does) or in proportion to the two weights; "smaller error" takes, per pixel, the
    candidate whose warped L is closer. The rule is not learned, so the train clips can judge it as well as val."""
    variants = [("long", 0, 1), ("short", 0, 1), ("confidence", 0, 1)]
    variants += [(f"photometric, {order}", tau, box) for order in ("short first", "proportional")
                 for tau in (1.0, 3.0, 10.0) for box in (1, 9)]
    variants += [("smaller error", 0, box) for box in (1, 9, 25)]
    rows = []
    for split in ("val", "train", "test"):
        for name, lab, rgb in _clips(split):
            ref = np.ascontiguousarray(lab[0].permute(1, 2, 0).numpy()), gray8(lab[0, 0])
            for rule, tau, box in variants:
                scorer = metrics.ClipScorer(with_lpips=False, temporal=False)
                prev = None
                for t in range(1, len(lab)):
                    L, cur8 = lab[t, 0].numpy(), gray8(lab[t, 0])
                    cands = []
                    for img, src8 in [ref] if prev is None else [ref, prev]:
                        fw, conf = candidate_flow("dis", cur8, src8)
                        cands.append((warp(img, fw), conf))
                    out = cands[0][0] if prev is None else _fuse(rule, tau, box, cands[0], cands[1], L)
                    out = np.ascontiguousarray(out)
                    out[..., 0] = L
                    prev = out, cur8
                    _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorer)
                label = rule + (f", tau {tau:g}" if tau else "") + (f", box {box}" if box > 1 else "")
                rows.append(dict(split=split, clip=name, fusion=label, psnr=scorer.result()["psnr"]))
            print(split, name, flush=True)
    _table(rows, "fusion")
    d = pd.DataFrame(rows).pivot_table(index="fusion", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean over clips\n" + d[["val", "train", "test"]].round(2).to_markdown())


def _warp_outside(img: np.ndarray, fw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`colorizerutils.flow.warp` and, per pixel, how far (px) outside the source frame its flow lands (0
    inside): where the frame shows what the source does not (the camera panned), the warp repeats the border."""
    return warp(img, fw), distance_outside(fw)


def _outside(img: np.ndarray, dist: np.ndarray, rule: str) -> np.ndarray:
    """``img`` (H,W,3 LAB, warped) with the ab of pixels whose flow left the frame by ``dist`` px: ``replicate`` (as
    warped), ``gray`` (ab 0 outside) or ``decay T`` (ab times exp(-dist / T): the border's colour fades to none as
    the pixel lies further from anything the source showed)."""
    if rule == "replicate":
        return img
    out = np.array(img, dtype=np.float32)
    f = (dist <= 0).astype(np.float32) if rule == "gray" else np.exp(-dist / float(rule.split()[1]))
    out[..., 1:] *= f[..., None]
    return out


def _anchor_variants(sets, variants: dict) -> list[dict]:
    """Rows (split, clip, row, psnr) of the DIS warp from the exemplar and of the kit's fused anchor, each in every
    variant of ``variants`` ({label: (candidate, post)}), run over every clip of ``sets`` ([(split, clips)], clips as
    :func:`_clips` yields them) as the colorizer runs the anchor: each output is the next frame's short range.
    ``candidate(warped LAB, px outside the source frame, context) -> LAB`` changes each warped candidate before the
    fusion (``context``: the frame's ``ref`` (exemplar, H,W,3 LAB), ``L`` (H,W), long-range flow ``fw_l``, distances
    outside ``d_l``/``d_s`` (``d_s`` None on the first frame) and a ``memo`` dict shared by the frame's variants),
    ``post(fused LAB with the warp's own L, frame t's L) -> LAB`` the result after it (None: unchanged); then frame
    t's L replaces the warp's. The flows depend on the gray frames alone, so each is computed once for all variants."""
    rows = []
    for split, clips in sets:
        for name, lab, rgb in clips:
            ref = np.ascontiguousarray(lab[0].permute(1, 2, 0).numpy())
            r8 = gray8(lab[0, 0])
            scorers = {(b, v): metrics.ClipScorer(with_lpips=False, temporal=False)
                       for b in ("DIS warp", "fused anchor") for v in variants}
            prev = dict.fromkeys(scorers)
            prev8 = None
            for t in range(1, len(lab)):
                L, cur8 = lab[t, 0].numpy(), gray8(lab[t, 0])
                fw_l, c_l = candidate_flow("dis", cur8, r8)
                fw_s, c_s = (None, None) if prev8 is None else candidate_flow("dis", cur8, prev8)
                a_l, d_l = _warp_outside(ref, fw_l)
                d_s = None if prev8 is None else distance_outside(fw_s)
                context = dict(ref=ref, L=L, fw_l=fw_l, d_l=d_l, d_s=d_s, memo={})
                for (base, label), scorer in scorers.items():
                    candidate, post = variants[label]
                    change = (lambda img, dist, context: img) if candidate is None else candidate
                    long_ = change(a_l, d_l, context)
                    if base == "DIS warp" or prev8 is None:
                        out = long_
                    else:
                        a_s = warp(prev[(base, label)], fw_s)
                        out = _fuse("confidence", 0, 1, (long_, c_l), (change(a_s, d_s, context), c_s), L)
                    out = np.array(out, dtype=np.float32)
                    if post is not None:
                        out = post(out, L)
                    out[..., 0] = L
                    prev[(base, label)] = out
                    _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorer)
                prev8 = cur8
            rows += [dict(split=split, clip=name, row=f"{b}: {v}", psnr=sc.result()["psnr"])
                     for (b, v), sc in scorers.items()]
            print(split, name, flush=True)
    return rows


def _lightness_ratio(L: np.ndarray, Lw: np.ndarray, mode: str, clamp: float) -> np.ndarray | float:
    """The factor that moves warped ab onto frame t as chromaticity: in CIELAB a surface made k times brighter has
    (L + 16) and (a, b) both multiplied by k^(1/3) (above the cube root's linear segment), so ab / (L + 16) is
    unchanged. ``mode``: ``pixel`` (per pixel), ``box B`` (both lightnesses box-filtered over B px first) or
    ``global`` (the frames' means); clamped to [1/clamp, clamp]."""
    import cv2

    num, den = L + 16, Lw + 16
    if mode == "global":
        return float(np.clip(num.mean() / den.mean(), 1 / clamp, clamp))
    if mode.startswith("box"):
        b = int(mode.split()[1])
        num, den = cv2.blur(num, (b, b), borderType=cv2.BORDER_REPLICATE), cv2.blur(den, (b, b),
                                                                                     borderType=cv2.BORDER_REPLICATE)
    return np.clip(num / np.maximum(den, 1e-3), 1 / clamp, clamp)[..., None]


def lightness() -> None:
    """The warped colour moved as chromaticity instead of as ab: ab times (L_t + 16) / (L_warped + 16)
    (:func:`_lightness_ratio`), where L_warped is the warp's own lightness, so that a surface which got brighter or
    darker since the exemplar (exposure, shading, a shadow) keeps its hue and saturation rather than its ab. On the
    DIS warp from the exemplar (the strongest non-learned row) and on the kit's fused anchor (run as the colorizer runs
    it: each corrected output is the next frame's short range). Not learned, so val and the train recordings judge it.

    Rule, fixed before the first run (2026-12-07): a correction is adopted into :class:`colorizerutils.flow.FlowAnchor`
    if, on the fused anchor, its mean PSNR over clips gains more than 0.05 dB over the uncorrected anchor on val
    **and** on the train recordings; of those that pass, the one with the highest sum of the two gains. Test is
    reported, not used.
    """
    corrections = [("none", None, 1.0), ("pixel, clamp 2", "pixel", 2.0), ("pixel, clamp 1.25", "pixel", 1.25),
                   ("box 9, clamp 2", "box 9", 2.0), ("box 31, clamp 2", "box 31", 2.0), ("global", "global", 2.0)]

    def corrected(mode, clamp):
        if mode is None:
            return None
        def post(out, L):
            out[..., 1:] *= _lightness_ratio(L, out[..., 0], mode, clamp)
            return out
        return post

    variants = {label: (None, corrected(mode, clamp)) for label, mode, clamp in corrections}
    rows = _anchor_variants([(split, _clips(split)) for split in ("val", "train", "test")], variants)
    _table(rows, "row")
    d = pd.DataFrame(rows).pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean over clips\n" + d[["val", "train", "test"]].round(3).to_markdown())


def _pans(split: str, frames: int = 31, window: float = 0.75):
    """(name, LAB (T,3,h,w), RGB uint8 (T,3,h,w)) of synthetic camera pans over the items of ``split`` (clips and
    photos, at notebook 04's protocol size): a window of ``window`` times each side moves in a straight line across the
    rest of the frame over ``frames`` frames, in a direction drawn per item (seed 0), so that content the first frame
    does not show comes in, as it does on bikes.mp4 and cityCC0.mpg. A clip pans over its own frames; a photo is
    still."""
    rng = np.random.default_rng(0)
    for name, path in evaluate.clip_paths(evaluate.test_clips(split, kind=None)):
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            src = list(evaluate.protocol_frames(path, EX)) * frames
        else:
            src = list(evaluate.protocol_frames(path, EX))
        src = src[:frames]
        if len(src) < frames:
            continue
        H, W = src[0].shape[:2]
        h, w = int(H * window), int(W * window)
        angle = rng.uniform(0, 2 * np.pi)
        (y0, y1), (x0, x1) = ((0, H - h) if np.sin(angle) >= 0 else (H - h, 0),
                              (0, W - w) if np.cos(angle) >= 0 else (W - w, 0))
        ys = np.round(y0 + (y1 - y0) * abs(np.sin(angle)) * np.linspace(0, 1, frames)).astype(int)
        xs = np.round(x0 + (x1 - x0) * abs(np.cos(angle)) * np.linspace(0, 1, frames)).astype(int)
        rgb = torch.from_numpy(np.stack([f[y:y + h, x:x + w] for f, y, x in zip(src, ys, xs)])).permute(0, 3, 1, 2)
        yield name, rgb_to_lab(rgb.float() / 255), rgb


def border() -> None:
    """What colour the exemplar's warp gives where the frame shows what the exemplar does not. On the test clips a
    camera pan brings new content in: pixels whose DIS flow leaves the exemplar hold 7.2% of bikes.mp4's pixels and
    40% of its squared error against the truth, 4.3% and 27% on cityCC0.mpg (and under 7.5% of the error on every val
    clip and train recording). The warp repeats the exemplar's border there (:func:`_outside`'s ``replicate``); the
    variants give those pixels no colour or fade the border's colour with the distance from it. On the DIS warp from
    the exemplar and on the kit's fused anchor (each candidate faded by its own distance, the corrected output fed
    to the next frame's short range). Judged on the val clips, the train recordings and on ``pans``
    (:func:`_pans`: synthetic pans over every val and train item, photos too), none of which the kit learns from for
    this: nothing here is learned.

    Rule, fixed before the first run (2026-12-07): a variant is adopted into :class:`colorizerutils.flow.FlowAnchor`
    if, on the fused anchor, its mean PSNR over the pans gains more than 0.1 dB and on val and on the train recordings
    it moves by no less than -0.02 dB (means over clips); of those that pass, the one with the largest gain on the pans.
    Test is reported, not used.
    """
    rules = ("replicate", "gray", "decay 4", "decay 16", "decay 64")
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    rows = _anchor_variants(sets, {r: (lambda img, dist, context, r=r: _outside(img, dist, r), None) for r in rules})
    d = pd.DataFrame(rows)
    _table(d[d.split != "pans"].to_dict("records"), "row")
    d = d.pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean over clips\n" + d[["val", "train", "pans", "test"]].round(3).to_markdown())


def _retrieve(img: np.ndarray, dist: np.ndarray, context: dict, *, blend: float | None = None, **setting
              ) -> np.ndarray:
    """``img`` (H,W,3 LAB, warped) with the ab of the pixels whose flow left the source frame (``dist`` > 0) taken
    from the exemplar's look-alikes (:class:`colorizerutils.flow.LookAlikeColour` with ``setting``, matched for every
    pixel outside either flow's frame, once per frame and setting); with ``blend`` T, a share exp(-dist / T) of the
    repeated border stays."""
    key = tuple(sorted(setting.items())) + (blend,)
    memo = context["memo"]
    if key not in memo:
        look = LookAlikeColour(context["ref"], blend=blend, **setting)
        outside = context["d_l"] > 0
        if context["d_s"] is not None:
            outside = outside | (context["d_s"] > 0)
        memo[key] = look, look.colours(context["L"], context["fw_l"], outside)
    look, colours = memo[key]
    return look.apply(img, dist, colours)


def retrieval() -> None:
    """What :func:`border` left open: colour from what new content is, not from where it is. A pixel whose flow
    leaves the exemplar's frame (or, for the short range, the previous frame's) takes the mean ab of the exemplar
    patches whose lightness looks most like its own (:class:`colorizerutils.flow.LookAlikeColour`: 8-times downsized
    L, 5 × 5 patches, the 8 nearest; the probe's own copy of it until the kit adopted it), as Welsh et al.'s colour transfer matches luminance neighbourhoods; optionally with where the flow lands
    as part of the match, and blended with the repeated border near it. On the DIS warp and the kit's fused anchor,
    run as :func:`border` runs its variants, on the same sets: val, the train recordings, the 57 synthetic pans and
    test. Nothing here is learned.

    Rule, fixed before the first run (2026-12-07; the same as ``border``'s): a variant is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if, on the fused anchor, its mean PSNR over the pans gains more than 0.1 dB
    and on val and on the train recordings it moves by no less than -0.02 dB (means over clips); of those that pass,
    the one with the largest gain on the pans. Test is reported, not used.
    """
    variants = {
        "replicate": None,
        "retrieve": dict(position=0.0),
        "retrieve, position 1": dict(position=1.0),
        "retrieve, position 1, blend 16 px": dict(position=1.0, blend=16.0),
    }
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start = time.perf_counter()
    rows = _anchor_variants(sets, {label: (None if kw is None else
                                           (lambda img, dist, context, kw=kw: _retrieve(img, dist, context, **kw)),
                                           None) for label, kw in variants.items()})
    print(f"\n{time.perf_counter() - start:.0f} s")
    d = pd.DataFrame(rows)
    _table(d[d.split != "pans"].to_dict("records"), "row")
    d = d.pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean over clips\n" + d[["val", "train", "pans", "test"]].round(3).to_markdown())


def _carry(variant: str, fused_prev, pos_prev, fw_s, ref, grid):
    """The short range of :func:`carried` for one variant: (warped LAB (H,W,3), px outside (H,W), positions in the
    exemplar (H,W,2) or None)."""
    import cv2

    d_s = distance_outside(fw_s)
    if variant.startswith("colours"):
        interp = cv2.INTER_CUBIC if "bicubic" in variant else cv2.INTER_LINEAR
        img = cv2.remap(fused_prev, fw_s + grid, None, interp, borderMode=cv2.BORDER_REPLICATE)
        return img, d_s, None
    pos = warp(pos_prev, fw_s)                                   # where each pixel came from in the exemplar
    img = warp(ref, pos - grid)                                  # sampled once from the exemplar: no blur carried
    return img, np.maximum(d_s, distance_outside(pos - grid)), pos


def _carried_frames(lab: torch.Tensor, variants):
    """Run the fused anchor over ``lab`` (T,3,H,W; frame 0 the exemplar) in each of ``variants`` (:func:`_carry`'s,
    or ``DIS warp``: the exemplar warped alone, border repeated); yields ``(t, {variant: LAB (H,W,3) with frame t's
    L})`` for t = 1 .. T-1. Each flow is computed once for all variants."""
    ref = np.ascontiguousarray(lab[0].permute(1, 2, 0).numpy())
    grid = _grid(*ref.shape[:2])                         # pixel coordinates (x, y), as the kit's warp adds them
    r8, look = gray8(lab[0, 0]), LookAlikeColour(ref)
    state = dict.fromkeys(variants)                      # variant -> (fused LAB, positions) of frame t-1
    prev8 = None
    for t in range(1, len(lab)):
        L, cur8 = lab[t, 0].numpy(), gray8(lab[t, 0])
        fw_l, c_l = candidate_flow("dis", cur8, r8)
        d_l = distance_outside(fw_l)
        long_pos = fw_l + grid
        if prev8 is not None:
            fw_s, c_s = candidate_flow("dis", cur8, prev8)
        outs = {}
        for v in variants:
            if prev8 is not None:       # "pull a": a share a of the long range enters where both flows are sure
                a = float(v.split(", pull ", 1)[1].split(",")[0]) if ", pull " in v else 0.0
                w_l = (c_l * (1 - (1 - a) * c_s))[..., None]
            a_l = warp(ref, fw_l)
            pos = None
            if v == "DIS warp":
                out = a_l
            elif prev8 is None:
                colours = look.colours(L, fw_l, d_l > 0)
                out, pos = look.apply(a_l, d_l, colours), long_pos
            else:
                a_s, d_s, pos_s = _carry(v, *state[v], fw_s, ref, grid)
                colours = look.colours(L, fw_l, (d_l > 0) | (d_s > 0))
                a_l, a_s = look.apply(a_l, d_l, colours), look.apply(a_s, d_s, colours)
                out = w_l * a_l + (1 - w_l) * a_s
                if pos_s is not None and v.endswith("hard"):
                    pos = np.where(w_l > 0.5, long_pos, pos_s)
                elif pos_s is not None:
                    pos = w_l * long_pos + (1 - w_l) * pos_s
            out = np.array(out, dtype=np.float32)
            if ", unsure " in v and prev8 is not None:    # both flows unsure: towards the look-alikes' colour
                out = _unsure_retrieve(out, look, L, fw_l, c_l, c_s, v.rsplit(", unsure ", 1)[1])
            out[..., 0] = L
            state[v] = out, None if pos is None else np.ascontiguousarray(pos, dtype=np.float32)
            outs[v] = out
        yield t, outs
        prev8 = cur8


def _unsure_retrieve(out: np.ndarray, look, L: np.ndarray, fw_l: np.ndarray, c_l: np.ndarray, c_s: np.ndarray,
                     rule: str) -> np.ndarray:
    """``occluded``'s change to the fused anchor ``out`` (H,W,3 LAB): where neither flow is sure, u = ((1 - c_long)
    (1 - c_short)) ** p of the way towards the exemplar's look-alikes' colour (:class:`colorizerutils.flow.
    LookAlikeColour`, matched where u > 0.05). ``rule``: ``p N`` (u to the power N) or ``hard`` (all the way where
    u > 0.5, nowhere else)."""
    u = (1 - c_l) * (1 - c_s)
    u = (u > 0.5).astype(np.float32) if rule == "hard" else u ** float(rule.split()[1])
    where = u > 0.05
    if not where.any():
        return out
    colours = look.colours(L, fw_l, where)
    w = np.where(where, u, 0).astype(np.float32)[..., None]
    out = np.array(out, dtype=np.float32)
    out[..., 1:] = out[..., 1:] * (1 - w) + colours * w
    return out


def _judge_where_val_is_blind(d: pd.DataFrame, base: str, *, train_bar: float) -> None:
    """Print the per-clip tables of rows ``d`` (split, clip, row, psnr), the means over clips and the gain over row
    ``base``, and apply the rule of the probes whose change val's sure flows cannot see (``occluded``, ``skip``):
    more than ``train_bar`` dB on the train recordings, no less than -0.02 on val and on the pans; of those passing,
    the largest train gain."""
    _table(d[d.split != "pans"].to_dict("records"), "row")
    m = d.pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    gain = m.sub(m.loc[base], axis=1)[["val", "train", "pans", "test"]]
    print("\nmean PSNR over clips\n" + m[["val", "train", "pans", "test"]].round(3).to_markdown())
    print(f"\ngain over {base}\n" + gain.round(3).to_markdown())
    passed = gain[(gain.train > train_bar) & (gain.val >= -0.02) & (gain.pans >= -0.02)]
    print("\nadopted by the rule: " + (str(passed.train.idxmax()) if len(passed) else "none"))


def occluded() -> None:
    """``retrieval`` gave content that a pan brings in (its flow leaves the source frame) the colour of the
    exemplar's look-alikes. Content that comes out from behind something inside the frame (a walker uncovers the
    floor, a car the road) is the same problem where the flows stay in the frame: neither the exemplar's flow nor the
    previous frame's is sure there (forward-backward consistency), and the fused anchor still takes the short
    range's warp, from a flow that is wrong. Variants of the kit's anchor, after its fusion: where both flows are
    unsure, u = (1 - c_long)(1 - c_short), the colour moves u (or u squared: only where both are very unsure; or all
    the way where u > 0.5) of the way to the look-alikes' colour (:func:`_unsure_retrieve`); the result feeds the next
    frame's short range, as the colorizer's anchor does. Sets as ``retrieval``'s. Nothing here is learned.

    The val clips' confidence is about 1 everywhere (``blur``), so val can hardly move; the train recordings, which
    nothing non-learned has seen either, decide. Rule, fixed before the run (2026-12-07, this session's commit before
    the run): a variant is adopted into :class:`colorizerutils.flow.FlowAnchor` if, against the kit's anchor, its mean
    PSNR over clips gains more than 0.1 dB on the train recordings, and on val and on the pans moves by no less than
    -0.02 dB; of those that pass, the one with the largest train gain. Test is reported, not used. The gated design's
    ceiling (``results/04_residual_ceiling.md``: the true residual at 64 px where the anchor is unsure, +0.45 dB on
    test) bounds what a colour at the look-alikes' 8-times-downsized resolution can give.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 434 s), mean PSNR over clips in dB:

    | row | val | train | pans | test: bikes / carphone / cityCC0 / vtest / cup | test |
    |---|---|---|---|---|---|
    | the kit's anchor (pull 0.02) | 38.13 | **35.69** | **36.16** | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | **40.48** |
    | unsure, u | 38.13 | 35.26 | 35.95 | 42.47 / 37.25 / 33.96 / 38.29 / 48.44 | 40.08 |
    | unsure, u squared | 38.13 | 35.45 | 36.01 | 42.41 / 37.80 / 33.95 / 38.37 / 48.58 | 40.22 |
    | unsure, all the way where u > 0.5 | 38.13 | 35.27 | 35.93 | 42.37 / 37.37 / 33.94 / 38.26 / 48.52 | 40.09 |

    Nothing passes: every variant loses on train (-0.24 to -0.43 dB; bigbuckbunny.mp4 -1.4 to -2.3), on the pans
    (-0.16 to -0.23) and, read after, on test (-0.26 to -0.40; carphone -1.1 to -1.6); val does not move (its flows are
    sure). Where both flows are unsure the short range's warp, though its flow is off, lands nearer the right colour
    than the exemplar's look-alikes do: inside the frame, what is uncovered mostly continues what was next to it,
    which the warp's blur carries, while a look-alike found by lightness alone at an eighth of the resolution is
    often another object. The look-alike colour pays only where the warp has nothing near to repeat (``retrieval``).
    """
    variants = ("colours carried, pull 0.02", "colours carried, pull 0.02, unsure p 1",
                "colours carried, pull 0.02, unsure p 2", "colours carried, pull 0.02, unsure hard")
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start, rows = time.perf_counter(), []
    for split, clips in sets:
        for name, lab, rgb in clips:
            scorers = {v: metrics.ClipScorer(with_lpips=False, temporal=False) for v in variants}
            for t, outs in _carried_frames(lab, variants):
                for v, out in outs.items():
                    _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorers[v])
            rows += [dict(split=split, clip=name, row=v, psnr=sc.result()["psnr"]) for v, sc in scorers.items()]
            print(split, name, f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    _judge_where_val_is_blind(pd.DataFrame(rows), variants[0], train_bar=0.1)


SKIPS = {"skip 2": (2,), "skip 4": (4,), "skip 8": (8,), "skip 2, 4, 8": (2, 4, 8)}


def skip() -> None:
    """Colour from a few frames back where the kit's anchor is unsure. The anchor fuses the exemplar's warp with the
    previous frame's (:class:`colorizerutils.flow.FlowAnchor`); where neither flow is sure (what a walker or a car
    uncovers, a flow that fails for a frame) it still takes the previous frame's warp. A frame k back may have seen
    that content before it was covered, or its flow may hold where the last one failed. Variants: after the kit's
    fusion (its confidence C), the output of frame t - k (k = 2, 4 or 8, as the variant itself made it) is warped onto
    frame t by DIS with its forward-backward confidence c_k, and moved in by g = (1 - C) c_k where that flow stays
    in the frame; ``skip 2, 4, 8`` does so for k = 2, then 4, then 8, each filling what the ones before left unsure
    (C grows by (1 - C) c_k each time). The result feeds the next frame's short range, as the colorizer's anchor does.
    Sets as ``retrieval``'s. Nothing here is learned. Costs two more DIS flows a frame per k.

    Rule, fixed before the run (2026-12-07, this session's commit before the run): a variant is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if, against the kit's anchor, its mean PSNR over clips gains more than 0.05
    dB on the train recordings, and on val and on the pans moves by no less than -0.02 dB (val's confidence is about 1
    everywhere, so val can hardly move); of those that pass, the one with the largest train gain. Test is reported,
    not used.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 663 s, with the judging tail before it moved into
    :func:`_judge_where_val_is_blind`), mean PSNR over clips in dB:

    | row | val | train | pans | test: bikes / carphone / cityCC0 / vtest / cup | test |
    |---|---|---|---|---|---|
    | the kit's anchor | 38.13 | 35.69 | 36.16 | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | 40.48 |
    | skip 2 | 38.13 | 35.72 | 36.17 | 42.38 / 38.87 / 33.95 / 38.67 / 48.55 | 40.48 |
    | skip 4 | 38.13 | 35.70 | 36.17 | 42.37 / 38.88 / 33.95 / 38.65 / 48.54 | 40.48 |
    | skip 8 | 38.13 | 35.71 | 36.18 | 42.39 / 38.87 / 33.95 / 38.68 / 48.54 | 40.49 |
    | skip 2, 4, 8 | 38.13 | 35.73 | 36.17 | 42.38 / 38.88 / 33.95 / 38.68 / 48.55 | 40.49 |

    Nothing passes: the largest train gain is +0.033 dB (2, 4 and 8 together; the bar is 0.05), the pans move by
    +0.007 to +0.013 and test, read after, by -0.001 to +0.008. Nothing loses either, so where the anchor is unsure a
    frame a few back does hold the right colour a little more often than the previous frame's failed flow, but such
    pixels hold too little of the error for it to matter: the gated design's whole ceiling there is +0.45 dB on test,
    and colour that is already in the video cannot supply what neither flow sees. Not adopted.
    """
    from colorizerutils.flow import FlowAnchor, shared_flows

    variants = ("the kit's anchor", *SKIPS)
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start, rows = time.perf_counter(), []
    for split, clips in sets:
        for name, lab, rgb in clips:
            anchors = {v: FlowAnchor() for v in variants}
            for a in anchors.values():
                a.reset(lab[:1].float())
            history = {v: {} for v in variants}            # variant -> {frame: its output (H,W,3) LAB}
            scorers = {v: metrics.ClipScorer(with_lpips=False, temporal=False) for v in variants}
            with shared_flows():
                for t in range(1, len(lab)):
                    cur8 = gray8(lab[t, 0])
                    for v in variants:
                        fused, conf = anchors[v](lab[t:t + 1, :1].float())
                        out = np.ascontiguousarray(fused[0].permute(1, 2, 0).numpy())
                        C = conf[0, 0].numpy().astype(np.float32)
                        for k in SKIPS.get(v, ()):
                            if t - k < 1:
                                continue
                            fw, c_k = candidate_flow("dis", cur8, gray8(lab[t - k, 0]))
                            g = ((1 - C) * c_k * (distance_outside(fw) <= 0))[..., None].astype(np.float32)
                            out = out * (1 - g) + warp(history[v][t - k], fw) * g
                            C = C + g[..., 0]
                        out = np.array(out, dtype=np.float32)
                        out[..., 0] = lab[t, 0].numpy()
                        history[v][t] = out
                        history[v].pop(t - 8, None)
                        anchors[v].update(torch.from_numpy(out).permute(2, 0, 1)[None])
                        _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorers[v])
            rows += [dict(split=split, clip=name, row=v, psnr=sc.result()["psnr"]) for v, sc in scorers.items()]
            print(split, name, f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    _judge_where_val_is_blind(pd.DataFrame(rows), variants[0], train_bar=0.05)


def sure_wrong() -> None:
    """Where the kit's anchor errs, by its own confidence. ``occluded`` and ``skip`` changed the anchor only where it
    is unsure and moved nothing that matters; the gated design's ceiling (the true residual at 64 px where the anchor
    is unsure, ``results/04_residual_ceiling.md``) is +0.45 dB on test against +4.4 added everywhere. So: over the
    30 scored frames of every clip, the kit's anchor (:class:`colorizerutils.flow.FlowAnchor`, run as the colorizer
    runs it) against the truth, its pixels binned by the fused confidence C (below 0.5, 0.5-0.9, 0.9-0.99, above
    0.99), with each bin's share of the pixels and of the squared ab error (summed over the split's clips, each clip
    weighing by its pixels). Reported, chooses nothing.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, about 2 min), share of the split's pixels / of its
    squared ab error:

    | split | C < 0.5 | 0.5-0.9 | 0.9-0.99 | C > 0.99 |
    |---|---|---|---|---|
    | val | 0.000 / 0.000 | 0.000 / 0.001 | 0.004 / 0.007 | 0.995 / 0.993 |
    | train | 0.136 / 0.109 | 0.119 / 0.116 | 0.193 / 0.345 | 0.552 / 0.430 |
    | test | 0.063 / 0.067 | 0.072 / 0.064 | 0.128 / 0.168 | 0.736 / 0.701 |

    The forward-backward confidence hardly tells where the anchor errs: on test a pixel with C below 0.5 errs about
    as much as one above 0.99 (error share over pixel share 1.06 against 0.95), and 70% of the error lies where
    C > 0.99 (val 99%; train 43%, with 0.9-0.99 erring most). Per test clip the sure pixels hold 25% of bikes.mp4's
    error and 61-88% of the other four's. So what is left of the gap to the goal is colour that the flows carry
    confidently and wrongly, which no change made only where the anchor is unsure (``occluded``, ``skip``, the
    network's gated residual) can reach; it would take a confidence that predicts the error, or a correction applied
    where the flows look sure.
    """
    from colorizerutils.flow import FlowAnchor

    edges = (0.0, 0.5, 0.9, 0.99, 1.0001)
    labels = ("C < 0.5", "0.5-0.9", "0.9-0.99", "C > 0.99")
    rows = []
    for split in ("val", "train", "test"):
        for name, lab, rgb in _clips(split):
            fa = FlowAnchor()
            fa.reset(lab[:1].float())
            px, err = np.zeros(len(labels)), np.zeros(len(labels))
            for t in range(1, len(lab)):
                out, conf = fa(lab[t:t + 1, :1].float())
                fa.update(out)
                e = ((out[0, 1:] - lab[t, 1:]) ** 2).sum(0).numpy()
                b = np.digitize(conf[0, 0].numpy(), edges) - 1
                px += np.bincount(b.ravel(), minlength=len(labels))[:len(labels)]
                err += np.bincount(b.ravel(), weights=e.ravel(), minlength=len(labels))[:len(labels)]
            rows += [dict(split=split, clip=name, bin=lab_, pixels=p, error=q) for lab_, p, q in zip(labels, px, err)]
            print(split, name, flush=True)
    d = pd.DataFrame(rows)
    for split, part in d.groupby("split", sort=False):
        t = part.pivot_table(index="clip", columns="bin", values="error", sort=False)
        print(f"\n{split}: share of each clip's squared ab error\n" + t.div(t.sum(axis=1), axis=0)[list(labels)]
              .round(3).to_markdown())
    m = d.groupby(["split", "bin"], sort=False)[["pixels", "error"]].sum()
    share = m / m.groupby(level=0).transform("sum")
    print("\nshare of the split's pixels and squared ab error by confidence\n" + share.unstack(1).round(3)
          .to_markdown())


def _best_in_window(ab: torch.Tensor, truth: torch.Tensor, r: int, block: int) -> torch.Tensor:
    """An oracle: ``ab`` (2,H,W) moved by the offset within +-r px that brings it nearest ``truth`` (2,H,W) in
    squared ab error, chosen per pixel (``block`` 1) or once per block x block tile; borders replicated."""
    pad = F.pad(ab[None], (r, r, r, r), mode="replicate")[0]
    h, w = ab.shape[1:]
    best, best_err = ab.clone(), torch.full((h, w), float("inf"))
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            cand = pad[:, dy:dy + h, dx:dx + w]
            err = ((cand - truth) ** 2).sum(0)
            if block > 1:   # one offset per tile: the tile's summed error, spread back over its pixels
                err = F.avg_pool2d(err[None, None], block, ceil_mode=True)[0, 0]
                err = err.repeat_interleave(block, 0).repeat_interleave(block, 1)[:h, :w]
            take = err < best_err
            best = torch.where(take, cand, best)
            best_err = torch.where(take, err, best_err)
    return best


def _anchor_oracles(splits, oracles: dict) -> list[dict]:
    """The kit's anchor (:class:`colorizerutils.flow.FlowAnchor`, run as the colorizer runs it, its own output
    carried) on every clip of ``splits``, scored as it is and, for scoring only, through each ``{row: f(ab,
    truth_ab) -> ab}`` of ``oracles``: one row per split, clip and row, PSNR only."""
    from colorizerutils.flow import FlowAnchor

    rows, start = [], time.perf_counter()
    for split in splits:
        for name, lab, rgb in _clips(split):
            fa = FlowAnchor()
            fa.reset(lab[:1].float())
            scorers = {k: metrics.ClipScorer(with_lpips=False, temporal=False) for k in ["anchor", *oracles]}
            for t in range(1, len(lab)):
                out, _ = fa(lab[t:t + 1, :1].float())
                fa.update(out)
                ab = out[0, 1:]
                _score(rgb[t], lab[t, :1], ab, scorers["anchor"])
                for key, oracle in oracles.items():
                    _score(rgb[t], lab[t, :1], oracle(ab, lab[t, 1:]), scorers[key])
            rows += [dict(split=split, clip=name, row=k, psnr=sc.result()["psnr"]) for k, sc in scorers.items()]
            print(split, name, tuple(lab.shape[-2:]), f"{time.perf_counter() - start:.0f} s", flush=True)
    return rows


def misaligned() -> None:
    """Is the anchor's error colour in the wrong place, or colour it does not have? ``sure-wrong`` found 70% of the
    anchor's squared ab error on test where its flows are sure. If that error is colour carried a pixel or a few off
    (boundaries a smooth flow misplaces, consistently both ways), moving the anchor's ab by a small offset would take
    it away; if it is colour the exemplar never showed there (new objects, lighting, the codec), no offset will. An
    oracle that reads the truth, reported only, chooses nothing: over the 30 scored frames of every clip, the kit's
    anchor (:class:`colorizerutils.flow.FlowAnchor`, run as the colorizer runs it, its own output carried) and the
    same anchor with its ab moved, for scoring only, by the offset within +-r px nearest the truth, chosen per pixel
    or once per 16-px or 64-px tile. Per pixel is loose (the least of (2r+1)^2 guesses beats noise too); one offset
    per tile is what a better flow, a locally constant correction of the warp, could give at most.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 4 min), mean PSNR in dB:

    | row | val | train | test |
    |---|---|---|---|
    | the kit's anchor | 38.13 | 35.69 | 40.48 |
    | offset within 1 / 2 / 4 px, per 64-px tile | 38.14 / 38.14 / 38.14 | 35.77 / 35.80 / 35.83 | 40.57 / 40.60 / 40.64 |
    | offset within 1 / 2 / 4 px, per 16-px tile | 38.27 / 38.30 / 38.32 | 35.96 / 36.10 / 36.29 | 40.77 / 40.89 / 41.06 |
    | offset within 1 / 2 / 4 px, per pixel | 42.37 / 44.59 / 47.05 | 36.79 / 37.47 / 38.45 | 42.38 / 43.27 / 44.41 |

    (test per clip, per 16-px tile within 4 px: bikes 43.01, carphone 39.17, cityCC0 34.58, vtest 39.16, cup 49.39,
    against the anchor's 42.37 / 38.88 / 33.95 / 38.68 / 48.53.) A flow right to within 4 px, corrected by the best
    offset for each 16-px tile, gains at most 0.58 dB on test, 0.19 on val and 0.60 on train: the goal (the anchor
    + 1 dB = 41.48) is beyond any locally constant correction of the flows. Only a different offset for every pixel
    gains more (+1.9 dB on test within 1 px), and that oracle picks the least of 9 to 81 guesses per pixel against the
    truth, so it also beats noise; it bounds what pixel-scale structure (colour edges, the codec's chroma) could give,
    not what any flow could.
    """
    oracles = {f"offset within {r} px, per {'pixel' if b == 1 else f'{b}-px tile'}":
               functools.partial(_best_in_window, r=r, block=b) for r in (1, 2, 4) for b in (1, 16, 64)}
    _table(_anchor_oracles(("val", "train", "test"), oracles), "row")


def _tile_affine(ab: torch.Tensor, truth: torch.Tensor, block: int, ridge: float = 1.0) -> torch.Tensor:
    """An oracle: ``ab`` (2,H,W) through the affine colour map (a 2x2 matrix and an offset) that brings it nearest
    ``truth`` in squared error, fitted by least squares once per ``block`` x ``block`` tile (``ridge`` pulls each
    matrix towards the identity, so that a flat tile keeps its colour)."""
    h, w = ab.shape[1:]
    ph, pw = -h % block, -w % block
    pad = lambda x: F.pad(x[None], (0, pw, 0, ph), mode="replicate")[0]
    tiles = lambda x: x.unfold(1, block, block).unfold(2, block, block).reshape(x.shape[0], -1, block * block)
    x, y = tiles(pad(ab)).permute(1, 2, 0), tiles(pad(truth)).permute(1, 2, 0)      # (tiles, pixels, 2)
    X = torch.cat([x, torch.ones_like(x[..., :1])], -1).double()                     # (tiles, pixels, 3)
    prior = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.double)
    reg = ridge * torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.double))
    A = X.transpose(1, 2) @ X + reg
    B = X.transpose(1, 2) @ y.double() + reg @ prior
    out = (X @ torch.linalg.solve(A, B)).float()                                    # (tiles, pixels, 2)
    nh, nw = (h + ph) // block, (w + pw) // block
    out = out.permute(2, 0, 1).reshape(2, nh, nw, block, block).permute(0, 1, 3, 2, 4).reshape(2, h + ph, w + pw)
    return out[:, :h, :w]


def recoloured() -> None:
    """``misaligned``'s companion: if what the anchor has wrong is not colour carried a few pixels off, is it the right
    colours changed (light, shade, white balance: a map of each region's colours), or colour the anchor has nowhere
    near (new content, detail)? An oracle that reads the truth, reported only, chooses nothing: the kit's anchor, run
    as the colorizer runs it, and the same anchor with its ab, for scoring only, through the affine colour map
    (2x2 matrix and offset) nearest the truth, fitted once per 16-px or 64-px tile, or only an offset per tile.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 2 min), mean PSNR in dB:

    | row | val | train | test: bikes / carphone / cityCC0 / vtest / cup | test |
    |---|---|---|---|---|
    | the kit's anchor | 38.13 | 35.69 | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | 40.48 |
    | an offset per 64-px tile | 38.17 | 38.15 | 44.07 / 39.47 / 33.86 / 39.01 / 48.86 | 41.05 |
    | an affine map per 64-px tile | 38.33 | 39.10 | 45.04 / 39.68 / 34.05 / 39.42 / 49.48 | 41.53 |
    | an offset per 16-px tile | 38.50 | 41.67 | 48.15 / 39.74 / 34.74 / 39.83 / 50.66 | 42.62 |
    | an affine map per 16-px tile | 39.11 | 43.01 | 49.70 / 40.53 / 35.79 / 40.76 / 52.03 | 43.76 |

    Unlike moving the colour (``misaligned``: +0.58 dB at most per 16-px tile), changing it per region reaches the
    goal (41.48) in the oracle: a colour map per 64-px tile gives +1.05 dB on test, an offset per 16-px tile +2.14,
    most of it on bikes.mp4 (new content as the camera pans) and cup.mp4 (48.5 dB: a small drift of the carried
    colours). So the anchor's error is colour it has in about the right place but wrong by a regional amount, which
    the flows' confidence does not flag (``sure-wrong``); the network's residual at 64 px is a correction of that
    kind, and the one it learns from the train recordings lowers the anchor (``results/04_video_comparison.md``).
    """
    oracles = {f"{kind} per {block}-px tile": functools.partial(_tile_affine, block=block, ridge=ridge)
               for block in (64, 16) for kind, ridge in (("offset", 1e9), ("affine map", 1.0))}
    _table(_anchor_oracles(("val", "train", "test"), oracles), "row")


def _tile_offset(ab: torch.Tensor, truth: torch.Tensor, block: int, phase: int = 0) -> torch.Tensor:
    """An oracle: ``ab`` (2,H,W) plus the offset per ``block`` x ``block`` tile that brings it nearest ``truth`` in
    squared error (the tile's mean residual), the tile grid starting ``phase`` px from the top and left edges (the
    first row and column of tiles are then ``phase`` px wide; edge tiles average the pixels they have)."""
    h, w = ab.shape[1:]
    pad = (phase, -(w + phase) % block, phase, -(h + phase) % block)            # left, right, top, bottom
    r = F.pad((truth - ab)[None], pad)                                           # zeros outside the frame
    n = F.pad(torch.ones(1, 1, h, w), pad)
    mean = F.avg_pool2d(r, block) / F.avg_pool2d(n, block).clamp_min(1e-9)       # per tile: mean over its pixels
    up = mean.repeat_interleave(block, 2).repeat_interleave(block, 3)[0]
    return ab + up[:, phase:phase + h, phase:phase + w]


def codec_grid() -> None:
    """Is the regional error that ``recoloured`` found (an offset per 16-px tile read from the truth: +2.14 dB on
    test) the codec's? Every clip here is stored as 4:2:0 video: its chroma is coded at half resolution in blocks
    that sit on a fixed grid (MPEG-2's 8x8 chroma DCT, 16 px of the frame; H.264's 4x4 chroma transforms, 8 px, and
    its 16-px macroblocks), and at a low bit rate each block's mean chroma is quantised, so the true frames carry a
    colour error per block that changes from frame to frame and that nothing can predict. If that is what the tile
    offsets take away, they take away more with the tiles on the codec's grid (phase 0) than shifted off it by half
    a tile; if the error is regional colour (light, new content), the phase does not matter. vtest.avi is scored
    resized by 5/6 (768x576 to 640x480), so no phase is on its grid: it is the control. An oracle, reported only,
    chooses nothing: the kit's anchor run as the colorizer runs it, and its ab plus the best offset per 16-px tile at
    phase 0, 4 and 8, and per 8-px tile at phase 0 and 4 (:func:`_tile_offset`). Val and test, notebook 04's protocol.

    Reading, written before the run: the error is tied to the codec grid on a clip where the 16-px oracle's gain over
    the anchor at phase 0 is more than 1.3x its gain at phase 8, while vtest.avi's two gains are within 1.1x of each
    other.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 46 s), mean PSNR in dB:

    | row | val: tree / box | test: bikes / carphone / cityCC0 / vtest / cup | test |
    |---|---|---|---|
    | the kit's anchor | 34.20 / 42.07 | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | 40.48 |
    | offset per 16-px tile, phase 0 / 4 / 8 | box 42.56 / 42.46 / 42.53 | bikes 48.15 / 47.44 / 47.46, cup 50.66 / 50.01 / 50.09 | 42.63 / 42.37 / 42.38 |
    | offset per 8-px tile, phase 0 / 4 | box 43.52 / 42.89 | bikes 51.10 / 49.96, cup 52.90 / 51.20 | 44.21 / 43.62 |

    The 16-px oracle's gain at phase 0 over its gain at phase 8: cup.mp4 1.37, bikes.mp4 1.14, cityCC0.mpg 1.12,
    box.mp4 1.08, carphone_pristine.mp4 0.92, tree.avi 0.91, and the control vtest.avi 0.96. By the reading above
    the error is tied to the grid on cup.mp4 alone. The grid shows more at 8 px (H.264's chroma transforms): box
    +1.45 dB on the grid against +0.82 off it, cup +4.37 against +2.67, bikes +8.73 against +7.59, while
    carphone_pristine.mp4 (176x144 at 1.2 Mbit/s, nearly lossless) and vtest.avi gain the same at both phases. So the
    codec's blocks are a part of the per-tile error, about 0.25 of the 16-px oracle's 2.15 dB on test and 0.6 of the
    8-px oracle's 3.7, and most of it is not: off the grid, an offset per 16-px tile still gains +1.9 dB on test.
    """
    oracles = {f"offset per {b}-px tile, phase {ph}": functools.partial(_tile_offset, block=b, phase=ph)
               for b, ph in ((16, 0), (16, 4), (16, 8), (8, 0), (8, 4))}
    rows = _anchor_oracles(("val", "test"), oracles)
    _table(rows, "row")
    d = pd.DataFrame(rows).pivot_table(index="clip", columns="row", values="psnr", sort=False)
    gain = lambda k: d[k] - d["anchor"]
    ratio = gain("offset per 16-px tile, phase 0") / gain("offset per 16-px tile, phase 8")
    print("\n16-px oracle's gain at phase 0 over its gain at phase 8, per clip\n" + ratio.round(3).to_markdown())


class RegionalPull:
    """The kit's anchor (:class:`colorizerutils.flow.FlowAnchor`, pull 0.02, look-alike colour) with a regional
    correction after its fusion: ``lam`` times a Gaussian low-pass (sigma px) of the difference between the
    exemplar's own warp and the fused anchor, weighted by the long range's confidence where its flow stays inside
    the exemplar, ab only. Where the carried colours have drifted from the exemplar's over a region, the drift is
    taken back; the pixel-scale detail that the short range carries better (``fusion``) is left alone. Its output
    feeds the next frame's short range, as the colorizer's anchor does."""

    def __init__(self, sigma: float, lam: float):
        from colorizerutils.flow import FlowAnchor

        self.inner, self.sigma, self.lam, self.long = FlowAnchor(), sigma, lam, None
        candidate = self.inner._candidate

        def recording(cur8, side):      # keeps the long range's own warp, before the look-alike colour
            out = candidate(cur8, side)
            if side is self.inner.ref:
                self.long = out
            return out
        self.inner._candidate = recording

    def reset(self, reference: torch.Tensor) -> None:
        self.inner.reset(reference)

    def update(self, lab: torch.Tensor) -> None:
        self.inner.update(lab)

    def __call__(self, L: torch.Tensor):
        import cv2

        from colorizerutils.flow import distance_outside

        first = self.inner.prev is None
        lab, conf = self.inner(L)
        if first or self.lam == 0:
            return lab, conf
        a_l, c_l, fw_l = self.long
        w = (c_l * (distance_outside(fw_l) == 0)).astype(np.float32)
        diff = (a_l[..., 1:] - lab[0, 1:].permute(1, 2, 0).numpy()) * w[..., None]
        low = cv2.GaussianBlur(np.ascontiguousarray(diff, dtype=np.float32), (0, 0), self.sigma,
                               borderType=cv2.BORDER_REFLECT)
        lab = lab.clone()
        lab[0, 1:] += self.lam * torch.from_numpy(low).permute(2, 0, 1)
        return lab, conf


PULLS = {"the kit's anchor": (1.0, 0.0), **{f"regional pull, sigma {s}, lambda {a:g}": (s, a)
                                            for s in (8, 32) for a in (0.1, 0.3, 1.0)}}


def regional_pull() -> None:
    """``recoloured`` found that the anchor's colour is in about the right place and off by a regional amount (an
    offset per 64-px tile read from the truth: +0.57 dB on test, +2.46 on train), and that the flows give no signal
    for it. One source of it the flows do see: what the short range carries drifts, over frames, from what the
    exemplar's own warp says, and the kit's pull (0.02 of the exemplar's warp per frame, per pixel) takes back only a
    little of it, because more per pixel loses the short range's sharper detail on val (``forget``). Here the
    difference between the two is pulled back regionally instead: :class:`RegionalPull` at sigma 8 or 32 px and
    lambda 0.1, 0.3 or 1 per frame. Sets as ``occluded``'s (val, the 5 train recordings, 57 synthetic pans; test
    reported), notebook 04's protocol, flows shared between the variants (the same numbers).

    Rule, fixed before the run (2026-12-07, this session's commit before the run): a variant is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if, against the kit's anchor, its mean PSNR over clips gains more than
    0.05 dB on the train recordings, and on val and on the pans moves by no less than -0.02 dB; of those that pass,
    the one with the largest train gain (:func:`_judge_where_val_is_blind`). Test is reported, not used.

    On the 2-core AMD EPYC with AVX-512 (Zen 4, 2026-12-07, 13 min), mean PSNR over clips in dB, and the gain over
    the kit's anchor:

    | row | val | train | pans | test: bikes / carphone / cityCC0 / vtest / cup | test |
    |---|---|---|---|---|---|
    | the kit's anchor | 38.13 | 35.70 | 36.16 | 42.37 / 38.88 / 33.95 / 38.68 / 48.53 | 40.48 |
    | sigma 8, lambda 0.1 / 0.3 / 1 | +0.012 / +0.019 / +0.024 | +0.020 / +0.038 / +0.049 | +0.004 / -0.035 / -0.268 | 42.61 / 38.87 / 33.99 / 38.97 / 48.52 at lambda 1 | +0.026 / +0.060 / +0.110 |
    | sigma 32, lambda 0.1 / 0.3 / 1 | +0.003 / +0.004 / +0.006 | +0.008 / +0.019 / +0.042 | -0.001 / -0.017 / -0.128 | 42.54 / 38.85 / 33.95 / 38.83 / 48.49 at lambda 1 | +0.007 / +0.020 / +0.052 |

    Nothing passes: the largest train gain, +0.049 dB (sigma 8, lambda 1), is under the bar and loses 0.27 dB on the
    pans, where the exemplar's warp repeats its border over content it never showed and the pull spreads that
    colour; the variants that keep the pans lose nothing and gain at most +0.02 on train. Test, read after, gains
    +0.11 at most (bikes.mp4 +0.24, vtest.avi +0.29). Drift of the carried colours is a small part of the regional
    error that ``recoloured`` found (+0.57 dB for the best offset per 64-px tile on test): most of it is not the
    short range departing from the exemplar's warp, but both of them wrong together.
    """
    from colorizerutils import flow as flowmod

    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start, rows = time.perf_counter(), []
    for split, clips in sets:
        for name, lab, rgb in clips:
            anchors = {v: RegionalPull(*args) for v, args in PULLS.items()}
            scorers = {v: metrics.ClipScorer(with_lpips=False, temporal=False) for v in PULLS}
            for a in anchors.values():
                a.reset(lab[:1].float())
            with flowmod.shared_flows(size=4):
                for t in range(1, len(lab)):
                    for v, a in anchors.items():
                        out, _ = a(lab[t:t + 1, :1].float())
                        a.update(out)
                        _score(rgb[t], lab[t, :1], out[0, 1:], scorers[v])
            rows += [dict(split=split, clip=name, row=v, psnr=sc.result()["psnr"]) for v, sc in scorers.items()]
            print(split, name, f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    _judge_where_val_is_blind(pd.DataFrame(rows), "the kit's anchor", train_bar=0.05)


def _judge_carried(variants, lpips_for=()) -> None:
    """Run :func:`_carried_frames`' ``variants`` over val, the train recordings, the 57 synthetic pans and test
    (LPIPS on test for ``lpips_for``), print the tables and apply ``carried``'s rule against ``colours carried``
    (the kit's anchor): more than 0.05 dB gained on val and on train, no less than -0.02 on the pans."""
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start, rows = time.perf_counter(), []
    for split, clips in sets:
        for name, lab, rgb in clips:
            scorers = {v: metrics.ClipScorer(with_lpips=split == "test" and v in lpips_for, temporal=False)
                       for v in variants}
            for t, outs in _carried_frames(lab, variants):
                for v, out in outs.items():
                    _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorers[v])
            for v, sc in scorers.items():
                res = sc.result()
                rows.append(dict(split=split, clip=name, row=v, psnr=res["psnr"], lpips=res.get("lpips")))
            print(split, name, f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    d = pd.DataFrame(rows)
    if lpips_for:
        lp = d[(d.split == "test") & d.row.isin(lpips_for)].pivot_table(index="row", columns="clip", values="lpips",
                                                                          sort=False)
        print("\ntest LPIPS\n" + lp.assign(mean=lp.mean(axis=1)).round(4).to_markdown())
    _judge(d, "colours carried")


def _judge(d: pd.DataFrame, base: str, among: str = "") -> None:
    """Print the per-clip tables of rows ``d`` (split, clip, row, psnr), the means over clips and, for the rows
    whose name starts with ``among``, the gain over row ``base`` and ``carried``'s rule applied to it: more than
    0.05 dB on val and on train, no less than -0.02 on the pans; of those passing, the largest val + train gain."""
    _table(d[d.split != "pans"].to_dict("records"), "row")
    m = d.pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean PSNR over clips\n" + m[["val", "train", "pans", "test"]].round(3).to_markdown())
    m = m[m.index.str.startswith(among)]
    gain = m.sub(m.loc[base], axis=1)
    print(f"\ngain over {base}\n" + gain[["val", "train", "pans", "test"]].round(3).to_markdown())
    passed = gain[(gain.val > 0.05) & (gain.train > 0.05) & (gain.pans >= -0.02)]
    print("\nadopted by the rule: " + (str((passed.val + passed.train).idxmax()) if len(passed) else "none"))


def carried() -> None:
    """What the short range carries from frame to frame. The kit's anchor warps the previous frame's fused *colours*
    onto frame t (:class:`colorizerutils.flow.FlowAnchor`), so after t frames a pixel's ab has gone through t bilinear
    resamplings, each a small blur: chroma edges soften along a clip. Variants, each run as the colorizer runs the
    anchor (the fused result feeds the next frame), with the kit's confidence fusion and look-alike colour:

    - ``colours carried`` (the kit's): the previous fused LAB warped bilinearly;
    - ``colours carried, bicubic``: the same warp with bicubic interpolation (less blur per step);
    - ``positions carried``: what is carried is, per pixel, *where in the exemplar* its colour comes from. The
      previous frame's positions are warped onto frame t by the short-range flow (composing the flows), the exemplar
      is sampled once at them, and that candidate is fused with the long range as before; the fused positions
      (weighted as the colours are) feed the next frame. A pixel whose composed position lands outside the exemplar,
      or whose short flow leaves the previous frame, takes the look-alike colour as the kit's candidates do, with
      the larger of the two distances;
    - ``positions carried, hard``: the same, with the fused position the long range's where its weight is above
      0.5 and the composed one elsewhere (the colours still blended).

    Sets as ``retrieval``'s: val, the train recordings, the 57 synthetic pans, test. Nothing here is learned. LPIPS
    on test only (its cost), for the first and third variants.

    Rule, fixed before the first run (2026-12-07, this session's commit before the run): a variant is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if, against ``colours carried``, its mean PSNR over clips gains more than
    0.05 dB on val **and** on the train recordings, and on the pans moves by no less than -0.02 dB; of those that pass,
    the one with the largest sum of its val and train gains. Test is reported, not used.
    """
    _judge_carried(("colours carried", "colours carried, bicubic", "positions carried", "positions carried, hard"),
                   lpips_for=("colours carried", "positions carried"))


def _blurred(ab: np.ndarray, conf: np.ndarray | None, sigma: float, gated: bool) -> np.ndarray:
    """``ab`` (H,W,2) through a Gaussian of ``sigma`` px (border repeated); ``gated``: only where the flow is unsure,
    ``conf * ab + (1 - conf) * blurred``."""
    import cv2

    b = cv2.GaussianBlur(ab, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return conf[..., None] * ab + (1 - conf[..., None]) * b if gated else b


def blur() -> None:
    """``carried`` found that the blur the kit's short range accumulates is worth about 1.3 dB on val: carrying
    exemplar positions instead (no blur at all) or warping bicubically (less) lost 0.46-1.47 dB on val and train.
    Where a flow may be off by a few pixels, the colour that minimises the expected squared error is the warped colour
    averaged over those positions, that is blurred. So: the anchor's ab through a Gaussian of sigma px, everywhere or
    only where the flow is unsure (weighted by one minus the fused forward-backward confidence), on the kit's fused
    anchor (:class:`colorizerutils.flow.FlowAnchor`, run as the colorizer runs it; the blur is applied to what is
    scored, and the next frame's short range carries the unblurred anchor, except in the ``fed back`` rows) and on
    the DIS warp from the exemplar (with its own confidence). Sets as ``retrieval``'s. Nothing here is learned.

    Rule, fixed before the first run (2026-12-07, this session's commit before the run): a variant is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if, on the fused anchor and against it unblurred, its mean PSNR over clips
    gains more than 0.05 dB on val **and** on the train recordings, and on the pans moves by no less than -0.02 dB; of
    those that pass, the one with the largest sum of its val and train gains. Test is reported, not used.
    """
    from colorizerutils.flow import FlowAnchor, shared_flows

    variants = [("none", 0, False), *((f"sigma {s:g}", s, False) for s in (0.5, 1, 2, 4)),
                *((f"gated, sigma {s:g}", s, True) for s in (1, 2, 4, 8))]
    fed_back = [("sigma 1, fed back", 1.0), ("sigma 2, fed back", 2.0)]
    sets = [("val", _clips("val")), ("train", _clips("train")), ("pans", (p for s in ("val", "train")
                                                                          for p in _pans(s))), ("test", _clips("test"))]
    start, rows = time.perf_counter(), []
    for split, clips in sets:
        for name, lab, rgb in clips:
            anchors = {label: FlowAnchor() for label, _ in [("kit", 0), *fed_back]}
            for a in anchors.values():
                a.reset(lab[:1])
            scorers = {}
            score = lambda row, t, ab: _score(rgb[t], lab[t, :1], torch.from_numpy(np.ascontiguousarray(ab)).permute(
                2, 0, 1), scorers.setdefault(row, metrics.ClipScorer(with_lpips=False, temporal=False)))
            for t in range(1, len(lab)):
                with shared_flows():
                    fused, conf = anchors["kit"](lab[t:t + 1, :1])
                    warped, conf_w, _ = _warp_from(lab[0], lab[t, :1])
                    anchors["kit"].update(fused)
                    for label, sigma in fed_back:
                        out, c = anchors[label](lab[t:t + 1, :1])
                        ab = _blurred(np.ascontiguousarray(out[0, 1:].permute(1, 2, 0).numpy()), None, sigma, False)
                        out[0, 1:] = torch.from_numpy(ab).permute(2, 0, 1)
                        anchors[label].update(out)
                        score(f"fused anchor: {label}", t, ab)
                for base, ab, c in (("DIS warp", warped[1:], conf_w),
                                    ("fused anchor", fused[0, 1:], conf[0, 0].numpy())):
                    ab = np.ascontiguousarray(ab.permute(1, 2, 0).numpy())
                    for label, sigma, gated in variants:
                        score(f"{base}: {label}", t, ab if sigma == 0 else _blurred(ab, c, sigma, gated))
            rows += [dict(split=split, clip=name, row=k, psnr=v.result()["psnr"]) for k, v in scorers.items()]
            print(split, name, f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")
    _judge(pd.DataFrame(rows), "fused anchor: none", among="fused anchor")


def horizon(frames: int = 300) -> None:
    """Notebook 04 scores the 30 frames after the exemplar, and the fused anchor was chosen there. ``carried``
    found that its short range accumulates a blur, which pays at 30 frames; over hundreds it keeps growing, and the
    chained flows drift. So: the DIS warp, the kit's fused anchor and the anchor carrying exemplar positions instead
    of colours (``carried``), over up to ``frames`` frames after the exemplar at the protocol's resolution, scored
    in windows of frames 1-30, 31-100 and 101-300 (a window a clip does not reach is left out). Reported, not a
    choice: no rule, nothing adopted from it."""
    _horizon(("DIS warp", "colours carried", "positions carried"), [(1, 30), (31, 100), (101, 300)], frames)


def _horizon(variants, windows, frames: int) -> pd.DataFrame:
    """:func:`_carried_frames`' ``variants`` over up to ``frames`` frames after the exemplar on val, train and test,
    scored per window of frames; prints the tables and returns the rows (split, clip, row, window, psnr)."""
    import dataclasses

    protocol = dataclasses.replace(EX, max_frames=frames + 1)
    start, rows = time.perf_counter(), []
    for split in ("val", "train", "test"):
        for name, lab, rgb in _clips(split, protocol):
            scorers = {}
            for t, outs in _carried_frames(lab, variants):
                w = next(f"{a}-{b}" for a, b in windows if a <= t <= b)
                for v, out in outs.items():
                    scorer = scorers.setdefault((v, w), metrics.ClipScorer(with_lpips=False, temporal=False))
                    _score(rgb[t], lab[t, :1], torch.from_numpy(out[..., 1:]).permute(2, 0, 1), scorer)
            rows += [dict(split=split, clip=name, row=v, window=w, psnr=sc.result()["psnr"])
                     for (v, w), sc in scorers.items()]
            print(split, name, len(lab) - 1, "frames", f"{time.perf_counter() - start:.0f} s", flush=True)
            del lab, rgb
    print(f"\n{time.perf_counter() - start:.0f} s")
    d = pd.DataFrame(rows)
    for split, part in d.groupby("split", sort=False):
        t = part.pivot_table(index=["window", "row"], columns="clip", values="psnr", sort=False)
        print(f"\n{split}\n" + t.round(2).to_markdown(), flush=True)
    m = d.pivot_table(index="row", columns=["split", "window"], values="psnr", aggfunc="mean", sort=False)
    print("\nmean over the clips that reach each window\n" + m.round(3).to_markdown())
    return d


def horizon_forget(frames: int = 300) -> None:
    """``forget`` at the horizon: the kit's anchor and the carried colours pulled towards the exemplar's warp by a
    share a (0.02, 0.05), over up to 300 frames after the exemplar, scored over frames 1-30 and 31-300. ``forget``
    judged a at notebook 04's 30 frames only, where a = 0.02 moved val by +0.004 dB, train by +0.017 and the pans by
    +0.056, and a = 0.05 lost 0.053 on val. The kit colours long videos too (issue 15 asks for 1,000 frames with
    flat memory), where what the short range carries has longer to go wrong (``horizon``: vtest.avi).

    Rule, fixed before the run (2026-12-07, this session's commit before the run): a share is adopted into
    :class:`colorizerutils.flow.FlowAnchor` if at 30 frames (``forget``'s run) it moved val, train and the pans by no
    less than -0.02 dB each (only a = 0.02 did), and over frames 31-300 its mean PSNR over the clips that reach them
    gains more than 0.05 dB over the kit's anchor on val **and** on train. Test is reported, not used."""
    d = _horizon(("colours carried", "colours carried, pull 0.02", "colours carried, pull 0.05"), [(1, 30), (31, 300)],
                 frames)
    m = d[d.window == "31-300"].pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    gain = m.sub(m.loc["colours carried"], axis=1)[["val", "train", "test"]]
    print("\nframes 31-300, gain over the kit's anchor\n" + gain.round(3).to_markdown())
    ok = gain.loc["colours carried, pull 0.02"]
    print("\nadopted by the rule: " + ("colours carried, pull 0.02" if ok.val > 0.05 and ok.train > 0.05 else "none"))


def forget() -> None:
    """``carried`` and ``blur`` found that the blur the fused anchor's short range accumulates pays at notebook 04's
    30 frames; but nothing bounds it (or the chained flows' drift) on longer clips. Here the carried colours forget:
    where both flows are sure, a share ``a`` of the exemplar's own warp enters each frame (the long range's weight
    ``c_long (1 - (1 - a) c_short)`` instead of ``c_long (1 - c_short)``; a = 0 is the kit's), so the short range's
    memory lasts about 1/a frames. Sets as ``retrieval``'s (30 frames after the exemplar). Nothing here is learned.

    Rule, fixed before the first run (2026-12-07, this session's commit before the run; ``carried``'s): a share is
    adopted into :class:`colorizerutils.flow.FlowAnchor` if, against the kit's anchor, its mean PSNR over clips gains
    more than 0.05 dB on val **and** on the train recordings, and on the pans moves by no less than -0.02 dB; of those
    that pass, the one with the largest sum of its val and train gains. Test is reported, not used.
    """
    _judge_carried(("colours carried", *(f"colours carried, pull {a:g}" for a in (0.02, 0.05, 0.1, 0.2, 0.4))))


def guided() -> None:
    """The DIS warp's ab and the kit's fused anchor's (:class:`colorizerutils.flow.FlowAnchor`) passed through a
    guided filter with frame t's L as the guide: everywhere, only where the flow is unsure (``gated``: blended by
    one minus its forward-backward confidence), or gated with the filter's fit weighted by that confidence. Most of
    the warp's error lies along moving edges (``scales``); where chroma was moved a few pixels off an edge that L
    shows, the filter could pull it back. Not learned, so any split can judge it."""
    from colorizerutils.flow import FlowAnchor, shared_flows

    variants = [("as is", 0), *((f"guided, r {r}", r) for r in (2, 4, 8)),
                *((f"gated, r {r}", r) for r in (4, 8, 16)), *((f"weighted, gated, r {r}", r) for r in (4, 8, 16))]
    rows = []
    for split in ("val", "test"):
        for name, lab, rgb in _clips(split):
            anchor = FlowAnchor()                  # the kit's, run as the colorizer runs it (flow.anchor_chain)
            anchor.reset(lab[:1])
            scorers = {}
            for t in range(1, len(lab)):
                with shared_flows():               # the warp reuses the anchor's long-range flow
                    fused, conf = anchor(lab[t:t + 1, :1])
                    warped, conf_w, _ = _warp_from(lab[0], lab[t, :1])
                anchor.update(fused)
                I = lab[t:t + 1, :1] / 100
                for base, ab, c in (("DIS warp", warped[None, 1:], torch.from_numpy(conf_w)[None, None]),
                                    ("fused anchor", fused[:, 1:], conf)):
                    for label, r in variants:
                        if r == 0:
                            out = ab
                        elif label.startswith("guided"):
                            out = guided_filter(I, ab, r, 1e-4)
                        else:
                            w = c if label.startswith("weighted") else None
                            out = c * ab + (1 - c) * guided_filter(I, ab, r, 1e-4, weight=w)
                        scorer = scorers.setdefault(f"{base}: {label}",
                                                    metrics.ClipScorer(with_lpips=False, temporal=False))
                        _score(rgb[t], lab[t, :1], out[0], scorer)
            rows += [dict(split=split, clip=name, row=k, psnr=v.result()["psnr"]) for k, v in scorers.items()]
            print(split, name, flush=True)
    d = pd.DataFrame(rows).pivot_table(index="row", columns="split", values="psnr", aggfunc="mean", sort=False)
    print("\nmean over clips\n" + d[["val", "test"]].round(2).to_markdown())


def feedback(clip: str = "vtest.avi") -> None:
    from colorizerutils.bench import DEFAULT_DIFFUSION, _trained_or_fresh
    from colorizerutils.diffusion import DiffusionColorizer

    net, source, config = _trained_or_fresh("diffusion", "diffusion_unet", DEFAULT_DIFFUSION)
    protocol = evaluate.Protocol(size=240, max_frames=11, exemplar=True, lpips=False, temporal=False)
    path = evaluate.test_clips()[clip]
    print(f"{clip}, the model from {source}")
    for steps in (25, 5):
        for use_prev in (True, False):
            for residual in ("full", "gated"):
                c = DiffusionColorizer(net, device=torch.device("cpu"), config=config, steps=steps, seed=0,
                                       residual=residual, use_prev=use_prev)
                chw = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None]        # uint8 RGB, as scored
                psnr = [metrics.psnr(chw(p), chw(g)).item()
                        for i, (p, g) in enumerate(evaluate.colorize_clip(c, path, protocol)) if i > 0]
                print(f"DDIM {steps:2d}, link {'on ' if use_prev else 'off'}, residual {residual:5}: "
                      f"mean {np.mean(psnr):.2f}; per frame " + " ".join(f"{v:.1f}" for v in psnr), flush=True)


def prev_link() -> None:
    """Does the exemplar diffusion need its previous output as conditioning (``use_prev``, on by default)?

    Notebook 04's committed table has an ablation row without it ("no previous frame") that scores above the default
    on test in PSNR (40.45 against 40.36 dB), LPIPS (0.01285 against 0.01291) and CDC (0.00459 against 0.00500; the
    real frames' 0.00468). Test may not choose, so this scores notebook 04's own model (``COLORIZER_CHECKPOINTS`` naming
    the chain's checkpoints) both ways under notebook 04's protocol and sampler, on val, the train recordings (which
    the network was trained on: reported, not judged) and test (reported, read after the rule).

    Rule, fixed before the run: ``use_prev=False`` becomes the exemplar mode's default if on val its mean PSNR is at
    least the default's, its mean LPIPS at most the default's, and its CDC at most 1.25x the real frames'
    (issue 15's bar). Otherwise the link stays.

    Measured on the 2-core AMD EPYC (Zen 4), 2026-12-07, with the model of the chain at 12a6de8 (5.5 min):

    | split | link on (the default): PSNR / LPIPS / CDC ratio | link off | off - on, PSNR |
    |---|---|---|---|
    | val (tree, box) | 38.13 / 0.01841 / 0.161 | 38.13 / 0.01841 / 0.161 | -0.000 |
    | train recordings (5) | 35.62 / 0.06048 / 0.998 | 35.50 / 0.06484 / 0.999 | -0.12 (noface_face.mov -0.57) |
    | test (read after) | 40.36 / 0.01291 / 1.069 | 40.45 / 0.01285 / 0.982 | +0.09 (cup.mp4 +0.40) |

    The test rows equal notebook 04's committed ones. Val cannot see the link (the gate leaves its 2 clips as the
    anchor makes them, to 0.001 dB), its PSNR is a hair lower without it, so by the rule the link stays; the train
    recordings, which the network has seen, lose without it. Test's gain rests on one clip."""
    sampler = dict(seed=0, guidance=1.0, steps=P.sample_steps)   # notebook 04's, at SEED 0 and GUIDANCE 1
    variants = {"link on (the default)": {}, "link off (use_prev=False)": {"use_prev": False}}
    rows = []
    for split in ("val", "train", "test"):
        methods = {k: inference.load_colorizer("diffusion", sampler_options={**sampler, **o}) for k, o in variants.items()}
        per_clip = evaluate.evaluate_all(methods, evaluate.test_clips(split), protocol=EX, ground_truth="ground truth")
        t = evaluate.summarize(per_clip).set_index("method")
        truth = t.loc["ground truth", "cdc"]
        for k in variants:
            rows.append(dict(split=split, row=k, psnr=t.loc[k, "psnr"], lpips=t.loc[k, "lpips"],
                             cdc_ratio=t.loc[k, "cdc"] / truth))
        print(split, per_clip.pivot_table(index="method", columns="clip", values="psnr", sort=False).round(2)
              .to_markdown(), sep="\n", flush=True)
    d = pd.DataFrame(rows).set_index(["split", "row"])
    print("\n" + d.round({"psnr": 2, "lpips": 5, "cdc_ratio": 3}).to_markdown())
    on, off = (d.loc[("val", k)] for k in variants)
    adopt = off.psnr >= on.psnr and off.lpips <= on.lpips and off.cdc_ratio <= 1.25
    print(f"\nval: PSNR {off.psnr - on.psnr:+.3f} dB, LPIPS {off.lpips - on.lpips:+.5f}, CDC ratio {off.cdc_ratio:.3f}"
          f" without the link: {'adopt use_prev=False' if adopt else 'the link stays'} (the rule fixed before the run)")


if __name__ == "__main__":
    probes = {"scales": scales, "flow": flow, "contrib": contrib, "refiner": refiner, "fusion": fusion,
              "guided": guided, "feedback": feedback, "lightness": lightness,
              "border": border, "retrieval": retrieval, "carried": carried,
              "blur": blur, "horizon": horizon, "forget": forget,
              "horizon-forget": horizon_forget, "occluded": occluded, "skip": skip,
              "sure-wrong": sure_wrong, "misaligned": misaligned,
              "recoloured": recoloured,
              "regional-pull": regional_pull, "codec-grid": codec_grid, "prev-link": prev_link}
    if len(sys.argv) != 2 or sys.argv[1] not in probes:
        sys.exit(f"usage: python {sys.argv[0]} {{{'|'.join(probes)}}}")
    cu.seed_everything(0)
    probes[sys.argv[1]]()

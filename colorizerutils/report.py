"""What the notebooks say about their tables, generated from the numbers so the text can never contradict them:
comparisons against a baseline, and paired comparisons over seeds with their standard errors."""
from __future__ import annotations

import pandas as pd


def discuss(table: pd.DataFrame, *, baseline: str, metrics=("psnr", "lpips", "colorfulness", "cdc"),
            truth: str | None = None) -> str:
    """Markdown sentences generated from a summary table: best method per metric and each method against the
    baseline, so a notebook's discussion can never contradict its numbers.

    ``truth`` names the row holding the real frames' own values (:func:`colorizerutils.evaluate.evaluate_all`'s
    ``ground_truth``). It is not ranked; for the metrics whose target is the truth's value
    (:data:`colorizerutils.metrics.TARGET_IS_TRUTH`: colourfulness) the best method is the nearest to it and a
    method is better than the baseline where it is nearer. Without that row such metrics are listed, not ranked."""
    from .metrics import TARGET_IS_TRUTH, direction

    t = table.set_index("method")
    for name, what in ((baseline, "baseline"), (truth, "truth")):
        if name is not None and name not in t.index:
            raise ValueError(f"{what} {name!r} not in the table's methods {list(t.index)}")
    target = t.loc[truth] if truth is not None else None
    t = t.drop(index=truth) if truth is not None else t
    lines = []
    for m in metrics:
        if m not in t.columns or t[m].isna().all():
            continue
        d_base = lambda method: t.loc[method, m] - t.loc[baseline, m]
        if m in TARGET_IS_TRUTH:
            if target is None or pd.isna(target[m]):
                lines.append(f"- **{m}** (the real frames' value is the target; this table has none, so it is not "
                             f"ranked): " + ", ".join(f"*{k}* {v:.4g}" for k, v in t[m].items()) + ".")
                continue
            gap = (t[m] - target[m]).abs()
            best = gap.idxmin()
            lines.append(f"- **{m}** (nearer the real frames' {target[m]:.4g} is better): nearest is *{best}* "
                         f"({t.loc[best, m]:.4g}, {t.loc[best, m] / target[m]:.2f}x the truth's).")
            for method in t.index.drop(baseline):
                better = gap[method] < gap[baseline]
                lines.append(f"  - *{method}* vs *{baseline}*: {d_base(method):+.4g} "
                             f"({t.loc[method, m] / target[m]:.2f}x the truth's against "
                             f"{t.loc[baseline, m] / target[m]:.2f}x: {'nearer' if better else 'not nearer'}).")
            continue
        hib = direction(m) == "higher"
        best = t[m].idxmax() if hib else t[m].idxmin()
        lines.append(f"- **{m}** ({direction(m)} is better): best is *{best}* ({t.loc[best, m]:.4g}).")
        for method in t.index.drop(baseline):
            d = d_base(method)
            better = (d > 0) == hib and d != 0
            lines.append(f"  - *{method}* vs *{baseline}*: {d:+.4g} ({'better' if better else 'not better'}).")
    return "\n".join(lines)


FLOW_BASELINES = ("farneback", "flow", "flow-propagate", "flow-fused", "flow-anchor")   # keys of inference.BASELINES


def exemplar_findings(table: pd.DataFrame, ceiling: pd.DataFrame | None = None) -> str:
    """Notebook 04's findings, from its comparison table (:data:`colorizerutils.inference.BASELINE_TITLES` and
    :data:`colorizerutils.inference.DIFFUSION_VARIANTS` name the rows): the exemplar diffusion against the best
    non-learned flow row, what the full-resolution anchor and the gated residual add, and temporal consistency;
    with ``ceiling`` (:func:`colorizerutils.evaluate.residual_ceiling`, summarised), what a perfect residual could
    reach against the goal of the best flow row + 1 dB."""
    from .inference import BASELINE_TITLES

    t = table.set_index("method")
    ex, gtc = t.loc["diffusion + exemplar"], t.loc["ground truth", "cdc"]
    flow_rows = [BASELINE_TITLES[k] for k in FLOW_BASELINES]
    anchor, fused = BASELINE_TITLES["flow-anchor"], BASELINE_TITLES["flow-fused"]
    best = t.loc[flow_rows, "psnr"].idxmax()
    return "\n".join([
        f"- Exemplar diffusion {ex.psnr:.2f} dB against the best non-learned row, *{best}*, "
        f"{t.loc[best, 'psnr']:.2f} dB: {ex.psnr - t.loc[best, 'psnr']:+.2f} dB; LPIPS {ex.lpips:.4f} against "
        f"{t.loc[best, 'lpips']:.4f}.",
        f"- The full-resolution anchor: {ex.psnr:.2f} dB against "
        f"{t.loc['diffusion + exemplar, anchor at the model size', 'psnr']:.2f} with everything at the model size; "
        f"{t.loc['diffusion + exemplar, residual added everywhere (not gated)', 'psnr']:.2f} with the residual added "
        f"everywhere, against its anchor alone at {t.loc[anchor, 'psnr']:.2f}"
        f": what the network adds to its anchor.",
        f"- New content (where the flow leaves the exemplar's frame) coloured from the exemplar's look-alikes: "
        f"{ex.psnr:.2f} dB against "
        f"{t.loc['diffusion + exemplar, border repeated where the flow leaves the frame', 'psnr']:.2f} with the "
        f"border repeated there; the anchor alone {t.loc[anchor, 'psnr']:.2f} against "
        f"{t.loc[fused, 'psnr']:.2f}.",
        f"- CDC {ex.cdc:.4g} against the real frames' {gtc:.4g}: ratio {ex.cdc / gtc:.2f}.",
        f"- The previous-frame link: CDC {t.loc['diffusion + exemplar, no previous frame', 'cdc']:.4g} without it, "
        f"{ex.cdc:.4g} with it; fresh noise per frame: {t.loc['diffusion + exemplar, fresh noise per frame', 'cdc']:.4g}.",
        *([_ceiling_line(t, ceiling.set_index("method"), best)] if ceiling is not None else []),
        _automatic_line(t),
        discuss(table, baseline="reference copy", truth="ground truth"),
    ])


def _ceiling_line(t: pd.DataFrame, c: pd.DataFrame, best: str) -> str:
    from .evaluate import CEILING_ROWS

    goal = t.loc[best, "psnr"] + 1
    gated, everywhere = (c.loc[k, "psnr"] for k in CEILING_ROWS)
    return (f"- The design's ceiling (the true residual, which no model has, made at the model size): "
            f"{gated:.2f} dB added where the anchor is unsure, as the default adds it, and {everywhere:.2f} dB added "
            f"everywhere, against the goal of {goal:.2f} (the best flow row + 1 dB): gated, the goal is "
            f"{'within' if gated >= goal else 'out of'} reach even for a perfect network; added everywhere, it is "
            f"{'within' if everywhere >= goal else 'out of'} reach, if the network can tell the anchor's errors where "
            f"the flow is confident.")


def _automatic_line(t: pd.DataFrame) -> str:
    """The automatic diffusion against its goal: PSNR >= gray - 1 dB and colourfulness within
    :data:`colorizerutils.evaluate.GENERATIVE_BAND` of the ground truth's, with the two rows that show what the
    calibration and dropping the previous-frame link add."""
    from .evaluate import GENERATIVE_BAND

    gray, truth = t.loc["gray baseline", "psnr"], t.loc["ground truth", "colorfulness"]

    def row(name):
        r = t.loc[name]
        return (f"{r.psnr:.2f} dB ({r.psnr - gray:+.2f} against gray), colourfulness {r.colorfulness:.1f} "
                f"({r.colorfulness / truth:.2f}x the truth's)")

    auto = t.loc["diffusion, automatic"]
    met = auto.psnr >= gray - 1 and abs(auto.colorfulness / truth - 1) <= GENERATIVE_BAND
    return (f"- Automatic diffusion (no exemplar): {row('diffusion, automatic')}; the goal (PSNR at least gray - 1 dB, "
            f"colourfulness within {GENERATIVE_BAND:.0%} of the truth's) is {'met' if met else 'not met'}. "
            f"Without the val calibration: {row('diffusion, automatic, not calibrated')}; with its previous output "
            f"fed back as well: {row('diffusion, automatic, previous output fed back, not calibrated')}.")


def paired_comparison(per_seed: pd.DataFrame, *, method: str, baseline: str,
                 metrics=("psnr", "lpips", "colorfulness")) -> pd.DataFrame:
    """``method`` against ``baseline`` over seeds, from rows with columns split, seed, method and the metrics (one
    row per model, seed and split, as :func:`colorizerutils.evaluate.summarize` gives per seed).

    The comparison is paired: both models trained at the same seed (same initial draws of the shared generator
    layout, same batches). One row per split and metric: the mean and standard deviation of each model over seeds,
    the mean difference (method - baseline) with its standard deviation and standard error, and the number of seeds
    at which the method's value is the higher one.
    """
    rows = []
    for split, g in per_seed.groupby("split", sort=False):
        a = g[g.method == method].set_index("seed")
        b = g[g.method == baseline].set_index("seed")
        seeds = a.index.intersection(b.index)
        if len(seeds) == 0:
            raise ValueError(f"split {split!r}: no seed has both {method!r} and {baseline!r}")
        for m in metrics:
            d = a.loc[seeds, m] - b.loc[seeds, m]
            n = len(seeds)
            rows.append({"split": split, "metric": m, "seeds": n,
                         f"{baseline} mean": b.loc[seeds, m].mean(), f"{baseline} std": b.loc[seeds, m].std(),
                         f"{method} mean": a.loc[seeds, m].mean(), f"{method} std": a.loc[seeds, m].std(),
                         "difference mean": d.mean(), "difference std": d.std(),
                         "difference se": d.std() / n ** 0.5 if n > 1 else float("nan"),
                         "seeds higher": int((d > 0).sum())})
    return pd.DataFrame(rows)


def discuss_seeds(paired: pd.DataFrame, *, method: str, baseline: str) -> str:
    """Markdown sentences generated from :func:`paired_comparison`: per split and metric, which model is ahead on
    average, at how many seeds, and whether the mean difference exceeds twice its standard error."""
    from .metrics import direction

    lines = []
    for r in paired.to_dict("records"):
        d, se, n, k = r["difference mean"], r["difference se"], r["seeds"], r["seeds higher"]
        way = "higher" if d > 0 else "lower" if d < 0 else "equal"
        better = f"{direction(r['metric'])} is better"
        if n < 2:
            verdict = "one seed gives no spread, so nothing can be said about noise"
        elif abs(d) > 2 * se:
            verdict = f"the mean difference is more than twice its standard error ({se:.3g})"
        else:
            verdict = f"the mean difference is within twice its standard error ({se:.3g}): seed noise can explain it"
        lines.append(f"- **{r['split']} · {r['metric']}** ({better}): *{method}* is {way} than *{baseline}* on "
                     f"average ({r[f'{method} mean']:.4g} vs {r[f'{baseline} mean']:.4g}, difference {d:+.3g}); its "
                     f"value is the higher one at {k} of {n} seeds; {verdict}.")
    return "\n".join(lines)


def effects_table(per_seed: pd.DataFrame, effects: dict, *, metrics=("psnr", "lpips", "colorfulness")) -> pd.DataFrame:
    """What each change moves, from :func:`colorizerutils.recipes.seed_sweep`'s rows: ``effects`` is ``{change:
    (the model with it, the model without it)}`` (:data:`colorizerutils.recipes.EFFECTS`). One row per change,
    split and metric: both models' means over seeds, the paired difference (with - without) and its standard error
    (:func:`paired_comparison`), and whether the difference exceeds twice that (``beyond noise``)."""
    parts = []
    for change, (with_, without) in effects.items():
        p = paired_comparison(per_seed, method=with_, baseline=without, metrics=metrics)
        parts.append(pd.DataFrame({
            "change": change, "with": with_, "without": without, "split": p.split, "metric": p.metric,
            "seeds": p.seeds, "without mean": p[f"{without} mean"], "with mean": p[f"{with_} mean"],
            "difference": p["difference mean"], "difference se": p["difference se"],
            "seeds higher": p["seeds higher"],
            "beyond noise": (p["difference mean"].abs() > 2 * p["difference se"]).where(p.seeds > 1, False)}))
    return pd.concat(parts, ignore_index=True)


def discuss_effects(table: pd.DataFrame, *, truth: dict | None = None) -> str:
    """Markdown, one line per change and split, generated from :func:`effects_table`: which way each metric moved,
    whether that is better (for colourfulness: nearer ``truth[split]``, the real frames' value, when given) and
    whether the move exceeds twice its standard error."""
    from .metrics import direction

    lines = []
    for (change, split), g in table.groupby(["change", "split"], sort=False):
        first = g.iloc[0]
        parts = []
        for r in g.to_dict("records"):
            d, se, m = r["difference"], r["difference se"], r["metric"]
            way = direction(m)
            if way == "nearer the truth":
                t = (truth or {}).get(split)
                better = None if t is None else abs(r["with mean"] - t) < abs(r["without mean"] - t)
            else:
                better = (d > 0) == (way == "higher") if d != 0 else None
            word = "" if better is None else (" (better)" if better else " (worse)")
            noise = "beyond seed noise" if r["beyond noise"] else f"within seed noise (se {se:.2g})"
            parts.append(f"{m} {d:+.3g}{word}, {noise}")
        lines.append(f"- **{change} · {split}** (*{first['with']}* against *{first['without']}*, "
                     f"{first['seeds']} seeds): " + "; ".join(parts) + ".")
    return "\n".join(lines)


def discuss_shots(table: pd.DataFrame, *, cuts_found: list[int], shot_by_shot: str, across: str) -> str:
    """Notebook 07's findings from its table (one row per ``method``, the shot handling, and shot, with
    :func:`colorizerutils.shots.score_shots`' columns): whether every cut was found to one frame, whether each shot
    took its own reference, and what shot handling (``shot_by_shot``) is worth against one state and one reference
    across the cuts (``across``), per shot in PSNR. ``cuts_found``: every shot start the colorizer reported after the
    first."""
    on = table[table.method == shot_by_shot].set_index("shot")
    off = table[table.method == across].set_index("shot")
    true = [int(c) for c in on.true_cut.iloc[1:]]
    hit = [c for c in true if any(abs(f - c) <= 1 for f in cuts_found)]
    spurious = [f for f in cuts_found if not any(abs(f - c) <= 1 for c in true)]
    own = on.reference_used == on.own_reference
    lines = [f"- Cuts: {len(hit)} of the {len(true)} true cuts (frames {', '.join(map(str, true))}) found to within one "
             f"frame" + (f"; {len(spurious)} found where there is none (frames {', '.join(map(str, spurious))})"
                         if spurious else ", and no other") + ".",
             f"- References: {int(own.sum())} of the {len(on)} shots took their own first frame from the folder"
             + ("." if own.all() else ": " + "; ".join(_other_reference(on, k) for k in on.index[~own]) + "."),
             f"- What shot handling is worth, shot by shot against {across} (PSNR of each shot's frames after its "
             f"first, which is its reference):"]
    for k in on.index:
        d = on.loc[k, "psnr"] - off.loc[k, "psnr"]
        lines.append(f"  - shot {k} ({on.loc[k, 'clip']}): {on.loc[k, 'psnr']:.2f} dB shot by shot, "
                     f"{off.loc[k, 'psnr']:.2f} across the cuts: {d:+.2f} dB.")
    return "\n".join(lines)


def _other_reference(on: pd.DataFrame, k) -> str:
    """What shot ``k`` of :func:`discuss_shots`' table took instead of its own reference."""
    head = f"shot {k} ({on.loc[k, 'clip']})"
    if "found_cut" in on.columns and pd.isna(on.loc[k, "found_cut"]):
        return f"{head}: no shot began within one frame of it"
    ref = on.loc[k, "reference_used"]
    return f"{head} took {'no reference (automatic mode)' if pd.isna(ref) else ref}"

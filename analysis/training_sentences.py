"""The Training lesson's computed sentences: what each chart of the race shows, in numbers, from the records.

Pure (no streamlit, no plotly): whole translatable sentences; the numbers come from analysis.training.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from analysis.training import (
    ALL_ZERO,
    UPDATE_RATIO_RULE,
    best_and_worst,
    chance_loss,
    final_value,
    fmt,
    fmt_pct,
    hist_fractions,
    hist_median,
    hist_spread,
    layer_name,
    loss_axis_range,
    n_classes,
    run_label,
    steps_to_target,
)
from core.records import RunRecord
from i18n import N_, _, ngettext, numbers
from analysis import divergence


def _listing(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = list(names)
    if len(names) == 1:
        return names[0]
    return _("{names} and {last}", names=", ".join(names[:-1]), last=names[-1])


def _layer_list(js: Sequence[int], n: int) -> str:
    js = sorted(int(j) for j in js)
    if len(js) == n:
        return _("every layer")
    if len(js) > 2 and js == list(range(js[0], js[-1] + 1)):
        if js[-1] == n - 1:
            return _("layers {first} to the output layer", first=js[0] + 1)
        return _("layers {first}–{last}", first=js[0] + 1, last=js[-1] + 1)
    return ", ".join(layer_name(j, n) for j in js)


def _sort_loss(r: RunRecord) -> float:
    v = final_value(r, "train_loss")
    return v if math.isfinite(v) else math.inf


def chance_sentence(records: Sequence[RunRecord]) -> str:
    k = n_classes(records)
    chance = numbers.decimal(chance_loss(records), 2)
    return _("Chance (predicting 1/{k} for every class) is ln {k} = {chance}.", k=k, chance=chance)


def loss_sentence(records: Sequence[RunRecord]) -> str:
    """What the loss chart shows, in numbers: each scheme's train loss at the start and the end, and chance.

    "still x (no learning)" only when the loss moved by less than 1 % of chance (ln k) over the whole run.
    """
    chance = chance_loss(records)
    steps = records[0].config.steps
    if steps == 0:
        items = "; ".join(
            _("{scheme}: {loss}", scheme=run_label(r), loss=fmt(float(r.train_loss[0]))) for r in records
        )
        first = _("Train loss on the whole train split at initialization (0 steps) — {items}.", items=items)
        return f"{first} {chance_sentence(records)}"
    parts = []
    for r in sorted(records, key=_sort_loss):
        label = run_label(r)
        if r.diverged_at is not None:
            parts.append(_("{scheme} diverged at step {step}", scheme=label, step=r.diverged_at))
            continue
        final = final_value(r, "train_loss")
        start = float(r.train_loss[0])
        if abs(final - start) < 0.01 * chance:
            parts.append(
                ngettext(
                    "{scheme}: still {loss} after {n} step (no learning)",
                    "{scheme}: still {loss} after {n} steps (no learning)",
                    steps,
                    scheme=label,
                    loss=fmt(final),
                )
            )
        elif abs(final - chance) < 0.01 * chance:
            parts.append(
                _(
                    "{scheme}: {start} → {final} (chance level)",
                    scheme=label,
                    start=fmt(start),
                    final=fmt(final),
                )
            )
        else:
            parts.append(_("{scheme}: {start} → {final}", scheme=label, start=fmt(start), final=fmt(final)))
    first = ngettext(
        "Train loss on the whole train split, start → after {n} step — {items}.",
        "Train loss on the whole train split, start → after {n} steps — {items}.",
        steps,
        items="; ".join(parts),
    )
    return f"{first} {chance_sentence(records)}"


def loss_axis_note(records: Sequence[RunRecord]) -> str:
    """A sentence when the loss axis cuts off a diverged run's exploding loss, else ""."""
    _lo, hi = loss_axis_range(records)
    cut = []
    for r in records:
        a = np.asarray(r.loss, dtype=np.float64)
        a = a[np.isfinite(a)]
        if r.diverged_at is not None and a.size and a.max() > hi:
            cut.append(_("{scheme} reached a loss of {loss}", scheme=run_label(r), loss=fmt(float(a.max()))))
    if not cut:
        return ""
    return _(
        "The loss axis stops at {top} so the other curves stay readable: {items} before it stopped.",
        top=fmt(hi),
        items="; ".join(cut),
    )


def divergence_sentences(records: Sequence[RunRecord]) -> list[str]:
    """One plain sentence per diverged run (what became non-finite and when), from the record."""
    out = []
    for r in records:
        if r.diverged_at is None:
            continue
        what = divergence.sentence(r)
        out.append(
            _(
                "**{scheme} diverged.** {what} Its curves end at step {step} (marked ×); "
                "the other schemes are not affected.",
                scheme=run_label(r),
                what=what,
                step=r.diverged_at,
            )
        )
    return out


def accuracy_sentence(records: Sequence[RunRecord]) -> str:
    best, worst = best_and_worst(records)
    return _(
        "Final test accuracy: best {best} {best_acc}, worst {worst} {worst_acc} "
        "(guessing would give about {chance}).",
        best=run_label(best),
        best_acc=fmt_pct(final_value(best, "test_acc")),
        worst=run_label(worst),
        worst_acc=fmt_pct(final_value(worst, "test_acc")),
        chance=numbers.pct(1 / n_classes(records)),
    )


# The four forms of a scheme's gradient sizes: (some layers exactly 0, a large share of exact zeros).
_GRAD_SIZES = {
    (False, False): N_("{scheme}: {first} in layer 1, {last} in the output layer"),
    (True, False): N_("{scheme}: {first} in layer 1, {last} in the output layer (exactly 0 in {layers})"),
    (False, True): N_(
        "{scheme}: {first} in layer 1, {last} in the output layer, and {share} of all entries are exactly 0"
    ),
    (True, True): N_(
        "{scheme}: {first} in layer 1, {last} in the output layer (exactly 0 in {layers}), "
        "and {share} of all entries are exactly 0"
    ),
}


def _or_zero(x: float) -> str:
    return _("exactly 0") if not math.isfinite(x) else fmt(x)


def hist_sentence(records: Sequence[RunRecord], checkpoint: int, kind: str = "grad") -> str:
    """Per scheme, the typical size of the quantity in layer 1 and in the output layer at the checkpoint.

    log10abs histograms (gradients): the median |value|; linear ones (weights, activations): the spread.
    """
    parts = []
    for r in records:
        h = r.hists[kind]
        label = run_label(r)
        n = h.counts.shape[1]
        if h.transform != "log10abs":
            sd = hist_spread(h, checkpoint)
            parts.append(
                _(
                    "{scheme}: spread (std) {first} in layer 1, {last} in the output layer",
                    scheme=label,
                    first=fmt(sd[0]),
                    last=fmt(sd[-1]),
                )
            )
            continue
        med = hist_median(h, checkpoint)
        _c, _f, zero_frac = hist_fractions(h, checkpoint)
        all_zero = [j for j in range(n) if zero_frac[j] >= ALL_ZERO]
        if len(all_zero) == n:
            parts.append(_("{scheme}: every entry of every layer is exactly 0", scheme=label))
            continue
        share = float(np.mean(zero_frac))
        form = _GRAD_SIZES[bool(all_zero), share >= 0.25]
        parts.append(
            _(
                form.message,
                scheme=label,
                first=_or_zero(med[0]),
                last=_or_zero(med[-1]),
                layers=_layer_list(all_zero, n) if all_zero else "",
                share=numbers.pct(share),
            )
        )
    step = int(records[0].hist_steps[checkpoint])
    items = "; ".join(parts)
    if records[0].hists[kind].transform == "log10abs":
        return _(
            "At step {step}, the typical size (median of the nonzero |values|) — {items}.",
            step=step,
            items=items,
        )
    return _("At step {step} — {items}.", step=step, items=items)


def _times(x: float) -> str:
    """A ratio to 2 significant digits: 3.2, 56, 10,000, 180,000 (bins are a quarter decade wide)."""
    if not math.isfinite(x) or x < 100 or x >= 1e6:  # num: 10⁶ and up as powers; "infinite" in words
        return numbers.num(x, 2)
    e = math.floor(math.log10(x)) - 1
    return numbers.integer(round(x / 10**e) * 10**e)


def scheme_gap_sentence(records: Sequence[RunRecord], checkpoint: int, kind: str = "grad") -> str:
    """How many times larger the typical |gradient| of the strongest scheme is than the weakest's, per layer.

    Compares the two schemes furthest apart in layer 1 (among those with nonzero gradients there).
    """
    if len(records) < 2 or records[0].hists[kind].transform != "log10abs":
        return ""
    meds = np.array([hist_median(r.hists[kind], checkpoint) for r in records])  # (S, L+1), NaN = all zero
    logm = np.log10(meds)
    first = logm[:, 0]
    ok = np.isfinite(first)
    if ok.sum() < 2:
        return ""
    hi = int(np.argmax(np.where(ok, first, -np.inf)))
    lo = int(np.argmin(np.where(ok, first, np.inf)))
    gap = 10.0 ** (logm[hi] - logm[lo])
    gap = gap[np.isfinite(gap)]  # layers where either scheme has only exact zeros do not count
    if hi == lo or gap.size == 0 or float(np.min(gap)) < 3.0:
        return ""
    lo_gap, hi_gap = float(np.min(gap)), float(np.max(gap))
    names = dict(strong=run_label(records[hi]), weak=run_label(records[lo]))
    if hi_gap / lo_gap < 1.5:
        first = _(
            "Layer by layer, the typical gradient of {strong} is {factor} times that of {weak}.",
            factor=_times(lo_gap),
            **names,
        )
    else:
        first = _(
            "Layer by layer, the typical gradient of {strong} is {low} to {high} times that of {weak}.",
            low=_times(lo_gap),
            high=_times(hi_gap),
            **names,
        )
    optimizer = records[hi].config.optimizer
    if optimizer == "adam":
        why = _("Adam divides every step by the gradient's own size, so compare the step sizes below.")
    elif optimizer == "sgd":
        why = _("With SGD and one learning rate, its steps are that much larger.")
    else:
        why = _("With momentum and one learning rate, its steps are that much larger.")
    return f"{first} {why}"


def grad_norm_sentence(records: Sequence[RunRecord]) -> str:
    """At step 0: which layers get exactly zero gradient, and how the norm changes from the output to layer 1."""
    parts = []
    for r in records:
        g = np.asarray(r.layer_stats["grad_norm"][0], dtype=np.float64)
        label = run_label(r)
        zero = np.flatnonzero(g == 0)
        if zero.size:
            parts.append(
                _(
                    "{scheme}: exactly zero gradient in {layers}",
                    scheme=label,
                    layers=_layer_list(zero, len(g)),
                )
            )
        elif np.all(np.isfinite(g)) and g[-1] > 0:
            parts.append(
                _(
                    "{scheme}: layer 1 gets {ratio}× the output layer's gradient norm",
                    scheme=label,
                    ratio=fmt(g[0] / g[-1]),
                )
            )
    return _("At initialization (step 0) — {items}.", items="; ".join(parts)) if parts else ""


def update_ratio_sentence(records: Sequence[RunRecord]) -> str:
    """Per scheme, the median update-to-weight ratio over training of its slowest and its fastest layer."""
    parts = []
    for r in records:
        ratio = np.asarray(r.layer_stats["update_ratio"], dtype=np.float64)
        label = run_label(r)
        n = ratio.shape[1]
        taken = ratio[~np.isnan(ratio).all(axis=1)]  # rows of updates taken (a row of NaN: no update)
        if taken.size == 0:
            parts.append(_("{scheme}: no update was taken", scheme=label))
            continue
        frozen = [j for j in range(n) if np.all(taken[:, j] == 0)]
        from_zero = [j for j in range(n) if np.isinf(taken[:, j]).any()]
        if len(frozen) == n:
            parts.append(_("{scheme}: no weight matrix ever moves (ratio 0)", scheme=label))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a layer that never moved: all-NaN column
            med = np.nanmedian(np.where(np.isfinite(taken) & (taken > 0), taken, np.nan), axis=0)
        clauses = []
        if np.isfinite(med).any():
            lo, hi = int(np.nanargmin(med)), int(np.nanargmax(med))
            clauses.append(
                _(
                    "{low} ({low_layer}) to {high} ({high_layer})",
                    low=fmt(med[lo]),
                    low_layer=layer_name(lo, n),
                    high=fmt(med[hi]),
                    high_layer=layer_name(hi, n),
                )
            )
        if frozen:
            clauses.append(
                ngettext(
                    "{layers} never moves", "{layers} never move", len(frozen), layers=_layer_list(frozen, n)
                )
            )
        if from_zero:
            clauses.append(
                ngettext(
                    "{layers} starts from all-zero weights (ratio infinite at first)",
                    "{layers} start from all-zero weights (ratio infinite at first)",
                    len(from_zero),
                    layers=_layer_list(from_zero, n),
                )
            )
        parts.append(_("{scheme}: {details}", scheme=label, details="; ".join(clauses)))
    return _(
        "Median update-to-weight ratio per step — {items}. The rule of thumb is about {rule}: far below it a "
        "layer barely learns, far above it training is unstable.",
        items="; ".join(parts),
        rule=numbers.num(UPDATE_RATIO_RULE),
    )


def boundary_sentence(records: Sequence[RunRecord]) -> str:
    """How many classes each scheme's decision regions cover, with its test accuracy."""
    k = n_classes(records)
    parts = []
    for r in records:
        if r.boundary is None:
            continue
        present = np.unique(np.asarray(r.boundary))
        acc = fmt_pct(final_value(r, "test_acc"))
        label = run_label(r)
        if r.diverged_at is not None:
            parts.append(_("{scheme} diverged (regions from its last finite step)", scheme=label))
        elif present.size == 1:
            parts.append(
                _(
                    "{scheme} predicts class {cls} everywhere (test {acc})",
                    scheme=label,
                    cls=int(present[0]),
                    acc=acc,
                )
            )
        else:
            parts.append(
                _(
                    "{scheme} has regions for {n} of {k} classes (test {acc})",
                    scheme=label,
                    n=int(present.size),
                    k=k,
                    acc=acc,
                )
            )
    return "; ".join(parts) + "." if parts else ""


def target_sentence(records: Sequence[RunRecord], target_loss: float) -> str:
    """Which schemes reached the target loss, and when (from the whole-train-split evaluations)."""
    reached, missed = [], []
    for r in records:
        s = steps_to_target(r, target_loss)
        if s is None or (r.diverged_at is not None and s >= r.diverged_at):
            missed.append(run_label(r))
        else:
            reached.append((s, run_label(r)))
    target = numbers.num(target_loss, 3)
    parts = []
    if reached:
        reached.sort()
        items = ", ".join(_("{scheme} at step {step}", scheme=lab, step=s) for s, lab in reached)
        parts.append(_("Train loss ≤ {target} first reached by {items}", target=target, items=items))
    if missed:
        steps = max(int(r.eval_steps[-1]) for r in records)
        parts.append(
            ngettext(
                "{schemes} does not reach train loss ≤ {target} within {steps} steps",
                "{schemes} do not reach train loss ≤ {target} within {steps} steps",
                len(missed),
                schemes=_listing(missed),
                target=target,
                steps=steps,
            )
        )
    return "; ".join(parts) + "." if parts else ""


def confusion_sentence(best: RunRecord, worst: RunRecord) -> str:
    """Best and worst test accuracy, and the class the worst scheme predicts most."""
    names = dict(
        best=run_label(best), best_acc=fmt_pct(final_value(best, "test_acc")), worst=run_label(worst)
    )
    if best is worst:
        return _("{best} classifies {best_acc} of the test digits right.", **names)
    pred = np.asarray(worst.confusion).sum(axis=0)
    top = int(np.argmax(pred))
    share = numbers.pct(pred[top] / max(int(pred.sum()), 1))
    if worst.diverged_at is not None:
        return _(
            "{best} classifies {best_acc} of the test digits right; {worst} diverged at step {step} (its matrix "
            "is from its last finite step), and it answers “{digit}” for {share} of them.",
            step=worst.diverged_at,
            digit=top,
            share=share,
            **names,
        )
    return _(
        "{best} classifies {best_acc} of the test digits right; {worst} {worst_acc}, and it answers “{digit}” "
        "for {share} of them.",
        worst_acc=fmt_pct(final_value(worst, "test_acc")),
        digit=top,
        share=share,
        **names,
    )

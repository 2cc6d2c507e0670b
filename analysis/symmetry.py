"""The Symmetry lesson's numbers and computed sentences: a symmetric start trained beside a small random one.

Pure: records in, numbers and sentences (in the session's language) out. DEFAULTS is the lesson's experiment.
Over 500 lines because every computed sentence is written out whole, in each of its variants (translation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from babel.lists import format_list

from core.config import ExperimentConfig
from core.diagnostics import distinct_units, mean_abs_cosine
from core.initializers import run_label
from core.losses import softmax
from core.phase_worker import guess_loss
from core.records import DataSplit, RunRecord
from i18n import _, current, ngettext
from i18n.numbers import decimal, num, pct
from analysis import divergence

# The lesson's default experiment: a symmetric start, 2 hidden layers, and momentum (it trains the small
# random start within 300 steps, and an elementwise optimizer keeps equal units equal just like SGD and Adam).
DEFAULTS = {
    "schemes": ("constant",),
    "activation": "tanh",
    "depth": 2,
    "width": 16,
    "optimizer": "momentum",
    "lr": 0.1,
    "steps": 300,
    "dataset": "spiral",
}
FIXED = {"n_checkpoints": 11}  # weight snapshots every 30 steps of 300: the heatmap's step slider
# The small random start every run is compared with: the usual, correct choice (random weights, zero biases).
REFERENCE = {
    "schemes": ("xavier_uniform",),
    "scale": 1.0,
    "gain": "1",
    "bias_init": "zeros",
    "bias_value": 0.0,
}
# Mean |cosine| at or above which a layer's weight vectors count as parallel (one direction, rank 1).
PARALLEL = 0.95
MOVE_TOGETHER = 0.99  # mean |cosine| of weight vectors that still move as one


class Panel(NamedTuple):
    """One trained start as the page shows it: a label, its record and its colour."""

    label: str
    record: RunRecord
    color: str


def default_config() -> ExperimentConfig:
    """The experiment the page trains when no control is changed."""
    return ExperimentConfig(**DEFAULTS, **FIXED)


def start_label(config: ExperimentConfig) -> str:
    """The start `config` trains: its scheme's run_label, and its bias when that is not zero."""
    weights = run_label(config.schemes[0], config)
    value = num(config.bias_value, 3)
    if config.bias_init == "constant":
        return _("{weights}, bias {value}", weights=weights, value=value)
    if config.bias_init == "normal":
        return _("{weights}, bias σ = {value}", weights=weights, value=value)
    if config.bias_init == "standard_uniform":
        return _("{weights}, bias ±1/√fan_in", weights=weights)
    return weights


def reference_label(config: ExperimentConfig) -> str:
    return _("{label} (reference)", label=start_label(config))


# ---------------------------------------------------------------------------------------------- numbers


def hidden_depth(record: RunRecord) -> int:
    """Number of hidden layers L of the record's network."""
    return len(record.sizes) - 2


def distinct_vectors(W: np.ndarray) -> int:
    """Distinct columns of W, counted as the recorder counts distinct units (core.diagnostics.distinct_units
    on float64, its tolerance 10⁻⁶ of the longest column)."""
    return int(distinct_units(np.asarray(W, dtype=np.float64)))


def abs_cosine_curve(record: RunRecord, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(checkpoint steps, mean |cosine| of hidden `layer`'s weight vectors) from the weight snapshots."""
    steps = np.asarray(record.hist_steps)
    if not record.weight_snapshots:
        return steps[:0], np.zeros(0)
    return steps, np.asarray(mean_abs_cosine(np.stack([s[layer] for s in record.weight_snapshots])))


def class_frequencies(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Fraction of each class in the labels y."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def baseline_loss(record: RunRecord) -> float:
    """The loss of predicting the train split's class frequencies (core.phase_worker.guess_loss)."""
    return guess_loss(record.config)


def _last_finite(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    finite = a[np.isfinite(a)]
    return float(finite[-1]) if finite.size else float("nan")


def final_test_acc(record: RunRecord) -> float:
    """Test accuracy at the last step where it is finite (NaN if never)."""
    return _last_finite(record.test_acc)


def final_distinct(record: RunRecord) -> np.ndarray:
    """Distinct units of each hidden layer at the last recorded step, as ints."""
    return np.asarray(record.symmetry["distinct"][-1], dtype=np.float64).round().astype(int)


def start_distinct(record: RunRecord) -> np.ndarray:
    return np.asarray(record.symmetry["distinct"][0], dtype=np.float64).round().astype(int)


def hidden_grads_zero(record: RunRecord, layers: int | None = None) -> bool:
    """True when every recorded weight gradient of the first `layers` layers (default: the hidden ones) is 0."""
    g = np.asarray(record.layer_stats["grad_norm"], dtype=np.float64)[:, : layers or hidden_depth(record)]
    return bool(g.size) and bool(np.all(g == 0.0))


def all_weight_grads_zero(record: RunRecord) -> bool:
    """True when every recorded weight gradient of every layer is exactly 0 (a dead symmetric start)."""
    return hidden_grads_zero(record, len(record.sizes) - 1)


def starts_symmetric(record: RunRecord) -> bool:
    """True when, in every hidden layer, all incoming weight vectors start identical (snapshot at step 0)."""
    if not record.weight_snapshots:
        return False
    return all(distinct_vectors(W) == 1 for W in record.weight_snapshots[0][: hidden_depth(record)])


def boundary_z(record: RunRecord) -> np.ndarray:
    """Colour value of the boundary heatmap: predicted class + confidence in [0, 0.999].

    Confidence rescales the max class probability from 1/k (no preference) to 1 (certain).
    """
    k = record.sizes[-1]
    cls = np.asarray(record.boundary, dtype=np.float64)
    prob = np.asarray(record.boundary_prob, dtype=np.float64)
    conf = np.clip((prob - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 0.999)
    z = cls + conf
    z[~np.isfinite(z)] = np.nan
    return z


# ---------------------------------------------------------------------------------------------- sentences


def _list(items: Sequence[str]) -> str:
    """ "1, 2 and 3" in the session's language."""
    return format_list(list(items), locale=current())


def when(steps: int) -> str:
    """ "after 300 steps", or "at initialization" for a run of 0 steps."""
    if steps == 0:
        return _("at initialization")
    return ngettext("after {n} step", "after {n} steps", steps)


def distinct_text(record: RunRecord) -> str:
    """Distinct units at the last step as a short metric: "1 of 16", or per layer "1 · 3 of 16"."""
    dist = final_distinct(record)
    counts = str(dist[0]) if np.all(dist == dist[0]) else " · ".join(str(d) for d in dist)
    return _("{distinct} of {width}", distinct=counts, width=record.sizes[1])


def parallel_note(record: RunRecord) -> str | None:
    """ "weight vectors parallel" when a layer's units differ but their weight vectors still point along one line
    (mean |cosine| ≥ PARALLEL at the last snapshot) after an equal-weights start: a rank-1 bottleneck, not a
    success. Only where the vectors have more than 2 coordinates (random 2-D vectors are often nearly parallel).
    """
    dist = final_distinct(record)
    parallel = starts_symmetric(record) and any(
        dist[j] > 1
        and record.sizes[j] > 2
        and (cos := abs_cosine_curve(record, j)[1]).size
        and cos[-1] >= PARALLEL
        for j in range(hidden_depth(record))
    )
    return _("weight vectors parallel") if parallel else None


def loss_sentence(sym: Panel, ref: Panel, baseline: float | None) -> str:
    """What the loss chart shows, from both runs' train losses."""
    a, b = sym.record, ref.record
    steps = int(a.eval_steps[-1])
    a0, a1 = float(a.train_loss[0]), _last_finite(a.train_loss)
    b0, b1 = float(b.train_loss[0]), _last_finite(b.train_loss)
    if steps == 0:
        text = _(
            "At initialization the train loss of **{you}** is {you_loss}; **{reference}**: {reference_loss}.",
            you=sym.label,
            you_loss=decimal(a0, 3),
            reference=ref.label,
            reference_loss=decimal(b0, 3),
        )
    else:
        text = ngettext(
            "After {n} step the train loss of **{you}** went from {you_start} to {you_end}; **{reference}** "
            "went from {reference_start} to {reference_end}.",
            "After {n} steps the train loss of **{you}** went from {you_start} to {you_end}; **{reference}** "
            "went from {reference_start} to {reference_end}.",
            steps,
            you=sym.label,
            you_start=decimal(a0, 3),
            you_end=decimal(a1, 3),
            reference=ref.label,
            reference_start=decimal(b0, 3),
            reference_end=decimal(b1, 3),
        )
    parts = [text]
    if baseline is not None and np.isfinite(a1) and abs(a1 - baseline) < 0.01 * max(baseline, 1e-9):
        parts.append(
            _(
                "{you} ends on the dashed line ({baseline}): it has learned nothing but the class frequencies.",
                you=sym.label,
                baseline=decimal(baseline, 3),
            )
        )
    for p in (sym, ref):
        if p.record.divergence:
            parts.append(_("{label}: {value}", label=p.label, value=divergence.sentence(p.record)))
    return " ".join(parts)


def dead_start_sentence(record: RunRecord, split: DataSplit | None) -> str | None:
    """No gradient reaches the hidden weights: the all-zeros start (tanh, ReLU), or saturated units.

    Returns None when some hidden weight gradient was nonzero at some recorded step.
    """
    if not hidden_grads_zero(record):
        return None
    act = record.config.activation
    zero_start = bool(record.weight_snapshots) and all(
        np.all(np.asarray(W) == 0.0) for W in record.weight_snapshots[0]
    )
    if not zero_start:
        n = len(record.stat_steps)
        text = ngettext(
            "Every recorded hidden weight gradient is exactly 0 (‖∂loss/∂W‖ = 0 in every hidden layer at the "
            "one recorded step).",
            "Every recorded hidden weight gradient is exactly 0 (‖∂loss/∂W‖ = 0 in every hidden layer at every "
            "one of the {n} recorded steps).",
            n,
        )
        sat = float(record.layer_stats["saturation"][-1, 0])
        if np.isfinite(sat) and sat > 0:
            text += " " + _(
                "At the end {share} of hidden layer 1's outputs are saturated (beyond ±0.99, where {activation} "
                "is flat and passes almost no gradient back).",
                share=pct(sat),
                activation=act,
            )
        return text
    out_w_zero = bool(np.all(np.asarray(record.final_weights[-1]) == 0.0))
    if not (out_w_zero and all_weight_grads_zero(record)):
        return _(
            "With zero weights and {activation}, every hidden weight gradient is exactly 0 "
            "(‖∂loss/∂W‖ = 0 in every hidden layer at every recorded step).",
            activation=act,
        )
    predicted = ", ".join(pct(p) for p in softmax(np.asarray(record.final_biases[-1], dtype=np.float64)))
    if split is None:
        return _(
            "With zero weights and {activation}, every hidden weight gradient is exactly 0 (‖∂loss/∂W‖ = 0 in "
            "every hidden layer at every recorded step): only the output bias learned, and the network "
            "predicts the same probabilities for every point ({predicted}).",
            activation=act,
            predicted=predicted,
        )
    freq = ", ".join(pct(f) for f in class_frequencies(split.y_train, record.sizes[-1]))
    return _(
        "With zero weights and {activation}, every hidden weight gradient is exactly 0 (‖∂loss/∂W‖ = 0 in "
        "every hidden layer at every recorded step): only the output bias learned, and the network predicts "
        "the same probabilities for every point ({predicted}) — the class frequencies of the training set "
        "are {frequencies}.",
        activation=act,
        predicted=predicted,
        frequencies=freq,
    )


def symmetry_sentence(panel: Panel) -> str:
    """Per-layer verdict on the symmetry of one run at its last recorded step."""
    rec = panel.record
    L = hidden_depth(rec)
    widths = rec.sizes[1:-1]
    steps = int(rec.stat_steps[-1])
    dist, start = final_distinct(rec), start_distinct(rec)
    stuck = [i for i in range(L) if dist[i] == 1]
    full = [i for i in range(L) if dist[i] == widths[i]]
    at = when(steps)
    parts = []
    if stuck:
        n, names = widths[stuck[0]], _list([str(i + 1) for i in stuck])
        if len(stuck) == L and L > 1:
            parts.append(
                _(
                    "All {units} units of each of the {layers} hidden layers are still identical {when}: each "
                    "layer acts like a single unit.",
                    units=n,
                    layers=L,
                    when=at,
                )
                if steps
                else _(
                    "All {units} units of each of the {layers} hidden layers are identical {when}: each layer "
                    "acts like a single unit.",
                    units=n,
                    layers=L,
                    when=at,
                )
            )
        elif steps:
            parts.append(
                ngettext(
                    "All {units} units of hidden layer {layers} are still identical {when}: the layer acts "
                    "like a single unit.",
                    "All {units} units of hidden layers {layers} are still identical {when}: the layers act "
                    "like a single unit.",
                    len(stuck),
                    units=n,
                    layers=names,
                    when=at,
                )
            )
        else:
            parts.append(
                ngettext(
                    "All {units} units of hidden layer {layers} are identical {when}: the layer acts like a "
                    "single unit.",
                    "All {units} units of hidden layers {layers} are identical {when}: the layers act like a "
                    "single unit.",
                    len(stuck),
                    units=n,
                    layers=names,
                    when=at,
                )
            )
    if full and len(full) == L:
        parts.append(
            _(
                "Every one of the {units} units of every hidden layer is different {when}.",
                units=widths[0],
                when=at,
            )
        )
    elif full:
        parts.append(
            ngettext(
                "In hidden layer {layers} all units are different {when}.",
                "In hidden layers {layers} all units are different {when}.",
                len(full),
                layers=_list([str(i + 1) for i in full]),
                when=at,
            )
        )
    for i in range(L):
        if i not in stuck and i not in full:
            parts.append(
                _(
                    "Hidden layer {layer} started with {start} distinct units of {width} and has {now} {when}.",
                    layer=i + 1,
                    start=start[i],
                    width=widths[i],
                    now=dist[i],
                    when=at,
                )
            )
    return _("**{label}**: {verdict}", label=panel.label, verdict=" ".join(parts))


def moved_but_identical_sentence(panel: Panel) -> str | None:
    """The constant / sigmoid subtlety: the weights moved, yet every column is still identical."""
    rec = panel.record
    if not rec.weight_snapshots:
        return None
    dist = final_distinct(rec)
    moved = {}
    for layer in range(hidden_depth(rec)):
        W0 = np.asarray(rec.weight_snapshots[0][layer], dtype=np.float64)
        W1 = np.asarray(rec.final_weights[layer], dtype=np.float64)
        change = float(np.linalg.norm(W1 - W0))
        if dist[layer] == 1 and distinct_vectors(W1) == 1 and np.isfinite(change) and change > 1e-6:
            moved[layer] = change
    if not moved:
        return None
    parts = []
    first = next(iter(moved))
    if rec.config.activation == "sigmoid" and np.all(np.asarray(rec.weight_snapshots[0][first]) == 0):
        parts.append(
            _(
                "With zero weights every sigmoid unit starts at {value} (not 0), so the weights do get a gradient.",
                value=decimal(float(rec.layer_stats["act_mean"][0, first]), 2),
            )
        )
    norms = ", ".join(_("{value} in layer {layer}", value=num(v, 3), layer=i + 1) for i, v in moved.items())
    parts.append(
        _(
            "The weights moved (‖W_end − W_0‖ = {norms}) but every column is still identical: every unit got "
            "the same update at every step.",
            norms=norms,
        )
    )
    return _("**{label}**: {verdict}", label=panel.label, verdict=" ".join(parts))


def broken_badly_sentence(panel: Panel, reference: Panel) -> str | None:
    """Equal weights with random biases: the units differ from the start, but only through their biases,
    and their weight vectors stay (nearly) parallel for long. None for any other start.
    """
    rec = panel.record
    start = start_distinct(rec)
    if not starts_symmetric(rec) or start.max() <= 1:
        return None
    # The last hidden layer (past the 2-D input) says most: random vectors in many dimensions are nearly
    # orthogonal, so a mean |cosine| near 1 there cannot be chance.
    layer = hidden_depth(rec) - 1
    steps, cos = abs_cosine_curve(rec, layer)
    ref_cos = abs_cosine_curve(reference.record, layer)[1]
    parts = [
        _(
            "**{label}**: the units start different only through their random biases ({distinct} distinct of "
            "{width} in hidden layer {layer}); every weight vector starts the same.",
            label=panel.label,
            distinct=start[layer],
            width=rec.sizes[layer + 1],
            layer=layer + 1,
        )
    ]
    together = [int(s) for s, c in zip(steps[1:], cos[1:]) if np.isfinite(c) and c >= MOVE_TOGETHER]
    end_cos = float(cos[-1])
    end_ref = float(ref_cos[-1]) if ref_cos.size else float("nan")
    values = {
        "layer": layer + 1,
        "cosine": decimal(end_cos, 2),
        "last": int(steps[-1]),
        "reference": reference.label,
        "reference_cosine": decimal(end_ref, 2),
    }
    if together and together[-1] == int(steps[-1]):
        parts.append(
            _(
                "The weight vectors of hidden layer {layer} move together: mean |cosine| ≥ 0.99 until step "
                "{step} ({reference}: {reference_cosine}).",
                step=together[-1],
                **values,
            )
        )
    elif together:
        parts.append(
            _(
                "The weight vectors of hidden layer {layer} move together: mean |cosine| ≥ 0.99 until step "
                "{step}, {cosine} at step {last} ({reference}: {reference_cosine}).",
                step=together[-1],
                **values,
            )
        )
    elif np.isfinite(end_cos):
        parts.append(
            _(
                "At step {last} the weight vectors of hidden layer {layer} have mean |cosine| {cosine} "
                "({reference}: {reference_cosine}).",
                **values,
            )
        )
    else:
        return parts[0]
    if end_cos >= PARALLEL:
        parts.append(
            _(
                "Symmetry is broken, but badly: the weight vectors are nearly parallel, so the layer is a rank-1 "
                "bottleneck. Its units compute different functions (their biases differ) of one and the same "
                "projection of the input."
            )
        )
    elif np.isfinite(end_ref) and end_cos > end_ref + 0.05:
        parts.append(_("Symmetry is broken, but slowly: the units are still more alike than random ones."))
    return " ".join(parts)


def heatmap_sentence(panels: Sequence[Panel], checkpoint: int, layer: int) -> str:
    """Counts the distinct columns in exactly the matrices the heatmap shows (and flags parallel ones)."""
    parts = []
    for p in panels:
        W = p.record.weight_snapshots[checkpoint][layer]
        n, d = W.shape[1], distinct_vectors(W)
        cos = float(mean_abs_cosine(W))
        values = {"label": p.label, "n": n, "distinct": d, "cosine": decimal(cos, 2)}
        if d == 1:
            parts.append(_("{label}: all {n} columns are identical", **values))
        elif np.isfinite(cos) and cos >= MOVE_TOGETHER:
            parts.append(
                _(
                    "{label}: all {n} columns differ, but they are parallel (mean |cosine| {cosine}): they "
                    "differ only in length and sign",
                    **values,
                )
                if d == n
                else _(
                    "{label}: {distinct} distinct columns of {n}, but they are parallel (mean |cosine| "
                    "{cosine}): they differ only in length and sign",
                    **values,
                )
            )
        elif d == n:
            parts.append(_("{label}: all {n} columns differ", **values))
        else:
            parts.append(_("{label}: {distinct} distinct columns of {n}", **values))
    return _(
        "Step {step}, hidden layer {layer} — {counts}.",
        step=int(panels[0].record.hist_steps[checkpoint]),
        layer=layer + 1,
        counts="; ".join(parts),
    )


def accuracy_sentence(panels: Sequence[Panel], split: DataSplit | None) -> str:
    """Final test accuracy of every run, against always guessing the most frequent class."""
    results = "; ".join(
        _("{label}: {value}", label=p.label, value=pct(final_test_acc(p.record))) for p in panels
    )
    at = when(int(panels[0].record.eval_steps[-1]))
    if split is None:
        return _("Test accuracy {when} — {results}.", when=at, results=results)
    majority = float(class_frequencies(split.y_test, panels[0].record.sizes[-1]).max())
    return _(
        "Test accuracy {when} — {results} (always guessing the most frequent class scores {majority}).",
        when=at,
        results=results,
        majority=pct(majority),
    )


def distinct_chart_sentence(panels: Sequence[Panel]) -> str:
    """The distinct-units chart in one sentence, for a screen reader: each start's count at the last step."""
    counts = "; ".join(_("{label}: {value}", label=p.label, value=distinct_text(p.record)) for p in panels)
    return _(
        "Distinct units per hidden layer {when} — {counts}.",
        when=when(int(panels[0].record.stat_steps[-1])),
        counts=counts,
    )

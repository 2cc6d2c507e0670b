"""Numbers and computed sentences of the Depth lesson: how the signal and the gradient travel through layers.

Pure: RunRecord (+ the mean-field prediction from core.theory) in, numbers or sentences out; no streamlit, no plotly.
Over 500 lines because every computed sentence is written out whole, once per case, for translation (issue 19).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.config import ExperimentConfig
from core.modern_record import is_modern
from core.records import Histogram, RunRecord
from i18n import N_, LazyString, _, ngettext
from i18n.numbers import TIMES, num, pct
from analysis import divergence

# The lesson's default experiment: the classic tutorial start N(0, 0.01²) in 10 tanh layers of 64 units,
# whose signal collapses, and a short training run; at these sizes the page computes in well under a second.
DEFAULTS = {
    "schemes": ("normal",),
    "weight_std": 0.01,
    "depth": 10,
    "width": 64,
    "activation": "tanh",
    "batch_size": 256,
    "steps": 100,
}
# Settings the page does not show: statistics every 10 steps, histograms at 6 checkpoints.
FIXED = {"record_every": 10, "n_checkpoints": 6}
# Schemes the mean-field prediction does not cover, and why (the page says it in these words).
NO_THEORY = {
    "zeros": N_(
        "Mean-field theory describes random, zero-mean weights; it has nothing to say about this start."
    ),
    "constant": N_(
        "Mean-field theory describes random, zero-mean weights; it has nothing to say about this start."
    ),
    "lsuv": N_(
        "LSUV rescales every layer on this very batch until Var[z] = 1, so the spread is set by construction, "
        "not predicted: the theory's line is left out."
    ),
}
# A layer counts as "mostly saturated" / "mostly dead" above these fractions.
SATURATED = 0.5
DEAD = 0.1
# A final test accuracy less than this far above 1/k (k balanced classes) counts as chance level.
CHANCE_MARGIN = 0.05
# The histogram sentence gives the interval that holds this central share of a layer's activations.
CENTRAL = 0.98


def default_config(**changes: object) -> ExperimentConfig:
    """The page's experiment with its defaults and fixed settings (and `changes`), as the page runs it."""
    return ExperimentConfig(**{**DEFAULTS, **FIXED, **changes})


# ---------------------------------------------------------------------------------------------- records


def stat_index(record: RunRecord, step: int) -> int:
    """Index into `record.stat_steps` of the recorded step nearest to `step`."""
    return int(np.argmin(np.abs(np.asarray(record.stat_steps) - step)))


def hist_fractions(hist: Histogram, c: int, n_layers: int) -> tuple[np.ndarray, np.ndarray]:
    """Share of entries per bin for the first `n_layers` layers at checkpoint `c`.

    Returns (fractions (n_layers, B), totals (n_layers,)). A log10|value| histogram keeps exact zeros out
    of its bins, so they join the denominator there (a layer of all zeros has all-zero bars); a linear
    histogram already counts them in the bin around 0.
    """
    counts = np.asarray(hist.counts[c, :n_layers], dtype=float)
    totals = counts.sum(axis=1)
    if hist.transform == "log10abs":
        totals = totals + np.asarray(hist.zeros[c, :n_layers], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(totals[:, None] > 0, counts / totals[:, None], 0.0)
    return frac, totals


def hist_layers(record: RunRecord, kind: str) -> int:
    """Activations are shown for the hidden layers; weights and gradients for every weight matrix."""
    n = len(record.sizes) - 1  # L + 1
    return n - 1 if kind in ("act", "pre") else n


def unit_health(record: RunRecord, step: int) -> tuple[str, np.ndarray] | None:
    """('saturated' | 'dead', per-hidden-layer fraction (L,)) at `step`, or None if neither applies."""
    L = len(record.sizes) - 2
    i = stat_index(record, step)
    for name, key in (("saturated", "saturation"), ("dead", "dead")):
        values = np.asarray(record.layer_stats[key][i, :L], dtype=float)
        if np.isfinite(values).any():
            return name, values
    return None


def _central_interval(counts: np.ndarray, edges: np.ndarray, share: float = CENTRAL) -> tuple[float, float]:
    """Edges of the bins that hold the central `share` of the counts (bin resolution)."""
    cum = np.cumsum(counts) / counts.sum()
    tail = (1 - share) / 2
    lo = int(np.searchsorted(cum, tail, side="right"))
    hi = int(np.searchsorted(cum, 1 - tail, side="left"))
    a, b = float(edges[lo]), float(edges[min(hi, len(edges) - 2) + 1])
    tiny = 1e-9 * float(edges[1] - edges[0])  # an edge at 0 up to linspace's rounding
    return (0.0 if abs(a) < tiny else a), (0.0 if abs(b) < tiny else b)


# ---------------------------------------------------------------------------------------------- prediction


@dataclass(frozen=True)
class Prediction:
    """Mean-field prediction for one network at initialization (infinite width).

    act_std: (L,) predicted std of each hidden layer's activations; grad_std: (L + 1,) predicted std
    of ∂loss/∂z per layer, anchored at the measured output-layer value (theory gives the ratios).
    """

    act_std: np.ndarray
    grad_std: np.ndarray


@lru_cache(maxsize=256)
def _input_moments(
    dataset: str, n_samples: int, noise: float, n_classes: int, data_seed: int
) -> tuple[float, float]:
    from core.data import load

    X = load(dataset, n_samples, noise, n_classes, data_seed).X_train
    return float(np.mean(X * X)), float(X.std())


def input_moments(config: ExperimentConfig) -> tuple[float, float]:
    """(mean of x², std of x) over the standardized training inputs of `config`'s data set."""
    return _input_moments(config.dataset, config.n_samples, config.noise, config.n_classes, config.data_seed)


def predict(record: RunRecord, input_second_moment: float) -> Prediction | None:
    """The mean-field prediction (core.theory.predict_layers) for this record's network at initialization.

    Per-layer weight variances are the scheme's exact ones (core.initializers.weight_std). None for the
    schemes in NO_THEORY, for residual or normalized networks (the recursion is for plain ones), or where the
    recursion leaves the floating-point range.
    """
    from core.initializers import bias_std, weight_std
    from core.theory import predict_layers
    from core.train import init_params

    c, sizes = record.config, list(record.sizes)
    if record.scheme in NO_THEORY or is_modern(c):
        return None
    L, i0 = len(sizes) - 2, stat_index(record, 0)
    fans = list(zip(sizes[:-1], sizes[1:]))
    v = [weight_std(record.scheme, a, b, c.activation, **init_params(c)) ** 2 for a, b in fans]
    bias_mean = c.bias_value if c.bias_init == "constant" else 0.0
    bias_var = [bias_std(c.bias_init, a, c.bias_value) ** 2 for a, _ in fans]
    try:
        with np.errstate(all="ignore"):
            out = predict_layers(
                sizes,
                v,
                bias_var,
                c.activation,
                input_second_moment,
                slope=c.leaky_slope,
                bias_mean=bias_mean,
            )
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
    bp_out = float(record.layer_stats["backprop_std"][i0, L])
    with np.errstate(all="ignore"):
        act, grad = np.sqrt(out["act_var"][:L]), np.sqrt(out["grad_var"]) * bp_out
    if getattr(c, "output_init", "same") == "zeros":
        grad = grad.copy()
        grad[:L] = 0.0  # W_out = 0: nothing flows back into the hidden layers at step 0
    if not (np.isfinite(act).all() and np.isfinite(grad).all()):
        return None
    return Prediction(act_std=act, grad_std=grad)


# ---------------------------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class DepthSummary:
    """The numbers behind the page's sentences, from the measured stds at initialization."""

    depth: int
    signal_ratio: float  # std of the last hidden layer's activations / std of the input
    signal_factor: float  # geometric mean factor per layer, layer 1 -> L: first_to_last ** (1 / (L - 1))
    first_to_last: float  # std of layer L / std of layer 1
    grad_ratio: float  # std of ∂loss/∂z at layer 1 / at the output layer
    grad_first_to_last: float  # std of ∂loss/∂z at layer 1 / at layer L: the layers grad_factor is from
    grad_factor: float  # per layer going backwards, layer L -> 1: grad_first_to_last ** (1 / (L - 1))
    health: str | None  # "saturated" | "dead" | None
    health_mean: float  # mean over hidden layers of that fraction (NaN if None)
    zero_layer: int | None  # first hidden layer whose activations have std exactly 0, if any
    zero_weights: bool  # that layer's weights have std 0 (all equal), rather than an underflow
    output_zero: bool = False  # the output layer started at zero (config.output_init)


def _geo(ratio: float, n: int) -> float:
    if not math.isfinite(ratio):
        return ratio
    return ratio ** (1.0 / n) if ratio > 0 else 0.0


def summarize(record: RunRecord, input_std: float) -> DepthSummary:
    """Per-layer factors of the signal (forward) and the gradient (backward) at step 0.

    The factors are geometric means over the hidden layers (layer 1 to L), the square layers an init rule
    is about; the input and output layers have other fans and enter only the end-to-end ratios. With one
    hidden layer the factors are the end-to-end ratios.
    """
    L = len(record.sizes) - 2
    i0 = stat_index(record, 0)
    act = np.asarray(record.layer_stats["act_std"][i0], dtype=float)
    grad = np.asarray(record.layer_stats["backprop_std"][i0], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal_ratio = float(act[L - 1] / input_std)
        first_to_last = float(act[L - 1] / act[0]) if act[0] > 0 else float("nan")
        grad_ratio = float(grad[0] / grad[L]) if grad[L] > 0 else float("nan")
        grad_hidden = float(grad[0] / grad[L - 1]) if grad[L - 1] > 0 else float("nan")
    health = unit_health(record, 0)
    zeros = np.flatnonzero(act[:L] == 0)
    return DepthSummary(
        depth=L,
        signal_ratio=signal_ratio,
        signal_factor=_geo(first_to_last, L - 1) if L > 1 else signal_ratio,
        first_to_last=first_to_last,
        grad_ratio=grad_ratio,
        grad_first_to_last=grad_hidden if L > 1 else grad_ratio,
        grad_factor=_geo(grad_hidden, L - 1) if L > 1 else grad_ratio,
        health=health[0] if health else None,
        health_mean=float(np.nanmean(health[1])) if health else float("nan"),
        zero_layer=int(zeros[0]) + 1 if zeros.size else None,
        zero_weights=bool(zeros.size and record.layer_stats["weight_std"][i0, zeros[0]] == 0),
        output_zero=getattr(record.config, "output_init", "same") == "zeros",
    )


# ---------------------------------------------------------------------------------------------- words


def fmt_ratio(x: float) -> str:
    """A ratio in the house style (i18n.numbers.num): 0.08, 3.2, 2.0×10⁻¹¹, 10⁸; "exactly 0" for 0."""
    return _("exactly 0") if x == 0 else num(x)


def fmt_value(x: float) -> str:
    """A value on an axis or in a metric: 0, −0.05, 1.3, 6.7×10⁶; — when it is not a number."""
    if math.isnan(x):
        return "—"
    return num(x)


def fmt_factor(x: float) -> str:
    """A per-layer factor: three significant digits, so that its power over the layers matches the ratio."""
    if math.isnan(x):
        return "—"
    return _("exactly 0") if x == 0 else num(x, 3)


def layer_names(n: int, with_output: bool) -> list[str]:
    """'layer 1' .. 'layer n' (and 'output' as the last entry when `with_output`), in the session's language."""
    names = [_("layer {layer}", layer=j + 1) for j in range(n)]
    if with_output:
        names[-1] = _("output")
    return names


# ---------------------------------------------------------------------------------------------- theory


def theory_sentence(record: RunRecord, prediction: Prediction | None, input_std: float) -> str:
    """Predicted vs measured std of the last hidden layer (and of the gradient at layer 1), at step 0."""
    if prediction is None:
        if record.scheme in NO_THEORY:
            return str(NO_THEORY[record.scheme])
        if is_modern(record.config):
            return _(
                "The mean-field recursion drawn here is for plain networks without normalization (Schoenholz et "
                "al. 2017), so no prediction is drawn for this residual or normalized network; the "
                "Normalization & residuals lesson derives the recursion of a residual stream."
            )
        return _("The mean-field recursion leaves the floating-point range here, so no prediction is drawn.")
    L, i0 = len(record.sizes) - 2, stat_index(record, 0)
    measured = float(record.layer_stats["act_std"][i0, L - 1])
    predicted = float(prediction.act_std[L - 1])
    g_meas = float(record.layer_stats["backprop_std"][i0, 0])
    g_pred = float(prediction.grad_std[0])
    line = _(
        "Before any training, mean-field theory predicted a std of {predicted} at layer {layer} (input "
        "{input}); the network measured {measured}. For the gradient at layer 1 it predicted {grad_predicted}, "
        "measured {grad_measured}.",
        predicted=fmt_ratio(predicted),
        layer=L,
        input=fmt_ratio(input_std),
        measured=fmt_ratio(measured),
        grad_predicted=fmt_ratio(g_pred),
        grad_measured=fmt_ratio(g_meas),
    )
    if predicted > 0 and measured > 0 and math.isfinite(measured):
        off = measured / predicted
        if off > 1.5 or off < 1 / 1.5:
            line += " " + ngettext(
                "The theory is for infinitely wide layers: a real layer of {n} unit wanders around it, "
                "here to {ratio} × the prediction at layer {layer}.",
                "The theory is for infinitely wide layers: a real layer of {n} units wanders around it, "
                "here to {ratio} × the prediction at layer {layer}.",
                int(record.config.width),
                ratio=fmt_ratio(off),
                layer=L,
            )
    return line


# ---------------------------------------------------------------------------------------------- histograms


def _when(
    first: bool,
    step: int,
    at_init: LazyString | None,
    at_step: LazyString,
    later: LazyString,
    **values: object,
) -> str:
    """One sentence of a few about layers: the first says when (at initialization, at step s), the later ones
    do not repeat it. Each case is a whole message (marked with N_ at the call)."""
    message = (at_init if first and step == 0 and at_init is not None else at_step) if first else later
    return _(message.message, step=step, **values)


def log_activation_sentence(hist: Histogram, depth: int, c: int, step: int) -> str:
    """Where the typical |h| sits in layer 1 and in the last hidden layer at checkpoint c, in powers of ten."""
    edges = np.asarray(hist.edges, dtype=float)
    lines = []
    for j in sorted({0, depth - 1}):
        counts = np.asarray(hist.counts[c, j], dtype=float)
        zeros = int(hist.zeros[c, j])
        first = not lines
        if counts.sum() == 0:
            lines.append(
                _when(
                    first,
                    step,
                    N_("At initialization, every activation of layer {layer} is exactly 0."),
                    N_("At step {step}, every activation of layer {layer} is exactly 0."),
                    N_("Every activation of layer {layer} is exactly 0."),
                    layer=j + 1,
                )
            )
            continue
        b = int(np.searchsorted(np.cumsum(counts) / counts.sum(), 0.5))
        lines.append(
            _when(
                first,
                step,
                N_("At initialization, a typical |h| in layer {layer} lies between {low} and {high}."),
                N_("At step {step}, a typical |h| in layer {layer} lies between {low} and {high}."),
                N_("A typical |h| in layer {layer} lies between {low} and {high}."),
                layer=j + 1,
                low=fmt_ratio(10 ** edges[b]),
                high=fmt_ratio(10 ** edges[b + 1]),
            )
        )
        zero = zeros / (counts.sum() + zeros)
        if zero >= 0.005:
            lines.append(_("{share} of its activations are exactly 0.", share=pct(zero)))
    return " ".join(lines)


def histogram_sentence(record: RunRecord, kind: str, c: int) -> str:
    """What to look for in a histogram at checkpoint `c`: the spread of layer 1 vs the last layer."""
    hist = record.hists[kind]
    n = hist_layers(record, kind)
    step = int(record.hist_steps[c])
    counts = np.asarray(hist.counts[c, :n], dtype=float)
    edges = np.asarray(hist.edges, dtype=float)
    if hist.transform == "log10abs":
        return _log_histogram_sentence(hist, counts, edges, n, c, step, kind in ("grad", "weight"))
    L, i = len(record.sizes) - 2, stat_index(record, step)
    width = float(edges[1] - edges[0])
    lines, spikes = [], []
    for j in sorted({0, n - 1}):
        first = not lines
        if counts[j].sum() == 0:
            lines.append(
                _when(
                    first,
                    step,
                    None,
                    N_("At step {step}, no activation of layer {layer} is a finite number."),
                    N_("In layer {layer}, no activation is a finite number."),
                    layer=j + 1,
                )
            )
            continue
        lo, hi = _central_interval(counts[j], edges)
        std = float(record.layer_stats["act_std"][i, j]) if j < L else math.nan
        lines.append(
            _when(
                first,
                step,
                None,
                N_(
                    "At step {step}, {share} of the activations of layer {layer} lie between {low} and {high} (std {std})."
                ),
                N_("In layer {layer}, they lie between {low} and {high} (std {std})."),
                layer=j + 1,
                share=pct(CENTRAL),
                low=fmt_value(lo),
                high=fmt_value(hi),
                std=fmt_ratio(std),
            )
        )
        if 0 <= std < width / 4:
            spikes.append(j + 1)
    if spikes and c == 0:
        if len(spikes) == 1:
            lines.append(
                _(
                    "With bins {width} wide, layer {layer} is a single spike here: the heatmap of log₁₀|h| (first "
                    "tab) shows its shape.",
                    width=fmt_value(width),
                    layer=spikes[0],
                )
            )
        else:
            lines.append(
                _(
                    "With bins {width} wide, layers {first} and {last} are single spikes here: the heatmap of "
                    "log₁₀|h| (first tab) shows their shape.",
                    width=fmt_value(width),
                    first=spikes[0],
                    last=spikes[-1],
                )
            )
    ends = counts[:, [0, -1]].sum(axis=1) / np.maximum(counts.sum(axis=1), 1)
    if record.config.activation in ("tanh", "sigmoid") and ends.max() >= 0.05:
        j = int(np.argmax(ends))
        lines.append(
            _(
                "{share} of the activations of layer {layer} sit in the end bins, at saturation.",
                share=pct(ends[j]),
                layer=j + 1,
            )
        )
    return " ".join(lines)


def _log_histogram_sentence(
    hist: Histogram, counts: np.ndarray, edges: np.ndarray, n: int, c: int, step: int, with_output: bool
) -> str:
    """The typical size of the weight gradients of the last layer and of layer 1 (a log10|value| histogram)."""
    lines = []
    for j in sorted({n - 1, 0}, reverse=True):
        output = with_output and j == n - 1
        first = not lines
        if counts[j].sum() == 0:
            lines.append(
                _when(
                    first,
                    step,
                    None,
                    N_("At step {step}, every weight gradient of the output layer is exactly 0.")
                    if output
                    else N_("At step {step}, every weight gradient of layer {layer} is exactly 0."),
                    N_("Every weight gradient of layer {layer} is exactly 0."),
                    layer=j + 1,
                )
            )
            continue
        b = int(np.searchsorted(np.cumsum(counts[j]) / counts[j].sum(), 0.5))
        lines.append(
            _when(
                first,
                step,
                None,
                N_("At step {step}, the weight gradients of the output layer are typically {size}.")
                if output
                else N_("At step {step}, the weight gradients of layer {layer} are typically {size}."),
                N_("Those of layer {layer} are typically {size}."),
                layer=j + 1,
                size=fmt_ratio(10 ** ((edges[b] + edges[b + 1]) / 2)),
            )
        )
        total = counts[j].sum() + hist.zeros[c, j]
        zero = hist.zeros[c, j] / total if total else 0.0
        if zero >= 0.005:
            lines.append(_("{share} of them are exactly 0.", share=pct(zero)))
    return " ".join(lines)


# ---------------------------------------------------------------------------------------------- saturation


def saturation_sentence(record: RunRecord, step: int) -> str:
    """Which layer has the most saturated / dead units at `step`, and the mean over layers."""
    health = unit_health(record, step)
    s = int(record.stat_steps[stat_index(record, step)])
    if health is None:
        return _(
            "{activation} has no flat region where units saturate, and is not ReLU, whose units can die; "
            "this chart stays empty.",
            activation=record.config.activation,
        )
    name, values = health
    j = int(np.nanargmax(values))
    if values[j] < 0.005:
        if name == "saturated":
            return _("At step {step}, no layer has saturated units (|h| > 0.99 nowhere).", step=s)
        return _("At step {step}, no layer has dead units.", step=s)
    values_ = {"step": s, "mean": pct(np.nanmean(values)), "layer": j + 1, "share": pct(values[j])}
    if name == "saturated":
        return _(
            "At step {step}, {mean} of the hidden units are saturated (|h| > 0.99, derivative near 0) on "
            "average; the most in layer {layer}: {share}.",
            **values_,
        )
    return _(
        "At step {step}, {mean} of the hidden units are dead (0 on every example) on average; the most in "
        "layer {layer}: {share}.",
        **values_,
    )


# ---------------------------------------------------------------------------------------------- training


def training_sentence(record: RunRecord) -> str:
    """How far the short training run got: loss and test accuracy at the start and the end, and a verdict
    that agrees with both (a loss that falls while the accuracy stays at chance is not "trained")."""
    if record.diverged_at is not None:
        return divergence.sentence(record)
    if len(record.train_loss) < 2:
        return _("No training steps were taken: the charts show the network at initialization.")
    a, b = float(record.train_loss[0]), float(record.train_loss[-1])
    acc0, acc1 = float(record.test_acc[0]), float(record.test_acc[-1])
    steps = int(record.eval_steps[-1])
    k = int(record.sizes[-1])
    chance = 1.0 / k
    values = {"start": num(a, 3), "end": num(b, 3), "acc_start": pct(acc0), "acc_end": pct(acc1)}
    if abs(a - b) < 0.02 * max(a, 1e-12):
        line = ngettext(
            "In {n} step the training loss barely moved: {start} → {end}; the test accuracy went {acc_start} → "
            "{acc_end}.",
            "In {n} steps the training loss barely moved: {start} → {end}; the test accuracy went {acc_start} → "
            "{acc_end}.",
            steps,
            **values,
        )
    elif b < a:
        line = ngettext(
            "In {n} step the training loss fell: {start} → {end}; the test accuracy went {acc_start} → {acc_end}.",
            "In {n} steps the training loss fell: {start} → {end}; the test accuracy went {acc_start} → {acc_end}.",
            steps,
            **values,
        )
    else:
        line = ngettext(
            "In {n} step the training loss rose: {start} → {end}; the test accuracy went {acc_start} → {acc_end}.",
            "In {n} steps the training loss rose: {start} → {end}; the test accuracy went {acc_start} → {acc_end}.",
            steps,
            **values,
        )
    if acc1 < chance + CHANCE_MARGIN:
        line += " " + _(
            "That is still chance level (guessing among {k} balanced classes scores about {chance}): the "
            "network has not learned to classify yet.",
            k=k,
            chance=pct(chance),
        )
    return line


# ---------------------------------------------------------------------------------------------- verdicts


def summary_metrics(s: DepthSummary) -> list[tuple[str, str, str]]:
    """(label, value, help) of the page's headline numbers at initialization.

    The per-layer factors and the ratio beside them are from the same layers: ratio = factor^(L − 1).
    """
    L = s.depth
    if L > 1:
        signal_help = _(
            "Std factor per layer of the activations h, from layer 1 to layer {layer}: the geometric mean of "
            "what each layer multiplies the std by (the variance changes by its square).",
            layer=L,
        )
        ratio = (
            _("Layer {layer} ÷ layer 1", layer=L),
            fmt_value(s.first_to_last),
            _(
                "Std of layer {layer}'s activations divided by the std of layer 1's: the per-layer factor to "
                "the power {power}.",
                layer=L,
                power=L - 1,
            ),
        )
    else:
        signal_help = _(
            "Std factor of the activations h from the input to layer 1 (the variance changes by its square)."
        )
        ratio = (
            _("Layer 1 ÷ input"),
            fmt_value(s.signal_ratio),
            _("Std of layer 1's activations divided by the std of the input."),
        )
    out = [
        (_("Signal per layer"), TIMES + fmt_factor(s.signal_factor), signal_help),
        ratio,
        (
            _("Gradient per layer"),
            TIMES + fmt_factor(s.grad_factor),
            _(
                "Std factor per layer of the gradient ∂loss/∂z, going back from layer {layer} to layer 1 "
                "(geometric mean).",
                layer=L,
            ),
        ),
    ]
    if s.health is not None:
        health_help = _(
            "Mean over the hidden layers of the share of saturated (|h| > 0.99) or dead (0 on every example) "
            "units."
        )
        label = _("Saturated units") if s.health == "saturated" else _("Dead units")
        out.append((label, pct(s.health_mean), health_help))
    return out


# The verdict sentences, one whole message per case: (signal | gradient, more than one hidden layer, trend).
_TRENDS = {
    ("signal", True, "shrinks"): N_(
        "The signal shrinks: its std changes ×{factor} per layer (variance ×{variance}) from layer 1 to "
        "layer {layer}, so layer {layer}'s std is {ratio} × layer 1's. Against the input, layer "
        "{layer}'s std is {input_ratio} × the input's."
    ),
    ("signal", True, "grows"): N_(
        "The signal grows: its std changes ×{factor} per layer (variance ×{variance}) from layer 1 to "
        "layer {layer}, so layer {layer}'s std is {ratio} × layer 1's. Against the input, layer "
        "{layer}'s std is {input_ratio} × the input's."
    ),
    ("signal", True, "keeps"): N_(
        "The signal keeps its size: its std changes ×{factor} per layer (variance ×{variance}) from "
        "layer 1 to layer {layer}, so layer {layer}'s std is {ratio} × layer 1's. Against the input, "
        "layer {layer}'s std is {input_ratio} × the input's."
    ),
    ("signal", False, "shrinks"): N_(
        "The signal shrinks: layer 1's std is {input_ratio} × the input's (variance ×{variance})."
    ),
    ("signal", False, "grows"): N_(
        "The signal grows: layer 1's std is {input_ratio} × the input's (variance ×{variance})."
    ),
    ("signal", False, "keeps"): N_(
        "The signal keeps its size: layer 1's std is {input_ratio} × the input's (variance ×{variance})."
    ),
    ("gradient", True, "shrinks"): N_(
        "Going back through the network, the gradient ∂loss/∂z shrinks: its std changes ×{factor} per "
        "layer from layer {layer} to layer 1, so layer 1's is {ratio} × layer {layer}'s ({output_ratio} "
        "× the output layer's)."
    ),
    ("gradient", True, "grows"): N_(
        "Going back through the network, the gradient ∂loss/∂z grows: its std changes ×{factor} per "
        "layer from layer {layer} to layer 1, so layer 1's is {ratio} × layer {layer}'s ({output_ratio} "
        "× the output layer's)."
    ),
    ("gradient", True, "keeps"): N_(
        "Going back through the network, the gradient ∂loss/∂z keeps its size: its std changes "
        "×{factor} per layer from layer {layer} to layer 1, so layer 1's is {ratio} × layer {layer}'s "
        "({output_ratio} × the output layer's)."
    ),
    ("gradient", False, "shrinks"): N_(
        "Going back from the output, the gradient ∂loss/∂z shrinks: at layer 1 its std is "
        "{output_ratio} × the output layer's."
    ),
    ("gradient", False, "grows"): N_(
        "Going back from the output, the gradient ∂loss/∂z grows: at layer 1 its std is "
        "{output_ratio} × the output layer's."
    ),
    ("gradient", False, "keeps"): N_(
        "Going back from the output, the gradient ∂loss/∂z keeps its size: at layer 1 its std is "
        "{output_ratio} × the output layer's."
    ),
}


def _trend_sentence(what: str, factor: float, deep: bool, /, **values: object) -> str:
    """The verdict for a per-layer factor: the signal or gradient shrinks (< 0.9), grows (> 1.1) or keeps its size."""
    trend = "shrinks" if factor < 0.9 else "grows" if factor > 1.1 else "keeps"
    return _(_TRENDS[what, deep, trend].message, **values)


def signal_verdict(s: DepthSummary) -> str:
    """One line: how the signal's std changes per layer, and the end-to-end ratio over the same layers."""
    L = s.depth
    if s.zero_layer is not None:
        if s.zero_weights:
            return _(
                "The signal is gone: from layer {layer} on the activations do not vary at all (std exactly 0; "
                "its weights are all equal), so the network's output no longer depends on its input.",
                layer=s.zero_layer,
            )
        return _(
            "The signal is gone: from layer {layer} on the activations do not vary at all (std exactly 0; the "
            "values underflowed), so the network's output no longer depends on its input.",
            layer=s.zero_layer,
        )
    if not math.isfinite(s.signal_ratio) or (L > 1 and not math.isfinite(s.first_to_last)):
        return _(
            "The signal overflows: at layer {layer} the activations are no longer finite numbers.", layer=L
        )
    g = s.signal_factor
    values = {
        "factor": fmt_factor(g),
        "variance": fmt_ratio(g * g),
        "layer": L,
        "ratio": fmt_ratio(s.first_to_last),
        "input_ratio": fmt_ratio(s.signal_ratio),
    }
    text = _trend_sentence("signal", g, L > 1, **values)
    if s.health == "saturated" and s.health_mean > SATURATED:
        text += " " + _(
            "{share} of the units are saturated (|h| > 0.99), where the derivative of tanh or sigmoid is "
            "nearly 0; large weights can still make the gradient grow on its way back (below).",
            share=pct(s.health_mean),
        )
    elif s.health == "dead" and s.health_mean > DEAD:
        text += " " + _("{share} of the units are dead (0 on every example).", share=pct(s.health_mean))
    return text


def gradient_verdict(s: DepthSummary) -> str:
    """One line: how ∂loss/∂z changes per layer from layer L back to layer 1, and the ratio over those layers."""
    L = s.depth
    if s.grad_ratio == 0 and s.output_zero:
        return _(
            "The output layer starts at zero, so at step 0 no gradient flows back into the hidden layers "
            "(∂loss/∂z is exactly 0 there); the first step makes the output weights non-zero, and from then "
            "on the random hidden layers learn."
        )
    if not math.isfinite(s.grad_ratio) or s.grad_ratio == 0 or not math.isfinite(s.grad_first_to_last):
        return _("The gradient does not reach layer 1: it is exactly 0 or not a finite number there.")
    h = s.grad_factor
    values = {
        "factor": fmt_factor(h),
        "layer": L,
        "ratio": fmt_ratio(s.grad_first_to_last),
        "output_ratio": fmt_ratio(s.grad_ratio),
    }
    return _trend_sentence("gradient", h, L > 1, **values)

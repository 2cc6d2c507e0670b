"""Numbers and computed sentences of the Depth lesson: how the signal and the gradient travel through layers.

Pure: RunRecord (+ the mean-field prediction from core.theory) in, numbers or sentences out; no streamlit, no plotly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.config import ExperimentConfig
from core.records import Histogram, RunRecord
from i18n.numbers import num, pct

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


def default_config(**changes: object) -> ExperimentConfig:
    """The page's experiment with its defaults and fixed settings (and `changes`), as the page runs it."""
    return ExperimentConfig(**{**DEFAULTS, **FIXED, **changes})


# Schemes the mean-field prediction does not cover, and why (the page says it in these words).
NO_THEORY = {
    "zeros": "Mean-field theory describes random, zero-mean weights; it has nothing to say about this start.",
    "constant": "Mean-field theory describes random, zero-mean weights; it has nothing to say about this start.",
    "lsuv": "LSUV rescales every layer on this very batch until Var[z] = 1, so the spread is set by "
    "construction, not predicted: the theory's line is left out.",
}


# A layer counts as "mostly saturated" / "mostly dead" above these fractions.
SATURATED = 0.5


DEAD = 0.1


# A final test accuracy less than this far above 1/k (k balanced classes) counts as chance level.
CHANCE_MARGIN = 0.05


def fmt_ratio(x: float) -> str:
    """A ratio in the house style (i18n.numbers.num): 0.08, 3.2, 2.0×10⁻¹¹, 10⁸; "exactly 0" for 0."""
    return "exactly 0" if x == 0 else num(x)


def fmt_value(x: float) -> str:
    """A value on an axis or in a metric: 0, −0.05, 1.3, 6.7×10⁶; — when it is not a number."""
    if math.isnan(x):
        return "—"
    return num(x)


def stat_index(record: RunRecord, step: int) -> int:
    """Index into `record.stat_steps` of the recorded step nearest to `step`."""
    return int(np.argmin(np.abs(np.asarray(record.stat_steps) - step)))


def layer_names(n: int, with_output: bool) -> list[str]:
    """'layer 1' .. 'layer n' (and 'output' as the last entry when `with_output`)."""
    names = [f"layer {j + 1}" for j in range(n)]
    if with_output:
        names[-1] = "output"
    return names


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


def log_activation_sentence(hist: Histogram, depth: int, c: int, step: int) -> str:
    """Where the typical |h| sits in layer 1 and in the last hidden layer at checkpoint c, in powers of ten."""
    edges = np.asarray(hist.edges, dtype=float)
    parts = []
    for j in sorted({0, depth - 1}):
        counts = np.asarray(hist.counts[c, j], dtype=float)
        zeros = int(hist.zeros[c, j])
        if counts.sum() == 0:
            parts.append(f"in layer {j + 1} every activation is exactly 0")
            continue
        b = int(np.searchsorted(np.cumsum(counts) / counts.sum(), 0.5))
        zero = zeros / (counts.sum() + zeros)
        parts.append(
            f"a typical |h| in layer {j + 1} lies between {fmt_ratio(10 ** edges[b])} and "
            f"{fmt_ratio(10 ** edges[b + 1])}" + (f" ({pct(zero)} exactly 0)" if zero >= 0.005 else "")
        )
    return ("At initialization, " if step == 0 else f"At step {step}, ") + "; ".join(parts) + "."


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
    schemes in NO_THEORY or where the recursion leaves the floating-point range.
    """
    from core.initializers import bias_std, weight_std
    from core.theory import predict_layers
    from core.train import init_params

    c, sizes = record.config, list(record.sizes)
    if record.scheme in NO_THEORY:
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


def theory_sentence(record: RunRecord, prediction: Prediction | None, input_std: float) -> str:
    """Predicted vs measured std of the last hidden layer (and of the gradient at layer 1), at step 0."""
    if prediction is None:
        return NO_THEORY.get(
            record.scheme,
            "The mean-field recursion leaves the floating-point range here, so no prediction is drawn.",
        )
    L, i0 = len(record.sizes) - 2, stat_index(record, 0)
    measured = float(record.layer_stats["act_std"][i0, L - 1])
    predicted = float(prediction.act_std[L - 1])
    g_meas = float(record.layer_stats["backprop_std"][i0, 0])
    g_pred = float(prediction.grad_std[0])
    line = (
        f"Before any training, mean-field theory predicted a std of {fmt_ratio(predicted)} at layer {L} "
        f"(input {fmt_ratio(input_std)}); the network measured {fmt_ratio(measured)}. For the gradient at "
        f"layer 1 it predicted {fmt_ratio(g_pred)}, measured {fmt_ratio(g_meas)}."
    )
    if predicted > 0 and measured > 0 and math.isfinite(measured):
        off = measured / predicted
        if off > 1.5 or off < 1 / 1.5:
            line += (
                f" The theory is for infinitely wide layers: a real layer of {record.config.width} units "
                f"wanders around it, here to {fmt_ratio(off)}× the prediction at layer {L}."
            )
    return line


def unit_health(record: RunRecord, step: int) -> tuple[str, np.ndarray] | None:
    """('saturated' | 'dead', per-hidden-layer fraction (L,)) at `step`, or None if neither applies."""
    L = len(record.sizes) - 2
    i = stat_index(record, step)
    for name, key in (("saturated", "saturation"), ("dead", "dead")):
        values = np.asarray(record.layer_stats[key][i, :L], dtype=float)
        if np.isfinite(values).any():
            return name, values
    return None


def saturation_sentence(record: RunRecord, step: int) -> str:
    """Which layer has the most saturated / dead units at `step`, and the mean over layers."""
    health = unit_health(record, step)
    s = int(record.stat_steps[stat_index(record, step)])
    if health is None:
        return (
            f"{record.config.activation} has no flat region where units saturate, and is not ReLU, whose "
            "units can die; this chart stays empty."
        )
    name, values = health
    j = int(np.nanargmax(values))
    if values[j] < 0.005:
        return f"At step {s}, no layer has {name} units" + (
            " (|h| > 0.99 nowhere)." if name == "saturated" else "."
        )
    what = "saturated (|h| > 0.99, derivative near 0)" if name == "saturated" else "dead (0 on every example)"
    return (
        f"At step {s}, {pct(np.nanmean(values))} of the hidden units are {what} on average; the most in "
        f"layer {j + 1}: {pct(values[j])}."
    )


def _central_interval(counts: np.ndarray, edges: np.ndarray, share: float = 0.98) -> tuple[float, float]:
    """Edges of the bins that hold the central `share` of the counts (bin resolution)."""
    cum = np.cumsum(counts) / counts.sum()
    tail = (1 - share) / 2
    lo = int(np.searchsorted(cum, tail, side="right"))
    hi = int(np.searchsorted(cum, 1 - tail, side="left"))
    a, b = float(edges[lo]), float(edges[min(hi, len(edges) - 2) + 1])
    tiny = 1e-9 * float(edges[1] - edges[0])  # an edge at 0 up to linspace's rounding
    return (0.0 if abs(a) < tiny else a), (0.0 if abs(b) < tiny else b)


def histogram_sentence(record: RunRecord, kind: str, c: int) -> str:
    """What to look for in a histogram at checkpoint `c`: the spread of layer 1 vs the last layer."""
    hist = record.hists[kind]
    n = hist_layers(record, kind)
    names = layer_names(n, with_output=kind in ("grad", "weight"))
    step = int(record.hist_steps[c])
    counts = np.asarray(hist.counts[c, :n], dtype=float)
    edges = np.asarray(hist.edges, dtype=float)
    if hist.transform == "log10abs":
        parts = []
        for j in sorted({n - 1, 0}, reverse=True):
            total = counts[j].sum() + hist.zeros[c, j]
            if counts[j].sum() == 0:
                parts.append(f"{names[j]}: all exactly 0")
                continue
            cum = np.cumsum(counts[j]) / counts[j].sum()
            b = int(np.searchsorted(cum, 0.5))
            median = 10 ** ((edges[b] + edges[b + 1]) / 2)
            zero = hist.zeros[c, j] / total if total else 0.0
            parts.append(
                f"{names[j]}: typically {fmt_ratio(median)}"
                + (f", {pct(zero)} exactly 0" if zero >= 0.005 else "")
            )
        return f"Size of the weight gradients at step {step} — " + "; ".join(parts) + "."
    L, i = len(record.sizes) - 2, stat_index(record, step)
    width = float(edges[1] - edges[0])
    spans, spikes = [], []
    for j in sorted({0, n - 1}):
        if counts[j].sum() == 0:
            spans.append(f"nowhere finite in {names[j]}")
            continue
        lo, hi = _central_interval(counts[j], edges)
        std = float(record.layer_stats["act_std"][i, j]) if j < L else math.nan
        spans.append(f"between {fmt_value(lo)} and {fmt_value(hi)} in {names[j]} (std {fmt_ratio(std)})")
        if 0 <= std < width / 4:
            spikes.append(names[j])
    line = f"At step {step}, {pct(0.98)} of the activations lie " + " and ".join(spans) + "."
    if spikes and c == 0:
        line += (
            f" With bins {fmt_value(width)} wide, {' and '.join(spikes)} "
            f"{'is a single spike' if len(spikes) == 1 else 'are single spikes'} here: "
            f"the log₁₀|h| view above shows {'its' if len(spikes) == 1 else 'their'} shape."
        )
    ends = counts[:, [0, -1]].sum(axis=1) / np.maximum(counts.sum(axis=1), 1)
    if record.config.activation in ("tanh", "sigmoid") and ends.max() >= 0.05:
        j = int(np.argmax(ends))
        line += f" {pct(ends[j])} of {names[j]}'s activations sit in the end bins, at saturation."
    return line


def training_sentence(record: RunRecord) -> str:
    """How far the short training run got: loss and test accuracy at the start and the end, and a verdict
    that agrees with both (a loss that falls while the accuracy stays at chance is not "trained")."""
    if record.diverged_at is not None:
        return record.divergence
    if len(record.train_loss) < 2:
        return "No training steps were taken: the charts show the network at initialization."
    a, b = float(record.train_loss[0]), float(record.train_loss[-1])
    acc0, acc1 = float(record.test_acc[0]), float(record.test_acc[-1])
    steps = int(record.eval_steps[-1])
    k = int(record.sizes[-1])
    chance = 1.0 / k
    change = "barely moved" if abs(a - b) < 0.02 * max(a, 1e-12) else ("fell" if b < a else "rose")
    line = (
        f"In {steps} steps the training loss {change}: {num(a, 3)} → {num(b, 3)}; the test accuracy went "
        f"{pct(acc0)} → {pct(acc1)}."
    )
    if acc1 < chance + CHANCE_MARGIN:
        line += (
            f" That is still chance level (guessing among {k} balanced classes scores about {pct(chance)}): "
            "the network has not learned to classify yet."
        )
    return line


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


def _span(L: int) -> str:
    """The layers a per-layer factor is a geometric mean over, in words."""
    return f"from layer 1 to layer {L}" if L > 1 else "from the input to layer 1"


def summary_metrics(s: DepthSummary) -> list[tuple[str, str, str]]:
    """(label, value, help) of the page's headline numbers at initialization.

    The per-layer factors and the ratio beside them are from the same layers: ratio = factor^(L − 1).
    """
    L = s.depth
    out = [
        (
            "Signal per layer",
            f"×{fmt_factor(s.signal_factor)}",
            f"Std factor per layer of the activations h, {_span(L)}: the geometric mean of what each "
            "layer multiplies the std by (the variance changes by its square).",
        ),
        (
            f"Layer {L} ÷ layer 1" if L > 1 else "Layer 1 ÷ input",
            fmt_value(s.first_to_last if L > 1 else s.signal_ratio),
            f"Std of layer {L}'s activations divided by the std of layer 1's"
            + (": the per-layer factor to the power " + str(L - 1) + "." if L > 1 else "."),
        ),
        (
            "Gradient per layer",
            f"×{fmt_factor(s.grad_factor)}",
            "Std factor per layer of the gradient ∂loss/∂z, going back from layer "
            f"{L} to layer 1 (geometric mean).",
        ),
    ]
    if s.health is not None:
        out.append(
            (
                f"{s.health.capitalize()} units",
                pct(s.health_mean),
                "Mean over the hidden layers of the share of saturated (|h| > 0.99) or dead (0 on every "
                "example) units.",
            )
        )
    return out


def fmt_factor(x: float) -> str:
    """A per-layer factor: three significant digits, so that its power over the layers matches the ratio."""
    if math.isnan(x):
        return "—"
    return "exactly 0" if x == 0 else num(x, 3)


def signal_verdict(s: DepthSummary) -> str:
    """One line: how the signal's std changes per layer, and the end-to-end ratio over the same layers."""
    L = s.depth
    if s.zero_layer is not None:
        why = "its weights are all equal" if s.zero_weights else "the values underflowed"
        return (
            f"The signal is gone: from layer {s.zero_layer} on the activations do not vary at all (std exactly "
            f"0; {why}), so the network's output no longer depends on its input."
        )
    if not math.isfinite(s.signal_ratio) or (L > 1 and not math.isfinite(s.first_to_last)):
        return f"The signal overflows: at layer {L} the activations are no longer finite numbers."
    g = s.signal_factor
    verb = "shrinks" if g < 0.9 else "grows" if g > 1.1 else "keeps its size"
    var = f"variance ×{fmt_ratio(g * g)}"
    if L > 1:
        line = (
            f"The signal {verb}: its std changes ×{fmt_factor(g)} per layer ({var}) from layer 1 to "
            f"layer {L}, so layer {L}'s std is {fmt_ratio(s.first_to_last)} × layer 1's. "
            f"Against the input, layer {L}'s std is {fmt_ratio(s.signal_ratio)} × the input's."
        )
    else:
        line = f"The signal {verb}: layer 1's std is {fmt_ratio(s.signal_ratio)} × the input's ({var})."
    if s.health == "saturated" and s.health_mean > SATURATED:
        line += (
            f" {pct(s.health_mean)} of the units are saturated (|h| > 0.99), where the derivative of tanh "
            "or sigmoid is nearly 0; large weights can still make the gradient grow on its way back (below)."
        )
    elif s.health == "dead" and s.health_mean > DEAD:
        line += f" {pct(s.health_mean)} of the units are dead (0 on every example)."
    return line


def gradient_verdict(s: DepthSummary) -> str:
    """One line: how ∂loss/∂z changes per layer from layer L back to layer 1, and the ratio over those layers."""
    L = s.depth
    if s.grad_ratio == 0 and s.output_zero:
        return (
            "The output layer starts at zero, so at step 0 no gradient flows back into the hidden layers "
            "(∂loss/∂z is exactly 0 there); the first step makes the output weights non-zero, and from then "
            "on the random hidden layers learn."
        )
    if not math.isfinite(s.grad_ratio) or s.grad_ratio == 0 or not math.isfinite(s.grad_first_to_last):
        return "The gradient does not reach layer 1: it is exactly 0 or not a finite number there."
    h = s.grad_factor
    verb = "shrinks" if h < 0.9 else "grows" if h > 1.1 else "keeps its size"
    if L > 1:
        return (
            f"Going back through the network, the gradient ∂loss/∂z {verb}: its std changes ×{fmt_factor(h)} "
            f"per layer from layer {L} to layer 1, so layer 1's is {fmt_ratio(s.grad_first_to_last)} × "
            f"layer {L}'s ({fmt_ratio(s.grad_ratio)} × the output layer's)."
        )
    return (
        f"Going back from the output, the gradient ∂loss/∂z {verb}: at layer 1 its std is "
        f"{fmt_ratio(s.grad_ratio)} × the output layer's."
    )

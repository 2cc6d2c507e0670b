"""Figures and computed sentences of the normalization & residuals lesson.

Pure functions: core.modern.ModernRecord (+ the variance recursion) in, plotly Figure or plain sentence out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from core.config import ExperimentConfig
from core.initializers import weight_std
from core.modern import ModernRecord, arch_of, variance_recursion

# Okabe-Ito: colour-blind safe, one colour per variant of a part (in the order the page lists them)
COLORS = ("#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")  # told apart in greyscale too
TOLERANCE = 0.10  # "follows the recursion": every block within 10 % of its predicted std
TRAINED = 0.8  # "trained": the final train loss is below 80 % of chance level ln(k)


@dataclass(frozen=True)
class Variant:
    """One network of a comparison: its label on the page and what it changes in the page's config."""

    label: str
    changes: dict


@dataclass(frozen=True)
class Part:
    """One experiment of the lesson: settings fixed for all its networks, and the networks (variants)."""

    fixed: dict
    variants: tuple[Variant, ...]

    @property
    def labels(self) -> list[str]:
        return [v.label for v in self.variants]

    def configs(self, base: ExperimentConfig) -> list[ExperimentConfig]:
        """The part's networks as variants of the page's config (same data, batches and seed)."""
        return [base.replace(**self.fixed, **v.changes) for v in self.variants]


# The page's defaults: the Depth lesson's bad start, N(0, 0.01²) in 20 tanh layers, trained 100 steps with
# momentum; and what the page fixes (its controls do not show it).
DEFAULTS = {"depth": 20, "width": 32, "activation": "tanh", "weight_std": 0.01, "steps": 100, "lr": 0.1}
FIXED = {"schemes": ("normal",), "optimizer": "momentum", "record_every": 50, "n_checkpoints": 3}
# The lesson's four experiments (the page, its tests and benchmarks/bench_modern.py share them).
PARTS = ("RESCUE", "SYMMETRY", "STREAMS", "RACE")
RESCUE = Part(
    {},
    (
        Variant("no normalization", {}),
        Variant("BatchNorm", {"norm": "batch"}),
        Variant("LayerNorm", {"norm": "layer"}),
    ),
)
SYMMETRY = Part(
    {"schemes": ("constant",), "steps": 300, "record_every": 50},
    (
        Variant("constant start + BatchNorm", {"norm": "batch"}),
        Variant("constant start + LayerNorm", {"norm": "layer"}),
    ),
)
# Residual streams at initialization: He + ReLU branches, wide and a big batch, so that the averages the
# recursion is about are averages over many numbers.
STREAMS = Part(
    {
        "block": "residual",
        "schemes": ("he_normal",),
        "activation": "relu",
        "width": 256,
        "batch_size": 256,
        "steps": 0,
        "dtype": "float32",
    },
    (
        Variant("α = 1", {"alpha": "one"}),
        Variant("α = 1, BatchNorm", {"alpha": "one", "norm": "batch"}),
        Variant("α = 1/√L", {"alpha": "inv_sqrt_l"}),
        Variant("α = 1/√(2L)", {"alpha": "inv_sqrt_2l"}),
        Variant("α = 0, learned (SkipInit)", {"alpha": "learned"}),
    ),
)
# The race: He + ReLU at depth 50, plain SGD at lr 0.1, where the plain network does not learn.
RACE = Part(
    {"schemes": ("he_normal",), "activation": "relu", "depth": 50, "optimizer": "sgd", "lr": 0.1},
    (
        Variant("plain", {}),
        Variant("plain + BatchNorm", {"norm": "batch"}),
        Variant("residual", {"block": "residual"}),
        Variant("residual + BatchNorm", {"block": "residual", "norm": "batch"}),
        Variant("residual with learned α from 0", {"block": "residual", "alpha": "learned"}),
    ),
)


def _classes(c: ExperimentConfig) -> int:
    from core.data import dataset_shape

    return dataset_shape(c.dataset, c.n_classes)[1]


def fmt(x: float) -> str:
    """A number for a sentence: 3 significant digits, powers of ten as 1.2e-23."""
    if not math.isfinite(x):
        return "not finite"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.2g}"
    return f"{x:.3g}"


def layer_axis(n: int) -> list[int]:
    return list(range(1, n + 1))


# --------------------------------------------------------------------------- part 1: rescue


def std_figure(records: Sequence[ModernRecord], labels: Sequence[str], key: str) -> go.Figure:
    """Per-layer std of `key` at initialization, one line per network, on a log axis."""
    fig = go.Figure()
    for r, label, color, dash in zip(records, labels, COLORS, DASHES):
        y = r.layer_stats[key][0]
        fig.add_trace(
            go.Scatter(
                x=layer_axis(len(y)),
                y=[float(v) if v > 0 and math.isfinite(v) else None for v in y],
                mode="lines+markers",
                name=label,
                line={"color": color, "dash": dash},
            )
        )
    fig.update_layout(xaxis_title="layer", yaxis_title="std (log scale)", yaxis_type="log")
    return fig


def loss_figure(records: Sequence[ModernRecord], labels: Sequence[str], log: bool = False) -> go.Figure:
    """Mini-batch training loss per step, one line per network, with the chance level (log axis: a diverging
    network's loss runs to thousands before it becomes NaN)."""
    fig = go.Figure()
    for r, label, color, dash in zip(records, labels, COLORS, DASHES):
        fig.add_trace(
            go.Scatter(
                x=list(range(len(r.loss))),
                y=[float(v) if math.isfinite(v) else None for v in r.loss],
                mode="lines",
                name=label,
                line={"color": color, "dash": dash},
            )
        )
    if records:
        chance = math.log(_classes(records[0].config))
        fig.add_hline(y=chance, line_dash="dot", annotation_text="chance", line_color="#777777")
    fig.update_layout(
        xaxis_title="step",
        yaxis_title="loss (log scale)" if log else "loss",
        yaxis_type="log" if log else "linear",
    )
    return fig


def outcome(record: ModernRecord) -> str:
    """'trained' / 'did not learn' / 'diverged' / 'not trained' (0 steps), from the run."""
    if record.diverged_at is not None:
        return "diverged"
    if record.eval_steps[-1] == 0:
        return "not trained"
    chance = math.log(_classes(record.config))
    return "trained" if record.train_loss[-1] < TRAINED * chance else "did not learn"


def training_sentence(record: ModernRecord, label: str) -> str:
    """What happened to one network in training, in numbers."""
    chance = math.log(_classes(record.config))
    verdict = outcome(record)
    if verdict == "diverged":
        return f"**{label}**: diverged at step {record.diverged_at} (the loss became infinite or NaN)."
    first = f"loss {fmt(record.loss[0])} on the first mini-batch, " if len(record.loss) else ""
    return (
        f"**{label}**: {verdict} — {first}{fmt(record.train_loss[-1])} on the whole training set after "
        f"{record.eval_steps[-1]} steps (chance: {fmt(chance)}), test accuracy {record.test_acc[-1]:.0%}."
    )


def rescue_sentence(record: ModernRecord, label: str) -> str:
    """The signal at initialization: the activation's input in the first and the last layer."""
    pre = record.layer_stats["pre_std"][0]
    last = f" and {fmt(pre[-1])} in layer {len(pre)}" if len(pre) > 1 else ""
    return f"**{label}** at the start: the std of the activation's input is {fmt(pre[0])} in layer 1{last}."


def rescue_summary(records: Sequence[ModernRecord], labels: Sequence[str]) -> str:
    """Which networks kept the signal (last layer's activation input std within 2x of 1) and which trained."""
    kept = [lab for r, lab in zip(records, labels) if 0.5 <= r.layer_stats["pre_std"][0][-1] <= 2.0]
    lost = [lab for r, lab in zip(records, labels) if lab not in kept]
    trained = [lab for r, lab in zip(records, labels) if outcome(r) == "trained"]
    kept_text = (
        f"The signal reaches the last layer with a std between 0.5 and 2 with: {', '.join(kept)}"
        if kept
        else ("No network keeps the signal's std between 0.5 and 2 up to the last layer")
    )
    lost_text = f"; not with: {', '.join(lost)}" if lost else ""
    trained_text = (
        f"Trained within the run: {', '.join(trained)}."
        if trained
        else "None of them trained within the run."
    )
    idle = [lab for lab in kept if lab not in trained]
    note = ""
    steps = int(records[0].eval_steps[-1]) if records else 0
    if idle and steps > 0:
        note = f" Keeping the signal did not make {' or '.join(idle)} train within {steps} steps."
    return f"{kept_text}{lost_text}. {trained_text}{note}"


def layernorm_input_note(config: ExperimentConfig) -> str:
    """Why LayerNorm can lose information in layer 1 of a plain net on 2-D data (a derivation; tested in
    tests/test_modern.py): with zero biases z = x W scales with x, and LayerNorm divides that scale away."""
    from core.data import dataset_shape

    if dataset_shape(config.dataset, config.n_classes)[0] != 2 or config.bias_init != "zeros":
        return ""
    return (
        "LayerNorm in layer 1 sees only the direction of each input point: with zero biases z = x W grows "
        "with x, and normalizing each example over its units divides that growth away, so all points on one "
        "ray from the origin get the same layer-1 output (up to ε)."
    )


# --------------------------------------------------------------------------- part 2: symmetry


def distinct_figure(records: Sequence[ModernRecord], labels: Sequence[str]) -> go.Figure:
    """The largest number of distinct units in any hidden layer, over the training steps."""
    fig = go.Figure()
    for r, label, color, dash in zip(records, labels, COLORS, DASHES):
        fig.add_trace(
            go.Scatter(
                x=r.eval_steps.tolist(),
                y=r.layer_stats["distinct"].max(axis=1).tolist(),
                mode="lines+markers",
                name=label,
                line={"color": color, "dash": dash, "width": 4 if dash == DASHES[0] else 2},
            )
        )
    width = records[0].config.width if records else 1
    fig.update_layout(
        xaxis_title="step",
        yaxis_title="distinct units",
        yaxis_range=[0, width + 1],
    )
    return fig


def symmetry_sentence(record: ModernRecord, label: str) -> str:
    """How many distinct units the layers have at the last recorded step."""
    d = record.layer_stats["distinct"][-1]
    step, width = int(record.eval_steps[-1]), record.config.width
    if np.all(d == 1):
        return (
            f"**{label}**: after {step} steps every hidden layer still has 1 distinct unit: its {width} units "
            "are identical copies."
        )
    return (
        f"**{label}**: after {step} steps the hidden layers have between {int(d.min())} and {int(d.max())} "
        f"distinct units out of {width}."
    )


# --------------------------------------------------------------------------- part 3: residual streams


def prediction(record: ModernRecord) -> np.ndarray:
    """The recursion's std per block, started from the measured variance of the stem's output."""
    c = record.config
    fan = c.width
    wv = (
        fan
        * weight_std(c.schemes[0], fan, fan, c.activation, mode=c.he_mode, scale=c.scale, gain=c.gain) ** 2
    )
    q0 = float(record.input_std[0]) ** 2
    return np.sqrt(variance_recursion(arch_of(c), c.activation, c.depth, q0, wv, slope=c.leaky_slope))


def stream_figure(records: Sequence[ModernRecord], labels: Sequence[str]) -> go.Figure:
    """Measured std of the residual stream per block (markers) and the recursion (dashed line), log axis."""
    fig = go.Figure()
    for r, label, color in zip(records, labels, COLORS):
        y = r.layer_stats["stream_std"][0]
        x = [0, *layer_axis(len(y))]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[float(r.input_std[0]), *map(float, y)],
                mode="markers",
                name=label,
                marker={"color": color},
                legendgroup=label,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[float(r.input_std[0]), *map(float, prediction(r))],
                mode="lines",
                name=f"{label}: recursion",
                line={"color": color, "dash": "dash"},
                legendgroup=label,
                showlegend=False,
            )
        )
    fig.update_layout(
        xaxis_title="block (0 = the stem)",
        yaxis_title="std (log scale)",
        yaxis_type="log",
    )
    return fig


def growth_sentence(record: ModernRecord, label: str) -> str:
    """Measured growth of the stream against the recursion, in numbers."""
    y = record.layer_stats["stream_std"][0]
    pred = prediction(record)
    gap = float(np.max(np.abs(y / pred - 1)))
    L = len(y)
    q0 = float(record.input_std[0]) ** 2
    factor = (y[-1] ** 2 / q0) ** (1 / L)
    pred_factor = (pred[-1] ** 2 / q0) ** (1 / L)
    within = (
        f"within {gap:.0%} of the recursion at every block"
        if gap <= TOLERANCE
        else f"up to {gap:.0%} away from the recursion (a product of {L} random growth factors wanders)"
    )
    return (
        f"**{label}**: std {fmt(float(record.input_std[0]))} after the stem, {fmt(float(y[-1]))} after block {L}; "
        f"the variance grew ×{factor:.3g} per block on average (recursion: ×{pred_factor:.3g}), {within}."
    )


# --------------------------------------------------------------------------- part 4: race


def race_sentence(records: Sequence[ModernRecord], labels: Sequence[str]) -> str:
    """Which networks trained, which did not, which diverged; and the lowest final loss."""
    groups: dict[str, list[str]] = {"trained": [], "did not learn": [], "diverged": [], "not trained": []}
    for r, label in zip(records, labels):
        groups[outcome(r)].append(label)
    parts = [f"{k}: {', '.join(v)}" for k, v in groups.items() if v]
    finite = [(r.train_loss[-1], label) for r, label in zip(records, labels) if r.diverged_at is None]
    best = f" Lowest final train loss: {min(finite)[1]} ({fmt(min(finite)[0])})." if finite else ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "." + best

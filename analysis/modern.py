"""The normalization & residuals lesson's experiments (DEFAULTS, its four parts) and what its runs say.

Pure: core.modern.ModernRecord in, numbers and computed sentences out (no streamlit, no plotly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.config import ExperimentConfig
from core.data import dataset_shape
from core.initializers import weight_std
from core.modern import ModernRecord, arch_of, variance_recursion
from i18n import N_, LazyString, _
from i18n import numbers

TOLERANCE = 0.10  # "follows the recursion": every block within 10 % of its predicted std
TRAINED = 0.8  # "trained": the final train loss is below 80 % of chance level ln(k)
KEPT = (0.5, 2.0)  # "keeps the signal": the last layer's activation input has a std in this range


@dataclass(frozen=True)
class Variant:
    """One network of a comparison: its label on the page and what it changes in the page's config."""

    label: LazyString
    changes: dict


@dataclass(frozen=True)
class Part:
    """One experiment of the lesson: settings fixed for all its networks, and the networks (variants)."""

    fixed: dict
    variants: tuple[Variant, ...]

    @property
    def labels(self) -> list[str]:
        """The variants' labels in the language of this call."""
        return [str(v.label) for v in self.variants]

    def configs(self, base: ExperimentConfig) -> list[ExperimentConfig]:
        """The part's networks as variants of the page's config (same data, batches and seed)."""
        return [base.replace(**self.fixed, **v.changes) for v in self.variants]


# The page's defaults: the Depth lesson's bad start, N(0, 0.01²) in 20 tanh layers, trained 100 steps with
# momentum; and what the page fixes (its controls do not show it). One place: the page, its tests and
# benchmarks/bench_modern.py read them from here.
DEFAULTS = {"depth": 20, "width": 32, "activation": "tanh", "weight_std": 0.01, "steps": 100, "lr": 0.1}
FIXED = {"schemes": ("normal",), "optimizer": "momentum", "record_every": 50, "n_checkpoints": 3}
# The schemes whose parameters the page's controls set: part 1 starts from FIXED's, part 2 from SYMMETRY's.
TUNED_SCHEMES = ("normal", "constant")

RESCUE = Part(
    {},
    (
        Variant(N_("no normalization"), {}),
        Variant(N_("BatchNorm"), {"norm": "batch"}),
        Variant(N_("LayerNorm"), {"norm": "layer"}),
    ),
)
SYMMETRY = Part(
    {"schemes": ("constant",), "steps": 300, "record_every": 50},
    (
        Variant(N_("constant start + BatchNorm"), {"norm": "batch"}),
        Variant(N_("constant start + LayerNorm"), {"norm": "layer"}),
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
        Variant(N_("α = 1"), {"alpha": "one"}),
        Variant(N_("α = 1, BatchNorm"), {"alpha": "one", "norm": "batch"}),
        Variant(N_("α = 1/√L"), {"alpha": "inv_sqrt_l"}),
        Variant(N_("α = 1/√(2L)"), {"alpha": "inv_sqrt_2l"}),
        Variant(N_("α = 0, learned (SkipInit)"), {"alpha": "learned"}),
    ),
)
# The race: He + ReLU at depth 50, plain SGD at lr 0.1, where the plain network does not learn.
RACE = Part(
    {"schemes": ("he_normal",), "activation": "relu", "depth": 50, "optimizer": "sgd", "lr": 0.1},
    (
        Variant(N_("plain"), {}),
        Variant(N_("plain + BatchNorm"), {"norm": "batch"}),
        Variant(N_("residual"), {"block": "residual"}),
        Variant(N_("residual + BatchNorm"), {"block": "residual", "norm": "batch"}),
        Variant(N_("residual with learned α from 0"), {"block": "residual", "alpha": "learned"}),
    ),
)
PARTS = ("RESCUE", "SYMMETRY", "STREAMS", "RACE")


def base_config(**changes: object) -> ExperimentConfig:
    """The page's default experiment (DEFAULTS + FIXED), with `changes`."""
    return ExperimentConfig(**{**DEFAULTS, **FIXED, **changes})


def chance(config: ExperimentConfig) -> float:
    """The loss of a uniform guess over the data set's classes, ln k."""
    return math.log(dataset_shape(config.dataset, config.n_classes)[1])


# --------------------------------------------------------------------------- training, parts 1 and 4

# What happened to a network in training: id -> its sentence (the ids are what `outcome` returns).
OUTCOMES = {
    "trained": N_("**{label}**: trained."),
    "did not learn": N_("**{label}**: did not learn."),
    "diverged": N_("**{label}**: diverged at step {step}: the loss became infinite or NaN."),
    "not trained": N_("**{label}**: not trained (0 steps)."),
}
# The race's groups, in the order the page names them.
GROUPS = {
    "trained": N_("Trained: {names}."),
    "did not learn": N_("Did not learn: {names}."),
    "diverged": N_("Diverged: {names}."),
    "not trained": N_("Not trained: {names}."),
}


def outcome(record: ModernRecord) -> str:
    """'trained' / 'did not learn' / 'diverged' / 'not trained' (0 steps), from the run."""
    if record.diverged_at is not None:
        return "diverged"
    if record.eval_steps[-1] == 0:
        return "not trained"
    return "trained" if record.train_loss[-1] < TRAINED * chance(record.config) else "did not learn"


def training_sentence(record: ModernRecord, label: str) -> str:
    """What happened to one network in training, in numbers."""
    verdict = outcome(record)
    head = _(OUTCOMES[verdict].message, label=label, step=record.diverged_at)
    if verdict == "diverged":
        return head
    values = dict(
        final=float(record.train_loss[-1]),
        steps=int(record.eval_steps[-1]),
        chance=chance(record.config),
        accuracy=numbers.pct(float(record.test_acc[-1])),
    )
    if len(record.loss):
        tail = _(
            "Loss {first} on the first mini-batch, {final} on the whole training set after {steps} steps "
            "(chance: {chance}); test accuracy {accuracy}.",
            first=float(record.loss[0]),
            **values,
        )
    else:
        tail = _(
            "Loss {final} on the whole training set after {steps} steps (chance: {chance}); test accuracy "
            "{accuracy}.",
            **values,
        )
    return f"{head} {tail}"


def race_sentence(records: Sequence[ModernRecord], labels: Sequence[str]) -> str:
    """Which networks trained, which did not, which diverged; and the lowest final loss."""
    groups: dict[str, list[str]] = {k: [] for k in GROUPS}
    for r, label in zip(records, labels):
        groups[outcome(r)].append(label)
    out = [_(GROUPS[k].message, names=", ".join(v)) for k, v in groups.items() if v]
    finite = [(float(r.train_loss[-1]), label) for r, label in zip(records, labels) if r.diverged_at is None]
    if finite:
        loss, label = min(finite)
        out.append(_("Lowest final train loss: {label} ({loss}).", label=label, loss=loss))
    return " ".join(out)


# --------------------------------------------------------------------------- part 1: rescue


def init_std(record: ModernRecord, key: str) -> np.ndarray:
    """Per-layer std of `key` (a layer statistic of core.modern) at initialization."""
    return np.asarray(record.layer_stats[key][0], dtype=float)


def rescue_sentence(record: ModernRecord, label: str) -> str:
    """The signal at initialization: the activation's input in the first and the last layer."""
    pre = init_std(record, "pre_std")
    if len(pre) == 1:
        return _(
            "**{label}** at the start: the std of the activation's input is {first} in layer 1.",
            label=label,
            first=float(pre[0]),
        )
    return _(
        "**{label}** at the start: the std of the activation's input is {first} in layer 1 and {last} in layer "
        "{layers}.",
        label=label,
        first=float(pre[0]),
        last=float(pre[-1]),
        layers=len(pre),
    )


def keeps_signal(record: ModernRecord) -> bool:
    """The last layer's activation input has a std within KEPT."""
    return bool(KEPT[0] <= init_std(record, "pre_std")[-1] <= KEPT[1])


def rescue_summary(records: Sequence[ModernRecord], labels: Sequence[str]) -> str:
    """Which networks kept the signal (last layer's activation input std within KEPT) and which trained."""
    kept = [lab for r, lab in zip(records, labels) if keeps_signal(r)]
    lost = [lab for lab in labels if lab not in kept]
    trained = [lab for r, lab in zip(records, labels) if outcome(r) == "trained"]
    lo, hi = KEPT
    if kept and lost:
        out = [
            _(
                "The signal reaches the last layer with a std between {lo} and {hi} with: {kept}; not with: "
                "{lost}.",
                lo=lo,
                hi=hi,
                kept=", ".join(kept),
                lost=", ".join(lost),
            )
        ]
    elif kept:
        out = [
            _(
                "The signal reaches the last layer with a std between {lo} and {hi} with: {kept}.",
                lo=lo,
                hi=hi,
                kept=", ".join(kept),
            )
        ]
    else:
        out = [
            _("No network keeps the signal's std between {lo} and {hi} up to the last layer.", lo=lo, hi=hi)
        ]
    if trained:
        out.append(_("Trained within the run: {names}.", names=", ".join(trained)))
    else:
        out.append(_("None of them trained within the run."))
    idle = [lab for lab in kept if lab not in trained]
    steps = int(records[0].eval_steps[-1]) if records else 0
    if idle and steps > 0:
        out.append(
            _(
                "Keeping the signal did not make these train within {steps} steps: {names}.",
                steps=steps,
                names=", ".join(idle),
            )
        )
    return " ".join(out)


def layernorm_input_note(config: ExperimentConfig) -> str:
    """Why LayerNorm can lose information in layer 1 of a plain net on 2-D data (a derivation; tested in
    tests/test_modern.py): with zero biases z = x W scales with x, and LayerNorm divides that scale away."""
    if dataset_shape(config.dataset, config.n_classes)[0] != 2 or config.bias_init != "zeros":
        return ""
    return _(
        "LayerNorm in layer 1 sees only the direction of each input point: with zero biases z = x W grows "
        "with x, and normalizing each example over its units divides that growth away, so all points on one "
        "ray from the origin get the same layer-1 output (up to ε)."
    )


# --------------------------------------------------------------------------- part 2: symmetry


def distinct_max(record: ModernRecord) -> np.ndarray:
    """The largest number of distinct units in any hidden layer, per recorded step."""
    return np.asarray(record.layer_stats["distinct"], dtype=float).max(axis=1)


def symmetry_sentence(record: ModernRecord, label: str) -> str:
    """How many distinct units the layers have at the last recorded step."""
    d = record.layer_stats["distinct"][-1]
    step, width = int(record.eval_steps[-1]), record.config.width
    if np.all(d == 1):
        return _(
            "**{label}**: after {steps} steps every hidden layer still has 1 distinct unit: its {width} units "
            "are identical copies.",
            label=label,
            steps=step,
            width=width,
        )
    return _(
        "**{label}**: after {steps} steps the hidden layers have between {lo} and {hi} distinct units out of "
        "{width}.",
        label=label,
        steps=step,
        lo=int(d.min()),
        hi=int(d.max()),
        width=width,
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


def stream_curve(record: ModernRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(blocks 0..L, measured std, the recursion's std) of the residual stream at initialization; block 0 is
    the stem's output, where the recursion starts."""
    start = float(record.input_std[0])
    measured = np.concatenate([[start], init_std(record, "stream_std")])
    predicted = np.concatenate([[start], prediction(record)])
    return np.arange(len(measured)), measured, predicted


def growth_sentence(record: ModernRecord, label: str) -> str:
    """Measured growth of the stream against the recursion, in numbers."""
    y = init_std(record, "stream_std")
    pred = prediction(record)
    gap = float(np.max(np.abs(y / pred - 1)))
    blocks = len(y)
    q0 = float(record.input_std[0]) ** 2
    values = dict(
        label=label,
        start=float(record.input_std[0]),
        end=float(y[-1]),
        blocks=blocks,
        factor=numbers.times((y[-1] ** 2 / q0) ** (1 / blocks), 3),
        predicted=numbers.times((pred[-1] ** 2 / q0) ** (1 / blocks), 3),
        gap=numbers.pct(gap),
    )
    if gap <= TOLERANCE:
        return _(
            "**{label}**: std {start} after the stem, {end} after block {blocks}; the variance grew {factor} "
            "per block on average (recursion: {predicted}), within {gap} of the recursion at every block.",
            **values,
        )
    return _(
        "**{label}**: std {start} after the stem, {end} after block {blocks}; the variance grew {factor} per "
        "block on average (recursion: {predicted}), up to {gap} away from the recursion (a product of "
        "{blocks} random growth factors wanders).",
        **values,
    )

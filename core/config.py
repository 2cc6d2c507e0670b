"""The experiment Init Lab runs: one frozen, hashable config, its limits and its validation.

Pages read widgets into an `ExperimentConfig`; `validate` is the boundary where bad values are
refused with a `ValueError` that names the parameter and the allowed range.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from core.data import DATASETS, dataset_shape  # noqa: F401 (DATASETS: public, pages read it here)
from core.fields import FIELDS
from i18n import _

# The allowed values and ranges, read from the settings table (core/fields.py).
ACTIVATIONS: tuple[str, ...] = FIELDS["activation"].choices
BIAS_INITS: tuple[str, ...] = FIELDS["bias_init"].choices
OPTIMIZERS: tuple[str, ...] = FIELDS["optimizer"].choices
DTYPES: tuple[str, ...] = FIELDS["dtype"].choices
HE_MODES: tuple[str, ...] = FIELDS["he_mode"].choices
BLOCKS: tuple[str, ...] = FIELDS["block"].choices
NORMS: tuple[str, ...] = FIELDS["norm"].choices
ALPHAS: tuple[str, ...] = FIELDS["alpha"].choices
BRANCH_LAYERS: tuple[int, ...] = FIELDS["branch_layers"].grid
OUTPUT_INITS: tuple[str, ...] = FIELDS["output_init"].choices  # like the hidden layers, or at zero
# Inclusive (low, high) ranges; "n_schemes": how many schemes one run may train.
LIMITS: dict[str, tuple[float, float]] = {
    ("n_schemes" if f.name == "schemes" else f.name): f.limits for f in FIELDS.values() if f.limits
}

# Multiply-adds of one whole run, summed over schemes: training steps, the evaluations on the whole
# data set, the per-layer diagnostics and the decision-boundary grid (see ExperimentConfig.work).
# 8e10 is about 5-8 s on one core of the 2-core dev machine (benchmarks/bench_train.py).
MAX_WORK = 8e10
BOUNDARY_GRID = 100  # core.train evaluates the decision boundary of 2-D data on a G x G grid


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that shapes one experiment: same config (and code version) => same records."""

    # data
    dataset: str = "spiral"
    n_samples: int = 600  # train + test; the test split is 25 %
    noise: float = 0.1
    n_classes: int = 3  # spiral arms / blob centres; ignored by moons, circles, xor (2), digits (10)
    # (gaussian: bands of a random projection)
    data_seed: int = 0
    # inputs of `gaussian` (unit-Gaussian x, as in the CS231n lecture's D = randn(1000, 500)); others ignore it
    input_dim: int = 500
    # architecture
    depth: int = 3  # hidden layers L; the network has L + 1 weight matrices
    width: int = 32
    activation: str = "tanh"
    # blocks beyond the plain stack (core.modern; the defaults are the plain network of core.train)
    block: str = "plain"  # plain | residual: h <- h + alpha * f(N(h))
    norm: str = "none"  # none | batch | layer
    alpha: str = "one"  # branch scale: one | inv_sqrt_l | inv_sqrt_2l | learned (starts at 0)
    branch_layers: int = 1  # dense layers in a residual branch
    # initialization: every scheme in `schemes` is trained on the same data and batches
    schemes: tuple[str, ...] = ("xavier_uniform",)
    scale: float = 1.0  # multiplies the std (or the bound) of whichever scheme, after its gain
    gain: str = "1"  # "1" (the formula as published) or "auto" (the activation's gain)
    weight_std: float = 0.01  # sigma of `normal` and `truncated_normal`
    weight_const: float = 0.5  # c of `constant`
    weight_bound: float = 0.05  # a of `uniform` U[-a, a]
    sparsity: float = 0.1  # fraction of each input's weights `sparse` sets to zero
    he_mode: str = "fan_in"
    leaky_slope: float = 0.01  # negative slope of leaky_relu (activation and He/gain formulas)
    bias_init: str = "zeros"
    bias_value: float = 0.0  # c of `constant`, sigma of `normal`
    output_init: str = "same"  # "zeros": the output layer's weights and biases start at 0
    # training
    optimizer: str = "sgd"
    lr: float = 0.1
    batch_size: int = 64
    steps: int = 300
    seed: int = 0
    dtype: str = "float64"
    # recording
    record_every: int = 10  # per-layer statistics and evaluation every k steps (and at 0 and the end)
    n_checkpoints: int = 6  # histograms and weight snapshots at this many steps, 0 and the end included

    @property
    def sizes(self) -> list[int]:
        """Layer sizes [d, n, ..., n, k] for this config's data set."""
        d, k = dataset_shape(self.dataset, self.n_classes, self.input_dim)
        return [d] + [self.width] * self.depth + [k]

    def replace(self, **changes) -> ExperimentConfig:
        return dataclasses.replace(self, **changes)

    @property
    def work(self) -> float:
        """Multiply-adds of the whole run (all schemes), the unit of MAX_WORK."""
        return self.cost()

    def cost(self, diagnostics: bool = True) -> float:
        """Multiply-adds of the run, as `core.train.run_many(..., diagnostics=...)` spends them.

        Per scheme: forward + backward (3 passes) of every step's batch, and at each of the
        steps // record_every + 2 recorded steps a forward pass over all examples (evaluation); with
        diagnostics also about two passes over the batch per recorded step and, at the end, the
        decision-boundary grid (2-D data).
        """
        s = self.sizes
        per_example = sum(a * b for a, b in zip(s[:-1], s[1:]))
        n_records = self.steps // self.record_every + 2
        examples = 3 * max(self.steps, 1) * self.batch_size + n_records * self.n_samples
        if diagnostics:
            examples += 2 * n_records * self.batch_size
            examples += BOUNDARY_GRID**2 if s[0] == 2 else 0  # core.train draws it for 2-D data only
        return float(len(self.schemes) * per_example * examples)


def _check_range(name: str, value: float) -> None:
    lo, hi = LIMITS[name]
    if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {value!r}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def is_integer(name: str) -> bool:
    """True for the fields ExperimentConfig declares `int` (its annotations are the type of each setting)."""
    return ExperimentConfig.__annotations__[name] == "int"


def validate(config: ExperimentConfig) -> ExperimentConfig:
    """Return `config` unchanged if every field is allowed, else raise ValueError naming the field."""
    for f in FIELDS.values():
        value = getattr(config, f.name)
        if f.name == "schemes":
            if not isinstance(value, tuple) or not value:
                raise ValueError("schemes must be a non-empty tuple of scheme ids")
            _check_range("n_schemes", len(value))
            if len(set(value)) != len(value):
                raise ValueError(f"schemes must not repeat, got {value!r}")
            for s in value:
                _check_choice("schemes", s, f.choices)
            continue
        if f.choices is not None:
            _check_choice(f.name, value, f.choices)
        if f.limits is not None:
            _check_range(f.name, value)
        if is_integer(f.name) and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{f.name} must be an integer, got {value!r}")
        if f.name == "branch_layers" and value not in BRANCH_LAYERS:
            raise ValueError(f"branch_layers must be 1 or 2, got {value!r}")
    if config.work > MAX_WORK:
        raise ValueError(
            f"this run is too large ({config.work:.2g} multiply-adds, the limit is {MAX_WORK:.2g}): "
            "use fewer steps, schemes or layers, a smaller width or a smaller batch"
        )
    return config


def _key(name: str) -> str:
    """How a note names a setting: its URL key, as the student's link shows it."""
    return FIELDS[name].key or name


def _cut(name: str, before: int, after: int) -> str:
    return _(
        "{key} cut from {before} to {after} to keep the run within a few seconds",
        key=_key(name),
        before=before,
        after=after,
    )


def fit_to_budget(config: ExperimentConfig) -> tuple[ExperimentConfig, list[str]]:
    """Clamp every numeric field into its range and cut `steps` to fit MAX_WORK.

    Returns the adjusted config and one plain sentence per change (in the session's language), for the page.
    """
    changes: dict[str, object] = {}
    notes: list[str] = []
    for name, (lo, hi) in LIMITS.items():
        if name == "n_schemes":
            continue
        value = getattr(config, name)
        if isinstance(value, float) and not math.isfinite(value):
            value = getattr(ExperimentConfig(), name)
        clamped = min(max(value, lo), hi)
        if is_integer(name):
            clamped = int(round(clamped))
        if clamped != getattr(config, name):
            changes[name] = clamped
            notes.append(
                _(
                    "{key} was {value}; the allowed range is [{lo}, {hi}], so it is {clamped}",
                    key=_key(name),
                    value=getattr(config, name),
                    lo=lo,
                    hi=hi,
                    clamped=clamped,
                )
            )
    config = dataclasses.replace(config, **changes)
    # Even no training step fits (the evaluations and the boundary grid alone are too large): halve the
    # width, then drop layers, until the steps can be cut, so every setting the controls reach still runs.
    for name, smaller in (("width", lambda v: max(2, v // 2)), ("depth", lambda v: max(1, v - 1))):
        before = getattr(config, name)
        while config.replace(steps=0).work > MAX_WORK and smaller(getattr(config, name)) != getattr(
            config, name
        ):
            config = config.replace(**{name: smaller(getattr(config, name))})
        if getattr(config, name) != before:
            notes.append(_cut(name, before, getattr(config, name)))
    if config.work > MAX_WORK and config.replace(steps=0).work <= MAX_WORK:
        lo, hi = 0, config.steps  # work grows with steps: the largest step count that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if config.replace(steps=mid).work <= MAX_WORK else (lo, mid - 1)
        notes.append(_cut("steps", config.steps, lo))
        config = config.replace(steps=lo)
    return config, notes

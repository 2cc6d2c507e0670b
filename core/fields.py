"""The settings table: one row per ExperimentConfig field (URL key, limits, choices, label, help, widget).

Validation (core.config), the controls (ui.controls), share links and the key table of docs/CONTRIBUTING.md
derive from it; a field's type and default are its ExperimentConfig declaration's (core/config.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.data import DATASETS
from core.initializers import SCHEMES
from i18n import N_, LazyString


def log_grid(lo: float, hi: float, mantissas: Sequence[float] = (1, 2, 5)) -> tuple[float, ...]:
    """Values m * 10**e between lo and hi (inclusive), rounded to 3 significant digits."""
    out: list[float] = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            v = float(f"{m * 10.0**e:.3g}")
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                out.append(v)
    return tuple(sorted(set(out)))


# Widgets: "slider" (a range with a step), "grid" (a select_slider over `grid`), "number" (a number input),
# "select" (a selectbox), "radio" (horizontal radio buttons), "schemes" (ui.controls.schemes), "" (none).
WIDGETS = ("slider", "grid", "number", "select", "radio", "schemes", "")


@dataclass(frozen=True)
class Field:
    """One setting. Categorical fields list their `choices` (stable ids, shown as they are and written into
    links); numeric ones their inclusive `limits`. `key` is the URL query key: never rename one, old share
    links would stop working."""

    name: str  # the ExperimentConfig field
    key: str  # URL query key ("" for settings no control draws)
    label: LazyString | None
    widget: str = ""
    limits: tuple[float, float] | None = None  # numbers: inclusive range; schemes: how many at once
    choices: tuple | None = None  # categorical: the allowed values, in the order the widget lists them
    grid: tuple[float, ...] = ()  # widget "grid": the values of the slider (a page may pass its own)
    step: float = 1  # widgets "slider" and "number"
    # The (?) text next to the control: only where it says more than the label. Each (?) is a button that
    # costs a keyboard user one Tab press (Streamlit's only way to reach the help by keyboard), so a help that
    # restates its label is left out (issue 16).
    help: LazyString | None = None


# fmt: off
_SCALES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0,
           50.0, 100.0)
_SEEDS = (0, 2**31 - 1)

# In drawing order of the all-controls test page and of share links. The ranges, with core.config.MAX_WORK,
# keep any request within a few seconds on a small cloud instance.
_ROWS = (
    Field("dataset", "data", N_("Data set"), "select", choices=DATASETS),
    Field("n_samples", "n", N_("Examples"), "slider", (100, 2000), step=50,
          help=N_("Training and test examples together; 25 % are held out for testing.")),
    Field("noise", "noise", N_("Noise"), "slider", (0.0, 1.0), step=0.05),
    Field("n_classes", "k", N_("Classes"), "slider", (2, 6),
          help=N_("Spiral arms or blob centres; moons, circles and xor always have 2.")),
    Field("data_seed", "dseed", N_("Data seed"), "number", _SEEDS),
    Field("depth", "depth", N_("Hidden layers"), "slider", (1, 50),
          help=N_("Number of hidden layers L; the network has L + 1 weight matrices.")),
    Field("width", "width", N_("Units per layer"), "grid", (2, 512), grid=(2, 4, 8, 16, 32, 64, 128, 256)),
    # The ids of core.activations (tests/test_fields.py), the common ones first.
    Field("activation", "act", N_("Activation"), "select",
          choices=("tanh", "relu", "sigmoid", "linear", "leaky_relu", "gelu")),
    Field("schemes", "init", N_("Initialization"), "schemes", (1, 6), choices=tuple(SCHEMES)),
    Field("scale", "scale", N_("Scale ×"), "grid", (0.01, 100.0), grid=_SCALES,
          help=N_("Multiplies the standard deviation (or bound) of the chosen scheme.")),
    Field("gain", "gain", N_("Gain"), "radio", choices=("1", "auto"),
          help=N_("`1`: the formula as published. `auto`: times the activation's gain (5/3 for tanh, √2 for "
                  "ReLU); for He/Kaiming auto is 1, its formula already holds the ReLU factor.")),
    Field("weight_std", "sigma", N_("σ of normal"), "grid", (1e-6, 10.0), grid=log_grid(1e-6, 10.0),
          help=N_("σ of the `normal` and `truncated_normal` schemes.")),
    Field("weight_const", "c", N_("Constant c"), "number", (-10.0, 10.0), step=0.1,
          help=N_("Every weight of the `constant` scheme equals c.")),
    Field("weight_bound", "a", N_("Bound a of uniform"), "grid", (1e-6, 10.0), grid=log_grid(1e-6, 10.0),
          help=N_("a of the `uniform` scheme U[−a, a].")),
    Field("sparsity", "sparsity", N_("Sparsity of sparse"), "grid", (0.0, 1.0),
          grid=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
          help=N_("Fraction of each input's weights `sparse` sets to 0 (PyTorch's `sparse_`).")),
    Field("he_mode", "mode", N_("He mode"), "radio", choices=("fan_in", "fan_out"),
          help=N_("He scaling by the layer's inputs (fan_in) or outputs (fan_out).")),
    Field("leaky_slope", "slope", N_("Leaky ReLU slope"), "slider", (0.0, 1.0), step=0.01),
    Field("bias_init", "bias", N_("Bias init"), "select",
          choices=("zeros", "constant", "normal", "standard_uniform")),
    Field("bias_value", "bval", N_("Bias value"), "number", (-10.0, 10.0), step=0.1,
          help=N_("c of the `constant` bias, σ of the `normal` bias.")),
    Field("optimizer", "opt", N_("Optimizer"), "select", choices=("sgd", "momentum", "adam")),
    Field("lr", "lr", N_("Learning rate"), "grid", (1e-5, 10.0), grid=log_grid(1e-5, 10.0, (1, 2, 3, 5))),
    Field("batch_size", "batch", N_("Batch size"), "grid", (8, 512), grid=(8, 16, 32, 64, 128, 256, 512)),
    Field("steps", "steps", N_("Training steps"), "slider", (0, 3000), step=50,
          help=N_("Mini-batch updates; 0 shows the network at initialization.")),
    Field("seed", "seed", N_("Seed"), "number", _SEEDS,
          help=N_("Seed of the initial weights and of the mini-batch order.")),
    Field("dtype", "dtype", N_("Precision"), "radio", choices=("float64", "float32")),
    Field("block", "block", N_("Block"), "radio", choices=("plain", "residual"),
          help=N_("plain: h = φ(N(h W + b)); residual: h ← h + α f(N(h)).")),
    Field("norm", "norm", N_("Normalization"), "radio", choices=("none", "batch", "layer"),
          help=N_("none, batch (BatchNorm) or layer (LayerNorm).")),
    Field("alpha", "alpha", N_("Branch scale α"), "select",
          choices=("one", "inv_sqrt_l", "inv_sqrt_2l", "learned"),
          help=N_("Scale of the residual branch: 1, 1/√L, 1/√(2L), or learned from 0 (SkipInit).")),
    Field("branch_layers", "branch", N_("Layers per branch"), "grid", (1, 2), grid=(1, 2)),
    Field("input_dim", "dim", N_("Input dimension"), "number", (1, 1000),
          help=N_("Coordinates of each unit-Gaussian input of the `gaussian` data set (the CS231n lecture "
                  "feeds 500).")),
    Field("output_init", "out", N_("Output layer starts"), "radio", choices=("same", "zeros"),
          help=N_("`same`: the output layer starts like the hidden layers. `zeros`: only the output layer's "
                  "weights and biases start at 0 (common practice; the hidden layers stay random, so the "
                  "symmetry is broken after the first step).")),
    # Recording: set by the pages, never by a link.
    Field("record_every", "", None, limits=(1, 1000)),
    Field("n_checkpoints", "", None, limits=(1, 12)),
)
# fmt: on

FIELDS: dict[str, Field] = {f.name: f for f in _ROWS}
URL_KEYS: dict[str, str] = {f.name: f.key for f in _ROWS if f.key}  # config field -> URL key
FIELDS_BY_KEY: dict[str, str] = {f.key: f.name for f in _ROWS if f.key}

"""The weight-initialization catalog: one registry entry per scheme, with its formula, paper and std.
Each scheme is a stable string id (also used in URLs) in `SCHEMES`; `initialize` is the one entry point.
"""

# Conventions (docs/theory.md): W has shape (fan_in, fan_out) and a layer computes z = h_prev @ W + b; every
# scheme takes a gain g (1 = as published; "auto" = the activation's, 1 for He, whose formula has it); `scale`
# multiplies the result last; every parameter is accepted by every scheme, unknown names raise ValueError.
# The shape of this module follows PyTorch's torch/nn/init.py (one function per rule, one gain table).

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from i18n import N_, Text
from i18n.numbers import num
from core.activations import ACTIVATIONS, GELU_SECOND_MOMENT  # noqa: F401 (GELU_SECOND_MOMENT: public)
from core.samplers import (  # noqa: F401 (the samplers are public here too, as in torch.nn.init)
    TRUNC_CUT,
    TRUNC_STD,
    _he_variance,
    _orthogonal_std,
    _sparse_zeros,
    _zero_std,
    fan_avg_std,
    fan_in_std,
    he_std,
    sigma_std,
    zeros,
    constant,
    normal,
    uniform,
    standard_uniform,
    lecun_normal,
    lecun_uniform,
    xavier_normal,
    xavier_uniform,
    he_normal,
    he_uniform,
    orthogonal,
    truncated_normal,
    sparse,
)

HE_MODES = ("fan_in", "fan_out")


# --------------------------------------------------------------------------------------------- gains
def gain(activation: str, slope: float = 0.01) -> float:
    """The recommended gain g for an activation, as in ``calculate_gain`` of the major frameworks.

    linear, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2)); selu: 3/4.
    gelu: frameworks define none. We use the gain that keeps the second moment of a unit-variance
    Gaussian input, g = 1 / sqrt(E[gelu(u)^2]) = (1/3 + 1/(2 pi sqrt 3))^(-1/2) ~= 1.5335 -- the same
    definition that gives ReLU its sqrt(2) (E[relu(u)^2] = 1/2).
    """
    _check_activation(activation)
    _check_number("slope", slope, low=0.0)
    return ACTIVATIONS[activation].gain(slope) if activation in ACTIVATIONS else GAINS[activation]


# The gains at the default slope 0.01 (core.activations' table), and SELU's, which the frameworks list
# although Init Lab has no SELU activation.
GAINS: dict[str, float] = {name: a.gain(0.01) for name, a in ACTIVATIONS.items()} | {"selu": 0.75}


# ------------------------------------------------------------------------------------------- catalog
@dataclass(frozen=True)
class Scheme:
    """One initialization scheme: everything the app knows about it, in one entry of `SCHEMES`."""

    label: Text  # human label, one per id across the app (translated where it is shown)
    family: str  # constant, fixed scale, fan-in scaled, fan-avg scaled, orthogonal, data-dependent
    formula: str  # LaTeX for st.latex (the rule as published, before `scale`)
    purpose: str  # one line: what it is for
    symmetric: bool = False  # True when every weight starts equal (the symmetry lesson)
    params: tuple[str, ...] = ()  # the parameters this scheme reads (besides `scale`), names of `PARAMS`
    # sample(fan_in, fan_out, rng, p, activation) -> W before `scale`; p: the resolved parameters
    sample: Callable[..., np.ndarray] = field(default=None, kw_only=True)  # type: ignore[assignment]
    # std(fan_in, fan_out, p, activation) -> the exact std of each element of `sample`'s W
    std: Callable[..., float] = field(default=None, kw_only=True)  # type: ignore[assignment]


@dataclass(frozen=True)
class Param:
    """A parameter schemes may read: the ExperimentConfig field it comes from, its default and symbol."""

    field: str  # core.config.ExperimentConfig field
    default: object
    symbol: str = ""  # shown with its value in a run's label ("σ = 0.01") when the scheme reads it


PARAMS: dict[str, Param] = {
    "gain": Param("gain", 1.0),
    "scale": Param("scale", 1.0),
    "std": Param("weight_std", 0.01, "σ"),
    "value": Param("weight_const", 0.5, "c"),
    "bound": Param("weight_bound", 0.05, "a"),
    "sparsity": Param("sparsity", 0.1, "sparsity"),
    "mode": Param("he_mode", "fan_in"),
    "slope": Param("leaky_slope", 0.01),
}


# Bias schemes: id -> human label.
BIAS_SCHEMES: dict[str, str] = {
    "zeros": "Zeros",
    "constant": "Constant c",
    "normal": "Normal N(0, σ²)",
    "standard_uniform": "Standard uniform 1/√fan_in (PyTorch default)",
}

_PARAM_DEFAULTS: dict[str, object] = {name: p.default for name, p in PARAMS.items()}


# ------------------------------------------------------------------------------------ validation
def _check_number(name: str, value: object, low: float | None = None, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")  # noqa: TRY004 (house rule: ValueError)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low:g}, got {value!r}")
    return value


def _check_activation(activation: str) -> None:
    if activation not in GAINS:
        raise ValueError(f"activation must be one of {', '.join(GAINS)}; got {activation!r}")


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")


def _check_fans(fan_in: object, fan_out: object) -> tuple[int, int]:
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(fan_in), int(fan_out)


def _resolve(scheme: str, activation: str, params: dict) -> dict:
    """Validate ``params`` and fill in defaults; ``gain`` comes back as a float."""
    unknown = sorted(set(params) - set(_PARAM_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(_PARAM_DEFAULTS)}")
    p = {**_PARAM_DEFAULTS, **params}
    slope = _check_number("slope", p["slope"], low=0.0)
    g = p["gain"]
    if isinstance(g, str):
        if g == "auto":
            # He/Kaiming already contains the rectifier factor: "auto" must not count it twice.
            g = 1.0 if scheme.startswith("he_") else gain(activation, slope)
        else:
            try:
                g = float(g)  # config stores the published gain as the string "1"
            except ValueError:
                raise ValueError(f'gain must be a number >= 0 or "auto", got {p["gain"]!r}') from None
    p["gain"] = _check_number("gain", g, low=0.0)
    p["slope"] = slope
    p["scale"] = _check_number("scale", p["scale"], low=0.0)
    p["std"] = _check_number("std", p["std"], low=0.0)
    p["bound"] = _check_number("bound", p["bound"], low=0.0)
    p["value"] = _check_number("value", p["value"])
    p["sparsity"] = _check_number("sparsity", p["sparsity"], low=0.0)
    if p["sparsity"] > 1.0:
        raise ValueError(f"sparsity must be between 0 and 1 (the fraction of zeros), got {p['sparsity']!r}")
    if p["mode"] not in HE_MODES:
        raise ValueError(f"mode must be one of {', '.join(HE_MODES)}; got {p['mode']!r}")
    return p


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"rng must be a numpy Generator, an integer seed or None, got {type(rng).__name__}")


# ------------------------------------------------------------------------------------- the registry
# One entry per scheme: adding a scheme is adding an entry (and its sampler in core/samplers.py).
_NIN, _NOUT = r"n_{\mathrm{in}}", r"n_{\mathrm{out}}"

SCHEMES: dict[str, Scheme] = {
    "zeros": Scheme(
        N_("Zeros"),
        "constant",
        r"W_{ij} = 0",
        "Shows why not zero: every unit of a layer stays identical (and tanh/ReLU layers get no gradient).",
        True,
        (),
        sample=zeros,
        std=_zero_std,
    ),
    "constant": Scheme(
        N_("Constant"),
        "constant",
        r"W_{ij} = c",
        "Shows that any constant is as bad as zero: equal units get equal updates forever.",
        True,
        ("value", "gain"),
        sample=constant,
        std=_zero_std,
    ),
    "normal": Scheme(
        N_("Normal (fixed σ)"),
        "fixed scale",
        r"W_{ij} \sim \mathcal{N}(0,\ \sigma^2)",
        "The classic tutorial N(0, 0.01²): breaks symmetry, but one σ for every width and depth.",
        False,
        ("std", "gain"),
        sample=normal,
        std=sigma_std,
    ),
    "uniform": Scheme(
        N_("Uniform (fixed a)"),
        "fixed scale",
        r"W_{ij} \sim \mathcal{U}[-a,\ a]",
        "A fixed-width uniform: small and random, but blind to the layer's size.",
        False,
        ("bound", "gain"),
        sample=uniform,
        std=lambda n_in, n_out, p, act: p["gain"] * p["bound"] / math.sqrt(3.0),
    ),
    "standard_uniform": Scheme(
        N_("Standard uniform 1/√fan_in"),
        "fan-in scaled",
        rf"W_{{ij}} \sim \mathcal{{U}}\left[-\frac{{g}}{{\sqrt{{{_NIN}}}}},\ \frac{{g}}{{\sqrt{{{_NIN}}}}}\right]",
        "The 'standard' rule and PyTorch's nn.Linear default: variance 1/(3 fan_in), a 1/3 shrink per layer.",
        False,
        ("gain",),
        sample=standard_uniform,
        std=lambda n_in, n_out, p, act: p["gain"] / math.sqrt(3.0 * n_in),
    ),
    "lecun_normal": Scheme(
        N_("LeCun normal"),
        "fan-in scaled",
        rf"W_{{ij}} \sim \mathcal{{N}}\left(0,\ \frac{{g^2}}{{{_NIN}}}\right)",
        "Keeps the forward variance when E[h²] ≈ Var[z] (linear regime; SELU networks).",
        False,
        ("gain",),
        sample=lecun_normal,
        std=fan_in_std,
    ),
    "lecun_uniform": Scheme(
        N_("LeCun uniform"),
        "fan-in scaled",
        rf"W_{{ij}} \sim \mathcal{{U}}\left[-g\sqrt{{\frac{{3}}{{{_NIN}}}}},\ g\sqrt{{\frac{{3}}{{{_NIN}}}}}\right]",
        "LeCun's variance g²/fan_in with a uniform distribution.",
        False,
        ("gain",),
        sample=lecun_uniform,
        std=fan_in_std,
    ),
    "xavier_normal": Scheme(
        N_("Xavier (Glorot) normal"),
        "fan-avg scaled",
        rf"W_{{ij}} \sim \mathcal{{N}}\left(0,\ g^2\,\frac{{2}}{{{_NIN} + {_NOUT}}}\right)",
        "Balances the forward signal and the backward gradient for tanh-like units.",
        False,
        ("gain",),
        sample=xavier_normal,
        std=fan_avg_std,
    ),
    "xavier_uniform": Scheme(
        N_("Xavier (Glorot) uniform"),
        "fan-avg scaled",
        rf"W_{{ij}} \sim \mathcal{{U}}\left[-g\sqrt{{\frac{{6}}{{{_NIN} + {_NOUT}}}}},\ "
        rf"g\sqrt{{\frac{{6}}{{{_NIN} + {_NOUT}}}}}\right]",
        "Glorot & Bengio's rule as published (uniform); the usual default for tanh networks.",
        False,
        ("gain",),
        sample=xavier_uniform,
        std=fan_avg_std,
    ),
    "he_normal": Scheme(
        N_("He (Kaiming) normal"),
        "fan-in scaled",
        r"W_{ij} \sim \mathcal{N}\left(0,\ \frac{2\,g^2}{(1+\alpha^2)\,n_{\mathrm{mode}}}\right),"
        r"\quad \alpha = \text{leaky slope (0 unless leaky ReLU)}",
        "Keeps the variance through ReLU layers, which zero half of their inputs.",
        False,
        ("mode", "slope", "gain"),
        sample=he_normal,
        std=he_std,
    ),
    "he_uniform": Scheme(
        N_("He (Kaiming) uniform"),
        "fan-in scaled",
        r"W_{ij} \sim \mathcal{U}\left[-g\sqrt{\frac{6}{(1+\alpha^2)\,n_{\mathrm{mode}}}},\ "
        r"g\sqrt{\frac{6}{(1+\alpha^2)\,n_{\mathrm{mode}}}}\right]",
        "He's ReLU variance with a uniform distribution.",
        False,
        ("mode", "slope", "gain"),
        sample=he_uniform,
        std=he_std,
    ),
    "orthogonal": Scheme(
        N_("Orthogonal"),
        "orthogonal",
        r"W = g\,Q,\quad Q^\top Q = I \ \text{(or } Q Q^\top = I\text{)},\ Q \text{ from the QR of a Gaussian matrix}",
        "All singular values equal g: linear deep networks keep every direction's norm (Saxe et al.).",
        False,
        ("gain",),
        sample=orthogonal,
        std=_orthogonal_std,
    ),
    "truncated_normal": Scheme(
        N_("Truncated normal"),
        "fixed scale",
        r"W_{ij} \sim \mathcal{N}\left(0,\ (\sigma/0.8796)^2\right) \text{ cut at } \pm 2\sigma/0.8796"
        r"\ \Rightarrow\ \mathrm{std} = \sigma",
        "Normal without the rare large weights; the std is corrected so it is still σ.",
        False,
        ("std", "gain"),
        sample=truncated_normal,
        std=sigma_std,
    ),
    "lsuv": Scheme(
        N_("LSUV (layer-sequential unit variance)"),
        "data-dependent",
        r"W_l \leftarrow g\,Q_l,\ \text{then } W_l \leftarrow W_l / \sqrt{\mathrm{Var}[z_l]}"
        r"\ \text{on a batch, layer by layer, until } \mathrm{Var}[z_l] \approx 1",
        "Orthogonal start, then each layer rescaled on real data so its output variance is 1.",
        False,
        ("gain",),
        sample=orthogonal,  # the data-independent start; `lsuv` rescales it on a batch
        std=_orthogonal_std,
    ),
    "sparse": Scheme(
        N_("Sparse (PyTorch sparse_)"),
        "fixed scale",
        r"W_{ij} \sim \mathcal{N}(0,\ \sigma^2),\ \text{then }\lceil \mathrm{sparsity}\,"
        + _NOUT
        + r"\rceil \text{ weights of each input set to } 0",
        "Martens' sparse start: each unit sees few inputs, so the scale of a weight does not depend on the width.",
        False,
        ("sparsity", "std", "gain"),
        sample=sparse,
        std=lambda n_in, n_out, p, act: (
            p["gain"] * p["std"] * math.sqrt(1.0 - _sparse_zeros(n_out, p) / n_out)
        ),
    ),
}


# ------------------------------------------------------------------------------------ public API
def initialize(
    scheme: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator | int | None = None,
    activation: str = "tanh",
    **params,
) -> np.ndarray:
    """Sample one weight matrix of shape (fan_in, fan_out), float64.

    params (all optional, all accepted by every scheme): gain (number or "auto"), scale, std,
    value, bound, mode ("fan_in"/"fan_out"), slope. ``rng`` may be a Generator, an int seed, or None
    (fresh entropy). ``"lsuv"`` returns its orthogonal start; call `lsuv` with a batch to finish it.
    """
    _check_scheme(scheme)
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    _check_activation(activation)
    p = _resolve(scheme, activation, params)
    rng = _as_rng(rng)
    w = SCHEMES[scheme].sample(fan_in, fan_out, rng, p, activation)
    if p["scale"] != 1.0:
        w *= p["scale"]
    return w


def weight_std(scheme: str, fan_in: int, fan_out: int, activation: str = "tanh", **params) -> float:
    """The exact standard deviation of the distribution `initialize` samples each element from.

    zeros and constant: 0 (their elements do not vary). orthogonal and lsuv (its start):
    g / sqrt(max(fan_in, fan_out)) -- the squared entries of Q sum to min(fan_in, fan_out) over
    fan_in * fan_out elements, all exchangeable. Square this for the mean-field weight variance.
    """
    _check_scheme(scheme)
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    _check_activation(activation)
    p = _resolve(scheme, activation, params)
    std = SCHEMES[scheme].std(fan_in, fan_out, p, activation)
    return std * p["scale"]


def scheme_label(scheme: str) -> str:
    """The one human label of a scheme id ("he_normal" -> "He (Kaiming) normal"); an unknown id is its own label."""
    return str(SCHEMES[scheme].label) if scheme in SCHEMES else scheme


def run_label(scheme: str, config: object) -> str:
    """The scheme's label and the values of the parameters that define it, read from `config` (an
    ExperimentConfig): "Normal (fixed σ), σ = 0.01", "Sparse (PyTorch sparse_), sparsity = 0.1, σ = 0.01"."""
    if scheme not in SCHEMES:
        return scheme
    values = [
        f"{PARAMS[n].symbol} = {num(getattr(config, PARAMS[n].field), 3)}"
        for n in SCHEMES[scheme].params
        if PARAMS[n].symbol
    ]
    return ", ".join([str(SCHEMES[scheme].label), *values])


def initialize_bias(
    scheme: str,
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator | int | None = None,
    value: float = 0.0,
) -> np.ndarray:
    """Sample a bias vector of shape (fan_out,), float64.

    zeros: 0. constant: ``value``. normal: N(0, value^2) (``value`` is the std).
    standard_uniform: U[-1/sqrt(fan_in), 1/sqrt(fan_in)], PyTorch's ``nn.Linear`` bias default.
    """
    if scheme not in BIAS_SCHEMES:
        raise ValueError(f"bias scheme must be one of {', '.join(BIAS_SCHEMES)}; got {scheme!r}")
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    value = _check_number("value", value)
    rng = _as_rng(rng)
    if scheme == "zeros":
        return np.zeros(fan_out)
    if scheme == "constant":
        return np.full(fan_out, value)
    if scheme == "normal":
        if value < 0:
            raise ValueError(f"value (the std of a normal bias) must be >= 0, got {value!r}")
        return rng.standard_normal(fan_out) * value
    b = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-b, b, fan_out)


def bias_std(scheme: str, fan_in: int, value: float = 0.0) -> float:
    """Std of the distribution `initialize_bias` samples from (0 for zeros and constant)."""
    if scheme not in BIAS_SCHEMES:
        raise ValueError(f"bias scheme must be one of {', '.join(BIAS_SCHEMES)}; got {scheme!r}")
    return {
        "zeros": 0.0,
        "constant": 0.0,
        "normal": abs(value),
        "standard_uniform": 1 / math.sqrt(3 * fan_in),
    }[scheme]


def lsuv(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    X: np.ndarray,
    activation: str | Callable[[np.ndarray], np.ndarray],
    tol: float = 0.05,
    max_iter: int = 10,
    slope: float = 0.01,
) -> list[np.ndarray]:
    """Layer-sequential unit variance (Mishkin & Matas 2015, "All you need is a good init").

    Start from orthogonal weights (``initialize("lsuv", ...)``). Then, layer by layer from the input,
    run the batch ``X`` forward and divide ``W_l`` by sqrt(Var[z_l]) -- the variance over all entries
    of the layer's pre-activation z = h_prev @ W + b -- until |Var[z_l] - 1| < ``tol`` or ``max_iter``
    rescalings. Every layer is rescaled, the output layer (the logits) included, as in the paper.
    A layer whose output does not vary on the batch (e.g. zero input) is left unchanged.

    ``weights``: the L + 1 matrices (fan_in, fan_out); ``biases``: the L + 1 vectors;
    ``activation``: a name ("tanh", "relu", ...; ``slope`` for leaky_relu) or a callable phi applied
    to hidden layers. Returns new rescaled copies of the weights (same dtypes); inputs are not modified.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError("weights and biases must be non-empty lists of the same length")
    tol = _check_number("tol", tol, positive=True)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    phi = activation if callable(activation) else _phi(activation, slope)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != weights[0].shape[0]:
        raise ValueError(f"X must have shape (batch, {weights[0].shape[0]}), got {X.shape}")
    out = [np.array(w, copy=True) for w in weights]
    h = X
    for layer, (w, b) in enumerate(zip(out, biases)):
        for _ in range(max_iter):
            var = float(np.var(h @ w + b))
            if not math.isfinite(var) or var == 0.0 or abs(var - 1.0) < tol:
                break
            w *= 1.0 / math.sqrt(var)
        if layer < len(out) - 1:
            h = phi(h @ w + b)
    return out


def _phi(activation: str, slope: float) -> Callable[[np.ndarray], np.ndarray]:
    """The activation function by name, from core.activations' table."""
    _check_activation(activation)
    phi = ACTIVATIONS[activation].phi
    return lambda z: phi(z, slope)

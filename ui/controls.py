"""One widget per ExperimentConfig field, bound to the URL: the same label, key, range and format on every page.

Call `share.begin(page)` first; each control records itself so `config()` and the share link can read it back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import streamlit as st

from core import config as C
from core.config import ExperimentConfig
from ui import style

# config field -> URL query key (one name per idea; docs/CONTRIBUTING.md). Never rename a key:
# old share links would stop working.
URL_KEYS: dict[str, str] = {
    "dataset": "data",
    "n_samples": "n",
    "noise": "noise",
    "n_classes": "k",
    "data_seed": "dseed",
    "depth": "depth",
    "width": "width",
    "activation": "act",
    "schemes": "init",
    "scale": "scale",
    "gain": "gain",
    "weight_std": "sigma",
    "weight_const": "c",
    "weight_bound": "a",
    "sparsity": "sparsity",
    "he_mode": "mode",
    "leaky_slope": "slope",
    "bias_init": "bias",
    "bias_value": "bval",
    "optimizer": "opt",
    "lr": "lr",
    "batch_size": "batch",
    "steps": "steps",
    "seed": "seed",
    "dtype": "dtype",
    "block": "block",
    "norm": "norm",
    "alpha": "alpha",
    "branch_layers": "branch",
    "input_dim": "dim",
    "output_init": "out",
}
FIELDS_BY_KEY: dict[str, str] = {v: k for k, v in URL_KEYS.items()}

# The one label of each idea, used by every page.
LABELS: dict[str, str] = {
    "dataset": "Data set",
    "n_samples": "Examples",
    "noise": "Noise",
    "n_classes": "Classes",
    "data_seed": "Data seed",
    "depth": "Hidden layers",
    "width": "Units per layer",
    "activation": "Activation",
    "schemes": "Initialization",
    "scale": "Scale ×",
    "gain": "Gain",
    "weight_std": "σ of normal",
    "weight_const": "Constant c",
    "weight_bound": "Bound a of uniform",
    "sparsity": "Sparsity of sparse",
    "he_mode": "He mode",
    "leaky_slope": "Leaky ReLU slope",
    "bias_init": "Bias init",
    "bias_value": "Bias value",
    "optimizer": "Optimizer",
    "lr": "Learning rate",
    "batch_size": "Batch size",
    "steps": "Training steps",
    "seed": "Seed",
    "dtype": "Precision",
    "block": "Block",
    "norm": "Normalization",
    "alpha": "Branch scale α",
    "branch_layers": "Layers per branch",
    "input_dim": "Input dimension",
    "output_init": "Output layer starts",
}

_DEFAULTS = ExperimentConfig()
_REGISTRY = "_initlab_controls"


def fmt_number(value: float) -> str:
    """The one text form of a number, in labels and in URLs: 0.01, 1, 1e-05."""
    return f"{value:g}"


def log_grid(lo: float, hi: float, mantissas: Sequence[float] = (1, 2, 5)) -> tuple[float, ...]:
    """Values m * 10**e between lo and hi (inclusive), rounded to 3 significant digits."""
    out: list[float] = []
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            v = float(f"{m * 10.0**e:.3g}")
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                out.append(v)
    return tuple(sorted(set(out)))


# Log-scale grids of the select_slider controls (a page may pass its own `options`).
# fmt: off
SCALE_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0, 5.0,
              10.0, 20.0, 50.0, 100.0)
# fmt: on
SIGMA_GRID = log_grid(1e-6, 10.0, (1, 2, 5))
BOUND_GRID = log_grid(1e-6, 10.0, (1, 2, 5))
LR_GRID = log_grid(1e-5, 10.0, (1, 2, 3, 5))
SPARSITY_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
WIDTH_GRID = (2, 4, 8, 16, 32, 64, 128, 256)
BATCH_GRID = (8, 16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Control:
    """What one control put on the page: its field, URL key, value and how to read a URL value."""

    field: str
    key: str
    value: Any
    url: tuple[str, ...]  # the value as URL strings (several for a multi-select)
    allowed: str  # plain words: which values this control accepts
    shown: str  # the value as a student reads it
    options: tuple[str, ...] = ()  # the ids a categorical control accepts (near misses are suggested)

    def means_value(self, raw: list[str]) -> bool:
        """True if the raw URL strings ask for exactly the value the widget has."""
        if isinstance(self.value, tuple):
            return tuple(raw) == self.value or (raw == [""] and self.value == ())
        if len(raw) != 1:
            return False
        if isinstance(self.value, str):
            return raw[0] == self.value
        try:
            x = float(raw[0])
        except ValueError:
            return False
        return math.isfinite(x) and math.isclose(x, float(self.value), rel_tol=1e-9, abs_tol=0.0)


# ---------------------------------------------------------------- the registry of this script run


def _run_token() -> int | None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    # A new coordinator is made at the start of every script run (streamlit 1.67): a cheap run id.
    return id(getattr(ctx, "parallel_coordinator", None)) if ctx is not None else None


def bound_keys() -> set[str]:
    """The URL keys of the controls the previous run of this session drew (any page's own controls too)."""
    reg = st.session_state.get(_REGISTRY)
    return {c.key for c in reg["controls"].values()} if reg else set()


def reset() -> None:
    """Forget the controls of the previous run (share.begin calls this)."""
    st.session_state[_REGISTRY] = {"run": _run_token(), "controls": {}}


def registered() -> dict[str, Control]:
    """The controls drawn so far in this run, by config field, in the order they were drawn."""
    reg = st.session_state.get(_REGISTRY)
    if reg is None or reg["run"] != _run_token():
        reset()
        reg = st.session_state[_REGISTRY]
    return reg["controls"]


def _register(c: Control) -> None:
    controls = registered()
    if c.field in controls:
        raise ValueError(f"the control {c.field!r} is drawn twice on this page; draw it once")
    controls[c.field] = c


def record(name: str, key: str, value: Any, allowed: str, options: Sequence[Any] = ()) -> None:
    """Record a page's own URL-bound widget (not an ExperimentConfig field), so the share link and the
    link notice see it. Its key must be unique in the app, like every URL key."""
    text = fmt_number(value) if isinstance(value, float) else str(value)
    opts = tuple(fmt_number(o) if isinstance(o, float) else str(o) for o in options)
    _register(Control(name, key, value, (text,), allowed, text, opts))


def refresh_after_fragment(key: str, value: Any) -> None:
    """Inside a fragment: a changed page control reruns the whole page once, so the share link shows it."""
    seen = f"_initlab_seen_{key}"
    changed = seen in st.session_state and st.session_state[seen] != value
    st.session_state[seen] = value
    if changed:
        st.rerun(scope="app")


def values() -> dict[str, Any]:
    """Config field -> value of every ExperimentConfig control drawn so far in this run."""
    return {name: c.value for name, c in registered().items() if name in URL_KEYS}


def config(**fixed: Any) -> ExperimentConfig:
    """The page's ExperimentConfig: the drawn controls plus `fixed` values for the fields it does not show.

    Fields in neither keep the ExperimentConfig defaults. A field both drawn and fixed is a bug.
    """
    drawn = values()
    both = sorted(set(drawn) & set(fixed))
    if both:
        raise ValueError(f"{', '.join(both)}: both a control and a fixed value on this page")
    unknown = sorted(set(fixed) - {f.name for f in fields(ExperimentConfig)})
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not fields of ExperimentConfig")
    return ExperimentConfig(**{**fixed, **drawn})


# ---------------------------------------------------------------- generic widget helpers


def _where(container: Any) -> Any:
    return st if container is None else container


def _check_range(name: str, lo: float, hi: float) -> None:
    llo, lhi = C.LIMITS[name]
    if lo < llo or hi > lhi or lo > hi:
        raise ValueError(f"{name}: the range [{lo}, {hi}] must lie within the limits [{llo}, {lhi}]")


def _int_slider(
    name: str,
    container: Any,
    default: int | None,
    min_value: int | None,
    max_value: int | None,
    step: int,
    label: str | None,
    help: str | None,
    disabled: bool,
) -> int:
    lo = int(C.LIMITS[name][0] if min_value is None else min_value)
    hi = int(C.LIMITS[name][1] if max_value is None else max_value)
    _check_range(name, lo, hi)
    value = int(getattr(_DEFAULTS, name) if default is None else default)
    value = min(max(value, lo), hi)
    key = URL_KEYS[name]
    _clamp_link(key, lo, hi, int)
    out = _where(container).slider(
        label or LABELS[name],
        min_value=lo,
        max_value=hi,
        value=value,
        step=step,
        key=key,
        bind="query-params",
        help=help,
        disabled=disabled,
    )
    out = int(out)
    _register(Control(name, key, out, (str(out),), f"a whole number from {lo} to {hi}", str(out)))
    return out


def _float_slider(
    name: str,
    container: Any,
    default: float | None,
    min_value: float | None,
    max_value: float | None,
    step: float,
    label: str | None,
    help: str | None,
    disabled: bool,
) -> float:
    lo = float(C.LIMITS[name][0] if min_value is None else min_value)
    hi = float(C.LIMITS[name][1] if max_value is None else max_value)
    _check_range(name, lo, hi)
    value = float(getattr(_DEFAULTS, name) if default is None else default)
    value = min(max(value, lo), hi)
    key = URL_KEYS[name]
    _clamp_link(key, lo, hi, float)
    out = _where(container).slider(
        label or LABELS[name],
        min_value=lo,
        max_value=hi,
        value=value,
        step=step,
        key=key,
        bind="query-params",
        help=help,
        disabled=disabled,
    )
    out = float(out)
    _register(
        Control(
            name,
            key,
            out,
            (fmt_number(out),),
            f"a number from {fmt_number(lo)} to {fmt_number(hi)}",
            fmt_number(out),
        )
    )
    return out


def _number_input(
    name: str,
    container: Any,
    default: float | None,
    min_value: float | None,
    max_value: float | None,
    step: float | int,
    is_int: bool,
    label: str | None,
    help: str | None,
    disabled: bool,
) -> Any:
    cast: Callable[[Any], Any] = int if is_int else float
    lo = cast(C.LIMITS[name][0] if min_value is None else min_value)
    hi = cast(C.LIMITS[name][1] if max_value is None else max_value)
    _check_range(name, lo, hi)
    value = cast(getattr(_DEFAULTS, name) if default is None else default)
    value = min(max(value, lo), hi)
    key = URL_KEYS[name]
    _clamp_link(key, lo, hi, cast)
    out = _where(container).number_input(
        label or LABELS[name],
        min_value=lo,
        max_value=hi,
        value=value,
        step=cast(step),
        key=key,
        bind="query-params",
        help=help,
        disabled=disabled,
        format=None if is_int else "%g",
    )
    out = cast(out)
    show: Callable[[Any], str] = str if is_int else fmt_number
    kind = "a whole number" if is_int else "a number"
    _register(Control(name, key, out, (show(out),), f"{kind} from {show(lo)} to {show(hi)}", show(out)))
    return out


def _linked_number(key: str, cast: Callable[[Any], Any]) -> float | int | None:
    """The number the URL gives for `key`, if it gives exactly one finite number (of the right kind)."""
    raw = st.query_params.get_all(key)
    try:
        number = float(raw[0]) if len(raw) == 1 else math.nan
    except ValueError:
        return None
    if not math.isfinite(number) or (cast is int and not number.is_integer()):
        return None
    return cast(number)


_SHARE_STATE = "_initlab_share"  # ui.share's per-visit state: the link's corrections are noted there


def _clamp_link(
    key: str, lo: float, hi: float, cast: Callable[[Any], Any], grid: Sequence[float] = ()
) -> None:
    """A link's number outside [lo, hi] becomes the nearest allowed value (on `grid` if given), URL included.

    Only on the first run of a page visit (later the widget's own value rules). The link is corrected
    where Streamlit seeds the widget from, so the widget, the address bar and the share link agree, and
    ui.share's notice says what was changed.
    """
    state = st.session_state.get(_SHARE_STATE)
    if state is None or state.get("first") is not None:
        return
    raw = st.query_params.get_all(key)
    try:
        asked = float(raw[0]) if len(raw) == 1 else math.nan
    except ValueError:
        return
    if not math.isfinite(asked) or lo <= asked <= hi:  # nan, inf: malformed, not out of range
        return
    near = min(max(asked, lo), hi)
    if grid:
        near = min(grid, key=lambda g: abs(g - near))
    text = str(cast(near)) if cast is int else fmt_number(cast(near))
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with ctx.session_state.query_params() as qp:
        qp._initial_query_params[key] = [text]  # what the bound widget is seeded from
        qp.set_with_no_forward_msg(key, text)
        qp._send_query_param_msg()
    side = "largest" if asked > hi else "smallest"
    state.setdefault("fixes", {})[key] = (
        f"**{key}** = {fmt_number(asked)} is out of range; using the {side} allowed value, {text}."
    )


def _grid_slider(
    name: str,
    container: Any,
    default: float | None,
    options: Sequence[float],
    label: str | None,
    help: str | None,
    disabled: bool,
    is_int: bool = False,
) -> Any:
    cast: Callable[[Any], Any] = int if is_int else float
    grid = sorted({cast(v) for v in options})
    _check_range(name, grid[0], grid[-1])
    value = cast(getattr(_DEFAULTS, name) if default is None else default)
    key = URL_KEYS[name]
    _clamp_link(key, grid[0], grid[-1], cast, grid)
    # A page default off the grid joins the grid, so it stays reachable; so does a value a link asks for
    # inside the grid's range (the Phase page links exact weight scales such as 1.414).
    asked = _linked_number(key, cast)
    extra = {value} | ({asked} if asked is not None and grid[0] <= asked <= grid[-1] else set())
    grid = sorted({*grid, *extra})
    out = _where(container).select_slider(
        label or LABELS[name],
        options=grid,
        value=value,
        format_func=fmt_number,
        key=key,
        bind="query-params",
        help=help,
        disabled=disabled,
    )
    out = cast(out)
    kind = "a whole number" if is_int else "a number"
    allowed = f"{kind} from {fmt_number(grid[0])} to {fmt_number(grid[-1])}"
    _register(Control(name, key, out, (fmt_number(out),), allowed, fmt_number(out)))
    return out


def _choice(
    name: str,
    container: Any,
    default: str | None,
    options: Sequence[str],
    label: str | None,
    help: str | None,
    disabled: bool,
    horizontal: bool = False,
) -> str:
    opts = list(options)
    value = str(getattr(_DEFAULTS, name) if default is None else default)
    if value not in opts:
        raise ValueError(f"{name}: the default {value!r} is not among the options {opts}")
    key = URL_KEYS[name]
    where = _where(container)
    # Options are shown by their stable ids: a bound widget writes the shown text into the URL, and ids
    # keep share links valid when a human label is reworded.
    if horizontal:
        out = where.radio(
            label or LABELS[name],
            opts,
            index=opts.index(value),
            key=key,
            bind="query-params",
            help=help,
            disabled=disabled,
            horizontal=True,
        )
    else:
        out = where.selectbox(
            label or LABELS[name],
            opts,
            index=opts.index(value),
            key=key,
            bind="query-params",
            help=help,
            disabled=disabled,
        )
    out = str(out)
    _register(Control(name, key, out, (out,), f"one of {', '.join(opts)}", out, tuple(opts)))
    return out


# ---------------------------------------------------------------- one function per config field
# Every function: (container=None, *, default=None, ..., label=None, help=None, disabled=False) -> value.
# `container` is where the widget goes (st, st.sidebar, a column); None = the current `with` block.


def dataset(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.DATASETS,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> str:
    """Data set id (URL `data`)."""
    return _choice("dataset", container, default, options, label, help, disabled)


def n_samples(
    container: Any = None,
    *,
    default: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    step: int = 50,
    label: str | None = None,
    help: str | None = "Training and test examples together; 25 % are held out for testing.",
    disabled: bool = False,
) -> int:
    """Number of examples, train + test (URL `n`)."""
    return _int_slider("n_samples", container, default, min_value, max_value, step, label, help, disabled)


def noise(
    container: Any = None,
    *,
    default: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    step: float = 0.05,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> float:
    """Label / position noise of the data set (URL `noise`)."""
    return _float_slider("noise", container, default, min_value, max_value, step, label, help, disabled)


def n_classes(
    container: Any = None,
    *,
    default: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    label: str | None = None,
    help: str | None = "Spiral arms or blob centres; moons, circles and xor always have 2.",
    disabled: bool = False,
) -> int:
    """Number of classes of spiral / blobs (URL `k`)."""
    return _int_slider("n_classes", container, default, min_value, max_value, 1, label, help, disabled)


def data_seed(
    container: Any = None,
    *,
    default: int | None = None,
    label: str | None = None,
    help: str | None = "Which random draw of the data set.",
    disabled: bool = False,
) -> int:
    """Seed of the data set (URL `dseed`)."""
    return _number_input("data_seed", container, default, None, None, 1, True, label, help, disabled)


def depth(
    container: Any = None,
    *,
    default: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    step: int = 1,
    label: str | None = None,
    help: str | None = "Number of hidden layers L; the network has L + 1 weight matrices.",
    disabled: bool = False,
) -> int:
    """Hidden layers L (URL `depth`)."""
    return _int_slider("depth", container, default, min_value, max_value, step, label, help, disabled)


def width(
    container: Any = None,
    *,
    default: int | None = None,
    options: Sequence[int] = WIDTH_GRID,
    label: str | None = None,
    help: str | None = "Units in every hidden layer.",
    disabled: bool = False,
) -> int:
    """Units per hidden layer (URL `width`), on a grid of powers of two."""
    return _grid_slider("width", container, default, options, label, help, disabled, is_int=True)


def activation(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.ACTIVATIONS,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> str:
    """Activation function of the hidden layers (URL `act`)."""
    return _choice("activation", container, default, options, label, help, disabled)


def _schemes_help(opts: Sequence[str]) -> str:
    return "Shown by the name used in code and in links:\n\n" + "\n".join(
        f"- `{s}`: {style.scheme_label(s)}" for s in opts
    )


def schemes(
    container: Any = None,
    *,
    multi: bool = True,
    default: Sequence[str] | None = None,
    options: Sequence[str] | None = None,
    max_selections: int | None = None,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> tuple[str, ...]:
    """Init scheme ids (URL `init`, repeated for several): always a tuple, empty if none is picked.

    multi=True draws a multiselect (at most `max_selections`, capped by LIMITS["n_schemes"]);
    multi=False a selectbox, and the tuple has one id.
    """
    opts = list(style.scheme_ids() if options is None else options)
    chosen = tuple(_DEFAULTS.schemes if default is None else default)
    bad = [s for s in chosen if s not in opts]
    if bad or not chosen:
        raise ValueError(f"schemes: the default {chosen!r} must be non-empty ids among {opts}")
    key = URL_KEYS["schemes"]
    where = _where(container)
    help = _schemes_help(opts) if help is None else help
    cap = int(C.LIMITS["n_schemes"][1])
    if multi:
        n_max = min(cap, max_selections or cap)
        lbl = label or "Initializations"
        out = tuple(
            where.multiselect(
                lbl,
                opts,
                default=list(chosen),
                max_selections=n_max,
                key=key,
                bind="query-params",
                help=help,
                disabled=disabled,
            )
        )
        allowed = f"up to {n_max} of {', '.join(opts)}"
    else:
        out = (
            str(
                where.selectbox(
                    label or LABELS["schemes"],
                    opts,
                    index=opts.index(chosen[0]),
                    key=key,
                    bind="query-params",
                    help=help,
                    disabled=disabled,
                )
            ),
        )
        allowed = f"one of {', '.join(opts)}"
    shown = ", ".join(out) if out else "none"
    _register(Control("schemes", key, out, out if out else ("",), allowed, shown, tuple(opts)))
    return out


def scale(
    container: Any = None,
    *,
    default: float | None = None,
    options: Sequence[float] = SCALE_GRID,
    label: str | None = None,
    help: str | None = "Multiplies the standard deviation (or bound) of the chosen scheme.",
    disabled: bool = False,
) -> float:
    """Multiplier of the scheme's std (URL `scale`), on a log grid."""
    return _grid_slider("scale", container, default, options, label, help, disabled)


def gain(
    container: Any = None,
    *,
    default: str | None = None,
    label: str | None = None,
    help: str | None = "`1`: the formula as published. `auto`: times the activation's gain "
    "(5/3 for tanh, √2 for ReLU); for He/Kaiming auto is 1, its formula already holds the ReLU factor.",
    disabled: bool = False,
) -> str:
    """Gain of the fan-scaled formulas: "1" or "auto" (URL `gain`)."""
    return _choice("gain", container, default, ("1", "auto"), label, help, disabled, horizontal=True)


def weight_std(
    container: Any = None,
    *,
    default: float | None = None,
    options: Sequence[float] = SIGMA_GRID,
    label: str | None = None,
    help: str | None = "σ of the `normal` and `truncated_normal` schemes.",
    disabled: bool = False,
) -> float:
    """σ of the plain normal schemes (URL `sigma`), on a log grid."""
    return _grid_slider("weight_std", container, default, options, label, help, disabled)


def weight_const(
    container: Any = None,
    *,
    default: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    step: float = 0.1,
    label: str | None = None,
    help: str | None = "Every weight of the `constant` scheme equals c.",
    disabled: bool = False,
) -> float:
    """c of the constant scheme (URL `c`)."""
    return _number_input(
        "weight_const", container, default, min_value, max_value, step, False, label, help, disabled
    )


def weight_bound(
    container: Any = None,
    *,
    default: float | None = None,
    options: Sequence[float] = BOUND_GRID,
    label: str | None = None,
    help: str | None = "a of the `uniform` scheme U[−a, a].",
    disabled: bool = False,
) -> float:
    """a of the uniform scheme (URL `a`), on a log grid."""
    return _grid_slider("weight_bound", container, default, options, label, help, disabled)


def sparsity(
    container: Any = None,
    *,
    default: float | None = None,
    options: Sequence[float] = SPARSITY_GRID,
    label: str | None = None,
    help: str | None = "Fraction of each input's weights `sparse` sets to 0 (PyTorch's `sparse_`).",
    disabled: bool = False,
) -> float:
    """The fraction of zeros of the sparse scheme (URL `sparsity`)."""
    return _grid_slider("sparsity", container, default, options, label, help, disabled)


def he_mode(
    container: Any = None,
    *,
    default: str | None = None,
    label: str | None = None,
    help: str | None = "He scaling by the layer's inputs (fan_in) or outputs (fan_out).",
    disabled: bool = False,
) -> str:
    """fan_in or fan_out for the He schemes (URL `mode`)."""
    return _choice("he_mode", container, default, C.HE_MODES, label, help, disabled, horizontal=True)


def leaky_slope(
    container: Any = None,
    *,
    default: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    step: float = 0.01,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> float:
    """Negative slope of leaky ReLU (URL `slope`)."""
    return _float_slider("leaky_slope", container, default, min_value, max_value, step, label, help, disabled)


def bias_init(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.BIAS_INITS,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> str:
    """How biases start (URL `bias`)."""
    return _choice("bias_init", container, default, options, label, help, disabled)


def bias_value(
    container: Any = None,
    *,
    default: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    step: float = 0.1,
    label: str | None = None,
    help: str | None = "c of the `constant` bias, σ of the `normal` bias.",
    disabled: bool = False,
) -> float:
    """c / σ of the bias init (URL `bval`)."""
    return _number_input(
        "bias_value", container, default, min_value, max_value, step, False, label, help, disabled
    )


def optimizer(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.OPTIMIZERS,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> str:
    """sgd, momentum or adam (URL `opt`)."""
    return _choice("optimizer", container, default, options, label, help, disabled)


def lr(
    container: Any = None,
    *,
    default: float | None = None,
    options: Sequence[float] = LR_GRID,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> float:
    """Learning rate (URL `lr`), on a log grid."""
    return _grid_slider("lr", container, default, options, label, help, disabled)


def batch_size(
    container: Any = None,
    *,
    default: int | None = None,
    options: Sequence[int] = BATCH_GRID,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> int:
    """Mini-batch size (URL `batch`), powers of two."""
    return _grid_slider("batch_size", container, default, options, label, help, disabled, is_int=True)


def steps(
    container: Any = None,
    *,
    default: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    step: int = 50,
    label: str | None = None,
    help: str | None = "Mini-batch updates; 0 shows the network at initialization.",
    disabled: bool = False,
) -> int:
    """Training steps (URL `steps`)."""
    return _int_slider("steps", container, default, min_value, max_value, step, label, help, disabled)


def seed(
    container: Any = None,
    *,
    default: int | None = None,
    label: str | None = None,
    help: str | None = "Seed of the initial weights and of the mini-batch order.",
    disabled: bool = False,
) -> int:
    """Seed of weights and batches (URL `seed`)."""
    return _number_input("seed", container, default, None, None, 1, True, label, help, disabled)


def dtype(
    container: Any = None,
    *,
    default: str | None = None,
    label: str | None = None,
    help: str | None = None,
    disabled: bool = False,
) -> str:
    """float64 or float32 (URL `dtype`)."""
    return _choice("dtype", container, default, C.DTYPES, label, help, disabled, horizontal=True)


def block(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.BLOCKS,
    label: str | None = None,
    help: str | None = "plain: h = φ(N(h W + b)); residual: h ← h + α f(N(h)).",
    disabled: bool = False,
) -> str:
    """plain or residual blocks (URL `block`)."""
    return _choice("block", container, default, options, label, help, disabled, horizontal=True)


def norm(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.NORMS,
    label: str | None = None,
    help: str | None = "none, batch (BatchNorm) or layer (LayerNorm).",
    disabled: bool = False,
) -> str:
    """Normalization: none, batch or layer (URL `norm`)."""
    return _choice("norm", container, default, options, label, help, disabled, horizontal=True)


def alpha(
    container: Any = None,
    *,
    default: str | None = None,
    options: Sequence[str] = C.ALPHAS,
    label: str | None = None,
    help: str | None = "Scale of the residual branch: 1, 1/√L, 1/√(2L), or learned from 0 (SkipInit).",
    disabled: bool = False,
) -> str:
    """Branch scale α of residual blocks (URL `alpha`)."""
    return _choice("alpha", container, default, options, label, help, disabled)


def branch_layers(
    container: Any = None,
    *,
    default: int | None = None,
    label: str | None = None,
    help: str | None = "Dense layers inside each residual branch.",
    disabled: bool = False,
) -> int:
    """Dense layers per residual branch, 1 or 2 (URL `branch`)."""
    return _grid_slider(
        "branch_layers", container, default, C.BRANCH_LAYERS, label, help, disabled, is_int=True
    )


def input_dim(
    container: Any = None,
    *,
    default: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
    label: str | None = None,
    help: str | None = "Coordinates of each unit-Gaussian input of the `gaussian` data set (the CS231n "
    "lecture feeds 500).",
    disabled: bool = False,
) -> int:
    """Input dimension of the gaussian data set (URL `dim`)."""
    return _number_input(
        "input_dim", container, default, min_value, max_value, 1, True, label, help, disabled
    )


def output_init(
    container: Any = None,
    *,
    default: str | None = None,
    label: str | None = None,
    help: str | None = "`same`: the output layer starts like the hidden layers. `zeros`: only the output "
    "layer's weights and biases start at 0 (common practice; the hidden layers stay random, so the "
    "symmetry is broken after the first step).",
    disabled: bool = False,
) -> str:
    """How the output layer starts: like the hidden layers or at zero (URL `out`)."""
    return _choice("output_init", container, default, C.OUTPUT_INITS, label, help, disabled, horizontal=True)


# field name -> control function, for generic code (tests, presets).
CONTROLS: dict[str, Callable[..., Any]] = {name: globals()[name] for name in URL_KEYS}

# Scheme parameters drawn by controls of their own on every page (gain, scale) or read from the activation's.
_PAGE_WIDE_PARAMS = ("gain", "scale", "slope")


def scheme_params(schemes: Sequence[str], container: Any = None, **defaults: Any) -> None:
    """One control for each parameter the chosen schemes read (core.initializers: Scheme.params), in the
    registry's order; `defaults`: a page's default per config field (e.g. weight_std=0.1)."""
    from core.initializers import PARAMS, SCHEMES

    read = {n for s in schemes if s in SCHEMES for n in SCHEMES[s].params}
    for name, param in PARAMS.items():
        if name in read and name not in _PAGE_WIDE_PARAMS:
            CONTROLS[param.field](container, default=defaults.get(param.field))


def data_details(dataset: str, container: Any = None) -> None:
    """The data set's own settings: classes (spiral, blobs), noise (not digits), size and seed."""
    if dataset in ("spiral", "blobs"):
        n_classes(container)
    if dataset == "gaussian":
        n_classes(container, help="Bands of the projection onto one random direction.")
        input_dim(container)
    elif dataset != "digits":
        noise(container)
    n_samples(container)
    data_seed(container)

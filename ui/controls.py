"""One widget per setting, bound to the URL, built from the settings table (core/fields.py): the same label,
key, range and format on every page. Call `share.begin(page)` first; each control records itself so
`config()` and the share link can read it back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypedDict, Unpack

import streamlit as st

from core import config as C
from core.config import ExperimentConfig
from core.fields import FIELDS, FIELDS_BY_KEY, URL_KEYS, Field, log_grid  # noqa: F401 (public here)
from core.initializers import scheme_label
from i18n import Text, _

# The one label of each setting (core/fields.py), for notices that name a setting.
LABELS: dict[str, Text] = {name: f.label for name, f in FIELDS.items() if f.key}
# The default grids of the "grid" controls (pages narrow or extend them).
SCALE_GRID = FIELDS["scale"].grid
SIGMA_GRID = FIELDS["weight_std"].grid
BOUND_GRID = FIELDS["weight_bound"].grid
LR_GRID = FIELDS["lr"].grid
SPARSITY_GRID = FIELDS["sparsity"].grid
WIDTH_GRID = FIELDS["width"].grid
BATCH_GRID = FIELDS["batch_size"].grid

_DEFAULTS = ExperimentConfig()
_REGISTRY = "_initlab_controls"


def fmt_number(value: float) -> str:
    """The one text form of a number, in labels and in URLs: 0.01, 1, 1e-05."""
    return f"{value:g}"


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


# ---------------------------------------------------------------- the generic widget


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
    if math.isfinite(asked) and lo <= asked <= hi:
        return
    text = None  # nan, inf: malformed, so the default (Streamlit's int seeding would raise on int(inf))
    if math.isfinite(asked):
        near = min(max(asked, lo), hi)
        if grid:
            near = min(grid, key=lambda g: abs(g - near))
        text = str(cast(near)) if cast is int else fmt_number(cast(near))
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with ctx.session_state.query_params() as qp:
        if text is None:
            qp._initial_query_params.pop(key, None)
            qp.discard_param_no_forward_msg(key)
        else:
            qp._initial_query_params[key] = [text]  # what the bound widget is seeded from
            qp.set_with_no_forward_msg(key, text)
        qp._send_query_param_msg()
    if text is None:
        return  # ui.share's notice names the value as not valid, with the default the widget shows
    note = (
        _("**{key}** = {asked} is out of range; using the largest allowed value, {value}.")
        if asked > hi
        else _("**{key}** = {asked} is out of range; using the smallest allowed value, {value}.")
    )
    state.setdefault("fixes", {})[key] = note.format(key=key, asked=fmt_number(asked), value=text)


def _where(container: Any) -> Any:
    return st if container is None else container


def _check_range(name: str, lo: float, hi: float) -> None:
    llo, lhi = C.LIMITS[name]
    if lo < llo or hi > lhi or lo > hi:
        raise ValueError(f"{name}: the range [{lo}, {hi}] must lie within the limits [{llo}, {lhi}]")


def _allowed(cast: Callable[[Any], Any], lo: float, hi: float) -> str:
    show = str if cast is int else fmt_number
    if cast is int:
        return _("a whole number from {lo} to {hi}", lo=show(lo), hi=show(hi))
    return _("a number from {lo} to {hi}", lo=show(lo), hi=show(hi))


class Options(TypedDict, total=False):
    """What a page may change of a control (only the ones its widget has: ranges or options)."""

    default: Any
    min_value: float  # "slider" and "number" widgets
    max_value: float
    step: float
    options: Sequence[Any]  # "grid", "select" and "radio" widgets
    label: Text | None
    help: Text | None
    disabled: bool


def _control(name: str, container: Any, kw: Options) -> Any:
    """Draw the widget of the setting `name` as its table row says, with a page's changes `kw`; record it."""
    f: Field = FIELDS[name]
    ranged = ("min_value", "max_value", "step") if f.widget in ("slider", "number") else ("options",)
    wrong = set(kw) - {"default", "label", "help", "disabled", *ranged}
    if wrong:
        raise TypeError(f"controls.{name}() takes no {', '.join(sorted(wrong))} (its widget: {f.widget})")
    label = str(kw.get("label") or f.label)
    help = kw["help"] if "help" in kw else f.help  # help=None: no (?) icon
    common = dict(
        key=f.key, bind="query-params", help=str(help) if help else None, disabled=kw.get("disabled", False)
    )
    where = _where(container)
    default = getattr(_DEFAULTS, name) if kw.get("default") is None else kw["default"]
    if f.widget in ("select", "radio"):
        # Options are shown by their stable ids: a bound widget writes the shown text into the URL, and ids
        # keep share links valid when a label is reworded.
        opts = list(kw.get("options") or f.choices)
        value = str(default)
        if value not in opts:
            raise ValueError(f"{name}: the default {value!r} is not among the options {opts}")
        if f.widget == "radio":
            out = str(where.radio(label, opts, index=opts.index(value), horizontal=True, **common))
        else:
            out = str(where.selectbox(label, opts, index=opts.index(value), **common))
        allowed = _("one of {ids}", ids=", ".join(opts))
        _register(Control(name, f.key, out, (out,), allowed, out, tuple(opts)))
        return out
    cast: Callable[[Any], Any] = int if C.is_integer(name) else float
    show: Callable[[Any], str] = str if cast is int else fmt_number
    value = cast(default)
    if f.widget == "grid":
        grid = sorted({cast(v) for v in kw.get("options") or f.grid})
        lo, hi = grid[0], grid[-1]
        _check_range(name, lo, hi)
        _clamp_link(f.key, lo, hi, cast, grid)
        # A page default off the grid joins the grid, so it stays reachable; so does a value a link asks for
        # inside the grid's range (the Phase page links exact weight scales such as 1.414).
        asked = _linked_number(f.key, cast)
        extra = {value} | ({asked} if asked is not None and lo <= asked <= hi else set())
        grid = sorted({*grid, *extra})
        out = where.select_slider(label, options=grid, value=value, format_func=fmt_number, **common)
        out, show = cast(out), fmt_number
    else:
        lo = cast(f.limits[0] if kw.get("min_value") is None else kw["min_value"])
        hi = cast(f.limits[1] if kw.get("max_value") is None else kw["max_value"])
        _check_range(name, lo, hi)
        value = min(max(value, lo), hi)
        _clamp_link(f.key, lo, hi, cast)
        step = cast(kw.get("step") or f.step)
        if f.widget == "slider":
            out = where.slider(label, min_value=lo, max_value=hi, value=value, step=step, **common)
        else:
            fmt = None if cast is int else "%g"
            out = where.number_input(
                label, min_value=lo, max_value=hi, value=value, step=step, format=fmt, **common
            )
        out = cast(out)
    _register(Control(name, f.key, out, (show(out),), _allowed(cast, lo, hi), show(out)))
    return out


# ---------------------------------------------------------------- one function per setting
# Every function: (container=None, *, default=None, [min_value=, max_value=, step=] or [options=], label=None,
# help=None, disabled=False) -> value. `container` is where the widget goes (st, st.sidebar, a column);
# None = the current `with` block. What each draws (widget, range, label, help) is its row in core/fields.py.


def _setting(name: str) -> Callable[..., Any]:
    """The public control function of one setting: (container=None, **Options) -> its value."""

    def control(container: Any = None, **kw: Unpack[Options]) -> Any:
        return _control(name, container, kw)

    control.__name__ = control.__qualname__ = name
    control.__doc__ = (
        f"{FIELDS[name].label.message} (URL `{FIELDS[name].key}`), as core/fields.py's row says."
    )
    return control


def _schemes_help(opts: Sequence[str]) -> str:
    lines = "\n".join(f"- `{s}`: {scheme_label(s)}" for s in opts)
    return _("Shown by the name used in code and in links:") + "\n\n" + lines


def schemes(
    container: Any = None,
    *,
    multi: bool = True,
    default: Sequence[str] | None = None,
    options: Sequence[str] | None = None,
    max_selections: int | None = None,
    label: Text | None = None,
    help: Text | None = None,
    disabled: bool = False,
) -> tuple[str, ...]:
    """Init scheme ids (URL `init`, repeated for several): always a tuple, empty if none is picked.

    multi=True draws a multiselect (at most `max_selections`, capped by LIMITS["n_schemes"]);
    multi=False a selectbox, and the tuple has one id.
    """
    opts = list(FIELDS["schemes"].choices if options is None else options)
    chosen = tuple(_DEFAULTS.schemes if default is None else default)
    bad = [s for s in chosen if s not in opts]
    if bad or not chosen:
        raise ValueError(f"schemes: the default {chosen!r} must be non-empty ids among {opts}")
    key = URL_KEYS["schemes"]
    help = _schemes_help(opts) if help is None else str(help)
    common = dict(key=key, bind="query-params", help=help, disabled=disabled)
    cap = int(C.LIMITS["n_schemes"][1])
    if multi:
        n_max = min(cap, max_selections or cap)
        lbl = str(label or _("Initializations"))
        out = tuple(
            _where(container).multiselect(lbl, opts, default=list(chosen), max_selections=n_max, **common)
        )
        allowed = _("up to {n} of {ids}", n=n_max, ids=", ".join(opts))
    else:
        lbl = str(label or LABELS["schemes"])
        out = (str(_where(container).selectbox(lbl, opts, index=opts.index(chosen[0]), **common)),)
        allowed = _("one of {ids}", ids=", ".join(opts))
    shown = ", ".join(out) if out else _("none")
    _register(Control("schemes", key, out, out if out else ("",), allowed, shown, tuple(opts)))
    return out


# field name -> control function: `schemes` above, and one made from each other row of core/fields.py with a
# URL key. Each is also a name of this module (controls.depth(...), controls.width(...)), so adding a setting
# to the table adds its control; no line here.
CONTROLS: dict[str, Callable[..., Any]] = {
    name: schemes if name == "schemes" else _setting(name) for name in URL_KEYS
}
globals().update({name: f for name, f in CONTROLS.items() if name != "schemes"})

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
    c = CONTROLS
    if dataset in ("spiral", "blobs"):
        c["n_classes"](container)
    if dataset == "gaussian":
        c["n_classes"](container, help=_("Bands of the projection onto one random direction."))
        c["input_dim"](container)
    elif dataset != "digits":
        c["noise"](container)
    c["n_samples"](container)
    c["data_seed"](container)

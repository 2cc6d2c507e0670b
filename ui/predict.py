"""Predict first: the teacher's share-link option (?predict=1) and the gate that asks before the charts show.

Session state only (the answers never leave the session); the questions and right answers are core.predict's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import streamlit as st

from core import phase
from core import predict as P
from i18n import _
from i18n import numbers
from ui import share

KEY = "predict"  # the URL key; "1" turns the gate on
CELL_KEY = "cell"  # the Phase question's cell in the link: "<sigma_w>,<hidden layers>", e.g. cell=1.414,20
PHASE = "phase"
_CELL = "_predict_cell"  # the (sigma_w, depth) the Phase question asks about in this session
_CELL_LINKED = "_predict_cell_linked"  # the link's cell already put into the pickers (once per arrival)


def _cell_option() -> list[str]:
    cell = st.session_state.get(_CELL)
    if not (on() and cell and share.current_page() == PHASE):
        return []
    return [cell_text(*cell)]


share.OPTIONS[KEY] = lambda: ["1"] if on() else []
share.OPTIONS[CELL_KEY] = _cell_option


def on() -> bool:
    """True when the link asks students to predict first."""
    return st.query_params.get(KEY) == "1"


def _toggle() -> None:
    if st.session_state.get("predict_option"):
        st.query_params[KEY] = "1"
    elif KEY in st.query_params:
        del st.query_params[KEY]


def _checkbox(box: Any) -> None:
    st.session_state["predict_option"] = on()
    box.checkbox(
        _("Students predict first"),
        key="predict_option",
        on_change=_toggle,
        help=_("The link then asks one question about this experiment before it shows any chart."),
    )


share.BOX_EXTRAS.append(_checkbox)  # every share box holds the checkbox, gated page or not


def _reveal(state_key: str, qkey: str, picks: dict[str, Any]) -> None:
    st.session_state[state_key] = qkey
    for k, v in picks.items():  # the Phase page: the asked cell becomes the picked one
        st.session_state[k] = v


def gate(page: str, questions: Sequence[Any], picks: dict[str, Any] | None = None) -> bool:
    """Ask the questions (with predict=1); False until the student reveals, then the verdicts and True.

    `questions`: core.predict Questions (or None), or functions returning one, called only with predict=1.

    Without predict=1, or without a question the run can answer, it draws nothing and returns True. Before
    the reveal it also draws the share box (with its checkbox) if the page has not yet: the page stops here.
    """
    if not on():
        return True
    qs = [q for q in (q() if callable(q) else q for q in questions) if q is not None]
    if not qs:
        return True
    qkey = "-".join(q.key for q in qs)
    state_key = f"_predict_revealed_{page}"
    revealed = st.session_state.get(state_key) == qkey
    box = st.container(border=True, key=f"predict_box_{page}")
    box.markdown(
        _("**Predict first.** What will this experiment show? You can change your answer until you reveal.")
    )
    answers = [
        box.radio(
            q.prompt,
            range(len(q.options)),
            format_func=lambda i, q=q: q.options[i],
            index=None,
            key=f"predict_{page}_{qkey}_{n}",
            disabled=revealed,
        )
        for n, q in enumerate(qs)
    ]
    if not revealed:
        box.button(
            _("Reveal the result"),
            type="primary",
            key=f"predict_reveal_{page}",
            on_click=_reveal,
            args=(state_key, qkey, picks or {}),
        )
        if not share.drawn():  # the page stops here: a teacher still gets the link and the checkbox
            share.link()
        return False
    for q, a in zip(qs, answers):
        (box.success if a is not None and a in q.correct else box.info)(P.verdict(q, a))
    return True


# ------------------------------------------------------------------------------------- the Phase cell
def cell_text(sigma_w: float, depth: int) -> str:
    """The `cell` URL value: σ_w with up to 4 significant digits (the grid's), then the hidden layers."""
    return f"{float(sigma_w):.4g},{int(depth)}"


def parse_cell(values: Sequence[str], sws: Sequence[float], dps: Sequence[int]) -> tuple[float, int, str]:
    """The grid cell a link's `cell` values ask for, and how it was read.

    The second part is "" (a cell of the grid, or no cell given: the middle one), "nearest" (clamped to the
    nearest grid cell: σ_w on a log scale) or "invalid" (not "<σ_w>,<hidden layers>": the middle cell).
    """
    middle = (sws[len(sws) // 2], dps[len(dps) // 2])
    if not values:
        return (*middle, "")
    parts = values[0].split(",") if len(values) == 1 else []
    try:
        sw, depth = float(parts[0]), float(parts[1])
        ok = len(parts) == 2 and math.isfinite(sw) and math.isfinite(depth) and sw > 0
    except (ValueError, IndexError):
        ok = False
    if not ok:
        return (*middle, "invalid")
    near_sw = float(phase.nearest(sws, sw))
    near_depth = int(min(dps, key=lambda d: abs(d - depth)))
    exact = math.isclose(near_sw, sw, rel_tol=1e-3) and near_depth == depth
    return near_sw, near_depth, "" if exact else "nearest"


def _cell_note(how: str, sigma_w: float, depth: int) -> str:
    value = share.md_escape(" & ".join(share.arrival(CELL_KEY)))
    sw, example = numbers.num(sigma_w, 4), cell_text(sigma_w, depth)
    if how == "invalid":
        return _(
            "**cell** = {value} is not a cell: write it as σ_w and hidden layers, e.g. `cell={example}`. "
            "The question asks about σ_w = {sw} with {depth} hidden layers.",
            value=value,
            example=example,
            sw=sw,
            depth=depth,
        )
    return _(
        "**cell** = {value} is not a cell of this grid; the question asks about the nearest one, "
        "σ_w = {sw} with {depth} hidden layers.",
        value=value,
        sw=sw,
        depth=depth,
    )


def _cell_changed() -> None:
    sw, depth = st.session_state.get("predict_sw"), st.session_state.get("predict_depth")
    if sw is not None and depth is not None:
        st.query_params[CELL_KEY] = cell_text(sw, depth)  # the address bar stays a link to the question


def phase_question(grid, sws: Sequence[float], dps: Sequence[int], trained_below: float) -> tuple:
    """The Phase page's question: the student picks a cell (the link's `cell`, else the page's pick), or None
    when prediction is off."""
    if not on():
        return None, {}
    linked = share.arrival(CELL_KEY)
    sw0, depth0, how = parse_cell(linked, list(sws), list(dps))
    if linked and st.session_state.get(_CELL_LINKED) != (linked, tuple(sws), tuple(dps)):
        st.session_state[_CELL_LINKED] = (linked, tuple(sws), tuple(dps))
        st.session_state["predict_sw"], st.session_state["predict_depth"] = sw0, depth0
    if how and (st.session_state.get("predict_sw"), st.session_state.get("predict_depth")) == (sw0, depth0):
        st.warning(_cell_note(how, sw0, depth0), icon=":material/link_off:")
    if not linked:
        sw0 = st.session_state.get("pick_sw", sw0)
        depth0 = st.session_state.get("pick_depth", depth0)
    if st.session_state.get("predict_sw") not in list(sws):
        st.session_state["predict_sw"] = sw0 if sw0 in list(sws) else sws[len(sws) // 2]
    if st.session_state.get("predict_depth") not in list(dps):
        st.session_state["predict_depth"] = depth0 if depth0 in list(dps) else dps[len(dps) // 2]
    c1, c2 = st.columns(2)
    sw = c1.selectbox(
        _("Predict for σ_w"),
        list(sws),
        format_func=lambda v: numbers.num(v, 3),
        key="predict_sw",
        on_change=_cell_changed,
    )
    depth = c2.selectbox(_("and hidden layers"), list(dps), key="predict_depth", on_change=_cell_changed)
    st.session_state[_CELL] = (sw, depth)
    row = grid[(grid["sigma_w"] == sw) & (grid["depth"] == depth)].iloc[0]
    q = P.phase_cell(sw, depth, float(row["loss_vs_guess"]), bool(row["diverged"]), trained_below)
    return q, {"pick_sw": sw, "pick_depth": depth}

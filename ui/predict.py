"""Predict first: the teacher's share-link option (?predict=1) and the gate that asks before the charts show.

Session state only (the answers never leave the session); the questions and right answers are core.predict's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core import predict as P
from ui import share

KEY = "predict"  # the URL key; "1" turns the gate on
share.OPTIONS[KEY] = lambda: ["1"] if on() else []


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
        "Students predict first",
        key="predict_option",
        on_change=_toggle,
        help="The link then asks one question about this experiment before it shows any chart.",
    )


share.BOX_EXTRAS.append(_checkbox)  # every share box holds the checkbox, gated page or not


def share_option(container: Any = None) -> None:
    """The teacher's checkbox (predict=1 in the link); `share.link` draws it inside the share box.

    Called after `share.link()` in the same run, it draws nothing (the box holds it already).
    """
    if not share.drawn():
        _checkbox(st if container is None else container)


def _reveal(state_key: str, qkey: str, picks: dict[str, Any]) -> None:
    st.session_state[state_key] = qkey
    for k, v in picks.items():  # the Phase page: the asked cell becomes the picked one
        st.session_state[k] = v


def gate(page: str, questions: Sequence[P.Question | None], picks: dict[str, Any] | None = None) -> bool:
    """Ask the questions (with predict=1); False until the student reveals, then the verdicts and True.

    Without predict=1, or without a question the run can answer, it draws nothing and returns True. Before
    the reveal it also draws the share box (with its checkbox) if the page has not yet: the page stops here.
    """
    qs = [q for q in questions if q is not None]
    if not on() or not qs:
        return True
    qkey = "-".join(q.key for q in qs)
    state_key = f"_predict_revealed_{page}"
    revealed = st.session_state.get(state_key) == qkey
    box = st.container(border=True, key=f"predict_box_{page}")
    box.markdown(
        "**Predict first.** What will this experiment show? You can change your answer until you reveal."
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
            "Reveal the result",
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


def phase_question(grid, sws: Sequence[float], dps: Sequence[int], trained_below: float) -> tuple:
    """The Phase page's question: the student picks a cell (the teacher's pick by default), or None when off."""
    if not on():
        return None, {}
    c1, c2 = st.columns(2)
    sw = c1.selectbox(
        "Predict for σ_w",
        list(sws),
        index=_index(sws, st.session_state.get("pick_sw")),
        format_func=lambda v: f"{v:.3g}",
        key="predict_sw",
    )
    depth = c2.selectbox(
        "and hidden layers",
        list(dps),
        index=_index(dps, st.session_state.get("pick_depth")),
        key="predict_depth",
    )
    row = grid[(grid["sigma_w"] == sw) & (grid["depth"] == depth)].iloc[0]
    q = P.phase_cell(sw, depth, float(row["loss_vs_guess"]), bool(row["diverged"]), trained_below)
    return q, {"pick_sw": sw, "pick_depth": depth}


def _index(options: Sequence, value: Any) -> int:
    """The position of the page's picked value, else the middle option."""
    return list(options).index(value) if value in list(options) else len(options) // 2

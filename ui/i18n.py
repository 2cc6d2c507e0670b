"""The language of each session: from the link (`lang=de|en`), else the browser, else English; the switch.

app.py calls `begin()` then `switch()` on every run, before the navigation; pages and figures translate
with `i18n._` / `i18n.ngettext`, which read this session's language through the resolver registered here.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

import i18n
from i18n import numbers
from ui import scripts

URL_KEY = "lang"  # the query key: part of every share link
_STATE = "_initlab_lang"  # this session's language
_SWITCH = "_initlab_lang_switch"  # the switch widget's key (not bound to the URL: ids, not names, go there)


def from_locale(tag: str | None) -> str | None:
    """The app language for a browser language tag ("de-AT" -> "de"), None if the app has none for it."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in i18n.LANGS else None


def _browser() -> str | None:
    try:
        return from_locale(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser context (bare or test run): no preference
        return None


def _session_lang() -> str | None:
    if get_script_run_ctx() is None:  # a worker thread or no script run: no session to ask
        return None
    return st.session_state.get(_STATE)


i18n.set_resolver(_session_lang)


def _linked() -> str | None:
    raw = st.query_params.get_all(URL_KEY)
    return raw[0] if len(raw) == 1 and raw[0] in i18n.LANGS else None


def begin() -> str:
    """Decide this run's language (link, else the session's earlier choice, else browser, else English)."""
    lang = _linked() or st.session_state.get(_STATE) or _browser() or i18n.DEFAULT
    st.session_state[_STATE] = lang
    return lang


def lang() -> str:
    """This session's language ("en" or "de")."""
    return i18n.current()


def _switched() -> None:
    chosen = st.session_state.get(_SWITCH)
    if chosen in i18n.LANGS:
        st.session_state[_STATE] = chosen
        st.query_params[URL_KEY] = chosen  # the address bar stays a link to what the student sees


def switch(container: Any = None) -> str:
    """The language switch (English | Deutsch), right-aligned; returns the session's language."""
    current = st.session_state.get(_STATE) or begin()
    if st.session_state.get(_SWITCH) != current:
        st.session_state[_SWITCH] = current
    where = (
        container if container is not None else st.container(horizontal=True, horizontal_alignment="right")
    )
    where.segmented_control(
        "Sprache / Language",  # both, so a reader of either finds it
        i18n.LANGS,
        format_func=i18n.NAMES.__getitem__,
        required=True,
        key=_SWITCH,
        on_change=_switched,
        label_visibility="collapsed",
    )
    # The page's language for screen readers and hyphenation (WCAG 3.1.1): Streamlit's page says lang="en"
    # whatever the app shows, so a screen reader would speak German text with English sounds.
    scripts.run(f"document.documentElement.lang = {json.dumps(current)};")
    return current


def url_note(values: list[str], shown: str) -> str | None:
    """share.report's sentence about a `lang` value the link gave that is not a language of the app.

    `shown`: the values as share.md_escape made them safe to quote."""
    if len(values) == 1 and values[0] in i18n.LANGS:
        return None
    return i18n._(
        "**lang** = {value} is not a language of Init Lab (allowed: {allowed}); using {name}.",
        value=shown,
        allowed=", ".join(i18n.LANGS),
        name=i18n.NAMES[lang()],
    )


def share_params() -> list[tuple[str, str]]:
    """The language's part of a share link (share.link_url appends it)."""
    return [(URL_KEY, lang())]


def plotly_separators() -> str:
    """Plotly's layout.separators for this session's language (ui.charts.show sets it on every chart)."""
    return numbers.separators(lang())

"""Share links: the URL a page was opened with, what of it was used, and a link with every setting explicit.

Page order: `begin(page)` before any widget, the `controls`, then `report(config)` and `link()`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from core.config import ExperimentConfig, fit_to_budget
from ui import controls
from ui import i18n as ui_i18n

_STATE = "_initlab_share"
# Streamlit's own parameters: never reported, never copied into a share link.
RESERVED = frozenset({"embed", "embed_options"})
MAX_SHOWN = 40  # characters of a user-supplied value quoted back in a notice
MAX_REPORTED = 12  # parameters listed in one notice


def md_escape(text: str, limit: int = MAX_SHOWN) -> str:
    """Text from a URL made safe for st.markdown: shortened, every markup character backslash-escaped."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    # CommonMark lets any ASCII punctuation be escaped; this also disarms Streamlit's $math$, :colour[]
    # and :emoji: shortcodes, links, images and raw HTML.
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def _raw_params() -> dict[str, list[str]]:
    return {k: list(st.query_params.get_all(k)) for k in st.query_params.keys()}


def begin(page: str) -> None:
    """Call first on a page (before any widget): snapshot the URL it was opened with, reset the controls.

    `page` is the page's url_path ("" for home, "depth", ...). The snapshot is kept while the user stays
    on the page, so the notice about the link survives reruns until a setting is changed.
    """
    controls.reset()
    state = st.session_state.get(_STATE)
    if state is None or state["page"] != page:
        st.session_state[_STATE] = {"page": page, "raw": _raw_params(), "first": None, "notes": []}


def _url_notes(raw: dict[str, list[str]], drawn: dict[str, controls.Control]) -> list[str]:
    by_key = {c.key: c for c in drawn.values()}
    notes: list[str] = []
    for key, values in raw.items():
        if key in RESERVED:
            continue
        shown = md_escape(values[0] if len(values) == 1 else " & ".join(values))
        if key == ui_i18n.URL_KEY:  # the language: app.py's switch, not a control of the page
            note = ui_i18n.url_note(values)
            if note:
                notes.append(note)
            continue
        if key in by_key:
            c = by_key[key]
            if c.means_value(values):
                continue
            if len(values) > 1 and not isinstance(c.value, tuple):
                why = "was given more than once"
            else:
                why = f"is not valid (allowed: {c.allowed})"
            notes.append(f"**{md_escape(key)}** = {shown} {why}; using {c.shown}.")
        elif key in controls.FIELDS_BY_KEY:
            notes.append(
                f"**{md_escape(key)}** = {shown} is ignored: this page has no "
                f"{controls.LABELS[controls.FIELDS_BY_KEY[key]].lower()} setting."
            )
        else:
            notes.append(f"**{md_escape(key)}** is ignored: Init Lab has no setting by that name.")
    if len(notes) > MAX_REPORTED:
        notes = notes[:MAX_REPORTED] + [f"… and {len(notes) - MAX_REPORTED} more."]
    return notes


def url_notes() -> list[str]:
    """Plain sentences about the URL parameters of this page visit that were not used as given.

    Computed on the page's first run with the snapshot from `begin`, and repeated on later runs while
    every control still has the value it had then (once the user changes a setting, the notice goes).
    """
    state = st.session_state.get(_STATE)
    if state is None:
        raise RuntimeError("call share.begin(page) at the top of the page, before any widget")
    drawn = controls.registered()
    now = {f: c.url for f, c in drawn.items()}
    if state["first"] is None:
        state["first"] = now
        state["notes"] = _url_notes(state["raw"], drawn)
    return list(state["notes"]) if now == state["first"] else []


def report(config: ExperimentConfig | None = None, container: Any = None) -> ExperimentConfig | None:
    """Show one notice: URL parameters ignored or adjusted, and budget cuts; return the fitted config.

    With a config, `fit_to_budget` clamps it to the limits and cuts steps to the work budget; its
    messages join the notice. Call after all controls of the page are drawn.
    """
    where = st if container is None else container
    notes = url_notes()
    if notes:
        where.warning(
            "Some settings in this link could not be used:\n\n" + "\n".join(f"- {n}" for n in notes),
            icon=":material/link_off:",
        )
    if config is None:
        return None
    fitted, budget = fit_to_budget(config)
    if budget:
        where.info(
            "To keep this run within a few seconds:\n\n"
            + "\n".join(f"- {md_escape(n, 300)}" for n in budget),
            icon=":material/speed:",
        )
    return fitted


def params() -> list[tuple[str, str]]:
    """(key, value) pairs of every control drawn in this run, defaults included, in drawing order."""
    return [(c.key, v) for c in controls.registered().values() for v in c.url]


def _base_url(page: str) -> str:
    url = None
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser context (bare or test run): fall back to a relative link
        url = None
    if not url:
        return f"./{page}" if page else "./"
    parts = urlsplit(url)
    # Community Cloud serves the app inside an iframe under "/~/+"; the shareable address is without it.
    path = parts.path.replace("/~/+", "", 1)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def link_url(page: str | None = None) -> str:
    """The full share link of this page: its address plus every control's value, explicit."""
    if page is None:
        state = st.session_state.get(_STATE)
        page = state["page"] if state else ""
    query = urlencode([*params(), *ui_i18n.share_params()])  # the language too: the link opens as seen
    base = _base_url(page)
    return f"{base}?{query}" if query else base


def link(container: Any = None, *, title: str = "Share this experiment") -> str:
    """Draw the share box (the full link, one-click copy) and return the link."""
    where = st if container is None else container
    url = link_url()
    box = where.container(border=True)
    box.markdown(f"**{title}**")
    box.code(url, language=None, wrap_lines=True)
    box.caption(
        "Copy with the button at the right of the link. It lists every setting, so it opens "
        "exactly this experiment, even after the app's defaults change."
    )
    return url

"""Share links: the URL a page was opened with, what of it was used, and a link with every setting explicit.

Page order: `begin(page)` before any widget, the `controls`, then `report(config)` and `link()`.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import streamlit as st

from core.config import ExperimentConfig, fit_to_budget
from i18n import _, ngettext
from ui import controls
from ui import i18n as ui_i18n

_STATE = "_initlab_share"
# The share box's link and copy button. Not st.code: its syntax highlighter is Streamlit's second-largest
# script (1.5 MB), and evaluating it cost every lesson more main-thread time than Plotly on a warm load
# (benchmarks/RESULTS.md). One line cut at the box's edge (the button copies all of it; a scrolling region
# would need keyboard focus); a real, always visible button (a touch screen has no hover); a status line a
# screen reader announces. Colours follow the theme's text colour, so both themes read.
_LINK_CSS = """<style>
.initlab-link { display: flex; gap: 0.5rem; align-items: center; }
.initlab-link code { flex: 1; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  padding: 0.4rem 0.6rem; border-radius: 0.5rem; font-size: 0.85rem; color: inherit;
  background: color-mix(in srgb, currentColor 7%, transparent); }
.initlab-link button { flex: none; font: inherit; font-size: 0.9rem; color: inherit; cursor: pointer;
  padding: 0.3rem 0.75rem; border-radius: 0.5rem; background: transparent;
  border: 1px solid color-mix(in srgb, currentColor 55%, transparent); }
.initlab-link button:hover { background: color-mix(in srgb, currentColor 8%, transparent); }
.initlab-link button:focus-visible { outline: 2px solid currentColor; outline-offset: 2px; }
.initlab-link [role="status"] { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
</style>"""
# Runs in the page (st.html with unsafe_allow_javascript): the link is read from the button's data attribute,
# never from script text. The clipboard API needs a secure context (https, localhost); elsewhere execCommand.
_COPY_JS = """<script>(() => {
  const box = document.currentScript.parentElement;
  const button = box.querySelector("button"), status = box.querySelector("[role=status]");
  const label = button.textContent;
  button.addEventListener("click", async () => {
    const text = button.dataset.link;
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
      const area = Object.assign(document.createElement("textarea"), { value: text, readOnly: true });
      area.style.cssText = "position: fixed; opacity: 0;";
      document.body.appendChild(area);
      area.select();
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      area.remove();
    }
    status.textContent = ok ? button.dataset.done : button.dataset.failed;
    button.textContent = ok ? button.dataset.done : label;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
})();</script>"""
# Streamlit's own parameters: never reported, never copied into a share link.
RESERVED = frozenset({"embed", "embed_options"})
MAX_SHOWN = 40  # characters of a user-supplied value quoted back in a notice
MAX_REPORTED = 12  # parameters listed in one notice
# Page-wide options that are not experiment controls (ui.predict's "predict"): URL key -> its values now.
OPTIONS: dict[str, Any] = {}
# Drawn inside the share box under the link, given the box (ui.predict's "Students predict first" checkbox).
BOX_EXTRAS: list[Callable[[Any], None]] = []
_DRAWN = "_initlab_share_drawn"  # True once the share box is drawn in this script run (`begin` resets it)


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


OPEN_KEY = "open"  # a cross-link's settings, encoded as one value (see `internal_link`)
_LAST = "_initlab_last"  # url_path -> the (key, value) pairs of that page's last run in this session
_ARRIVING = "_initlab_arriving"  # the page whose arrival rerun is under way (at most one per arrival)


def _ctx() -> Any:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    return get_script_run_ctx()


def _pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _arrival(page: str) -> list[tuple[str, str]] | None:
    """The settings a page visit asks for, or None to keep the URL Streamlit gives the page.

    Streamlit (1.67) sends the previous page's address with a menu click and appends a link's parameters
    to it, then drops every parameter bound to a widget of the previous page, so neither the link's
    settings nor a clean start survive on their own. The rule: a cross-link (`open=`) opens its settings;
    Back/Forward opens the address returned to; a menu click opens the page as it was left in this session
    (or its defaults); a link opened in a new tab or a reload is left to Streamlit (nothing was dropped).
    """
    ctx = _ctx()
    raw = _pairs(getattr(ctx, "query_string", "") or "") if ctx is not None else []
    opened = [v for k, v in raw if k == OPEN_KEY]
    if opened:
        return _pairs(opened[-1])
    if ctx is not None and getattr(ctx, "is_history_navigation", False):
        return raw
    now = [(k, v) for k, vs in _raw_params().items() for v in vs if k not in RESERVED]
    if not now:
        return list(st.session_state.get(_LAST, {}).get(page, [])) or None
    return None


def _forget_controls() -> None:
    """Drop every URL-bound control value of this session: one page's values never reach another page."""
    keys = set(controls.URL_KEYS.values()) | controls.bound_keys()
    ctx = _ctx()
    if ctx is not None:
        with ctx.session_state.query_params() as qp:
            bindings = getattr(qp, "_bindings_by_param", {})
            keys |= set(bindings)
            for key in list(bindings):  # so the page's own widgets bind afresh and the URL can be set
                getattr(qp, "_bindings_by_widget", {}).pop(bindings.pop(key).widget_id, None)
    for key in keys:
        if key in st.session_state:
            del st.session_state[key]


def _open(pairs: list[tuple[str, str]]) -> None:
    """Make `pairs` the page's address (the browser's too) and rerun, so the widgets start from it."""
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k, []).append(v)
    st.query_params.from_dict({k: v[0] if len(v) == 1 else v for k, v in grouped.items()})
    st.rerun()


def begin(page: str) -> None:
    """Call first on a page (before any widget): settle the page's settings, snapshot the URL, reset controls.

    `page` is the page's url_path ("" for home, "depth", ...). On arriving at a page (from another page,
    or a new session), every URL-bound value is forgotten and the page starts from the settings its
    arrival asks for (`_arrival`): never from another lesson's widgets. The snapshot is kept while the user
    stays on the page, so the notice about the link survives reruns until a setting is changed.
    """
    state = st.session_state.get(_STATE)
    if state is None or state["page"] != page:
        if st.session_state.get(_ARRIVING) != page:
            _forget_controls()
            pairs = _arrival(page)
            now = sorted((k, v) for k, vs in _raw_params().items() for v in vs)
            if pairs is not None and sorted(pairs) != now:
                st.session_state[_ARRIVING] = page
                _open(pairs)
        st.session_state[_ARRIVING] = None
        controls.reset()
        st.session_state[_STATE] = {"page": page, "raw": _raw_params(), "first": None, "notes": []}
    controls.reset()
    st.session_state[_DRAWN] = False


def current_page() -> str | None:
    """The url_path of the page this session is on (set by `begin`), None before any page."""
    state = st.session_state.get(_STATE)
    return state["page"] if state else None


def arrival(key: str) -> list[str]:
    """The values of `key` in the address this page visit arrived with (what `url_notes` reports on)."""
    state = st.session_state.get(_STATE)
    return list(state["raw"].get(key, [])) if state else []


def drawn() -> bool:
    """True when this script run has drawn the share box already (ui.predict's gate draws it otherwise)."""
    return bool(st.session_state.get(_DRAWN))


def suggest(asked: str, options: Sequence[str]) -> list[str]:
    """The ids closest to a mistyped one (xavier -> xavier_normal, xavier_uniform), best first."""
    close = difflib.get_close_matches(asked, options, n=2, cutoff=0.8)
    starts = [o for o in options if asked and (o.startswith(asked) or asked.startswith(o))]
    return list(dict.fromkeys(sorted(starts) + close))[:3]


def any_of(items: Sequence[str]) -> str:
    """'a', 'a or b', 'a, b or c' in the session's language."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("{first} or {last}", first=", ".join(items[:-1]), last=items[-1])


def _did_you_mean(values: list[str], options: Sequence[str]) -> str:
    hints = [h for v in values if v not in options for h in suggest(v, options)]
    hints = list(dict.fromkeys(hints))
    return " " + _("Did you mean {ids}?", ids=any_of([f"`{h}`" for h in hints])) if hints else ""


def _url_notes(
    raw: dict[str, list[str]], drawn: dict[str, controls.Control], fixes: dict[str, str] | None = None
) -> list[str]:
    by_key = {c.key: c for c in drawn.values()}
    notes: list[str] = []
    for key, values in raw.items():
        if key in RESERVED or key in OPTIONS:
            continue
        shown = md_escape(values[0] if len(values) == 1 else " & ".join(values))
        if fixes and key in fixes:
            notes.append(fixes[key])
            continue
        if key == ui_i18n.URL_KEY:  # the language: app.py's switch, not a control of the page
            note = ui_i18n.url_note(values, shown)
            if note:
                notes.append(note)
            continue
        if key in by_key:
            c = by_key[key]
            if c.means_value(values):
                continue
            if len(values) > 1 and not isinstance(c.value, tuple):
                note = _(
                    "**{key}** = {value} was given more than once; using {used}.",
                    key=md_escape(key), value=shown, used=c.shown,
                )  # fmt: skip
            else:
                note = _(
                    "**{key}** = {value} is not valid (allowed: {allowed}); using {used}.",
                    key=md_escape(key), value=shown, allowed=c.allowed, used=c.shown,
                )  # fmt: skip
            hint = _did_you_mean(values, c.options) if c.options else ""  # our own ids: no markup to escape
            notes.append(note + hint)
        elif key in controls.FIELDS_BY_KEY:
            label = str(controls.LABELS[controls.FIELDS_BY_KEY[key]])
            notes.append(
                _(
                    "**{key}** = {value} is ignored: this page has no {setting} setting.",
                    key=md_escape(key),
                    value=shown,
                    setting=label.lower() if ui_i18n.lang() == "en" else label,  # German nouns keep capitals
                )
            )
        else:
            notes.append(_("**{key}** is ignored: Init Lab has no setting by that name.", key=md_escape(key)))
    if len(notes) > MAX_REPORTED:
        more = len(notes) - MAX_REPORTED
        notes = notes[:MAX_REPORTED] + [ngettext("… and {n} more.", "… and {n} more.", more)]
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
        state["notes"] = _url_notes(state["raw"], drawn, state.get("fixes"))
    return list(state["notes"]) if now == state["first"] else []


def report(
    config: ExperimentConfig | None = None, container: Any = None, *, later: Sequence[str] = ()
) -> ExperimentConfig | None:
    """Show one notice: URL parameters ignored or adjusted, and budget cuts; return the fitted config.

    With a config, `fit_to_budget` clamps it to the limits and cuts steps to the work budget; its
    messages join the notice. Call after all controls of the page are drawn; `later` names the URL keys of
    page controls drawn below the results (in a fragment), which the notice leaves to those widgets.
    """
    where = st if container is None else container
    state = st.session_state.get(_STATE)
    if state is not None:
        st.session_state.setdefault(_LAST, {})[state["page"]] = params()
    notes = [n for n in url_notes() if not any(n.startswith(f"**{md_escape(k)}**") for k in later)]
    if notes:
        where.warning(
            _("Some settings in this link could not be used:") + "\n\n" + "\n".join(f"- {n}" for n in notes),
            icon=":material/link_off:",
        )
    if config is None:
        return None
    fitted, budget = fit_to_budget(config)
    if budget:
        where.info(
            _("To keep this run within a few seconds:")
            + "\n\n"
            + "\n".join(f"- {md_escape(n, 300)}" for n in budget),
            icon=":material/speed:",
        )
    return fitted


def params() -> list[tuple[str, str]]:
    """(key, value) pairs of every control drawn in this run, defaults included, in drawing order."""
    return [(c.key, v) for c in controls.registered().values() for v in c.url] + [
        (key, v) for key, values in OPTIONS.items() for v in values()
    ]


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


def open_params(params: Any) -> dict[str, str]:
    """Query parameters of a link that opens another page with exactly these settings (`OPEN_KEY`).

    `params` is a mapping (a tuple or list value repeats its key) or (key, value) pairs. Streamlit drops a
    link's parameters that the current page binds to its own widgets, so they travel as one value.
    """
    items = params.items() if hasattr(params, "items") else params
    pairs = [(k, x) for k, v in items for x in (v if isinstance(v, (list, tuple)) else [v])]
    return {OPEN_KEY: urlencode(pairs)}


def page_link(file: str, label: str, params: Any, **kwargs: Any) -> None:
    """st.page_link to another page of the app that opens it with exactly these settings."""
    st.page_link(file, label=label, query_params=open_params(params), **kwargs)


def copy_block(url: str) -> str:
    """The share box's link on one line and its copy button (HTML; the link escaped for the attribute too)."""
    q = html.escape(url, quote=True)
    done = html.escape(_("Link copied"), quote=True)
    failed = html.escape(_("Could not copy: select the link and copy it by hand."), quote=True)
    label = html.escape(_("Copy link"))
    return (
        f'<div class="initlab-link"><code title="{q}">{q}</code>'
        f'<button type="button" data-link="{q}" data-done="{done}" data-failed="{failed}">'
        f"{label}</button>"
        f'<span role="status" aria-live="polite"></span>{_COPY_JS}</div>'
    )


def link(container: Any = None, *, title: str | None = None) -> str:
    """Draw the share box (the full link, one-click copy) and return the link."""
    where = st if container is None else container
    state = st.session_state.get(_STATE)
    if state is not None:  # the page's last settings, with any drawn after `report` (fragments)
        st.session_state.setdefault(_LAST, {})[state["page"]] = params()
    url = link_url()
    box = where.container(border=True, key="initlab_share")
    box.html(_LINK_CSS)
    heading = title or _("Share this experiment")  # not inside an f-string: pybabel would not see it
    box.markdown(f"**{heading}**")
    box.html(copy_block(url), unsafe_allow_javascript=True)
    box.caption(
        _(
            "Copy with the button at the right of the link. It lists every setting, so it opens exactly this "
            "experiment, even after the app's defaults change: {settings}",
            settings=" · ".join(md_escape(f"{k}={v}", 80) for k, v in params()),
        )
    )
    for extra in BOX_EXTRAS:
        extra(box)
    st.session_state[_DRAWN] = True
    return url

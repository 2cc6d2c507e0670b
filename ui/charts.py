"""Draw a Plotly figure in a page the same way everywhere: template, the language's separators, full width.

Pages call `charts.show(fig, key=..., alt=...)`; extra keyword arguments (on_select, ...) go to st.plotly_chart.
`charts.tabs(views, key)` gives a page's tabs whose content is computed only while open; `link_tabs` puts the
open tab into the page's links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from figures import style
from i18n import LANGS, _, ngettext, use
from ui import controls as ui_controls
from ui import i18n, scripts, share

CONFIG = {"displayModeBar": False}
CONTROLS_KEY = "lesson_controls"  # st.container key of a lesson's controls column (CSS class st-key-...)

# Page CSS, sent once per run by `controls` (style-only st.html takes no room on the page).
# 1. On a phone (Streamlit stacks columns below 640 px) the lesson's result comes first, its controls after;
#    the DOM order (controls, then result) stays what keyboards and screen readers follow.
# 2. Streamlit's Plotly theme draws axis text in a fixed grey (#808495, 3.7:1 on white) in the light theme;
#    darken exactly that grey to the theme's caption grey (WCAG AA, 4.5:1). The dark theme's is 15:1 already.
# 3. A multiselect's chips carry white text on the primary colour; the dark theme's primary is a light blue
#    (readable as text on the dark page), so the chips keep the light theme's blue in both (5.2:1 for white).
# 4. A chart of WIDE_PANELS or more panels side by side keeps WIDE_MIN_PX on a phone and scrolls inside its box.
# 5. A figure's own title is drawn as page text above the chart (show), so its SVG copy is hidden.
# 6. Formulas scroll inside their own box instead of being cut at the right edge.
WIDE_PANELS = 4
WIDE_MIN_PX = 600
PAGE_CSS = f"""<style>
@media (max-width: 640px) {{
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] .st-key-{CONTROLS_KEY}) {{
    flex-direction: column-reverse;
  }}
}}
.js-plotly-plot .main-svg text[style*="fill: rgb(128, 132, 149)"] {{ fill: #5C5F6B !important; }}
[data-testid="stMultiSelectTagsContainer"] span:has(> span[title]) {{ background-color: {style.SCHEME_COLORS["xavier_normal"]} !important; }}
@media (max-width: 640px) {{
  [class*="st-key-wide_chart_"] {{ overflow-x: auto; }}
  [class*="st-key-wide_inner_"] {{ min-width: {WIDE_MIN_PX}px; }}
}}
.js-plotly-plot .gtitle {{ display: none; }}
[data-testid="stMarkdownContainer"] .katex-display {{ overflow-x: auto; overflow-y: hidden; padding: 2px 4px; }}
</style>"""
AXIS_TEXT_LIGHT = "#5C5F6B"  # the colour PAGE_CSS gives chart axis text in the light theme
# A wide chart's box scrolls sideways on a phone (4. above). A box that scrolls must be reachable by keyboard
# (WCAG 2.1.1, axe-core's scrollable-region-focusable): this script, drawn in the box, makes the box a named
# region with a tab stop. The name is the chart's text alternative, read from a data attribute, never code.
_SCROLL_JS = """(() => {
  const mark = document.currentScript.parentElement;
  const box = mark.closest('[class*="st-key-wide_chart_"]');
  if (!box) return;
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", mark.dataset.label);
})();"""


def controls(column: DeltaGenerator) -> DeltaGenerator:
    """The container a lesson draws its controls into (inside `column`); shown after the result on a phone."""
    st.html(PAGE_CSS)
    return column.container(key=CONTROLS_KEY)


def _plain(text: Any) -> str:
    """Plotly label text without its HTML (<br>, <b>, <sup>)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(text or ""))).strip()


def describe(fig: go.Figure) -> str:
    """A one-sentence text alternative computed from the figure: its title, axes and series."""
    layout = fig.layout
    parts: list[str] = []
    title = _plain(layout.title.text) if layout.title is not None else ""
    panels = [_plain(a.text) for a in layout.annotations or () if a.xref == "paper" and a.yref == "paper"]
    parts.append(title or _("Chart"))
    axes = []
    for name in sorted(n for n in dir(layout) if n.startswith(("xaxis", "yaxis"))):
        axis = layout[name]
        if axis is not None and axis.title is not None and _plain(axis.title.text):
            axes.append(_("{axis}: {title}", axis=name[0], title=_plain(axis.title.text)))
    if axes:
        parts.append(", ".join(dict.fromkeys(axes)))
    names = list(
        dict.fromkeys(
            _plain(t.name) for t in fig.data if t.name and getattr(t, "showlegend", None) is not False
        )
    )
    if len(names) > 8:
        more = len(names) - 8
        parts.append(
            ngettext(
                "series: {names} and {n} more",
                "series: {names} and {n} more",
                more,
                names=", ".join(names[:8]),
            )
        )
    elif names:
        parts.append(_("series: {names}", names=", ".join(names)))
    if panels and not title:
        parts.append(_("panels: {names}", names=", ".join(p for p in panels[:8] if p)))
    return "; ".join(parts) + "."


def _md(text: str) -> str:
    """Plain text safe inside markdown (no emphasis, links or HTML)."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~$-])", r"\\\1", text)


def show(fig: go.Figure, *, key: str | None = None, alt: str | None = None, **kwargs: Any) -> Any:
    """st.plotly_chart with the shared template and settings; returns what st.plotly_chart returns.

    Every chart gets an accessible name: `alt` when the page gives one, else `describe(fig)`. The figure's
    title is drawn as page text above the chart: it wraps on a phone (Plotly cuts a long title at the edge)
    and is read in order by a screen reader.
    """
    alt = alt or describe(style.apply(fig))
    title = _plain(fig.layout.title.text) if fig.layout.title is not None else ""
    if title:
        fig.update_layout(
            margin_t=30
        )  # the SVG title stays in the figure (tests, exports), hidden by PAGE_CSS
        st.markdown(f"**{_md(title)}**")
    style.readable_figure(fig)
    fig.update_layout(separators=i18n.plotly_separators())  # ticks and hover labels: 0,5 / 1.000 in German
    if not (key and style.panel_columns(fig) >= WIDE_PANELS):
        return st.plotly_chart(fig, width="stretch", config=CONFIG, key=key, alt=alt, **kwargs)
    box = st.container(key=f"wide_chart_{key}")  # Streamlit sizes the chart to its container
    shown = box.container(key=f"wide_inner_{key}").plotly_chart(
        fig, width="stretch", config=CONFIG, key=key, alt=alt, **kwargs
    )
    scripts.run(_SCROLL_JS, box, data={"label": alt})
    return shown


def _tab_labels(views: Sequence[Any], key: str) -> list[str]:
    """The labels of `views` in the session's language; after a language switch, st.session_state[key] (the
    open tab's label in the old language) becomes the same tab's label in the new one."""
    labels = [str(v) for v in views]
    chosen = st.session_state.get(key)
    if chosen is not None and chosen not in labels:
        for lang in LANGS:
            with use(lang):
                other = [str(v) for v in views]
            if chosen in other:
                st.session_state[key] = labels[other.index(chosen)]
                break
    return labels


def tabs(views: Sequence[Any], key: str) -> list[Any]:
    """st.tabs of `views` (lazy labels, N_) that rerun on a switch, so a page computes and draws a tab's
    content only while it is open (`if tab.open: with tab: ...`); a language switch keeps the same tab open.

    st.session_state[key] is the open tab's label in the session's language.
    """
    return st.tabs(_tab_labels(views, key), key=key, on_change="rerun")


def link_tabs(views: Mapping[str, Any], key: str, *, url_key: str) -> str:
    """Make the open tab of `tabs(list(views.values()), key)` part of the page's links, by its stable id (the
    keys of `views`, id -> lazy label): a link's `url_key` opens its tab, the share link and the link notice
    see the open tab as a page control, and the address bar follows a switch. Call before share.link() and
    share.report(); returns the open id.

    Streamlit's own binding (st.tabs(bind="query-params")) would write the translated label into the link.
    """
    ids = list(views)
    labels = _tab_labels(list(views.values()), key)
    asked = st.query_params.get_all(url_key)
    if key not in st.session_state and len(asked) == 1 and asked[0] in ids:  # this visit's first run
        st.session_state[key] = labels[ids.index(asked[0])]
    chosen = st.session_state.get(key)
    open_id = ids[labels.index(chosen)] if chosen in labels else ids[0]
    ui_controls.record(key, url_key, open_id, share.any_of(ids), options=ids)
    # The address bar: the open tab, or nothing for the first (what the page opens on), as Streamlit does for a
    # bound widget at its default; the link notice names a wrong value from the address the visit arrived with.
    if open_id == ids[0] and asked:
        del st.query_params[url_key]
    elif open_id != ids[0] and asked != [open_id]:
        st.query_params[url_key] = open_id
    return open_id

"""AppTest helpers every page test can reuse: open a page of the real app (st.navigation) with URL params.

`open_page("depth", {"depth": "10"})` runs app.py, then switches to pages/depth.py as a browser would;
`english_left(open_page("depth", {"lang": "de"}))` lists the English the German page still shows.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

from ui import i18n as ui_i18n
from ui import nav

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
NOTICE_TITLE = "Some settings in this link could not be used"

Query = Mapping[str, str | Sequence[str]]


def open_page(url_path: str, query: Query | None = None, timeout: float = 60) -> AppTest:
    """Run the app and open the page with this url_path ("" = home) with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    spec = nav.by_url_path(url_path)
    if spec is nav.HOME:
        _set_query(at, query)
        return at.run()
    # app.py takes the session's language from the link's first run, as a browser opening the link does
    _set_query(at, {k: v for k, v in (query or {}).items() if k == ui_i18n.URL_KEY})
    at.run()  # registers the pages of st.navigation (the home page is cheap)
    _set_query(at, query)
    return at.switch_page(spec.file).run()


def _set_query(at: AppTest, query: Query | None) -> None:
    for key, value in (query or {}).items():
        at.query_params[key] = value if isinstance(value, str) else list(value)


def url_notices(at: AppTest) -> list[str]:
    """Texts of the share notices ("... could not be used") on the page."""
    return [w.value for w in at.warning if w.value.startswith(NOTICE_TITLE)]


def widget_value(at: AppTest, key: str):
    """The value of the widget bound to this URL key."""
    return at.session_state[key]


def share_link(at: AppTest) -> str:
    """The link in the page's "Share this experiment" box."""
    links = share_links(at)
    assert links, "no share link on the page"
    return links[-1]


def share_links(at: AppTest) -> list[str]:
    """Every share box's link on the page (the copy button's data-link; ui.share.copy_block), in order."""
    return [html.unescape(m) for h in at.html for m in re.findall(r'data-link="([^"]*)"', h.value)]


def open_takehome(at: AppTest, page: str) -> str:
    """Open the page's take-home expander (its script is drawn only while open) and return the script."""
    from ui.takehome import OPEN_KEY

    at.session_state[OPEN_KEY + page] = True
    at.run()
    (script,) = [c.value for c in at.code if c.value.startswith('"""Init Lab')]
    return script


def config_from_link(at: AppTest, fixed: Mapping[str, object] | None = None, *, strict: bool = False):
    """The ExperimentConfig the page ran, read back from its share link (which lists every control), plus
    `fixed` values for the fields the page sets without a control.

    strict=True: every key of the link but `lang` must be a config field (a page with no controls of its own);
    else the page's own keys (layer, target), lang and predict are skipped.
    """
    from core.config import ExperimentConfig
    from core.fields import FIELDS_BY_KEY

    defaults = ExperimentConfig()
    fields: dict = {}
    for key, value in parse_qsl(urlsplit(share_link(at)).query, keep_blank_values=True):
        if key not in FIELDS_BY_KEY and (not strict or key == "lang"):
            continue
        name = FIELDS_BY_KEY[key]  # strict: a KeyError names the key that is not a field
        if name == "schemes":
            fields[name] = (*fields.get(name, ()), value)
        else:
            fields[name] = type(getattr(defaults, name))(value)
    return ExperimentConfig(**fields, **(fixed or {}))


# ------------------------------------------------------------------------------------- German pages
def all_strings(at: AppTest) -> list[str]:
    """Every string of every element the page drew: texts, labels, help, options, metrics, chart specs (titles,
    axes, legends, hover templates), st.html bodies and table headers and cells. Not code blocks: a program
    (the take-home script) is not a sentence."""
    from google.protobuf.json_format import MessageToDict

    out: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            out.append(value)
            if value[:1] in "{[":  # a chart's spec is JSON inside the proto
                try:
                    walk(json.loads(value))
                except ValueError:
                    pass
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    def visit(node) -> None:
        kind = getattr(node, "type", None)
        if kind == "code":
            return
        if kind in ("dataframe", "table"):  # the proto holds the table as Arrow bytes: read the frame
            frame = node.value
            out.extend(map(str, frame.columns))
            out.extend(v for v in frame.to_numpy().ravel() if isinstance(v, str))
        proto = getattr(node, "proto", None)
        if proto is not None:
            walk(MessageToDict(proto))
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return out


# A message's fixed words stand between its placeholders ({name}, Plotly's %{y}) and its markup; each such
# piece of three words or more is English a German page must not show.
_PIECE_BREAKS = re.compile(r"%?\{+[^{}]*\}+|\*\*|<[^<>]*>|\n")
_PIECE_ENDS = " \t*.,:;()—–-%"


@functools.cache
def _english_pieces() -> tuple[str, ...]:
    """The English pieces of every message of the German catalog, longest first; a piece that some German
    translation holds too (a formula, a name, a paper's title) is no sign of English and is left out."""
    from babel.messages.pofile import read_po

    from i18n import catalog_path

    with catalog_path("de").open("rb") as f:
        catalog = read_po(f, locale="de")
    messages = [m for m in catalog if m.id]
    german = "\n".join(
        s for m in messages for s in (m.string if isinstance(m.string, tuple) else (m.string,))
    )
    pieces = set()
    for m in messages:
        for english in m.id if isinstance(m.id, tuple) else (m.id,):
            for piece in _PIECE_BREAKS.split(english):
                piece = piece.strip(_PIECE_ENDS)
                words = len(piece.split()) >= 3 or len(re.findall(r"[A-Za-z]{2,}", piece)) >= 3
                if words and piece not in german:
                    pieces.add(piece)
    return tuple(sorted(pieces, key=len, reverse=True))


def english_left(shown: AppTest | Iterable[str]) -> list[str]:
    """The English pieces of the catalog's messages that the page (every string of it: `all_strings`), or
    these texts, still show: [] on a page wholly in German."""
    text = "\n".join(all_strings(shown) if isinstance(shown, AppTest) else shown)
    return [p for p in _english_pieces() if p in text]

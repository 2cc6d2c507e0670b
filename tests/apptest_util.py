"""AppTest helpers every page test can reuse: open a page of the real app (st.navigation) with URL params.

`open_page("depth", {"depth": "10"})` runs app.py, then switches to pages/depth.py as a browser would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

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

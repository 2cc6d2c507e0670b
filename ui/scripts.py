"""A script a page runs in the browser (st.html with JavaScript) that takes no room on the page.

Streamlit gives every element a box and a gap after it, also an st.html that only holds a script. `run` hides
that box with a CSS rule sent beside the script (it must work on pages that send no other CSS, such as Home).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import streamlit as st

MARK = "data-initlab-script"  # on every script `run` draws: the CSS rule finds their boxes by it
_HIDE = f'<style>[data-testid="stElementContainer"]:has(script[{MARK}]) {{ display: none; }}</style>'


def run(js: str, where: Any = None, data: Mapping[str, str] | None = None) -> None:
    """Run `js` in the browser at this point of the page (in `where`, default the page), taking no room.

    The script is inside a hidden span whose `data-*` attributes are `data` (HTML-escaped): text it needs from
    the page reaches it as data (`document.currentScript.parentElement.dataset`), never as code.
    """
    attrs = "".join(f' data-{k}="{html.escape(v)}"' for k, v in (data or {}).items())
    (where or st).html(
        f"{_HIDE}<span hidden{attrs}><script {MARK}>{js}</script></span>", unsafe_allow_javascript=True
    )

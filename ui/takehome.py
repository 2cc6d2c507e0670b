"""Take it home: the page's experiment as a runnable PyTorch script, shown and offered as a .py download.

Pages call `show(config, page)` once, near their share box; the script itself is written by core.takehome.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import takehome
from core.config import ExperimentConfig
from ui import nav


def show(config: ExperimentConfig, page: str, container: Any = None, *, what: str = "this experiment") -> str:
    """An expander with the script of `config` and a download button; returns the script."""
    title = f"Init Lab · {nav.by_url_path(page).title}"
    text = takehome.script(config, title)
    where = st if container is None else container
    with where.expander(f"Take it home: {what} in PyTorch", icon=":material/code:"):
        st.caption(
            "The same network, data, mini-batches, optimizer and initialization rule in PyTorch (numpy for "
            "the data). It prints each layer's spread at the start and the final loss: compare them with "
            "this page. PyTorch draws its own random weights, so random starts differ in their digits."
        )
        st.download_button(
            "Download the script (.py)",
            text.encode(),
            file_name=takehome.filename(page, config),
            mime="text/x-python",
            icon=":material/download:",
            on_click="ignore",
            key=f"takehome_download_{page}",
        )
        st.code(text, language="python", line_numbers=False)
    return text

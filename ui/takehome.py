"""Take it home: the page's experiment as a runnable PyTorch script, shown and offered as a .py download.

Pages call `show(config, page)` once, near their share box; the script itself is written by core.takehome.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core import takehome
from core.config import ExperimentConfig
from i18n import N_, _
from ui import nav

# What the lesson pages pass as `what` (English), marked here so that the catalog holds their German.
WHAT = (N_("this experiment"), N_("your start"), N_("the picked cell"), N_("the race"))
OPEN_KEY = "takehome_open_"  # + the page's url_path: session_state[key] is True while the script is shown


def show(
    config: ExperimentConfig | Sequence[ExperimentConfig],
    page: str,
    container: Any = None,
    *,
    what: str | None = None,
    labels: Sequence[str] = (),
) -> str:
    """An expander with the script of `config` and a download button; returns the script.

    A list of configs (core.modern's networks, named by `labels`) gets core.takehome.modern_script."""
    title = f"Init Lab · {nav.by_url_path(page).title}"
    if isinstance(config, ExperimentConfig):
        text, first = takehome.script(config, title), config
    else:
        text, first = takehome.modern_script(list(config), [str(lab) for lab in labels], title), config[0]
    where = st if container is None else container
    # The script is shown only while the expander is open: a code block loads Streamlit's syntax highlighter
    # (1.5 MB of script), which every lesson would otherwise evaluate on load (benchmarks/RESULTS.md).
    box = where.expander(
        _("Take it home: {what} in PyTorch", what=_(str(what or WHAT[0].message))),
        icon=":material/code:",
        key=OPEN_KEY + page,
        on_change="rerun",
    )
    with box:
        st.caption(
            _(
                "The same network, data, mini-batches, optimizer and initialization rule in PyTorch (numpy for "
                "the data). It prints each layer's spread at the start and the final loss: compare them with "
                "this page. PyTorch draws its own random weights, so random starts differ in their digits."
            )
        )
        st.download_button(
            _("Download the script (.py)"),
            text.encode(),
            file_name=takehome.filename(page, first),
            mime="text/x-python",
            icon=":material/download:",
            on_click="ignore",
            key=f"takehome_download_{page}",
        )
        if box.open:
            st.code(text, language="python", line_numbers=False)
    return text

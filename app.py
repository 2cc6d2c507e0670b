"""Init Lab's entry point: page config, the session's language and its switch, the navigation over pages/.

Run with `streamlit run app.py`; each lesson has a stable url_path that share links contain.
"""

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

from pathlib import Path

import streamlit as st

from core import process
from ui import i18n, nav

process.setup()  # glibc malloc tuned for the engine's temporaries (once per process)

# A file, not a ":material/...:" icon: Streamlit's browser side fetches such a favicon from Google's font
# server, and the app loads nothing from outside (a school network may block it).
st.set_page_config(
    page_title="Init Lab", page_icon=str(Path(__file__).parent / "ui" / "favicon.png"), layout="wide"
)

i18n.begin()  # before anything translated: the navigation's titles are in this session's language
i18n.switch()
nav.run_app()

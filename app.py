"""Init Lab's entry point: page config, the session's language and its switch, the navigation over pages/.

Run with `streamlit run app.py`; each lesson has a stable url_path that share links contain.
"""

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from core import process
from ui import i18n, nav

process.setup()  # glibc malloc tuned for the engine's temporaries (once per process)

st.set_page_config(page_title="Init Lab", page_icon=":material/scatter_plot:", layout="wide")

i18n.begin()  # before anything translated: the navigation's titles are in this session's language
i18n.switch()
nav.run_app()

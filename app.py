"""Init Lab's entry point: page config and navigation over the lessons in pages/, nothing else.

Run with `streamlit run app.py`; each lesson has a stable url_path that share links contain.
"""

import ui.boot  # noqa: F401 - first: loads the app's libraries once under a lock (ui/boot.py)

# isort: split

import streamlit as st

from core import process
from ui import nav

process.setup()  # glibc malloc tuned for the engine's temporaries (once per process)

st.set_page_config(page_title="Init Lab", page_icon=":material/scatter_plot:", layout="wide")

nav.run_app()

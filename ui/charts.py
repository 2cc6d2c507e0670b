"""Draw a Plotly figure in a page the same way everywhere: the app's template, full width, no mode bar.

Pages call `charts.show(fig, key=..., alt=...)`; extra keyword arguments (on_select, ...) go to st.plotly_chart.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui import style

CONFIG = {"displayModeBar": False}


def show(fig: go.Figure, *, key: str | None = None, alt: str | None = None, **kwargs: Any) -> Any:
    """st.plotly_chart with the shared template and settings; returns what st.plotly_chart returns."""
    return st.plotly_chart(style.apply(fig), width="stretch", config=CONFIG, key=key, alt=alt, **kwargs)
